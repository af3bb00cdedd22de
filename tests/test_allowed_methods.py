"""Every path of the OpenAPI document answers a method it does not declare
with 405 and an ``Allow`` listing the ones it does (RFC 9110; schemathesis'
"unsupported method" check), and OPTIONS lists them all, in every service.

The app is every installed service, so a route another service adds is
walked too. Routing answers before any middleware, so no lifespan is needed.
"""

from __future__ import annotations

import re

import httpx

from switchyard.shared.runner import create_app
from switchyard.shared.service import discover
from switchyard.shared.settings import Settings

METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "TRACE", "QUERY")


def _methods(header: str | None) -> set[str]:
    return {m.strip().upper() for m in (header or "").split(",") if m.strip()}


async def test_every_path_answers_an_undeclared_method_with_405_and_allow(
    settings: Settings,
) -> None:
    app = create_app(settings, list(discover().values()))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        doc = (await client.get("/schema/openapi.json")).json()
        assert len(doc["paths"]) > 100
        wrong: list[str] = []
        for template, item in doc["paths"].items():
            declared = {m.upper() for m in item if m.upper() in METHODS}
            path = re.sub(r"\{[^}]+\}", "1", template)
            options = await client.options(path)
            if options.status_code != 204 or not declared <= _methods(options.headers.get("allow")):
                wrong.append(f"OPTIONS {template}: {options.status_code} {options.headers}")
            for method in sorted(set(METHODS) - declared):
                resp = await client.request(method, path)
                allow = _methods(resp.headers.get("allow"))
                if resp.status_code != 405 or not declared <= allow:
                    wrong.append(f"{method} {template}: {resp.status_code} Allow={allow}")
                elif resp.json()["code"] != 405:
                    wrong.append(f"{method} {template}: body {resp.text}")
        assert not wrong, "\n".join(wrong)

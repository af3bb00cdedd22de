"""coocenter's API with no WEBKEY: open, as its spec says, and said at start.

Without ``SWITCHYARD_COOCENTER_WEBKEY`` anyone who reaches ``/coocenter-api``
(the generated Ingress routes it) may ring any extension and dial any routed
number (click-number), listen to any call (extenSpy), hang up or transfer
calls, log agents out, edit the blacklist and download recordings. The spec
wants it open then, so each service serving those paths warns at start,
naming the setting and what is open, and says nothing when it is set.
"""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import msgspec
import pytest

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.media.service import service as media
from switchyard.shared.runner import create_app
from switchyard.shared.service import Service
from switchyard.shared.settings import Settings
from switchyard.shared.testing import logged_warnings, serving


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    with logged_warnings("switchyard.shared.http.coocenter") as lines:
        yield lines


async def _start(settings: Settings, service: Service) -> None:
    async with serving(create_app(settings, [service])):
        pass


@pytest.mark.parametrize(
    ("service", "what"),
    [
        (call_control, "click-number"),
        (config_api, "blacklist"),
        (media, "recordings"),
    ],
)
async def test_an_open_coocenter_api_is_said_at_start(
    settings: Settings, warnings: list[str], service: Service, what: str
) -> None:
    await _start(settings, service)
    (line,) = [w for w in warnings if "SWITCHYARD_COOCENTER_WEBKEY" in w]
    assert "/coocenter-api" in line and what in line
    warnings.clear()
    await _start(msgspec.structs.replace(settings, coocenter_webkey="k"), service)
    assert [w for w in warnings if "SWITCHYARD_COOCENTER_WEBKEY" in w] == []


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_an_open_coocenter_api_refuses_a_foreign_page_in_a_browser(
    settings: Settings, db: asyncpg.Pool
) -> None:
    """With no WEBKEY a page on any site could make a browser on the LAN post a
    form to ``/coocenter-api`` (a simple request: no preflight) and dial out
    through it; a request naming another site's Origin or Referer is refused.
    The spec's clients (curl, servers) send neither and are served."""
    async with serving(create_app(settings, [config_api])) as c:
        url = "/coocenter-api/blacklist/create"
        for foreign in (
            {"Origin": "https://evil.example"},
            {"Referer": "https://evil.example/page.html"},
            {"Origin": "null"},
        ):
            r = await c.post(url, headers={**FORM, **foreign}, content="number=4001")
            assert r.status_code == 403, (foreign, r.text)
            assert r.json()["status"] == "error"
            assert "cross-site" in r.json()["message"]
        assert await db.fetchval("SELECT count(*) FROM blacklist_numbers WHERE v = '4001'") == 0
        r = await c.post(url, headers=FORM, content="number=4001")
        assert r.status_code == 200, r.text
        same = {"Origin": "http://testserver"}
        r = await c.post(url, headers={**FORM, **same}, content="number=4002")
        assert r.status_code == 200, r.text

"""The OpenAPI links a client (or schemathesis' stateful phase) follows: a
create leads to reading, updating and deleting what it made, a parent's
create to its children, and every link names an operation of the document
and only parameters that operation has."""

from __future__ import annotations

from typing import Any

import httpx

from switchyard.shared.runner import create_app
from switchyard.shared.service import discover
from switchyard.shared.settings import Settings

METHODS = ("get", "put", "post", "delete", "patch")


async def _document(settings: Settings) -> dict[str, Any]:
    app = create_app(settings, list(discover().values()))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        document: dict[str, Any] = (await client.get("/schema/openapi.json")).json()
    return document


async def test_links_lead_from_a_create_to_what_it_made(settings: Settings) -> None:
    paths = (await _document(settings))["paths"]
    gateway = paths["/api/gateways"]["post"]["responses"]["200"]["links"]
    assert gateway["get_gateways"]["parameters"] == {"item_id": "$response.body#/data"}
    assert {"update_gateways", "delete_gateways"} <= set(gateway)
    # The gateway's children hang off the id it answered.
    assert gateway["create_gateway_params"]["parameters"] == {"pid": "$response.body#/data"}
    param = paths["/api/gateways/{pid}/params"]["post"]["responses"]["200"]["links"]
    assert param["update_gateway_params"]["parameters"] == {
        "pid": "$request.path.pid",
        "cid": "$response.body#/data",
    }


async def test_every_link_names_an_operation_and_its_parameters(settings: Settings) -> None:
    paths = (await _document(settings))["paths"]
    params_of: dict[str, set[str]] = {}
    for item in paths.values():
        for method in METHODS:
            if (op := item.get(method)) and op.get("operationId"):
                params_of[op["operationId"]] = {p["name"] for p in op.get("parameters", [])}
    links = [
        (path, link)
        for path, item in paths.items()
        for method in METHODS
        if method in item
        for response in item[method]["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert len(links) > 40
    for path, link in links:
        assert link["operationId"] in params_of, (path, link)
        assert set(link["parameters"]) <= params_of[link["operationId"]], (path, link)

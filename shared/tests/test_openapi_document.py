"""What the runner writes into every operation of the OpenAPI document
(shared/http/openapi.py): the statuses the shared layers answer with their
bodies, ``Retry-After`` on 503, what a handler declares with ``doc``, and
path ids within bigint."""

from __future__ import annotations

from typing import Any

import httpx
from litestar import get, post, put

from switchyard.shared.http import coocenter
from switchyard.shared.http.ids import MAX_ID, PathId
from switchyard.shared.http.openapi import COOCENTER_ERROR, ERROR, doc
from switchyard.shared.runner import create_app
from switchyard.shared.service import Service
from switchyard.shared.settings import Settings

BODY = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}


@get("/api/widgets/{widget_id:int}")
async def read_widget(widget_id: PathId) -> dict[str, Any]:
    return {}


@put(
    "/api/widgets/{widget_id:int}",
    status_code=200,
    opt=doc(body=BODY, statuses={"429": "too many"}, links={"next": {"operationId": "x"}}),
)
async def edit_widget(widget_id: PathId) -> dict[str, Any]:
    return {}


@post(
    "/coocenter-api/widgets/poke",
    status_code=200,
    opt=coocenter.OPT,
    exception_handlers=coocenter.EXCEPTION_HANDLERS,
)
async def poke() -> dict[str, Any]:
    return {}


CODE = {"type": "string", "pattern": "^[A-Z]{1,8}$"}


@get("/api/widgets/by_code/{code:str}", opt=doc(path={"code": CODE}))
async def widget_by_code(code: str) -> dict[str, Any]:
    return {}


async def _whole(settings: Settings) -> dict[str, Any]:
    service = Service("widgets", route_handlers=[read_widget, edit_widget, poke, widget_by_code])
    app = create_app(settings, [service])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        document: dict[str, Any] = (await client.get("/schema/openapi.json")).json()
    return document


async def _document(settings: Settings) -> dict[str, Any]:
    paths: dict[str, Any] = (await _whole(settings))["paths"]
    return paths


def _schema(response: dict[str, Any]) -> Any:
    return response["content"]["application/json"]["schema"]


async def test_every_operation_lists_the_shared_statuses_with_their_bodies(
    settings: Settings,
) -> None:
    paths = await _document(settings)
    read = paths["/api/widgets/{widget_id}"]["get"]
    assert sorted(read["responses"]) == ["200", "400", "401", "404", "503"]
    # Litestar's own 400 body ({status_code, detail}) is not what is sent.
    assert _schema(read["responses"]["400"]) == ERROR
    assert "Retry-After" in read["responses"]["503"]["headers"]
    (param,) = read["parameters"]
    assert (param["schema"]["minimum"], param["schema"]["maximum"]) == (-MAX_ID - 1, MAX_ID)

    edit = paths["/api/widgets/{widget_id}"]["put"]
    assert sorted(edit["responses"]) == [
        *("200", "400", "401", "403", "404", "409", "413", "429", "503"),
    ]
    assert edit["requestBody"]["required"] is True
    assert _schema(edit["requestBody"]) == BODY
    assert edit["responses"]["200"]["links"] == {"next": {"operationId": "x"}}


async def test_a_path_parameter_the_handler_checks_says_its_rule(settings: Settings) -> None:
    (param,) = (await _document(settings))["/api/widgets/by_code/{code}"]["get"]["parameters"]
    assert (param["in"], param["name"], param["schema"]) == ("path", "code", CODE)


async def test_coocenter_handlers_document_their_own_refusal(settings: Settings) -> None:
    poke_op = (await _document(settings))["/coocenter-api/widgets/poke"]["post"]
    # Its own key (401/403), not the token middleware's CSRF check.
    assert {"401", "403"} <= set(poke_op["responses"])
    assert _schema(poke_op["responses"]["401"]) == COOCENTER_ERROR


async def test_operations_are_tagged_in_english_and_chinese(settings: Settings) -> None:
    document = await _whole(settings)
    described = {t["name"]: t["description"] for t in document["tags"]}
    assert described["coocenter"] == "Call-center operations (coocenter) / 呼叫中心接口"
    poke_op = document["paths"]["/coocenter-api/widgets/poke"]["post"]
    assert poke_op["tags"] == ["coocenter"]
    assert document["paths"]["/api/widgets/{widget_id}"]["get"]["tags"] == ["other"]

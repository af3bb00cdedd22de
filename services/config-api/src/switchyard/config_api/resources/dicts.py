"""Dicts (/api/dicts?realm=…): the enumerations, seeded by migration 0101.

Unpaged: a bare array, ordered by `o` then id, as XSwitch and its clients do.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.framework.wire import plain
from switchyard.shared.http.deps import AppRuntime

_DICT_ROW = oa.obj(
    "Dict",
    required=["id", "realm", "k", "v", "d", "o", "created_at", "updated_at", "deleted_at"],
    id=oa.INT,
    realm=oa.STR,
    k=oa.STR,
    v=oa.STR,
    d=oa.STR,
    o=oa.INT,
    created_at=oa.TIMESTAMP,
    updated_at=oa.TIMESTAMP,
    deleted_at=oa.TIMESTAMP,
)


async def _dicts(runtime: Any, realm: str | None, k: str | None) -> list[dict[str, Any]]:
    rows = await runtime.pool.fetch(
        """SELECT id, realm, k, v, d, o, created_at, updated_at FROM dicts
           WHERE ($1::text IS NULL OR realm = $1) AND ($2::text IS NULL OR k = $2)
           ORDER BY realm, o, id""",
        realm,
        k,
    )
    return [plain(r) for r in rows]


@get(
    "/api/dicts",
    operation_id="list_dicts",
    summary="Dictionary values of a realm",
    opt=oa.doc(
        reply=oa.array_of(_DICT_ROW),
        query=[oa.query_param("realm", oa.STR, "e.g. DEST"), oa.query_param("k", oa.STR)],
    ),
)
async def list_dicts(request: Request[Any, Any, Any], runtime: AppRuntime) -> list[dict[str, Any]]:
    q = request.query_params
    return await _dicts(runtime, q.get("realm") or None, q.get("k") or None)


@get(
    "/api/dicts/realm/{realm:str}",
    operation_id="list_dicts_of_realm",
    opt=oa.doc(reply=oa.array_of(_DICT_ROW)),
)
async def dicts_of_realm(realm: FromPath[str], runtime: AppRuntime) -> list[dict[str, Any]]:
    return await _dicts(runtime, realm, None)


def route_handlers() -> list[HTTPRouteHandler]:
    return [list_dicts, dicts_of_realm]

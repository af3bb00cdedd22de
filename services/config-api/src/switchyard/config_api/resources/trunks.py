"""Trunks, trunk groups and route codes (a route code selects a trunk group)."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request, delete, post
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.framework.crud import body_of, handlers, insert_row
from switchyard.config_api.framework.inputs import decode, struct_for, with_defaults
from switchyard.config_api.framework.spec import Col, Filter, Referrer, Resource, Values
from switchyard.config_api.framework.spreadsheets import each_row, rows_of, translate
from switchyard.config_api.framework.wire import render
from switchyard.config_api.resources.destination_checks import (
    TRUNK_GROUP_TYPES,
    TRUNK_TYPES,
    uses_sql,
)
from switchyard.config_api.state import ConfigApi
from switchyard.shared.fsvalues import PEER
from switchyard.shared.http.envelope import Ok


async def _trunk_detail(conn: asyncpg.Connection, out: Values) -> None:
    # Membership of trunks in groups is not part of the specs' data; none is stored.
    out["trunk_groups"] = []


TRUNKS = Resource(
    name="trunks",
    table="trunks",
    cols=(
        Col("name", required=True),
        Col("description"),
        Col("type", default="INOUT", choices=("INOUT", "IN", "OUT")),
        Col("protocol", default="UDP", choices=("UDP", "TCP", "TLS")),
        Col("local_addr", rule=PEER),
        # Dialled as sofia/<profile>/<number>@<remote_addr>.
        Col("remote_addr", rule=PEER),
        Col("source"),
        Col("register", "bool", default=False),
        Col("enabled", "bool", default=True),
        Col("media_codec", "csv"),
        Col("params", "json"),
    ),
    filters=(Filter("name", "name", "like"),),
    detail=_trunk_detail,
    create_reply="id_str",
    referrers=(Referrer("routes", uses_sql("FS_DEST_CLUSTER_TRUNK", *TRUNK_TYPES)),),
)
_trunk_struct = struct_for(TRUNKS)

TRUNK_EXCEL = {
    "中继名称": "name",
    "描述": "description",
    "类型": "type",
    "本地地址": "local_addr",
    "远端地址": "remote_addr",
    "协议": "protocol",
    "是否注册": "register",
    "呼叫源": "source",
    "是否启用": "enabled",
    "参数": "params",
    "媒体编码": "media_codec",
}


@post(
    "/api/trunks/import",
    status_code=200,
    operation_id="import_trunks",
    opt=oa.doc(
        body=oa.rows_body("trunks", oa.input_schema(TRUNKS, create=False)),
        reply=oa.envelope(oa.array_of(oa.output_schema(TRUNKS))),
    ),
)
async def import_trunks(request: Request[Any, Any, Any], config: ConfigApi) -> Ok:
    rows = rows_of(await body_of(request), "trunks")
    async with config.write() as tx:

        async def one(i: int, raw: Any) -> dict[str, Any]:
            row = translate(raw, TRUNK_EXCEL, f"trunks[{i}]")
            values = with_defaults(TRUNKS, decode(TRUNKS, _trunk_struct, row))
            return render(TRUNKS, await insert_row(tx, TRUNKS, values))

        created = await each_row("trunks", rows, one)
    return Ok(data=created)


async def _group_detail(conn: asyncpg.Connection, out: Values) -> None:
    rows = await conn.fetch(
        "SELECT * FROM route_codes WHERE tg_id = $1 ORDER BY id", int(out["id"])
    )
    out["route_codes"] = [render(ROUTE_CODES, r) for r in rows]


TRUNK_GROUPS = Resource(
    name="trunk_groups",
    table="trunk_groups",
    cols=(
        Col("name", required=True),
        Col("description"),
        Col("strategy", default="RR"),
        Col("params", "json"),
    ),
    filters=(Filter("name", "name", "like"),),
    detail=_group_detail,
    create_reply="id_str",
    update_reply="bare_id",
    referrers=(
        Referrer("routes", uses_sql("FS_DEST_CLUSTER_TRUNK_GROUP", *TRUNK_GROUP_TYPES)),
        Referrer("route codes", "SELECT code FROM route_codes WHERE tg_id = $1 ORDER BY id"),
    ),
)

ROUTE_CODES = Resource(
    name="route_codes",
    table="route_codes",
    cols=(
        Col("code", required=True, max_len=8),
        Col("tg_id", "int", default=None),
        Col("description"),
    ),
    filters=(Filter("code", "code"), Filter("tg_id", "tg_id")),
    create_reply="id_str",
)


@delete(
    "/api/route_codes",
    status_code=200,
    operation_id="delete_all_route_codes",
    opt=oa.doc(reply=oa.envelope({"type": "string", "description": "how many were deleted"})),
)
async def delete_all_route_codes(config: ConfigApi) -> Ok:
    async with config.write() as tx:
        ids = [r["id"] for r in await tx.conn.fetch("DELETE FROM route_codes RETURNING id")]
        if ids:
            tx.changed("route_codes", "delete", *ids)
    return Ok(data=str(len(ids)))


def route_handlers() -> list[HTTPRouteHandler]:
    return [
        *handlers(TRUNKS),
        import_trunks,
        *handlers(TRUNK_GROUPS),
        *handlers(ROUTE_CODES),
        delete_all_route_codes,
    ]

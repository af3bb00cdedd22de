"""DODs (/api/dods): the outside number an extension presents, and the way out.

An extension is given by number (`extn`) or id (`extn_id`), the resource
(gateway or trunk) by `name` or `ref_id`; the other half is resolved and
stored. Distributors are not managed by Switchyard, so a DISTRIBUTORS DOD is
refused with the reason.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request, post
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.framework.crud import body_of, handlers, insert_row
from switchyard.config_api.framework.inputs import decode, struct_for, with_defaults
from switchyard.config_api.framework.spec import Col, Filter, Resource, Values
from switchyard.config_api.framework.spreadsheets import each_row, rows_of, translate
from switchyard.config_api.framework.wire import render
from switchyard.config_api.state import ConfigApi
from switchyard.shared.fsvalues import NUMBER
from switchyard.shared.http.envelope import Ok
from switchyard.shared.http.errors import bad_request

# type -> table holding the resource; "TRUNKS"/"TRUNK" are both sent by CherryPBX.
RESOURCE_TABLES = {"GATEWAY": "gateways", "TRUNK": "trunks", "TRUNKS": "trunks"}
TYPES = ("GATEWAY", "DISTRIBUTORS", "TRUNK", "TRUNKS")


def _changed(row: Values, current: Values | None, name: str) -> bool:
    return current is None or row.get(name) != current.get(name)


async def resolve(conn: asyncpg.Connection, row: Values, current: Values | None) -> Values:
    out: Values = {}
    if _changed(row, current, "extn") and str(row.get("extn", "")).strip():
        ext = await conn.fetchrow(
            "SELECT id, extn FROM extensions WHERE extn = $1 ORDER BY id LIMIT 1", str(row["extn"])
        )
        if ext is None:
            raise bad_request("extn", f"no extension {row['extn']!r}")
        out.update(extn_id=ext["id"], extn=ext["extn"])
    elif _changed(row, current, "extn_id") and row.get("extn_id"):
        ext = await conn.fetchrow("SELECT id, extn FROM extensions WHERE id = $1", row["extn_id"])
        if ext is None:
            raise bad_request("extn_id", f"no extension with id {row['extn_id']}")
        out.update(extn_id=ext["id"], extn=ext["extn"])
    elif current is None:
        raise bad_request("extn", "is required")
    table = RESOURCE_TABLES.get(row["type"])
    if table is None:
        raise bad_request("type", f"{row['type']} resources are not managed by Switchyard")
    if (_changed(row, current, "name") or _changed(row, current, "type")) and row.get("name"):
        ref = await conn.fetchval(
            f"SELECT id FROM {table} WHERE name = $1",  # noqa: S608 - from RESOURCE_TABLES
            row["name"],
        )
        if ref is None:
            raise bad_request("name", f"no {table[:-1]} named {row['name']!r}")
        out["ref_id"] = ref
    elif _changed(row, current, "ref_id") or current is None:
        name = await conn.fetchval(
            f"SELECT name FROM {table} WHERE id = $1",  # noqa: S608
            row.get("ref_id") or 0,
        )
        if name is None:
            raise bad_request("ref_id", f"no {table[:-1]} with id {row.get('ref_id')}")
        out["name"] = name
    return out


DODS = Resource(
    name="dods",
    table="dods",
    id_wire="str",
    pin="str",
    cols=(
        Col("extn_id", "int", default=0),
        Col("extn"),
        # The caller number the extension's calls leave with.
        Col("line_number", required=True, rule=NUMBER),
        Col("type", required=True, choices=TYPES),
        Col("ref_id", "int", default=0),
        Col("name"),
    ),
    filters=(Filter("extn", "extn"), Filter("line_number", "line_number")),
    check=resolve,
    needs_one_of=(("extn", "extn_id"), ("name", "ref_id")),
)
_struct = struct_for(DODS)

EXCEL = {"分机": "extn", "线路号码": "line_number", "资源类型": "type", "资源名": "name"}


@post(
    "/api/dods/import",
    status_code=200,
    operation_id="import_dods",
    opt=oa.doc(
        body=oa.rows_body("dods", oa.input_schema(DODS, create=False)),
        reply=oa.envelope(oa.array_of(oa.obj(id=oa.INT, extn_id=oa.INT, ref_id=oa.INT))),
    ),
)
async def import_dods(request: Request[Any, Any, Any], config: ConfigApi) -> Ok:
    rows = rows_of(await body_of(request), "dods")
    async with config.write() as tx:

        async def one(i: int, raw: Any) -> dict[str, Any]:
            values = with_defaults(DODS, decode(DODS, _struct, translate(raw, EXCEL, f"dods[{i}]")))
            out = render(DODS, await insert_row(tx, DODS, values))
            # The import answer carries numbers for the ids (spec example).
            out.update(id=int(out["id"]), extn_id=int(out["extn_id"]), ref_id=int(out["ref_id"]))
            return out

        created = await each_row("dods", rows, one)
    return Ok(data=created)


def route_handlers() -> list[HTTPRouteHandler]:
    return [*handlers(DODS), import_dods]

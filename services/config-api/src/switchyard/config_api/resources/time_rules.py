"""Time rules (/api/time_recurrence): a route's time windows and the templates.

Bodies are arrays (a single object is taken as an array of one, as the
spec's own curl examples send). Every recurrence string is parsed with the
routing engine's parser (the format of docs/architecture.md, Routing rules) and refused with its
reason. Answers keep the spec's shapes, which differ per path: some bare,
some wrapped in ``{code, message:"ok", data}``.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
from litestar import Request, delete, get, post, put
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.framework.crud import (
    apply_update,
    body_of,
    checked_new,
    insert,
    list_rows,
    locked_row,
    require_list,
)
from switchyard.config_api.framework.inputs import decode, struct_for, with_defaults
from switchyard.config_api.framework.spec import Col, PathId, Resource, Values, is_id
from switchyard.config_api.framework.spreadsheets import each_row
from switchyard.config_api.framework.tx import Tx
from switchyard.config_api.framework.wire import render
from switchyard.config_api.resources.destination_checks import dest_problems, resolve
from switchyard.config_api.routing.recurrence import parse_recurrence
from switchyard.config_api.state import ConfigApi, ConfigApiState
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.errors import bad_request, not_found

NOTICE = "time_recurrence"


class Wrapped(msgspec.Struct):
    data: Any
    code: int = 200
    message: str = "ok"


def check_recurrence(text: str) -> None:
    try:
        parse_recurrence(text)
    except ValueError as exc:
        raise bad_request("time_recurrence", str(exc)) from None


async def _check_rule(conn: asyncpg.Connection, row: Values, current: Values | None) -> Values:
    if not await conn.fetchval("SELECT 1 FROM routes WHERE id = $1", row["route_id"]):
        raise bad_request("route_id", f"no route with id {row['route_id']}")
    check_recurrence(row["time_recurrence"])
    return await resolve(conn, row)


RULES = Resource(
    name=NOTICE,
    table="route_time_recurrences",
    cols=(
        Col("route_id", "int", required=True),
        Col("time_recurrence", required=True),
        Col("dest_type", required=True),
        Col("dest_uuid"),
        Col("body"),
    ),
    check=_check_rule,
    vet=dest_problems,
)
_rule_struct = struct_for(RULES)

TEMPLATES = Resource(
    name=NOTICE,
    table="time_templates",
    cols=(Col("name", required=True), Col("description")),
)
_template_struct = struct_for(TEMPLATES)


async def _check_entry(conn: asyncpg.Connection, row: Values, current: Values | None) -> None:
    if not await conn.fetchval("SELECT 1 FROM time_templates WHERE id = $1", row["template_id"]):
        raise bad_request("template_id", f"no template with id {row['template_id']}")
    check_recurrence(row["time_recurrence"])


ENTRIES = Resource(
    name=NOTICE,
    table="time_template_recurrences",
    cols=(Col("template_id", "int", required=True), Col("time_recurrence", required=True)),
    check=_check_entry,  # type: ignore[arg-type]
)
_entry_struct = struct_for(ENTRIES)


def _wrapped(data: oa.Schema) -> oa.Schema:
    return oa.envelope(data, "Wrapped")


_RULE_OUT = oa.output_schema(RULES)
_TEMPLATE_OUT = oa.output_schema(TEMPLATES)
_ID_LIST: oa.Schema = {"type": "array", "minItems": 1, "items": oa.ID_ANY, "example": [7]}
_IDS_OUT = _wrapped(oa.array_of(oa.obj(required=["id"], id=oa.ID_ANY)))
_DOC_CREATE_RULES = oa.doc(
    body=oa.one_or_many(oa.input_schema(RULES, create=True)),
    reply=oa.array_of(oa.obj(required=["id"], id=oa.INT)),
)
_DOC_UPDATE_RULES = oa.doc(
    body=oa.one_or_many(oa.with_id(oa.names_one(oa.input_schema(RULES, create=False)))),
    reply=oa.array_of(oa.obj(required=["id"], id=oa.STR)),
)
_DOC_ID_STR = oa.doc(reply=oa.obj(required=["id"], id=oa.STR))
_DOC_TEMPLATE = oa.doc(
    reply=_wrapped(
        {
            **_TEMPLATE_OUT,
            "properties": {
                **_TEMPLATE_OUT["properties"],
                "time_recurrences": oa.array_of(
                    oa.obj(required=["id", "time_recurrence"], id=oa.INT, time_recurrence=oa.STR)
                ),
            },
        }
    )
)
_ENTRY_GROUPS = _wrapped(
    oa.array_of(
        oa.obj(
            required=["id", "time_recurrences"],
            id=oa.INT,
            time_recurrences=oa.array_of(oa.obj(id=oa.STR, time_recurrence=oa.STR)),
        )
    )
)


def _id_of(row: Any, where: str = "id") -> int:
    raw = str(row.get("id", "") if isinstance(row, dict) else "").strip()
    if not is_id(raw):
        raise bad_request(where, "is required")
    return int(raw)


async def _insert(tx: Tx, resource: Resource, values: Values) -> asyncpg.Record:
    row = await insert(tx.conn, resource.table, await checked_new(tx, resource, values))
    tx.changed(NOTICE, "create", row["id"])
    return row


async def _update(
    tx: Tx, resource: Resource, item_id: int, values: Values, *, by_path: bool = False
) -> asyncpg.Record:
    # A batch names its rows in the body (a missing one is that field's 400);
    # a row named by the path is a 404 like any other.
    missing = not_found() if by_path else bad_request("id", f"no record with id {item_id}")
    current = await locked_row(tx, resource, item_id, missing)
    row = await apply_update(tx, resource, current, values)
    tx.changed(NOTICE, "update", item_id)
    return row or current


def _rule_out(row: asyncpg.Record) -> dict[str, Any]:
    out = render(RULES, row)
    out["route_id"] = row["route_id"]
    return out


# --- a route's time rules --------------------------------------------------------------


@get(
    "/api/time_recurrence/route/{route_id:int}",
    operation_id="list_route_time_rules",
    opt=oa.doc(reply=_wrapped(oa.array_of(_RULE_OUT))),
)
async def rules_of_route(route_id: PathId, runtime: AppRuntime) -> Wrapped:
    if not await runtime.pool.fetchval("SELECT 1 FROM routes WHERE id = $1", route_id):
        raise not_found()
    rows = await runtime.pool.fetch(
        "SELECT * FROM route_time_recurrences WHERE route_id = $1 ORDER BY id", route_id
    )
    return Wrapped(data=[_rule_out(r) for r in rows])


@post(
    "/api/time_recurrence", status_code=200, operation_id="create_time_rules", opt=_DOC_CREATE_RULES
)
async def create_rules(request: Request[Any, Any, Any], config: ConfigApi) -> list[dict[str, Any]]:
    items = require_list(await body_of(request))
    async with config.write() as tx:

        async def one(i: int, item: Any) -> dict[str, Any]:
            values = with_defaults(RULES, decode(RULES, _rule_struct, item))
            return {"id": (await _insert(tx, RULES, values))["id"]}

        return await each_row("body", items, one)


@put(
    "/api/time_recurrence", status_code=200, operation_id="update_time_rules", opt=_DOC_UPDATE_RULES
)
async def update_rules(request: Request[Any, Any, Any], config: ConfigApi) -> list[dict[str, Any]]:
    items = require_list(await body_of(request))
    async with config.write() as tx:

        async def one(i: int, item: Any) -> dict[str, Any]:
            rid = _id_of(item)
            await _update(tx, RULES, rid, decode(RULES, _rule_struct, item, update=True))
            return {"id": str(rid)}

        return await each_row("body", items, one)


@delete(
    "/api/time_recurrence/{item_id:int}",
    status_code=200,
    operation_id="delete_time_rule",
    opt=_DOC_ID_STR,
)
async def delete_rule(item_id: PathId, config: ConfigApi) -> dict[str, str]:
    async with config.write() as tx:
        gone = await tx.conn.fetchval(
            "DELETE FROM route_time_recurrences WHERE id = $1 RETURNING id", item_id
        )
        if gone is None:
            raise not_found()
        tx.changed(NOTICE, "delete", item_id)
    return {"id": str(item_id)}


@delete(
    "/api/time_recurrence/route/{route_id:int}",
    status_code=200,
    operation_id="delete_route_time_rules",
    opt=_DOC_ID_STR,
)
async def delete_rules_of_route(route_id: PathId, config: ConfigApi) -> dict[str, str]:
    async with config.write() as tx:
        if not await tx.conn.fetchval("SELECT 1 FROM routes WHERE id = $1", route_id):
            raise not_found()
        ids = await tx.conn.fetch(
            "DELETE FROM route_time_recurrences WHERE route_id = $1 RETURNING id", route_id
        )
        if ids:
            tx.changed(NOTICE, "delete", *(r["id"] for r in ids))
    return {"id": str(route_id)}


# --- templates ---------------------------------------------------------------------------

T = "/api/time_recurrence/templates"


@get(
    T,
    operation_id="list_time_templates",
    opt=oa.doc(reply=_wrapped(oa.list_page(_TEMPLATE_OUT)), query=oa.list_params(TEMPLATES)),
)
async def list_templates(request: Request[Any, Any, Any], runtime: AppRuntime) -> Wrapped:
    return Wrapped(data=await list_rows(runtime.pool, TEMPLATES, request.query_params))


async def _template(conn: asyncpg.Pool | asyncpg.Connection, tid: int) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM time_templates WHERE id = $1", tid)
    if row is None:
        raise not_found()
    out = render(TEMPLATES, row)
    entries = await conn.fetch(
        "SELECT id, time_recurrence FROM time_template_recurrences WHERE template_id = $1 "
        "ORDER BY id",
        tid,
    )
    out["time_recurrences"] = [dict(e) for e in entries]
    return out


@get(f"{T}/{{item_id:int}}", operation_id="get_time_template", opt=_DOC_TEMPLATE)
async def get_template(item_id: PathId, runtime: AppRuntime) -> Wrapped:
    return Wrapped(data=await _template(runtime.pool, item_id))


@post(
    T,
    status_code=200,
    operation_id="create_time_templates",
    opt=oa.doc(
        body=oa.one_or_many(oa.input_schema(TEMPLATES, create=True)),
        reply=_wrapped(oa.array_of(_TEMPLATE_OUT)),
    ),
)
async def create_templates(request: Request[Any, Any, Any], config: ConfigApi) -> Wrapped:
    items = require_list(await body_of(request))
    async with config.write() as tx:

        async def one(i: int, item: Any) -> dict[str, Any]:
            values = with_defaults(TEMPLATES, decode(TEMPLATES, _template_struct, item))
            return render(TEMPLATES, await _insert(tx, TEMPLATES, values))

        return Wrapped(data=await each_row("body", items, one))


async def _update_templates(
    config: ConfigApiState, items: list[Any], *, by_path: bool = False
) -> Wrapped:
    async with config.write() as tx:

        async def one(i: int, item: Any) -> dict[str, Any]:
            tid = _id_of(item)
            await _update(
                tx,
                TEMPLATES,
                tid,
                decode(TEMPLATES, _template_struct, item, update=True),
                by_path=by_path,
            )
            return {"id": tid}

        return Wrapped(data=await each_row("body", items, one))


@put(
    T,
    status_code=200,
    operation_id="update_time_templates",
    opt=oa.doc(
        body=oa.one_or_many(oa.with_id(oa.names_one(oa.input_schema(TEMPLATES, create=False)))),
        reply=_IDS_OUT,
    ),
)
async def update_templates(request: Request[Any, Any, Any], config: ConfigApi) -> Wrapped:
    return await _update_templates(config, require_list(await body_of(request)))


@put(
    f"{T}/{{item_id:int}}",
    status_code=200,
    operation_id="update_time_template",
    opt=oa.doc(body=oa.input_schema(TEMPLATES, create=False), reply=_IDS_OUT),
)
async def update_template(
    item_id: PathId, request: Request[Any, Any, Any], config: ConfigApi
) -> Wrapped:
    data = await body_of(request)
    if not isinstance(data, dict):
        raise bad_request("body", "must be a JSON object")
    return await _update_templates(config, [{**data, "id": item_id}], by_path=True)


def _ids(data: Any) -> list[int]:
    if not isinstance(data, list) or not data:
        raise bad_request("body", "must be a non-empty array of ids, e.g. [7]")
    out = []
    for i, v in enumerate(data):
        if not is_id(str(v).strip()):
            raise bad_request(f"body[{i}]", f"must be an id, got {v!r}")
        out.append(int(str(v)))
    return out


async def _delete_ids(
    request: Request[Any, Any, Any], config: ConfigApiState, table: str
) -> Wrapped:
    ids = _ids(await body_of(request))
    async with config.write() as tx:
        gone = await tx.conn.fetch(
            f"DELETE FROM {table} WHERE id = ANY($1::bigint[]) RETURNING id",  # noqa: S608
            ids,
        )
        missing = sorted(set(ids) - {r["id"] for r in gone})
        if missing:
            raise bad_request("body", f"no record with id {missing[0]}")
        tx.changed(NOTICE, "delete", *ids)
    return Wrapped(data=[{"id": i} for i in ids])


@delete(
    T,
    status_code=200,
    operation_id="delete_time_templates",
    opt=oa.doc(body=_ID_LIST, reply=_IDS_OUT),
)
async def delete_templates(request: Request[Any, Any, Any], config: ConfigApi) -> Wrapped:
    return await _delete_ids(request, config, "time_templates")


E = f"{T}/time_recurrences"


@post(
    E,
    status_code=200,
    operation_id="create_template_entries",
    opt=oa.doc(body=oa.one_or_many(oa.input_schema(ENTRIES, create=True)), reply=_ENTRY_GROUPS),
)
async def create_entries(request: Request[Any, Any, Any], config: ConfigApi) -> Wrapped:
    items = require_list(await body_of(request))
    groups: dict[int, list[dict[str, Any]]] = {}
    async with config.write() as tx:

        async def one(i: int, item: Any) -> None:
            values = with_defaults(ENTRIES, decode(ENTRIES, _entry_struct, item))
            row = await _insert(tx, ENTRIES, values)
            groups.setdefault(row["template_id"], []).append(
                {"id": str(row["id"]), "time_recurrence": row["time_recurrence"]}
            )

        await each_row("body", items, one)
    return Wrapped(data=[{"id": tid, "time_recurrences": e} for tid, e in groups.items()])


@put(
    E,
    status_code=200,
    operation_id="update_template_entries",
    opt=oa.doc(
        body=oa.one_or_many(oa.with_id(oa.names_one(oa.input_schema(ENTRIES, create=False)))),
        reply=_IDS_OUT,
    ),
)
async def update_entries(request: Request[Any, Any, Any], config: ConfigApi) -> Wrapped:
    items = require_list(await body_of(request))
    async with config.write() as tx:

        async def one(i: int, item: Any) -> dict[str, Any]:
            eid = _id_of(item)
            await _update(tx, ENTRIES, eid, decode(ENTRIES, _entry_struct, item, update=True))
            return {"id": eid}

        return Wrapped(data=await each_row("body", items, one))


@delete(
    f"{E}/{{item_id:int}}",
    status_code=200,
    operation_id="delete_template_entry",
    opt=oa.doc(reply=_wrapped(oa.obj(required=["id"], id=oa.STR))),
)
async def delete_entry(item_id: PathId, config: ConfigApi) -> Wrapped:
    async with config.write() as tx:
        gone = await tx.conn.fetchval(
            "DELETE FROM time_template_recurrences WHERE id = $1 RETURNING id", item_id
        )
        if gone is None:
            raise not_found()
        tx.changed(NOTICE, "delete", item_id)
    return Wrapped(data={"id": str(item_id)})


@delete(
    E,
    status_code=200,
    operation_id="delete_template_entries",
    opt=oa.doc(body=_ID_LIST, reply=_IDS_OUT),
)
async def delete_entries(request: Request[Any, Any, Any], config: ConfigApi) -> Wrapped:
    return await _delete_ids(request, config, "time_template_recurrences")


def route_handlers() -> list[HTTPRouteHandler]:
    return [
        rules_of_route,
        create_rules,
        update_rules,
        delete_rule,
        delete_rules_of_route,
        list_templates,
        get_template,
        create_templates,
        update_templates,
        update_template,
        delete_templates,
        create_entries,
        update_entries,
        delete_entry,
        delete_entries,
    ]

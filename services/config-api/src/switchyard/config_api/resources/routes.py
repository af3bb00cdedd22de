"""Routes (/api/routes): generated CRUD plus the route check, batch update and params."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import asyncpg
import msgspec
from litestar import Request, delete, get, post, put
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import children
from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.framework.crud import (
    all_rows,
    body_of,
    check_list_query,
    fetch_row,
    get_one,
    handlers,
    insert_rows,
    list_rows,
    require_object,
)
from switchyard.config_api.framework.inputs import decode, struct_for
from switchyard.config_api.framework.rules import check, column_problems, text
from switchyard.config_api.framework.spec import Col, Filter, PathId, Resource, Values, is_id
from switchyard.config_api.framework.spreadsheets import rows_of, wants_zh
from switchyard.config_api.framework.wire import render
from switchyard.config_api.resources.destination_checks import dest_problems, resolve
from switchyard.config_api.resources.routing_api import DEFAULT_CONTEXT, checked_route_id
from switchyard.config_api.routing.engine import SCRIPT_PARAMS
from switchyard.config_api.state import ConfigApi, ConfigApiState
from switchyard.shared.fsvalues import (
    CODECS,
    NAME,
    NUMBER,
    SCRIPT,
    Applications,
    UnsafeValue,
)
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.envelope import Created, ListPage, Ok
from switchyard.shared.http.errors import bad_request


async def check_route(conn: asyncpg.Connection, row: Values, current: Values | None) -> Values:
    if row["max_length"] < 1:
        raise bad_request("max_length", "must be at least 1")
    if len(row.get("prefix", "")) > row["max_length"]:
        raise bad_request("prefix", "is longer than max_length")
    if row.get("blacklist"):
        await check_blacklist(conn, str(row["blacklist"]))
    return await resolve(conn, row)


async def check_blacklist(conn: asyncpg.Connection, value: str) -> None:
    if not is_id(value) or not await conn.fetchval(
        "SELECT 1 FROM blacklists WHERE id = $1", int(value)
    ):
        raise bad_request("blacklist", f"no blacklist with id {value!r}")


ROUTES = Resource(
    name="routes",
    table="routes",
    pin="num",
    cols=(
        Col("name", required=True),
        Col("description"),
        # Matched literally against a dialled number, which is a NUMBER.
        Col("prefix", rule=NUMBER),
        Col("max_length", "int", default=12, required=True),
        Col("context", required=True, rule=NAME),
        Col("dnc"),
        Col("sdnc"),
        Col("dest_type", required=True),
        Col("dest_uuid"),
        Col("body"),
        Col("auto_record", "flag", default=0),
        Col("bill_rate", "money", default=0),
        Col("blacklist"),
        Col("proxy_media", "flag", default=1),
        Col("route_type", "int", default=4, choices=(0, 1, 2, 3, 4)),
        Col("media_codec", "csv", rule=CODECS),
        Col("disabled", "flag", default=0),
        Col("cid_number", rule=NUMBER),
        Col("did_enabled", "flag", default=0),
    ),
    filters=(
        Filter("context", "context"),
        Filter("destType", "dest_type"),
        Filter("dest_type", "dest_type"),
        Filter("name", "name", "like"),
    ),
    check=check_route,
    vet=dest_problems,
    toggle="disabled",
    create_reply="object",
    bulk="routes",  # XUI: a POST body without `name` is an array of routes
    ops=frozenset({"create", "update", "delete"}),
    # Keys the spec's create and route-check answers show but no request sets
    # (its route fields table lists none of them): always "".
    select="SELECT *, ''::text AS outdest_type, ''::text AS outdest_uuid, "
    "''::text AS outbody, ''::text AS work_time FROM routes",
    computed={"outdest_type": "str", "outdest_uuid": "str", "outbody": "str", "work_time": "str"},
)

# Only these may be set on many routes at once (PUT /api/routes).
BATCH_FIELDS = (
    "auto_record",
    "media_codec",
    "route_type",
    "proxy_media",
    "bill_rate",
    "blacklist",
    "did_enabled",
)
BATCH = Resource(
    name="routes",
    table="routes",
    cols=tuple(c for c in ROUTES.cols if c.name in BATCH_FIELDS),
)
_batch_struct = struct_for(BATCH)
_ROUTE_OUT = oa.output_schema(ROUTES)


def param_problems(row: Values, apps: Applications) -> Iterator[UnsafeValue]:
    """A route param runs as ``<k> <v>``: ``k`` an allowed application (or one
    of the engine's pseudo keys, whose ``v`` is a Lua script's path)."""
    k, v = text(row, "k").strip(), text(row, "v")
    if k in SCRIPT_PARAMS:
        yield from check("v", v, SCRIPT)
        return
    try:
        apps.check_action("", k, v)
    except UnsafeValue as exc:
        yield UnsafeValue({"app": "k", "data": "v"}.get(exc.field, exc.field), exc.reason)


PARAMS = children.Child(
    parent=ROUTES,
    res=Resource(
        name="routes",
        table="route_params",
        cols=(
            Col("k", required=True),
            Col("v"),
            Col("disabled", "flag", default=0),
            Col("o", "int", default=1),
        ),
        toggle="disabled",
        vet=param_problems,
    ),
    fk="route_id",
    fk_out="ref_id",
    realm="ROUTE",
)


async def route_check(
    request: Request[Any, Any, Any], config: ConfigApiState, dest_number: str
) -> ListPage[dict[str, Any]]:
    """Which route a call to ``destNumber`` in ``context`` takes, decided by the
    routing engine (the order of docs/architecture.md, Routing rules), shown as the route's row."""
    context = request.query_params.get("context") or DEFAULT_CONTEXT
    route_id = await checked_route_id(config.live, context, dest_number)
    row = None if route_id is None else await fetch_row(config.runtime.pool, ROUTES, route_id)
    data = [] if row is None else [render(ROUTES, row)]
    return ListPage(page=1, pageCount=1, rowCount=len(data), data=data)


@get(
    "/api/routes",
    operation_id="list_routes",
    summary="List routes, or check which one a number takes",
    opt=oa.doc(
        reply=oa.list_page(_ROUTE_OUT),
        query=[
            *oa.list_params(ROUTES),
            oa.query_param("destNumber", oa.STR, "answer the one route this number takes"),
            oa.query_param("dest", oa.STR, "routes whose dest_uuid or body is this"),
        ],
    ),
)
async def list_routes(
    request: Request[Any, Any, Any], config: ConfigApi
) -> ListPage[dict[str, Any]]:
    query = request.query_params
    if dest_number := query.get("destNumber"):
        # The list's parameters mean nothing to the check, but what the list
        # would refuse is refused here too: one operation, one contract.
        check_list_query(ROUTES, query)
        return await route_check(request, config, dest_number)
    where, args = _dest_filter(query)
    return await list_rows(
        config.runtime.pool, ROUTES, query, where=where, args=args, cache=config.reads
    )


def _dest_filter(query: Any) -> tuple[list[str], list[Any]]:
    if dest := query.get("dest"):
        return ["(dest_uuid = $1 OR body = $1)"], [dest]
    return [], []


@get(
    "/api/routes/{item_id:int}",
    operation_id="get_routes",
    summary="One route",
    opt=oa.doc(
        reply={
            **_ROUTE_OUT,
            "properties": {**_ROUTE_OUT["properties"], "params": oa.array_of(PARAMS.schema)},
        },
        query=[
            oa.query_param(
                "with_params",
                {"type": "string"},
                "true or 1: the route's params too (anything else: not)",
            )
        ],
    ),
)
async def get_route(
    item_id: PathId, request: Request[Any, Any, Any], config: ConfigApi
) -> dict[str, Any]:
    out = await get_one(config.runtime.pool, ROUTES, item_id, config.reads)
    if request.query_params.get("with_params") in ("true", "1"):
        out["params"] = await children.list_of(config.runtime.pool, PARAMS, item_id)
    return out


class BatchReply(msgspec.Struct):
    message: str
    data: list[Any] = msgspec.field(default_factory=list)
    code: int = 200


@put(
    "/api/routes",
    status_code=200,
    operation_id="batch_update_routes",
    summary="Update several routes",
    opt=oa.doc(
        body={
            **oa.input_schema(BATCH, create=False),
            "title": "RoutesBatch",
            "required": ["route"],
            "properties": {
                "route": {"type": "array", "minItems": 1, "items": oa.ID_ANY},
                **oa.input_schema(BATCH, create=False)["properties"],
            },
        }
    ),
)
async def batch_update(request: Request[Any, Any, Any], config: ConfigApi) -> BatchReply:
    data = require_object(await body_of(request))
    ids_raw = data.get("route")
    if not isinstance(ids_raw, list) or not ids_raw:
        raise bad_request("route", "must be a non-empty array of route ids")
    ids: list[int] = []
    for i, v in enumerate(ids_raw):
        if not is_id(str(v).strip()):
            raise bad_request(f"route[{i}]", f"must be a route id, got {v!r}")
        ids.append(int(str(v)))
    values = decode(BATCH, _batch_struct, {k: v for k, v in data.items() if k in BATCH_FIELDS})
    if not values:
        raise bad_request("body", f"nothing to update; one of {list(BATCH_FIELDS)}")
    for problem in column_problems(BATCH, values):
        raise bad_request(problem.field, problem.reason)
    async with config.write() as tx:
        if values.get("blacklist"):
            await check_blacklist(tx.conn, str(values["blacklist"]))
        sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(values, start=2))
        updated = await tx.conn.fetch(
            f"UPDATE routes SET {sets}, updated_at = now() "  # noqa: S608 - BATCH_FIELDS only
            "WHERE id = ANY($1::bigint[]) RETURNING id",
            ids,
            *values.values(),
        )
        if updated:
            tx.changed("routes", "update", *(r["id"] for r in updated))
    return BatchReply(message=f"update rows {len(updated)}")


# --- spreadsheets ----------------------------------------------------------------

# The columns of a route spreadsheet: (column, Chinese title). The English
# header is the column name itself, so either header uploads back as it was
# downloaded (the id is shown, and ignored on upload: rows are created).
SHEET = (
    ("id", "ID"),
    ("name", "名称"),
    ("description", "描述"),
    ("context", "呼叫源"),
    ("prefix", "被叫前缀"),
    ("max_length", "最大号长"),
    ("dest_type", "目的地类型"),
    ("dest_uuid", "目的地ID"),
    ("body", "目的地"),
    ("dnc", "被叫号码变换"),
    ("sdnc", "主叫号码变换"),
    ("cid_number", "主叫号码"),
    ("blacklist", "黑名单"),
    ("route_type", "路由类型"),
    ("media_codec", "媒体编码"),
    ("auto_record", "自动录音"),
    ("proxy_media", "媒体代理"),
    ("did_enabled", "DID"),
    ("bill_rate", "费率"),
    ("disabled", "禁用"),
)
SHEET_TITLES = {zh: col for col, zh in SHEET if col != "id"}


SHEET_CELL: dict[str, Any] = {"type": ["string", "number"]}
SHEET_SCHEMA = {
    "type": "array",
    "description": "a header row, then one row per item",
    "items": {"type": "array", "items": SHEET_CELL},
}
LANGUAGE = oa.query_param("language", oa.STR, "zh (the default) for Chinese headers, else English")


@get(
    "/api/routes/download",
    operation_id="download_routes",
    summary="Routes as spreadsheet rows",
    opt=oa.doc(
        reply=SHEET_SCHEMA,
        query=[
            LANGUAGE,
            oa.query_param("type", oa.STR, "accepted and ignored (XSwitch clients send All Route)"),
            *(p for p in oa.list_params(ROUTES) if p["name"] not in ("page", "perPage")),
            oa.query_param("dest", oa.STR, "routes whose dest_uuid or body is this"),
        ],
    ),
)
async def download_routes(request: Request[Any, Any, Any], runtime: AppRuntime) -> list[list[Any]]:
    """Every route the list would show with the same filters (not paged): the
    header row, then one row per route, ids first (CherryPBX sorts by it)."""
    query = request.query_params
    where, args = _dest_filter(query)
    rows = await all_rows(runtime.pool, ROUTES, query, where=where, args=args)
    zh = wants_zh(query.get("language"))
    out: list[list[Any]] = [[zh_title if zh else col for col, zh_title in SHEET]]
    for row in rows:
        item = render(ROUTES, row)
        out.append([item[col] for col, _ in SHEET])
    return out


@post(
    "/api/routes/upload",
    status_code=200,
    operation_id="upload_routes",
    summary="Create routes from spreadsheet rows, all or none",
    opt=oa.doc(
        body=oa.rows_body(
            "routes",
            {
                **oa.input_schema(ROUTES, create=False),
                "description": "a route, by column names or the download's Chinese titles",
            },
        ),
        reply=oa.envelope(oa.obj(required=["data"], data=oa.array_of(_ROUTE_OUT))),
    ),
)
async def upload_routes(request: Request[Any, Any, Any], config: ConfigApi) -> Ok:
    """``{routes:[rows]}``: every row created or none; the answer's
    ``data.data`` holds the created routes (clients count them)."""
    rows = rows_of(await body_of(request), "routes")
    async with config.write() as tx:
        created = await insert_rows(tx, ROUTES, "routes", rows, SHEET_TITLES)
    return Ok(data={"data": [render(ROUTES, r) for r in created]})


# --- params -----------------------------------------------------------------------


@get(
    "/api/routes/{route_id:int}/params",
    operation_id="list_route_params",
    opt=oa.doc(reply=oa.array_of(PARAMS.schema)),
)
async def list_params(route_id: PathId, runtime: AppRuntime) -> list[dict[str, Any]]:
    return await children.list_of(runtime.pool, PARAMS, route_id)


@post(
    "/api/routes/{route_id:int}/params",
    status_code=200,
    operation_id="create_route_param",
    opt=oa.doc(body=PARAMS.body(create=True), reply=oa.envelope(oa.INT, "Created")),
)
async def add_param(
    route_id: PathId, request: Request[Any, Any, Any], config: ConfigApi
) -> Created:
    data = await body_of(request)
    async with config.write() as tx:
        row = await children.add(tx, PARAMS, route_id, data)
    return Created(data=row["id"])


@put(
    "/api/routes/{route_id:int}/params/{param_id:int}",
    status_code=200,
    operation_id="update_route_param",
    opt=oa.doc(body=PARAMS.body(create=False), reply=oa.envelope(PARAMS.schema)),
)
async def edit_param(
    route_id: PathId,
    param_id: PathId,
    request: Request[Any, Any, Any],
    config: ConfigApi,
) -> Ok:
    data = await body_of(request)
    async with config.write() as tx:
        row = await children.edit(tx, PARAMS, route_id, param_id, data)
    return Ok(data=PARAMS.render(row))


@put(
    "/api/routes/{route_id:int}/params",
    status_code=200,
    operation_id="update_route_param_by_body",
    opt=oa.doc(
        body={
            **oa.with_id(PARAMS.body(create=False), required=False),
            "description": "id, or a k that exactly one param of the route has",
        },
        reply=oa.envelope(PARAMS.schema),
    ),
)
async def edit_param_by_body(
    route_id: PathId, request: Request[Any, Any, Any], config: ConfigApi
) -> Ok:
    """The spec's own curl example PUTs to ``…/params`` without a param id:
    the id comes from the body, else the route's only param with that ``k``."""
    data = require_object(await body_of(request))
    pid = str(data.get("id", "")).strip()
    async with config.write() as tx:
        if is_id(pid):
            param_id = int(pid)
        elif "id" in data:
            raise bad_request("id", f"must be a param id, got {data['id']!r}")
        else:
            await children.parent_exists(tx.conn, PARAMS, route_id)
            param_id = await children.only_with_k(tx.conn, PARAMS, route_id, data, "id")
        row = await children.edit(tx, PARAMS, route_id, param_id, data)
    return Ok(data=PARAMS.render(row))


def _delete_param(path: str, operation_id: str) -> HTTPRouteHandler:
    """Deleting a route parameter: XSwitch serves it under ``param`` and ``params``."""

    @delete(
        path,
        status_code=200,
        operation_id=operation_id,
        opt=oa.doc(reply=oa.envelope({"type": "integer", "const": 1})),
    )
    async def delete_param(route_id: PathId, param_id: PathId, config: ConfigApi) -> Ok:
        async with config.write() as tx:
            await children.remove(tx, PARAMS, route_id, param_id)
        return Ok(data=1)

    return delete_param


def route_handlers() -> list[HTTPRouteHandler]:
    return [
        download_routes,
        upload_routes,
        *handlers(ROUTES),
        list_routes,
        get_route,
        batch_update,
        list_params,
        add_param,
        edit_param,
        edit_param_by_body,
        _delete_param("/api/routes/{route_id:int}/param/{param_id:int}", "delete_route_param"),
        _delete_param(
            "/api/routes/{route_id:int}/params/{param_id:int}", "delete_route_param_plural"
        ),
    ]

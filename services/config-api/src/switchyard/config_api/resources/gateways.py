"""Gateways (/api/gateways) with their params and variables.

The paths are the spec's, quirks included: edit at ``…/params/$pid`` but
delete at ``…/param/$pid``; list a gateway's params at
``/api/gateways/params/$id``. Passwords are masked in every answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import asyncpg
import msgspec
from litestar import Request, get, post, put
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import children
from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.framework.crud import body_of, handlers, insert_row, relevance
from switchyard.config_api.framework.inputs import decode, struct_for, with_defaults
from switchyard.config_api.framework.rules import check, text
from switchyard.config_api.framework.spec import (
    Col,
    Filter,
    PathId,
    Referrer,
    Resource,
    Values,
    is_id,
)
from switchyard.config_api.resources.destination_checks import uses_sql
from switchyard.config_api.state import ConfigApi
from switchyard.shared.fsvalues import (
    HOST,
    NAME,
    NUMBER,
    PARAM,
    SECRET,
    TEXT,
    Applications,
    UnsafeValue,
    check_variable_name,
    gateway_param_rule,
)
from switchyard.shared.http.body import convert, read_body
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.envelope import Created, Ok
from switchyard.shared.http.errors import bad_request, not_found
from switchyard.shared.messages import GATEWAY_ACTIONS, GatewayControl


async def _detail(conn: asyncpg.Connection, out: Values) -> None:
    gid = int(out["id"])
    out["params"] = await children.list_of(conn, PARAMS, gid)
    out["variables"] = await children.list_of(conn, VARIABLES, gid)


GATEWAYS = Resource(
    name="gateways",
    table="gateways",
    id_wire="str",
    pin="str",  # CherryPBX compares gateway fields as strings (`disabled === "0"`)
    cols=(
        # sofia.conf's <gateway name>, and an argument of startgw/killgw.
        Col("name", required=True, rule=NAME),
        Col("realm", rule=HOST),
        Col("username", rule=NUMBER),  # a SIP user part
        Col("password", secret=True, rule=SECRET),
        Col("profile_id", rule=NAME),
        Col("register", default="yes", choices=("yes", "no", "true", "false")),
        Col("description"),
        Col("disabled", "flag", default=0),
        Col("dnc"),
        Col("sdnc"),
    ),
    filters=(Filter("name", "name", "like"), Filter("realm", "realm")),
    detail=_detail,
    toggle="disabled",
    # Also what GET /api/gateways/relevance_info/$id shows, under each key.
    referrers=(
        Referrer("routes", uses_sql("FS_DEST_GATEWAY"), key="routes"),
        Referrer(
            "route time rules",
            "SELECT route_id, id FROM route_time_recurrences "
            "WHERE dest_type = 'FS_DEST_GATEWAY' "
            "AND $1::bigint::text = ANY(string_to_array(replace(dest_uuid, ' ', ''), ',')) "
            "ORDER BY id",
            key="time_rules",
        ),
        Referrer(
            "DODs",
            "SELECT line_number, id, extn FROM dods WHERE type = 'GATEWAY' AND ref_id = $1 "
            "ORDER BY id",
            key="dods",
        ),
    ),
    ops=frozenset({"list", "get", "update", "delete"}),
)
_struct = struct_for(GATEWAYS)

_KV = (Col("k", required=True), Col("v"), Col("disabled", "flag", default=0))


# Gateway params whose value is a secret (any printable text but ${).
def param_problems(row: Values, apps: Applications) -> Iterator[UnsafeValue]:
    """``<param name=k value=v/>`` of the gateway in sofia.conf."""
    k = text(row, "k")
    yield from check("k", k, PARAM)
    yield from check("v", text(row, "v"), gateway_param_rule(k))


def variable_problems(row: Values, apps: Applications) -> Iterator[UnsafeValue]:
    """A channel variable the gateway sets on its calls: a plain, non-executing name."""
    try:
        check_variable_name("k", text(row, "k"))
    except UnsafeValue as exc:
        yield exc
    yield from check("v", text(row, "v"), TEXT)


PARAMS = children.Child(
    parent=GATEWAYS,
    res=Resource(
        name="gateways",
        table="gateway_params",
        cols=_KV,
        toggle="disabled",
        vet=param_problems,
    ),
    fk="gateway_id",
    fk_out="ref_id",
    realm="GATEWAY",
)
VARIABLES = children.Child(
    parent=GATEWAYS,
    res=Resource(
        name="gateways",
        table="gateway_variables",
        cols=(
            *_KV,
            Col(
                "direction",
                "int",
                default=0,
                choices=(0, 1, 2),
                aliases=(("both", 0), ("all", 0), ("inbound", 1), ("outbound", 2)),
            ),
        ),
        toggle="disabled",
        vet=variable_problems,
    ),
    fk="gateway_id",
)


@post(
    "/api/gateways",
    status_code=200,
    operation_id="create_gateways",
    summary="Create a gateway",
    opt={
        **oa.doc(
            body={
                **oa.input_schema(GATEWAYS, create=True),
                "properties": {
                    **oa.input_schema(GATEWAYS, create=True)["properties"],
                    "template": {
                        "type": "string",
                        "description": "id of a gateway whose params and variables are copied",
                    },
                },
            },
            reply=oa.envelope(oa.INT, "Created"),
            links=oa.links_from_create(GATEWAYS, "/data"),
        ),
        # Its params and variables link from here (framework/openapi.py).
        oa.OPT_CREATES: (GATEWAYS.name, "/data"),
    },
)
async def create_gateway(request: Request[Any, Any, Any], config: ConfigApi) -> Created:
    data = await body_of(request)
    values = with_defaults(GATEWAYS, decode(GATEWAYS, _struct, data))
    template = str(data.get("template", "") if isinstance(data, dict) else "").strip()
    async with config.write() as tx:
        row = await insert_row(tx, GATEWAYS, values)
        # XUI's `template`: another gateway's id whose params and variables are copied.
        if template and template != "default":
            if not is_id(template) or not await tx.conn.fetchval(
                "SELECT 1 FROM gateways WHERE id = $1", int(template)
            ):
                raise bad_request("template", f"no gateway with id {template!r}")
            for table, cols in (
                ("gateway_params", "k, v, disabled"),
                ("gateway_variables", "k, v, disabled, direction"),
            ):
                await tx.conn.execute(
                    f"INSERT INTO {table} (gateway_id, {cols}) "  # noqa: S608 - fixed names
                    f"SELECT $1, {cols} FROM {table} WHERE gateway_id = $2 ORDER BY id",
                    row["id"],
                    int(template),
                )
    return Created(data=row["id"])


def _refs(**cols: Any) -> Any:
    return oa.array_of(oa.obj(required=list(cols), **cols))


@get(
    "/api/gateways/relevance_info/{item_id:int}",
    operation_id="gateway_relevance_info",
    summary="What refers to a gateway",
    opt=oa.doc(
        reply=oa.envelope(
            oa.obj(
                "GatewayRelevance",
                required=["routes", "time_rules", "dods", "distributors"],
                routes=_refs(id=oa.STR, name=oa.STR),
                time_rules=_refs(id=oa.STR, route_id=oa.STR),
                dods=_refs(id=oa.STR, line_number=oa.STR, extn=oa.STR),
                distributors={
                    "type": "array",
                    "maxItems": 0,
                    "items": {},
                    "description": "always empty: Switchyard stores no distributors",
                },
            )
        )
    ),
)
async def relevance_info(item_id: PathId, runtime: AppRuntime) -> Ok:
    """The routes (dest_uuid, also as ``primary,backup``), route time rules and
    DODs that use the gateway: the rows that would refuse its delete."""
    async with runtime.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM gateways WHERE id = $1", item_id)
        if row is None:
            raise not_found()
        found = await relevance(conn, GATEWAYS, dict(row))
    return Ok(data={**found, "distributors": []})


class ControlBody(msgspec.Struct):
    action: str = ""


@put(
    "/api/gateways/{item_id:int}/control",
    operation_id="gateway_control",
    summary="Start, kill, register or unregister a gateway on every node",
    status_code=200,
    oplog_resource="gateways",
    oplog_action="control",
    opt=oa.doc(
        body=oa.obj("GatewayControl", required=["action"], action={"enum": list(GATEWAY_ACTIONS)}),
        reply=oa.envelope({"type": "object"}),
    ),
)
async def control(item_id: PathId, request: Request[Any, Any, Any], runtime: AppRuntime) -> Ok:
    """call-control does it (``sy.gateways.control``): this path lies under
    ``/api/gateways/{id}``, which the Ingress sends to config-api. ``action``
    in the JSON body or the query, as the spec's clients send it."""
    body = await read_body(request, ControlBody)
    if not body.action:
        body = convert(dict(request.query_params), ControlBody)
    if body.action not in GATEWAY_ACTIONS:
        raise bad_request("action", f"must be one of {', '.join(GATEWAY_ACTIONS)}")
    name = await runtime.pool.fetchval("SELECT name FROM gateways WHERE id = $1", item_id)
    if name is None:
        raise not_found()
    bus = runtime.bus
    await bus.request(bus.subjects.gateway_control, GatewayControl(name, body.action), Any)
    return Ok()


def route_handlers() -> list[HTTPRouteHandler]:
    g = "/api/gateways/{pid:int}"
    return [
        *handlers(GATEWAYS),
        create_gateway,
        relevance_info,
        control,
        *children.child_handlers(
            PARAMS,
            "gateway_params",
            list_path="/api/gateways/params/{pid:int}",
            create_path=f"{g}/params",
            update_path=f"{g}/params/{{cid:int}}",
            delete_paths=(f"{g}/param/{{cid:int}}", f"{g}/params/{{cid:int}}"),
        ),
        *children.child_handlers(
            VARIABLES,
            "gateway_variables",
            list_path="/api/gateways/variables/{pid:int}",
            create_path=f"{g}/variables",
            update_path=f"{g}/variables/{{cid:int}}",
            delete_paths=(f"{g}/variable/{{cid:int}}", f"{g}/variables/{{cid:int}}"),
        ),
    ]

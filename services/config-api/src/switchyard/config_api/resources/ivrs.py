"""IVRs (/api/ivrs) and their actions.

Sound fields (greet_long, greet_short, invalid_sound, exit_sound,
transfer_sound, pin_file, bad_pin_file) hold the media JSON string clients
send (``{"media_id","media_path","media_type"}``) or a plain path; a GET
shows the JSON as an object, as the spec's examples do.
"""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import children
from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.framework.crud import handlers, relevance
from switchyard.config_api.framework.spec import Col, Filter, PathId, Referrer, Resource
from switchyard.config_api.framework.wire import render
from switchyard.config_api.resources.destinations import uses_sql
from switchyard.config_api.resources.routes import ROUTES
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.errors import not_found

SOUNDS = ("greet_long", "greet_short", "invalid_sound", "exit_sound", "transfer_sound")

IVRS = Resource(
    name="ivrs",
    table="ivrs",
    cols=(
        Col("name", required=True),
        Col("key"),
        Col("description"),
        *(Col(s, "json", wire="media") for s in SOUNDS),
        Col("timeout", "int", default=15000),
        Col("max_failures", "int", default=3),
        Col("max_timeouts", "int", default=4),
        Col("exec_on_max_failures"),
        Col("exec_on_max_timeouts"),
        Col("confirm_key"),
        Col("confirm_macro"),
        Col("confirm_attempts"),
        Col("tts_engine"),
        Col("tts_voice"),
        Col("digit_len", "int", default=1),
        Col("inter_digit_timeout", "int", default=3000),
        Col("pin"),
        Col("pin_file", "json", wire="media"),
        Col("bad_pin_file", "json", wire="media"),
    ),
    select=(
        "SELECT i.*, (SELECT count(*) FROM ivr_actions a WHERE a.ivr_menu_id = i.id)"
        " AS count_actions FROM ivrs i"
    ),
    computed={"count_actions": "num"},
    key_prefix="ivr-",
    filters=(Filter("name", "name", "like"),),
    referrers=(
        # Also GET /api/ivrs/$id/routes.
        Referrer("routes", uses_sql("FS_DEST_IVR"), key="routes"),
        Referrer(
            "IVR menus",
            "SELECT i.name FROM ivr_actions a JOIN ivrs i ON i.id = a.ivr_menu_id "
            "WHERE a.action = 'IVR_SUB' AND a.args = $1::bigint::text "
            "AND a.ivr_menu_id <> $1 ORDER BY a.id",
        ),
    ),
)

ACTION_TYPES = (
    "IVR_EXTENSION", "IVR_QUEUE", "IVR_MEETING_ROOM", "IVR_CONFERENCE_ROOM", "IVR_CONFERENCE",
    "IVR_SCRIPT", "IVR_SYSTEM", "IVR_ROUTE", "IVR_PLAY", "IVR_TTS", "IVR_SUB", "IVR_TOP",
    "IVR_BACK", "IVR_EXIT", "IVR_HANGUP", "MACRO", "VOICE_MACRO",
)  # fmt: skip

ACTIONS = children.Child(
    parent=IVRS,
    res=Resource(
        name="ivrs",
        table="ivr_actions",
        cols=(
            Col("digits", required=True),
            Col("action", required=True, choices=ACTION_TYPES),
            Col("match_prefix", "flag", default=0),
            Col("args"),
            Col("body"),
        ),
    ),
    fk="ivr_menu_id",
)


@get(
    "/api/ivrs/{pid:int}/actions/{cid:int}",
    operation_id="get_ivr_action",
    opt=oa.doc(reply=oa.array_of(ACTIONS.schema)),
)
async def get_action(pid: PathId, cid: PathId, runtime: AppRuntime) -> list[dict[str, Any]]:
    """One action, as an array of one (the spec's and XUI's shape)."""
    row = await runtime.pool.fetchrow(
        "SELECT * FROM ivr_actions WHERE id = $1 AND ivr_menu_id = $2", cid, pid
    )
    if row is None:
        raise not_found()
    return [ACTIONS.render(row)]


@get(
    "/api/ivrs/{item_id:int}/routes",
    operation_id="list_ivr_routes",
    summary="The routes whose destination is this IVR",
    opt=oa.doc(reply=oa.obj(required=["data"], data=oa.array_of(oa.output_schema(ROUTES)))),
)
async def ivr_routes(item_id: PathId, runtime: AppRuntime) -> dict[str, Any]:
    """``{data:[route]}``: the routes (FS_DEST_IVR, dest_uuid = the id) that
    would refuse the IVR's delete, as route objects."""
    async with runtime.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM ivrs WHERE id = $1", item_id)
        if row is None:
            raise not_found()
        ids = [r["id"] for r in (await relevance(conn, IVRS, dict(row)))["routes"]]
        rows = await conn.fetch(
            f"SELECT * FROM ({ROUTES.list_select}) AS r "  # noqa: S608 - declared SQL
            "WHERE id = ANY($1::bigint[]) ORDER BY id",
            ids,
        )
    return {"data": [render(ROUTES, r) for r in rows]}


def route_handlers() -> list[HTTPRouteHandler]:
    a = "/api/ivrs/{pid:int}/actions"
    return [
        *handlers(IVRS),
        get_action,
        ivr_routes,
        *children.child_handlers(
            ACTIONS,
            "ivr_actions",
            list_path=a,
            create_path=a,
            update_path=f"{a}/{{cid:int}}",
            delete_paths=(f"{a}/{{cid:int}}",),
            update_reply="id_str",
            delete_reply="id_str",
        ),
    ]

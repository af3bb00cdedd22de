"""IVRs (/api/ivrs) and their actions.

Sound fields (greet_long, greet_short, invalid_sound, exit_sound,
transfer_sound, pin_file, bad_pin_file) hold the media JSON string clients
send (``{"media_id","media_path","media_type"}``) or a plain path; a GET
shows the JSON as an object, as the spec's examples do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from litestar import get
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import children
from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.framework.crud import handlers, relevance
from switchyard.config_api.framework.rules import app_line, app_lines, check, media, members, text
from switchyard.config_api.framework.spec import Col, Filter, PathId, Referrer, Resource, Values
from switchyard.config_api.framework.wire import render
from switchyard.config_api.resources.destination_checks import uses_sql
from switchyard.config_api.resources.routes import ROUTES
from switchyard.shared.fsvalues import (
    LABEL,
    NAME,
    NUMBER,
    SCRIPT,
    SOUND,
    TEXT,
    Applications,
    UnsafeValue,
)
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.errors import not_found

SOUNDS = ("greet_long", "greet_short", "invalid_sound", "exit_sound", "transfer_sound")
# Menu attributes FreeSWITCH runs as ``app data``.
EXECS = ("exec_on_max_failures", "exec_on_max_timeouts")


def ivr_problems(row: Values, apps: Applications) -> Iterator[UnsafeValue]:
    """The menu's sounds (media JSON or a path) and the applications it runs."""
    for name in (*SOUNDS, "pin_file", "bad_pin_file"):
        yield from media(name, text(row, name), SOUND)
    for name in EXECS:
        if line := text(row, name):
            yield from app_line(name, line, apps)


IVRS = Resource(
    name="ivrs",
    table="ivrs",
    cols=(
        # ivr.conf's <menu name>, the data of the `ivr` application.
        Col("name", required=True, rule=LABEL),
        Col("key"),
        Col("description"),
        *(Col(s, "json", wire="media") for s in SOUNDS),
        Col("timeout", "int", default=15000),
        Col("max_failures", "int", default=3),
        Col("max_timeouts", "int", default=4),
        Col("exec_on_max_failures"),
        Col("exec_on_max_timeouts"),
        Col("confirm_key", rule=NUMBER),
        Col("confirm_macro", rule=NAME),
        Col("confirm_attempts", rule=NUMBER),
        Col("tts_engine", rule=NAME),
        Col("tts_voice", rule=NAME),
        Col("digit_len", "int", default=1),
        Col("inter_digit_timeout", "int", default=3000),
        Col("pin", rule=NUMBER),
        Col("pin_file", "json", wire="media"),
        Col("bad_pin_file", "json", wire="media"),
    ),
    select=(
        "SELECT i.*, (SELECT count(*) FROM ivr_actions a WHERE a.ivr_menu_id = i.id)"
        " AS count_actions FROM ivrs i"
    ),
    computed={"count_actions": "num"},
    vet=ivr_problems,
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

_CONFERENCES = ("IVR_CONFERENCE", "IVR_CONFERENCE_ROOM", "IVR_MEETING_ROOM")


def action_problems(row: Values, apps: Applications) -> Iterator[UnsafeValue]:
    """``args`` and ``body`` by ``action``, as fsxml/documents.py writes the
    menu entry (docs/routing.md, "IVR actions")."""
    action, args, body = text(row, "action"), text(row, "args"), text(row, "body")
    used, used_field = (args, "args") if args else (body, "body")  # `args or body`
    if action == "IVR_EXTENSION":
        if args.strip().startswith("["):
            yield from members("args", args.strip())
        else:
            yield from check("args", args.strip(), NUMBER)
    elif action == "IVR_PLAY":
        yield from media(used_field, used, SOUND)
    elif action in ("IVR_TTS", "MACRO", "VOICE_MACRO"):
        yield from check(used_field, used, TEXT)
    elif action == "IVR_SYSTEM":
        yield from app_lines("body", body, apps, comments=False)
    elif action == "IVR_SCRIPT":
        yield from media("body", body, SCRIPT)
        yield from check("args", args, SCRIPT)
    elif action == "IVR_ROUTE":
        yield from check("args", args.strip(), NAME)  # a context id or key
        yield from check("body", body.strip(), NUMBER)
    elif action in ("IVR_QUEUE", *_CONFERENCES):
        name, where = (body, "body") if body else (args, "args")  # `body or args`
        # A queue may be <queue>@<domain>; a room is spliced into <room>-<domain>@default.
        parts = name.split("@", 1) if action == "IVR_QUEUE" else [name]
        if name and not all(LABEL.ok(p) for p in parts):
            yield UnsafeValue(where, LABEL.reason)


ACTIONS = children.Child(
    parent=IVRS,
    res=Resource(
        name="ivrs",
        table="ivr_actions",
        cols=(
            Col("digits", required=True, rule=NUMBER),
            Col("action", required=True, choices=ACTION_TYPES),
            Col("match_prefix", "flag", default=0),
            Col("args"),
            Col("body"),
        ),
        vet=action_problems,
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

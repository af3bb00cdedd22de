"""Call-center queues (/api/callcenter_queues) and their members
(/api/callcenter_queues/{id}/members): coocenter's queues, served to
FreeSWITCH as mod_callcenter's ``callcenter.conf`` (fsxml/documents.py).

A queue ``630`` is mod_callcenter's ``630@default`` (shared/callcenter.py);
each member is an extension, its agent ``<extn>@default`` ringing
``user/<extn>@<domain>``, its tier level ``penalty + 1``.
"""

from __future__ import annotations

import asyncpg
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import children
from switchyard.config_api.framework.crud import handlers
from switchyard.config_api.framework.spec import Col, Filter, Resource, Values
from switchyard.shared.fsvalues import LABEL, NUMBER, SOUND

STRATEGIES = (
    "ring-all",
    "longest-idle-agent",
    "round-robin",
    "top-down",
    "agent-with-least-talk-time",
    "agent-with-fewest-calls",
    "sequentially-by-agent-order",
    "random",
    "ring-progressively",
)


async def _detail(conn: asyncpg.Connection, out: Values) -> None:
    out["members"] = await children.list_of(conn, MEMBERS, int(out["id"]))


QUEUES = Resource(
    name="callcenter_queues",
    table="callcenter_queues",
    cols=(
        Col("name", required=True, rule=LABEL),
        Col("description"),
        Col("strategy", default="longest-idle-agent", choices=STRATEGIES),
        Col("moh_sound", rule=SOUND),
        Col("max_wait_time", "int", default=0),
        Col("max_wait_time_with_no_agent", "int", default=0),
        Col("max_wait_time_with_no_agent_time_reached", "int", default=5),
        # Seconds an agent's phone rings before the next agent is tried.
        Col("agent_timeout", "int", default=20),
        Col("disabled", "flag", default=0),
    ),
    filters=(Filter("name", "name", "like"),),
    detail=_detail,
    toggle="disabled",
)

MEMBERS = children.Child(
    parent=QUEUES,
    res=Resource(
        name="callcenter_queues",
        table="callcenter_queue_members",
        cols=(
            Col("extn", required=True, rule=NUMBER),
            Col("penalty", "int", default=0),
            Col("position", "int", default=1),
            Col("disabled", "flag", default=0),
        ),
        toggle="disabled",
    ),
    fk="queue_id",
)


def route_handlers() -> list[HTTPRouteHandler]:
    b = "/api/callcenter_queues/{pid:int}"
    return [
        *handlers(QUEUES),
        *children.child_handlers(
            MEMBERS,
            "callcenter_queue_members",
            list_path=f"{b}/members",
            create_path=f"{b}/members",
            update_path=f"{b}/members/{{cid:int}}",
            delete_paths=(f"{b}/members/{{cid:int}}",),
        ),
    ]

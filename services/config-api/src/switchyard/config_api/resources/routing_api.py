"""The routing engine over HTTP and NATS: the route check, the explanation,
and ``sy.config.route`` for call-control's originates.

All three answer from the compiled configuration (live.py). The HTTP ones
first wait until it holds every committed write (``Live.fresh``), so an
operator who just saved a route sees it at once; the NATS one does not
wait (it is on the path of a call, like mod_xml_curl).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, get
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.live import Live
from switchyard.config_api.routing.engine import Decision
from switchyard.config_api.routing.xmldoc import NOT_FOUND, dialplan_document
from switchyard.config_api.state import ConfigApi
from switchyard.shared.bus import BusError
from switchyard.shared.http.envelope import Ok
from switchyard.shared.http.errors import bad_request
from switchyard.shared.messages import RouteAction, RouteReply, RouteRequest

DEFAULT_CONTEXT = "context-1"


async def checked_route_id(live: Live, context: str, dest_number: str) -> int | None:
    """The route a call to ``dest_number`` in ``context`` takes (docs/architecture.md,
    Routing rules)."""
    compiled = await live.fresh()
    table = compiled.router.tables.get(context)
    route = table.select(dest_number) if table is not None else None
    return None if route is None else route.id


def parse_at(value: str, tz: str) -> datetime:
    """``at`` as ISO 8601; without an offset it is local time of the
    configured timezone (what an operator reads off a wall clock)."""
    if not value:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T").replace("Z", "+00:00"))
    except ValueError:
        raise bad_request("at", "must be ISO 8601, like 2026-05-04T09:30:00+08:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment


class Explanation(msgspec.Struct, frozen=True):
    """The decision with its reasons, the document FreeSWITCH would get and
    the configuration version it was computed from."""

    decision: Decision
    xml: str
    version: int
    problems: list[dict[str, Any]]


@get(
    "/api/routes/explain",
    operation_id="explain_route",
    summary="Why a call to destNumber in context goes where it goes",
    opt=oa.doc(
        reply=oa.envelope(oa.of_type(Explanation)),
        query=[
            {**oa.query_param("destNumber", oa.STR), "required": True},
            oa.query_param("context", oa.STR, "default context-1"),
            oa.query_param("callerNumber", oa.STR),
            oa.query_param("at", oa.STR, "ISO date-time to evaluate time rules at"),
        ],
    ),
)
async def explain(request: Request[Any, Any, Any], config: ConfigApi) -> Ok:
    q = request.query_params
    return Ok(
        data=await explanation(
            config.live,
            q.get("context") or DEFAULT_CONTEXT,
            q.get("destNumber", ""),
            q.get("callerNumber", ""),
            q.get("at", ""),
        )
    )


async def explanation(live: Live, context: str, dest: str, caller: str, at: str) -> Explanation:
    """The API's explanation, also shown by the console's route explain page."""
    if not dest:
        raise bad_request("destNumber", "is required")
    compiled = await live.fresh()
    moment = parse_at(at, compiled.router.snapshot.timezone)
    decision = compiled.router.lookup(context, dest, caller, moment, explain=True)
    # Problems of the routes this call considered (a refused dnc, a bad time rule).
    ids = {c.route_id for c in decision.candidates}
    problems = [msgspec.to_builtins(p) for p in compiled.router.problems if p.route_id in ids]
    return Explanation(
        decision=decision,
        xml=dialplan_document(decision) if decision.found else NOT_FOUND,
        version=compiled.version,
        problems=problems,
    )


# --- sy.config.route (NATS request/reply, shared/messages.py) -----------------------


def route_reply(decision: Decision, version: int) -> RouteReply:
    if not decision.found:
        raise BusError("not_found", decision.reason or "no route matches")
    bridge = next((a.data for a in decision.actions if a.application == "bridge"), None)
    return RouteReply(
        outcome=decision.outcome,
        reason=decision.reason,
        context=decision.context,
        callee=decision.callee,
        caller=decision.caller,
        actions=[RouteAction(a.application, a.data) for a in decision.actions],
        dial_string=bridge,
        route_id=decision.route_id,
        dest_type=decision.dest_type,
        version=version,
        timeless=not decision.time_rules,
    )


def lookup_handler(live: Live) -> Any:
    async def handle(req: RouteRequest) -> RouteReply:
        compiled = live.current
        decision = compiled.router.lookup(req.context, req.number, req.caller, datetime.now(UTC))
        return route_reply(decision, compiled.version)

    return handle


def route_handlers() -> list[HTTPRouteHandler]:
    return [explain]

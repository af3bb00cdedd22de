"""The console's gateways and trunks page (docs/console.md).

Gateways: each node's live view (``sofia xmlstatus gateway``: registration
state, status, up since, calls), with register/unregister/start/stop for
admins (the API's gateway control: every node that has the gateway).
Trunks: as configured, since FreeSWITCH keeps no state for them
(trunks_http says why).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Template

from switchyard.call_control.gateways_http import _api_or_none, control
from switchyard.call_control.nodes import configured_nodes
from switchyard.call_control.sofia import parse_gateway_xml, parse_sofia_status
from switchyard.shared.bus import Bus
from switchyard.shared.console.pages import LOGIN_REDIRECT, render, require_admin
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.errors import ApiError

PAGE = "switchyard.call_control:gateways.html"
# The page's verbs -> gateways_http's actions.
ACTIONS = {"register": "register", "unregister": "unregister", "start": "start", "stop": "killgw"}


class GatewayView(msgspec.Struct):
    node: str
    name: str
    profile: str
    state: str  # REGED, NOREG, FAIL_WAIT, … as FreeSWITCH says
    status: str  # UP / DOWN
    up_since: datetime | None
    calls_in: str
    calls_out: str
    failed_in: str
    failed_out: str


async def _gateways(bus: Bus, node: str) -> tuple[str, list[GatewayView]]:
    """(why the node could not be asked, or ""; its gateways)."""
    text = await _api_or_none(bus, node, "sofia", "status")
    if text is None:
        return "no owner answered", []
    out = []
    for gw in parse_sofia_status(text).gateways:
        xml = await _api_or_none(bus, node, "sofia", f"xmlstatus gateway {gw.name}") or ""
        d = parse_gateway_xml(xml) or {}
        uptime = d.get("uptime-usec", "")
        since = None
        if uptime.isdigit():
            since = datetime.fromtimestamp(time.time() - int(uptime) / 1_000_000, UTC)
        out.append(
            GatewayView(
                node,
                gw.name,
                gw.profile,
                d.get("state", gw.state),
                d.get("status", ""),
                since,
                d.get("calls-in", ""),
                d.get("calls-out", ""),
                d.get("failed-calls-in", ""),
                d.get("failed-calls-out", ""),
            )
        )
    return "", out


@get("/console/gateways", include_in_schema=False, exception_handlers=LOGIN_REDIRECT)
async def gateways_page(request: Request[Any, Any, Any], runtime: AppRuntime) -> Template:
    nodes = configured_nodes(runtime.settings)
    per_node = await asyncio.gather(*(_gateways(runtime.bus, n) for n in nodes))
    async with runtime.pool.acquire() as conn:
        trunks = await conn.fetch(
            "SELECT id, name, type, protocol, remote_addr, enabled FROM trunks ORDER BY id"
        )
    return render(
        request,
        PAGE,
        {
            "gateways": [g for _, rows in per_node for g in rows],
            "unreachable": [(n, why) for n, (why, _) in zip(nodes, per_node, strict=True) if why],
            "trunks": trunks,
        },
    )


@post(
    "/console/gateways/{name:str}/{verb:str}",
    include_in_schema=False,
    status_code=200,
    opt={"oplog_resource": "gateways", "oplog_action": "control"},
)
async def gateway_action(
    name: FromPath[str], verb: FromPath[str], request: Request[Any, Any, Any], runtime: AppRuntime
) -> str:
    require_admin(request)
    action = ACTIONS.get(verb)
    if action is None:
        raise ApiError(404, "not found")
    await control(runtime, name, action)
    return "ok"


route_handlers = [gateways_page, gateway_action]

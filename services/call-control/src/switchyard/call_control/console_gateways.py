"""The console's gateways and trunks page (docs/console.md).

Gateways: each node's live view (``sofia xmlstatus gateway``: registration
state, status, up since, calls) and its last state change in the event
stream (when, and the SIP answer behind it), with register/unregister/start/stop for
admins (the API's gateway control: every node that has the gateway).
Trunks: as configured, since FreeSWITCH keeps no state for them
(trunks_http says why).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import nats.errors
import nats.js.errors
from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Template
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

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


class LastChange(msgspec.Struct):
    """A gateway's last ``sofia::gateway_state`` event: when and why."""

    at: datetime
    state: str
    reason: str  # the SIP answer (Status/Phrase) FreeSWITCH gave, if any


# How far back the page looks for gateway state changes (they are rare).
CHANGES_WINDOW = timedelta(days=1)
_MAX_CHANGES = 5000
_event = msgspec.json.Decoder(dict[str, Any])


async def last_changes(bus: Bus) -> dict[tuple[str, str], LastChange]:
    """(node, gateway) -> its last state change within CHANGES_WINDOW, read
    from SY_FS_EVENTS (an ephemeral consumer on the one subclass)."""
    head = bus.subjects.events_all.removesuffix(">")
    found: dict[tuple[str, str], LastChange] = {}
    try:
        sub = await bus.js.pull_subscribe(
            bus.subjects.events_subclass("sofia::gateway_state"),
            stream=bus.subjects.events_stream,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_TIME,
                opt_start_time=datetime.now(UTC) - CHANGES_WINDOW,
                ack_policy=AckPolicy.NONE,
                inactive_threshold=10.0,
            ),
        )
    except (nats.js.errors.Error, nats.errors.Error):
        return found
    try:
        seen = 0
        while seen < _MAX_CHANGES:
            try:
                msgs = await sub.fetch(500, timeout=0.3)
            except (nats.errors.TimeoutError, TimeoutError):
                break
            seen += len(msgs)
            for msg in msgs:
                with contextlib.suppress(msgspec.DecodeError):
                    event = _event.decode(msg.data)
                    node = msg.subject.removeprefix(head).split(".", 1)[0]
                    phrase = str(event.get("Phrase", "") or "")
                    status = str(event.get("Status", "") or "")
                    reason = " ".join(p for p in (status, phrase) if p and p not in ("UP", "DOWN"))
                    found[(node, str(event.get("Gateway", "")))] = LastChange(
                        msg.metadata.timestamp, str(event.get("State", "")), reason
                    )
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
    return found


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
    changed: LastChange | None = None


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
    per_node, changes = await asyncio.gather(
        asyncio.gather(*(_gateways(runtime.bus, n) for n in nodes)),
        last_changes(runtime.bus),
    )
    for _, rows in per_node:
        for g in rows:
            g.changed = changes.get((g.node, g.name))
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

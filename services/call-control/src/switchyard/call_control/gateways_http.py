"""Gateway status and control (XSwitch: /api/gateways/list1, …/control; by
id through config-api, over the bus).

Gateways live on every FreeSWITCH node, so a status lists each node's view
and a control command goes to every node that answers; the configured rows
come from config-api's ``gateways`` table, which call-control only reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar import Request, get, put

from switchyard.call_control.node_commands import Api, ApiResult
from switchyard.call_control.nodes import configured_nodes
from switchyard.call_control.sofia import parse_gateway_xml, parse_sofia_status
from switchyard.shared.bus import Bus, BusError
from switchyard.shared.fsvalues import NAME
from switchyard.shared.http.body import convert, read_body
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.envelope import Ok
from switchyard.shared.http.errors import ApiError, bad_request, not_found
from switchyard.shared.http.openapi import doc
from switchyard.shared.messages import GATEWAY_ACTIONS, GatewayControl, GatewayControlled
from switchyard.shared.runtime import Runtime
from switchyard.shared.sofia_profiles import gateway_profile

ACTIONS = GATEWAY_ACTIONS


class GatewayStatus(msgspec.Struct):
    gateway_status: str
    name: str
    gateway_state: str
    node: str


class ControlBody(msgspec.Struct):
    action: str = ""
    # A gateway named by a whole number is its text; a fraction names none.
    gwname: str | int = ""


async def _api(bus: Bus, node: str, command: str, args: str = "") -> str:
    """The node's answer; BusError when it has no live owner (or link) right now."""
    request = Api(command, args)
    return (await bus.request(bus.subjects.node_command(node), request, ApiResult)).body


async def _api_or_none(bus: Bus, node: str, command: str, args: str = "") -> str | None:
    try:
        return await _api(bus, node, command, args)
    except BusError:
        return None


async def node_gateways(bus: Bus, node: str) -> list[GatewayStatus]:
    text = await _api_or_none(bus, node, "sofia", "status")
    if text is None:
        return []  # a node nobody can reach right now shows no gateways
    rows = []
    for gw in parse_sofia_status(text).gateways:
        detail = parse_gateway_xml(
            await _api_or_none(bus, node, "sofia", f"xmlstatus gateway {gw.name}") or ""
        )
        status = (detail or {}).get("status", "DOWN")
        rows.append(GatewayStatus(status, gw.name, (detail or {}).get("state", gw.state), node))
    return rows


@get("/api/gateways/list1")
async def gateway_status(runtime: AppRuntime) -> list[GatewayStatus]:
    per_node = await asyncio.gather(
        *(node_gateways(runtime.bus, n) for n in configured_nodes(runtime.settings))
    )
    return [row for rows in per_node for row in rows]


async def control(runtime: AppRuntime, gateway: str, action: str) -> Ok:
    if action not in ACTIONS:
        raise bad_request("action", f"must be one of {', '.join(ACTIONS)}")
    if not NAME.ok(gateway):
        raise bad_request("gwname", "is not a gateway name")
    configured = await runtime.pool.fetchrow(
        "SELECT name, profile_id FROM gateways WHERE name = $1", gateway
    )
    bus = runtime.bus
    results = await asyncio.gather(
        *(
            _control_on(bus, n, gateway, action, configured)
            for n in configured_nodes(runtime.settings)
        ),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, BusError):
            raise result
    if any(r is True for r in results):
        return Ok()
    # Done nowhere. If a node could not be asked, the gateway may well be
    # there: that is "unavailable" (503, the node's reason), not "not found".
    unreachable = next((r for r in results if isinstance(r, BusError)), None)
    if unreachable is not None:
        raise unreachable
    raise not_found(f"gateway {gateway} not found on any node")


async def _control_on(bus: Bus, node: str, gateway: str, action: str, configured: Any) -> bool:
    text = await _api(bus, node, "sofia", "status")
    status = parse_sofia_status(text)
    profile = status.profile_of(gateway)
    if profile is None:
        if action != "start" or not status.profiles:
            return False
        # A stopped gateway is not listed. A configured one is started where
        # config-api's sofia.conf puts it (its profile, else ``external``); one
        # the table does not know (static XML) on the node's first profile.
        if configured is not None:
            profile = gateway_profile(configured["profile_id"])
            if profile not in status.profiles:
                return False
        else:
            profile = status.profiles[0]
    verb = "startgw" if action == "start" else action
    answer = await _api(bus, node, "sofia", f"profile {profile} {verb} {gateway}")
    return "+OK" in answer


# What control_by_name reads, for the OpenAPI document (query parameters of
# the same names are taken when the body names neither).
CONTROL_BODY = {
    "type": "object",
    "required": ["action", "gwname"],
    "properties": {
        "action": {"type": "string", "enum": list(ACTIONS)},
        "gwname": {
            "anyOf": [
                {"type": "string", "pattern": f"^(?:{NAME.pattern.pattern})$"},
                # A number is read as its text (body.convert), a name of digits.
                {"type": "integer"},
            ]
        },
    },
}


@put(
    "/api/gateways/control",
    status_code=200,
    oplog_resource="gateways",
    oplog_action="control",
    opt=doc(body=CONTROL_BODY),
)
async def control_by_name(request: Request[Any, Any, Any], runtime: AppRuntime) -> Ok:
    # The spec sends it as a JSON body or as query parameters.
    body = await read_body(request, ControlBody)
    if not body.action and body.gwname == "":
        body = convert(dict(request.query_params), ControlBody)
    if body.gwname == "":
        raise bad_request("gwname", "is required")
    return await control(runtime, str(body.gwname), body.action)


@asynccontextmanager
async def serving_control(runtime: Runtime) -> AsyncIterator[None]:
    """Answer ``GatewayControl`` on the bus: ``PUT /api/gateways/{id}/control``
    is config-api's path (the Ingress sends everything under
    ``/api/gateways/{id}`` there), which asks call-control for the doing."""

    async def handle(msg: GatewayControl) -> GatewayControlled:
        try:
            await control(runtime, msg.gateway, msg.action)
        except ApiError as exc:
            raise BusError("not_found" if exc.status == 404 else "invalid", exc.message) from None
        return GatewayControlled()

    sub = await runtime.bus.serve(
        runtime.subjects.gateway_control,
        GatewayControl,
        handle,
        queue=runtime.subjects.call_control_queue,
    )
    try:
        yield
    finally:
        await sub.unsubscribe()


route_handlers = [gateway_status, control_by_name]

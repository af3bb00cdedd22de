"""coocenter's call-center API, the call operations: ``/coocenter-api/extensions/…``
and ``/coocenter-api/queues/…`` (docs/coocenter.md has the word-for-word mapping).

Extensions are phones registered with mod_sofia; queues and agents are
mod_callcenter's (``630`` is ``630@default``, extension ``800`` the agent
``800@default``, shared/callcenter.py). Reads ask every node; agent
commands run on every node (each has its own mod_callcenter); call
operations run on the node holding the channel. Authentication: the
WEBKEY digest (shared/http/coocenter.py), no API token.
"""

from __future__ import annotations

import asyncio
import re
import time
import xml.etree.ElementTree as ET
from typing import Any

import asyncpg
from litestar import Request, Response, Router, get, post

from switchyard.call_control.channels_http import ring
from switchyard.call_control.node_commands import (
    Api,
    ApiResult,
    App,
    CallcenterConfig,
    ChannelList,
    Hangup,
    ListChannels,
    NodeCommand,
    OriginateResult,
    Transfer,
)
from switchyard.call_control.nodes import configured_nodes
from switchyard.call_control.replica import RunningReplica
from switchyard.call_control.route_cache import RouteCache
from switchyard.shared.bus import BusError
from switchyard.shared.callcenter import agent_name, queue_name, short
from switchyard.shared.fsvalues import CALLCENTER_AGENT, CALLCENTER_QUEUE, EXTENSION, UnsafeValue
from switchyard.shared.http import coocenter
from switchyard.shared.http.coocenter import (
    FORM,
    Refused,
    Reply,
    form,
    form_body,
    form_field,
    reply_schema,
    required,
    strings,
    success,
)
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.openapi import Schema, doc
from switchyard.shared.runtime import Runtime

GUARDS = [coocenter.guard]
# A queue goes into callcenter_config lines as <queue>@default, one ASCII word
# (fsvalues.CALLCENTER_WORD): a label of any script would pass a looser rule
# here and be refused on the node after the agent was already added.
QUEUE = CALLCENTER_QUEUE
# An agent is <extension>@default, a callcenter_config word as well: an
# extension with * or # was refused on every node and answered 503.
AGENT = CALLCENTER_AGENT
# Asterisk's channel states, which coocenter reports (channelstate, channelstatedesc).
_STATES = {
    "DOWN": ("0", "Down"),
    "DIALING": ("3", "Dialing"),
    "RINGING": ("5", "Ringing"),
    "EARLY": ("5", "Ringing"),
    "ACTIVE": ("6", "Up"),
    "HELD": ("6", "Up"),
}
# Asterisk's extension (hint) states: coocenter's 0/1/2/4/8/16.
IDLE, IN_USE, BUSY, UNAVAILABLE, RINGING, ON_HOLD = "0", "1", "2", "4", "8", "16"
_PHONE = re.compile(r"sofia/[^/]+/(?:sips?:)?([^@/]+)@")
SOFIA_PROFILE = "internal"


# --- the forms in the OpenAPI document (what the handlers below check) -----------------

_QUEUE_GIVEN = "the queue, as coocenter names it (630 is mod_callcenter's 630@default)"
_STATE: Schema = {
    "type": "string",
    "pattern": r"^\s*(?:[Oo][Nn]|[Oo][Ff][Ff])\s*$",
    "description": "on pauses the agent (the default), off ends the pause; any case",
}
_PLACED = {"502": "src: the call to src could not be placed (FreeSWITCH's cause)"}


def _form_doc(body: Schema, message: str, statuses: dict[str, str] | None = None) -> dict[str, Any]:
    reply = reply_schema(message)
    return {
        **coocenter.WRITE_OPT,
        **doc(body=body, body_type=FORM, reply=reply, statuses=statuses),
    }


def _read_doc(reply: Schema) -> dict[str, Any]:
    return {**coocenter.OPT, **doc(reply=reply)}


CURRENT_CALLS = reply_schema(
    "Channels will follow",
    {
        "type": "array",
        "items": strings(
            "calleridname",
            "calleridnum",
            "channel",
            "channelstate",
            "channelstatedesc",
            "connectedlinename",
            "connectedlinenum",
            "duration",
        ),
    },
)
EXTENSION_STATUS = reply_schema(
    "Peer status list will follow",
    {"type": "array", "items": strings("Exten", "Type", "IPAddr", "Status")},
)
_HINTS_ROW = strings("agentName", "extension", "extenType", "status")
_HINTS_ROW["properties"]["status"]["enum"] = ["0", "1", "2", "4", "8", "16"]
HINTS = {"type": "array", "items": _HINTS_ROW}
QUEUE_INFO = reply_schema(
    "Queue status will follow",
    {
        "type": "object",
        "description": "each queue's members",
        "additionalProperties": {"type": "array", "items": strings("name", "paused", "penalty")},
    },
)


def _src_dst_form(src: str, dst: str) -> Schema:
    return form_body(
        {"src": form_field(EXTENSION, src), "dst": form_field(EXTENSION, dst)}, ["src", "dst"]
    )


PAUSE_FORM = form_body(
    {
        "member": form_field(AGENT, "the agent's extension"),
        # mod_callcenter's status is the agent's, in every queue: checked, not used.
        "queue": form_field(QUEUE, _QUEUE_GIVEN + "; it pauses every queue", optional=True),
        "state": _STATE,
    },
    ["member"],
)
LOGIN_FORM = form_body(
    {
        "extension": form_field(AGENT, "the agent's extension"),
        "queue": form_field(QUEUE, _QUEUE_GIVEN),
    },
    ["extension", "queue"],
)
LOGOUT_FORM = form_body(
    {
        "extension": form_field(AGENT, "the agent's extension"),
        "queue": form_field(QUEUE, _QUEUE_GIVEN + "; the agent leaves every queue", optional=True),
    },
    ["extension"],
)
HANGUP_FORM = form_body(
    {"extension": form_field(EXTENSION, "the phone whose calls are hung up")}, ["extension"]
)
CLICK_FORM = _src_dst_form("the phone rung first", "the number it is then connected to")
TRANSFER_FORM = _src_dst_form("the phone in the call", "where the party it talks to goes")
SPY_FORM = _src_dst_form("the phone that listens (rung first)", "the phone whose call it hears")


def _checked(field: str, value: str, rule: Any = EXTENSION) -> str:
    try:
        return str(rule.check(field, value))
    except UnsafeValue as exc:
        raise Refused(400, f"{exc.field}: {exc.reason}") from None


def extension_of(row: dict[str, str]) -> str:
    """The phone a channel belongs to: ``sofia/<profile>/<ext>@…`` (calls from it
    and to it alike)."""
    m = _PHONE.match(row.get("name", ""))
    return m[1] if m else ""


async def _each_node(runtime: Runtime, cmd: NodeCommand) -> list[ApiResult]:
    """``cmd`` on every configured node; nodes nobody answers for are left out."""
    bus = runtime.bus

    async def one(node: str) -> ApiResult | None:
        try:
            return await bus.request(bus.subjects.node_command(node), cmd, ApiResult)
        except BusError:
            return None

    answers = await asyncio.gather(*(one(n) for n in configured_nodes(runtime.settings)))
    return [a for a in answers if a is not None]


async def channels(runtime: Runtime) -> list[dict[str, str]]:
    bus = runtime.bus

    async def one(node: str) -> list[dict[str, str]]:
        try:
            answer = await bus.request(bus.subjects.node_command(node), ListChannels(), ChannelList)
        except BusError:
            return []
        return [{**row, "node": answer.node} for row in answer.rows]

    nodes = configured_nodes(runtime.settings)
    return [r for rows in await asyncio.gather(*(one(n) for n in nodes)) for r in rows]


def connected_line(row: dict[str, str], peer: dict[str, str] | None) -> tuple[str, str]:
    """Who the channel talks to: the phone or number on its other leg (a leg we
    dialled is known by its destination, an incoming one by its caller)."""
    if peer is None:
        number = row.get("callee_num") or row.get("dest", "")
        return row.get("callee_name") or number, number
    if peer.get("direction") == "outbound":
        number = extension_of(peer) or peer.get("callee_num") or peer.get("dest", "")
        return number, number
    return peer.get("cid_name", ""), peer.get("cid_num", "")


def _duration(row: dict[str, str], now: float) -> str:
    try:
        seconds = max(int(now) - int(row.get("created_epoch") or now), 0)
    except ValueError:
        seconds = 0
    h, rest = divmod(seconds, 3600)
    return f"{h:02d}:{rest // 60:02d}:{rest % 60:02d}"


@post(
    "/coocenter-api/extensions/current-calls",
    status_code=200,
    guards=GUARDS,
    opt=_read_doc(CURRENT_CALLS),
)
async def current_calls(runtime: AppRuntime) -> Reply:
    rows = await channels(runtime)
    by_uuid = {r["uuid"]: r for r in rows}
    now = time.time()
    data = []
    for row in rows:
        peer = by_uuid.get(row.get("call_uuid", ""))
        state, desc = _STATES.get(row.get("callstate", ""), ("0", "Down"))
        if state == "5" and row.get("direction") == "inbound":
            state, desc = "4", "Ring"
        name, number = connected_line(row, peer)
        data.append(
            {
                "calleridname": row.get("cid_name", ""),
                "calleridnum": row.get("cid_num", ""),
                "channel": row.get("name", ""),
                "channelstate": state,
                "channelstatedesc": desc,
                "connectedlinename": name,
                "connectedlinenum": number,
                "duration": _duration(row, now),
            }
        )
    return success("Channels will follow", data)


class Registration:
    def __init__(self, ip: str, ping_ms: float) -> None:
        self.ip = ip
        self.ping_ms = ping_ms


def parse_registrations(text: str) -> dict[str, Registration]:
    """``sofia xmlstatus profile <p> reg``: user -> its network IP and ping time (ms)."""
    out: dict[str, Registration] = {}
    try:
        root = ET.fromstring(text)  # noqa: S314 - FreeSWITCH's own answer
    except ET.ParseError:
        return out
    for reg in root.iter("registration"):
        user = (reg.findtext("user") or "").partition("@")[0]
        try:
            ping = float(reg.findtext("ping-time") or "0")
        except ValueError:
            ping = 0.0
        if user:
            out[user] = Registration(reg.findtext("network-ip") or "", ping)
    return out


async def registrations(runtime: Runtime) -> dict[str, Registration]:
    found: dict[str, Registration] = {}
    cmd = Api("sofia", f"xmlstatus profile {SOFIA_PROFILE} reg")
    for answer in await _each_node(runtime, cmd):
        found.update(parse_registrations(answer.body))
    return found


async def extensions(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    # config-api's table; call-control only reads it.
    rows: list[asyncpg.Record] = await pool.fetch(
        "SELECT extn, name FROM extensions WHERE disabled = 0 ORDER BY length(extn), extn"
    )
    return rows


@get("/coocenter-api/extensions/extension-status", guards=GUARDS, opt=_read_doc(EXTENSION_STATUS))
async def extension_status(runtime: AppRuntime) -> Reply:
    regs = await registrations(runtime)
    data = []
    for ext in await extensions(runtime.pool):
        reg = regs.get(ext["extn"])
        data.append(
            {
                "Exten": ext["extn"],
                "Type": "SIP",
                "IPAddr": reg.ip if reg and reg.ip else "-none-",
                "Status": f"OK({round(reg.ping_ms)}ms)" if reg else "UNKNOWN",
            }
        )
    return success("Peer status list will follow", data)


def hint_status(registered: bool, calls: list[dict[str, str]]) -> str:
    if not registered:
        return UNAVAILABLE
    states = {c.get("callstate", "") for c in calls}
    if "HELD" in states:
        return ON_HOLD
    if "ACTIVE" in states:
        return IN_USE
    if states & {"RINGING", "EARLY", "DIALING"}:
        return RINGING
    return IDLE


@get("/coocenter-api/extensions/extension-hints-status", guards=GUARDS, opt=_read_doc(HINTS))
async def extension_hints_status(runtime: AppRuntime) -> list[dict[str, str]]:
    regs, rows = await asyncio.gather(registrations(runtime), channels(runtime))
    out = []
    for ext in await extensions(runtime.pool):
        number = ext["extn"]
        calls = [r for r in rows if extension_of(r) == number]
        out.append(
            {
                "agentName": ext["name"] or number,
                "extension": number,
                "extenType": "analogCallCenter",
                "status": hint_status(number in regs, calls),
            }
        )
    return out


def _table(body: str) -> list[dict[str, str]]:
    """A callcenter_config list: header row, rows, ``+OK``."""
    lines = [ln for ln in body.splitlines() if ln and not ln.startswith(("+OK", "-ERR"))]
    if not lines:
        return []
    header = lines[0].split("|")
    return [dict(zip(header, ln.split("|"), strict=False)) for ln in lines[1:]]


async def _config_on(runtime: Runtime, node: str, *args: str) -> str:
    bus = runtime.bus
    answer = await bus.request(
        bus.subjects.node_command(node), CallcenterConfig(tuple(args)), ApiResult
    )
    return answer.body


@get("/coocenter-api/queues/queue-info", guards=GUARDS, opt=_read_doc(QUEUE_INFO))
async def queue_info(runtime: AppRuntime) -> Reply:
    data: dict[str, list[dict[str, str]]] = {}
    for node in configured_nodes(runtime.settings):
        try:
            queues = _table(await _config_on(runtime, node, "queue", "list"))
            agents = {
                a["name"]: a for a in _table(await _config_on(runtime, node, "agent", "list"))
            }
            for q in queues:
                tiers = _table(await _config_on(runtime, node, "queue", "list", "tiers", q["name"]))
                data[short(q["name"])] = [
                    {
                        "name": f"sip/{short(t['agent'])}",
                        "paused": "1"
                        if agents.get(t["agent"], {}).get("status") == "On Break"
                        else "0",
                        # Asterisk's penalty 0 is mod_callcenter's tier level 1.
                        "penalty": str(max(int(t.get("level") or 1) - 1, 0)),
                    }
                    for t in tiers
                ]
        except BusError:
            continue  # the next node has the same queues (callcenter.conf)
        break
    return success("Queue status will follow", data)


async def _agent_command(runtime: Runtime, *args: str) -> list[str]:
    """One callcenter_config line on every node: each node's answer."""
    try:
        return [a.body for a in await _each_node(runtime, CallcenterConfig(tuple(args)))]
    except UnsafeValue as exc:  # pragma: no cover - the handlers check first
        raise Refused(400, str(exc)) from None


def _found(answers: list[str]) -> None:
    if not answers:
        raise Refused(503, "no FreeSWITCH node answered")
    if all(a.startswith("-ERR Agent not found") for a in answers):
        raise Refused(404, "member: no such agent")


@post(
    "/coocenter-api/queues/agent-pause",
    status_code=200,
    guards=GUARDS,
    opt=_form_doc(PAUSE_FORM, "pause extension success or unpause extension success"),
)
async def agent_pause(request: Request[Any, Any, Any], runtime: AppRuntime) -> Reply:
    fields = await form(request)
    member = _checked("member", required(fields, "member"), AGENT)
    _checked("queue", fields.get("queue", "") or "x", QUEUE)
    state = fields.get("state", "on").lower()
    if state not in ("on", "off"):
        raise Refused(400, "state: must be on or off")
    status = "On Break" if state == "on" else "Available"
    _found(await _agent_command(runtime, "agent", "set", "status", agent_name(member), status))
    return success(f"{'pause' if state == 'on' else 'unpause'} extension success")


@post(
    "/coocenter-api/queues/agent-login",
    status_code=200,
    guards=GUARDS,
    opt=_form_doc(LOGIN_FORM, "login extension success"),
)
async def agent_login(request: Request[Any, Any, Any], runtime: AppRuntime) -> Reply:
    fields = await form(request)
    extension = _checked("extension", required(fields, "extension"), AGENT)
    queue = _checked("queue", required(fields, "queue"), QUEUE)
    agent = agent_name(extension)
    added = await _agent_command(runtime, "agent", "add", agent, "callback")
    if not added:
        raise Refused(503, "no FreeSWITCH node answered")
    if any(a.startswith("+OK") for a in added):
        # Not in callcenter.conf: it rings the phone registered as the extension.
        await _agent_command(runtime, "agent", "set", "contact", agent, f"user/{extension}")
    # The queue's configured tiers first (callcenter.conf: the member's
    # penalty), so an ad-hoc tier at level 1 is only added when it has none.
    await _agent_command(runtime, "tier", "reload", queue_name(queue))
    tiers = await _agent_command(runtime, "tier", "add", queue_name(queue), agent, "1", "1")
    if all(t.startswith("-ERR Queue not found") for t in tiers):
        raise Refused(404, "queue: no such queue")
    await _agent_command(runtime, "agent", "set", "status", agent, "Available")
    return success("login extension success")


@post(
    "/coocenter-api/queues/agent-logout",
    status_code=200,
    guards=GUARDS,
    opt=_form_doc(LOGOUT_FORM, "logout extension success"),
)
async def agent_logout(request: Request[Any, Any, Any], runtime: AppRuntime) -> Reply:
    fields = await form(request)
    extension = _checked("extension", required(fields, "extension"), AGENT)
    if fields.get("queue"):
        _checked("queue", fields["queue"], QUEUE)
    agent = agent_name(extension)
    _found(await _agent_command(runtime, "agent", "set", "status", agent, "Logged Out"))
    return success("logout extension success")


async def _calls_of(runtime: Runtime, extension: str) -> list[dict[str, str]]:
    return [r for r in await channels(runtime) if extension_of(r) == extension]


async def _originate(runtime: Runtime, routes: RouteCache, src: str, app: App) -> OriginateResult:
    try:
        result = await ring(runtime, routes, "src", src, app)
    except UnsafeValue as exc:
        raise Refused(409, f"src: its route's dial string is refused: {exc.reason}") from None
    if not result.ok:
        raise Refused(502, f"src: {result.cause}")
    return result


async def _src_dst(request: Request[Any, Any, Any]) -> tuple[str, str]:
    fields = await form(request)
    return _checked("src", required(fields, "src")), _checked("dst", required(fields, "dst"))


async def _in_call(runtime: Runtime, field: str, extension: str) -> list[dict[str, str]]:
    calls = await _calls_of(runtime, extension)
    if not calls:
        raise Refused(404, f"{field}: not in a call")
    return calls


@post(
    "/coocenter-api/extensions/click-number",
    status_code=200,
    guards=GUARDS,
    opt=_form_doc(CLICK_FORM, "click number success", _PLACED),
)
async def click_number(
    request: Request[Any, Any, Any], runtime: AppRuntime, replica: RunningReplica
) -> Reply:
    """Ring ``src``; once it answers, it is transferred to ``dst`` in the originating
    context (the number is routed as if ``src`` had dialled it)."""
    src, dst = await _src_dst(request)
    context = runtime.settings.originate_context
    await _originate(runtime, replica.routes, src, App("transfer", f"{dst} XML {context}"))
    return success("click number success")


@post(
    "/coocenter-api/extensions/hangup",
    status_code=200,
    guards=GUARDS,
    opt=_form_doc(HANGUP_FORM, "hangup extension success"),
)
async def hangup(request: Request[Any, Any, Any], runtime: AppRuntime) -> Reply:
    fields = await form(request)
    extension = _checked("extension", required(fields, "extension"))
    calls = await _in_call(runtime, "extension", extension)
    bus = runtime.bus
    for call in calls:
        try:
            await bus.request(
                bus.subjects.node_command(call["node"]), Hangup(call["uuid"]), ApiResult
            )
        except BusError as exc:
            if exc.code != "not_found":
                raise
    return success("hangup extension success")


@post(
    "/coocenter-api/extensions/transfer",
    status_code=200,
    guards=GUARDS,
    opt=_form_doc(TRANSFER_FORM, "tansfer extension success (the spec's spelling)"),
)
async def transfer(request: Request[Any, Any, Any], runtime: AppRuntime) -> Reply:
    """``src``'s call goes to ``dst``: the party ``src`` talks to is transferred
    (``uuid_transfer``), ``src`` itself when it talks to nobody yet."""
    src, dst = await _src_dst(request)
    call = (await _in_call(runtime, "src", src))[0]
    target = call.get("call_uuid") or call["uuid"]
    bus = runtime.bus
    cmd = Transfer(target, dst, runtime.settings.originate_context)
    await bus.request(bus.subjects.node_command(call["node"]), cmd, ApiResult)
    # The spec's own spelling.
    return success("tansfer extension success")


@post(
    "/coocenter-api/extensions/extenSpy",
    status_code=200,
    guards=GUARDS,
    opt=_form_doc(SPY_FORM, "spy extension success", _PLACED),
)
async def exten_spy(
    request: Request[Any, Any, Any], runtime: AppRuntime, replica: RunningReplica
) -> Reply:
    """``src`` listens to ``dst``'s call: ``src`` is rung and runs ``eavesdrop``."""
    src, dst = await _src_dst(request)
    watched = (await _in_call(runtime, "dst", dst))[0]
    await _originate(runtime, replica.routes, src, App("eavesdrop", watched["uuid"]))
    return success("spy extension success")


def _bus_refused(_: Request[Any, Any, Any], exc: BusError) -> Response[Reply]:
    status = 404 if exc.code == "not_found" else 503
    return Response(Reply("error", f"{exc.code}: {exc}"), status_code=status)


route_handlers = [
    Router(
        "/",
        exception_handlers={Refused: coocenter.refused, BusError: _bus_refused},
        route_handlers=[
            current_calls,
            extension_status,
            extension_hints_status,
            queue_info,
            agent_pause,
            agent_login,
            agent_logout,
            click_number,
            hangup,
            transfer,
            exten_spy,
        ],
    )
]

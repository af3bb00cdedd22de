"""The console's live calls page (docs/console.md): every call on every node.

Each open tab gets one Server-Sent Events stream: an ephemeral consumer on
``SY_FS_EVENTS`` (from now on) is created first, then every node's channels
are read (the snapshot, as ``/api/channels`` reads them), then the events
the consumer holds are applied, so nothing between the two is lost. The
stream sends the whole table after each batch of changes; a browser that
reconnects (EventSource does by itself) gets a new snapshot, so after a
gap no call is missing and no ended call lingers.

Actions (admin only, each behind a confirmation in the page, each in the
operation log as ``channels``): hang up, blind transfer, eavesdrop (listen,
whisper, barge, from an extension that is rung), record on/off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import nats.errors
import nats.js.errors
from litestar import Request, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template

from switchyard.call_control.calls_view import CallBoard
from switchyard.call_control.channels_http import node_of, ring
from switchyard.call_control.node_commands import (
    ApiResult,
    App,
    ChannelApi,
    ChannelList,
    Hangup,
    ListChannels,
    Transfer,
)
from switchyard.call_control.nodes import configured_nodes
from switchyard.call_control.ownership import OWNER
from switchyard.call_control.replica import RunningReplica
from switchyard.shared.bus import Bus, BusError
from switchyard.shared.console.i18n import N_
from switchyard.shared.console.pages import LOGIN_REDIRECT, fragment, render, require_admin
from switchyard.shared.fsvalues import EXTENSION, UUID, UnsafeValue
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.errors import ApiError, bad_request
from switchyard.shared.media_location import recording_target
from switchyard.shared.runtime import Runtime

log = logging.getLogger(__name__)

PAGE = "switchyard.call_control:calls.html"
ROWS = "switchyard.call_control:calls_rows.html"
# A comment this often keeps proxies from closing an idle stream; the
# owners column, the consumer's existence and the session are checked as often.
KEEPALIVE = 5.0
RECONNECT_MS = 1000
_event = msgspec.json.Decoder(dict[str, Any])
# What the page calls each state (calls_view.STATES), in words: never colour alone.
STATE_LABELS = {
    "ringing": N_("ringing"),
    "early": N_("early media"),
    "answered": N_("answered"),
    "held": N_("on hold"),
}
_PAGE_OPT = {"oplog": False}


async def snapshot(bus: Bus, nodes: list[str]) -> list[dict[str, str]]:
    async def one(node: str) -> list[dict[str, str]]:
        try:
            answer = await bus.request(bus.subjects.node_command(node), ListChannels(), ChannelList)
        except BusError:
            return []  # no live owner: nothing we can see (the nodes column says so)
        return [{**row, "node": answer.node} for row in answer.rows]

    return [row for rows in await asyncio.gather(*(one(n) for n in nodes)) for row in rows]


async def owners(bus: Bus, nodes: list[str]) -> dict[str, str]:
    """node -> the call-control replica holding its lease (empty when none)."""
    found: dict[str, str] = {}
    try:
        kv = await bus.js.key_value(bus.subjects.node_owner_bucket)
    except (nats.js.errors.Error, nats.errors.Error):
        return found
    for node in nodes:
        with contextlib.suppress(nats.js.errors.KeyNotFoundError, nats.js.errors.Error):
            entry = await kv.get(OWNER + node)
            if entry.value:
                found[node] = entry.value.decode()
    return found


def _node_of_subject(bus: Bus, subject: str) -> str:
    head = bus.subjects.events_all.removesuffix(">")
    return subject.removeprefix(head).split(".", 1)[0]


class Filters(msgspec.Struct):
    number: str = ""
    context: str = ""
    node: str = ""


def _filters(request: Request[Any, Any, Any]) -> Filters:
    """The page's filters, from its query (the page's and its stream's)."""
    q = request.query_params
    return Filters(*(q.get(name, "").strip()[:64] for name in ("number", "context", "node")))


@get(
    "/console/calls",
    include_in_schema=False,
    exception_handlers=LOGIN_REDIRECT,
    opt=_PAGE_OPT,
)
async def calls_page(request: Request[Any, Any, Any], runtime: AppRuntime) -> Template:
    f = _filters(request)
    query = msgspec.structs.asdict(f)
    return render(
        request,
        PAGE,
        {"filters": f, "query": query, "nodes": configured_nodes(runtime.settings)},
    )


async def _changes(
    request: Request[Any, Any, Any], runtime: Runtime, f: Filters
) -> AsyncIterator[ServerSentEventMessage]:
    bus = runtime.bus
    nodes = configured_nodes(runtime.settings)
    # The consumer first: every event after this moment is kept for us.
    sub = await bus.js.pull_subscribe(
        bus.subjects.events_all,
        stream=bus.subjects.events_stream,
        config=nats.js.api.ConsumerConfig(
            deliver_policy=nats.js.api.DeliverPolicy.NEW,
            ack_policy=nats.js.api.AckPolicy.NONE,
            inactive_threshold=3 * KEEPALIVE,  # a vanished tab's consumer goes away
        ),
    )
    board = CallBoard()
    try:
        board.load(await snapshot(bus, nodes))
        owner = await owners(bus, nodes)

        def table() -> ServerSentEventMessage:
            calls = [c for c in board.calls(owner) if c.matches(f.number, f.context, f.node)]
            html = fragment(request, ROWS, {"calls": calls, "states": STATE_LABELS})
            return ServerSentEventMessage(data=html, event="calls")

        # retry: how soon the browser reconnects after the stream ends (ms).
        yield ServerSentEventMessage(comment="snapshot", retry=RECONNECT_MS)
        yield table()
        loop = asyncio.get_running_loop()
        next_refresh = loop.time() + KEEPALIVE
        while True:
            try:
                msgs = await sub.fetch(256, timeout=1.0)
            except (nats.errors.TimeoutError, TimeoutError):
                msgs = []
            except (nats.js.errors.Error, nats.errors.Error):
                # The consumer is gone (NATS restarted, or it was removed): events
                # may have been missed. Ending the stream makes the browser
                # reconnect and start over from a new snapshot.
                log.info("live calls stream ends: its consumer failed", exc_info=True)
                return
            changed = False
            for msg in msgs:
                try:
                    event = _event.decode(msg.data)
                except msgspec.DecodeError:
                    continue
                headers = {k: v for k, v in event.items() if isinstance(v, str)}
                changed |= board.apply(_node_of_subject(bus, msg.subject), headers)
            if loop.time() >= next_refresh:
                next_refresh = loop.time() + KEEPALIVE
                if await runtime.tokens.verify(runtime.pool, str(request.auth)) is None:
                    # Logged out, revoked or expired since the stream began: the
                    # reconnect will be refused and go to the login form.
                    log.info("live calls stream ends: its session is no longer valid")
                    return
                try:
                    await sub.consumer_info()
                except (nats.js.errors.Error, nats.errors.Error):
                    log.info("live calls stream ends: its consumer is gone")
                    return  # as above: the browser resyncs
                fresh = await owners(bus, nodes)
                changed |= fresh != owner
                owner = fresh
                yield ServerSentEventMessage(comment="keepalive")
            if changed:
                yield table()
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


@get(
    "/console/calls/stream",
    include_in_schema=False,
    exception_handlers=LOGIN_REDIRECT,
    opt=_PAGE_OPT,
)
async def calls_stream(request: Request[Any, Any, Any], runtime: AppRuntime) -> ServerSentEvent:
    f = _filters(request)
    # No caching, no proxy buffering: the point is to arrive at once.
    return ServerSentEvent(
        _changes(request, runtime, f),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _action(path: str, action: str) -> HTTPRouteHandler:
    """A call action's route: ``POST /console/calls/<uuid>/<path>``, in the
    operation log as ``channels``/``action``."""
    return post(
        f"/console/calls/{{channel:str}}/{path}",
        include_in_schema=False,
        status_code=200,
        opt={"oplog_resource": "channels", "oplog_action": action},
    )


@_action("hangup", "hangup")
async def hangup(
    channel: FromPath[str], request: Request[Any, Any, Any], runtime: AppRuntime
) -> str:
    require_admin(request)
    bus = runtime.bus
    node = await node_of(bus, channel)
    await bus.request(
        bus.subjects.node_command(node), Hangup(channel, "NORMAL_CLEARING"), ApiResult
    )
    return "ok"


@_action("record/{verb:str}", "record")
async def record(
    channel: FromPath[str],
    verb: FromPath[str],
    request: Request[Any, Any, Any],
    runtime: AppRuntime,
) -> str:
    require_admin(request)
    if verb not in ("start", "stop"):
        raise ApiError(404, "not found")
    bus = runtime.bus
    node = await node_of(bus, channel)  # checks the uuid's syntax first
    # Where the media service finds it (docs/media.md), named after the channel.
    path = recording_target(runtime.settings, f"console-{channel}.wav")
    answer = await bus.request(
        bus.subjects.node_command(node),
        ChannelApi(channel, "uuid_record", f"{channel} {verb} {path}"),
        ApiResult,
    )
    if answer.body.startswith("-ERR"):
        raise ApiError(409, f"record: {answer.body.removeprefix('-ERR').strip()}")
    return "ok"


def _prompted(request: Request[Any, Any, Any], field: str) -> str:
    """The number the operator typed into the page's prompt (htmx sends it as
    ``HX-Prompt``), checked as a number FreeSWITCH may see."""
    value = request.headers.get("hx-prompt", "").strip()
    if not value:
        raise bad_request(field, "is required")
    try:
        # Not NUMBER: uuid_transfer would read a leading - as its -bleg/-both flag.
        EXTENSION.check(field, value)
    except UnsafeValue as exc:
        raise bad_request(exc.field, exc.reason) from None
    return value


@_action("transfer", "transfer")
async def transfer(
    channel: FromPath[str], request: Request[Any, Any, Any], runtime: AppRuntime
) -> str:
    """Blind transfer: the channel is routed to the number in the originating
    context, as if it had dialled it (its other leg is released)."""
    require_admin(request)
    dest = _prompted(request, "number")
    bus = runtime.bus
    node = await node_of(bus, channel)
    cmd = Transfer(channel, dest, runtime.settings.originate_context)
    await bus.request(bus.subjects.node_command(node), cmd, ApiResult)
    return "ok"


# eavesdrop's modes: the variables that start it whispering to one leg or both
# (mod_dptools; the listener can still switch with DTMF 1/2/3 as usual).
EAVESDROP_MODES = {
    "listen": (),
    "whisper": (("eavesdrop_whisper_aleg", "true"),),
    "barge": (("eavesdrop_whisper_aleg", "true"), ("eavesdrop_whisper_bleg", "true")),
}


@_action("eavesdrop/{mode:str}", "eavesdrop")
async def eavesdrop(
    channel: FromPath[str],
    mode: FromPath[str],
    request: Request[Any, Any, Any],
    runtime: AppRuntime,
    replica: RunningReplica,
) -> str:
    """Ring the extension the operator names; when it answers it listens to the
    call (whispers to the caller, or talks to both)."""
    require_admin(request)
    variables = EAVESDROP_MODES.get(mode)
    if variables is None:
        raise ApiError(404, "not found")
    if not UUID.ok(channel):
        raise bad_request("uuid", UUID.reason)
    listener = _prompted(request, "extension")
    try:
        result = await ring(
            runtime, replica.routes, "extension", listener, App("eavesdrop", channel), variables
        )
    except UnsafeValue as exc:
        raise ApiError(
            409, f"extension: its route's dial string is refused: {exc.reason}"
        ) from None
    if not result.ok:
        raise ApiError(409, f"extension: {result.cause}")
    return "ok"


route_handlers = [calls_page, calls_stream, hangup, record, transfer, eavesdrop]

"""The owner's side of one FreeSWITCH node: its ESL connection and its commands.

A replica runs one ``NodeAgent`` per node it owns. The agent relays every
subscribed event to JetStream (through the replica's EventPublisher), keeps
the channel-location KV current (through a LocationWriter, behind the event
stream), answers the node's command subject, and on
every (re)connection reconciles with ``show channels as json`` so channels
that began or ended while it was away are accounted for.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue
from opentelemetry import trace

from switchyard.call_control.cli_rules import (
    DEFAULT_CLI_COMMANDS,
    CliRefused,
    check_cli,
)
from switchyard.call_control.coocenter_commands import coocenter_line
from switchyard.call_control.esl import CommandTimeout, ConnectionLost, EslClient, EslEvent
from switchyard.call_control.events import EventPublisher
from switchyard.call_control.locations import LocationWriter
from switchyard.call_control.metrics import NodeMetrics
from switchyard.call_control.node_commands import (
    Api,
    ApiResult,
    CallcenterConfig,
    ChannelApi,
    ChannelList,
    CliApi,
    Hangup,
    ListChannels,
    NodeCommand,
    Originate,
    OriginateResult,
    Transfer,
)
from switchyard.call_control.nodes import NodeConfig
from switchyard.call_control.originate import originate_line
from switchyard.call_control.show_lag import SETTLE, EndedChannels, Rows, current_rows
from switchyard.shared.bus import Bus, BusError, Served, traceparent
from switchyard.shared.fsvalues import (
    APPLICATIONS,
    CAUSE,
    UUID,
    Applications,
    UnsafeValue,
    check_api_command,
)
from switchyard.shared.tasks import cancel_and_wait

log = logging.getLogger(__name__)

# How long a synchronous originate's reply waits for its channel's location
# write (normally done long before: CHANNEL_CREATE precedes the answer).
LOCATION_WAIT = 2.0
# How long reconciliation waits for its location writes.
RECONCILE_FLUSH = 10.0

# Relayed besides these: BACKGROUND_JOB, which the ESL client always subscribes.
DEFAULT_EVENTS = (
    "CHANNEL_CREATE",
    "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_ANSWER",
    "CHANNEL_HOLD",
    "CHANNEL_UNHOLD",
    "CHANNEL_BRIDGE",
    "CHANNEL_UNBRIDGE",
    "CHANNEL_PARK",
    "CHANNEL_CALLSTATE",
    "CHANNEL_HANGUP",
    "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_DESTROY",
    "DTMF",
    "RECORD_START",
    "RECORD_STOP",
    "HEARTBEAT",
)
# sofia::register/unregister/expire: coocenter's extensionstatus push (event-relay).
DEFAULT_SUBCLASSES = (
    "sofia::gateway_state",
    "sofia::register",
    "sofia::unregister",
    "sofia::expire",
    "ai::channel-state",
    "callcenter::info",
)

_json = msgspec.json.Encoder()
_show_decoder = msgspec.json.Decoder(dict[str, Any])


def event_payload(event: EslEvent) -> bytes:
    """FreeSWITCH's own ``event json`` shape: headers, body under ``_body``
    (the JSON it sent, when that was already this shape)."""
    if event.raw:
        return event.raw
    if event.body:
        return _json.encode({**event.headers, "_body": event.body})
    return _json.encode(event.headers)


def parse_show_channels(text: str) -> list[dict[str, str]]:
    # With no channel FreeSWITCH answers {"row_count": 0} and no "rows" at all.
    data = _show_decoder.decode(text)
    rows = data.get("rows") or []
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]


def _check_command(cmd: NodeCommand) -> None:
    if isinstance(cmd, Hangup):
        UUID.check("uuid", cmd.uuid)
        CAUSE.check("cause", cmd.cause)
    elif isinstance(cmd, ChannelApi):
        UUID.check("uuid", cmd.uuid)
        if not cmd.command.startswith("uuid_"):
            raise UnsafeValue("command", "a channel command must be a uuid_* API")
        check_api_command("command", cmd.command, cmd.args)
    elif isinstance(cmd, Api):
        check_api_command("command", cmd.command, cmd.args)


class NodeAgent:
    def __init__(
        self,
        bus: Bus,
        node: NodeConfig,
        publisher: EventPublisher,
        locations: KeyValue,
        *,
        events: tuple[str, ...] = DEFAULT_EVENTS,
        subclasses: tuple[str, ...] = DEFAULT_SUBCLASSES,
        standby: bool = False,
        owns: Callable[[], bool] = lambda: True,
        on_ready: Callable[[NodeAgent], Awaitable[None]] | None = None,
        applications: Applications = APPLICATIONS,
        cli_commands: frozenset[str] = DEFAULT_CLI_COMMANDS,
        metrics: NodeMetrics | None = None,
        trace_events: float = 0.0,
    ) -> None:
        self.metrics = metrics
        # The share of events that start a trace (SWITCHYARD_TRACE_EVENTS).
        self.trace_events = trace_events
        # Applications an originate may run (SWITCHYARD_FS_APPLICATIONS).
        self.applications = applications
        # What mod_cti's /cli may run here (SWITCHYARD_CLI_COMMANDS), checked
        # again for every CliApi whoever sent it.
        self.cli_commands = cli_commands
        # A standby only relays events (same dedupe ids as the owner's, so
        # JetStream keeps one copy); it serves no command and writes no KV.
        self.standby = standby
        # Whether this replica's lease on the node holds right now: checked
        # before every command, so a replica whose renewals stall stops
        # answering at its lease deadline, before anyone else can take over.
        self.owns = owns
        # Run after each (re)connection's reconciliation, beside the event
        # stream (not in it): the replica re-applies configuration there.
        self.on_ready = on_ready
        self.readied = 0  # completed on_ready runs, for tests and logs
        self._ready_task: asyncio.Task[None] | None = None
        self.bus = bus
        self.node = node
        self.publisher = publisher
        self.locations = locations
        self.writer = LocationWriter(locations, node.name)
        self.channels: set[str] = set()
        # Hung up recently: ``show channels`` may list them a while yet (show_lag.py).
        self.ended = EndedChannels()
        # Before the reconcile reads ``show channels``: its lag (show_lag.py).
        self.settle = SETTLE
        # Channels created and ended since the last connection, until its
        # reconcile has read the table.
        self._since: tuple[set[str], set[str]] | None = None
        self.client = EslClient(
            node.host,
            node.port,
            node.password,
            on_event=self._on_event,
            on_connect=self._on_connect,
            events=events,
            subclasses=subclasses,
            on_command=None if metrics is None else metrics.command,
            tracer=bus.tracer,
        )
        self._sub: Served | None = None

    @property
    def name(self) -> str:
        return self.node.name

    async def start(self) -> None:
        if not self.standby:
            self.writer.start()
        await self.client.start()
        if self.standby:
            return
        self._sub = await self.bus.serve(
            self.bus.subjects.node_command(self.name),
            NodeCommand,
            self.handle,  # type: ignore[arg-type]
            # This replica's own HTTP handlers reach its node without the
            # round trip through NATS (hangup, transfer … of its calls).
            local=True,
        )

    async def stop(self) -> None:
        await cancel_and_wait(self._ready_task)
        self._ready_task = None
        if self._sub is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._sub.unsubscribe()
            self._sub = None
        await self.client.close()
        # No event comes any more: write the locations still queued (a delete
        # lost here would leave a stale entry until the next reconciliation).
        await self.writer.stop()

    # --- events ----------------------------------------------------------------------

    async def _on_event(self, event: EslEvent) -> None:
        if self.metrics is not None:
            self.metrics.events.inc()
        name = event.name
        # BACKGROUND_JOB is relayed too: the ESL client subscribes it for its
        # bgapi replies anyway, and it is the only news of an async originate's
        # outcome (Job-UUID is the uuid POST /api/channels answered with).
        seq = event.get("Event-Sequence")
        if seq:
            self.publisher.submit(
                self.bus.subjects.events(self.name, name, event.subclass or None),
                f"{event.core_uuid}:{seq}",
                event_payload(event),
                # random() first: a span costs about as much as the rest of the intake.
                self._traced(name) if random.random() < self.trace_events else "",  # noqa: S311
            )
        uuid = event.unique_id
        if self.standby:
            return
        # Queued, not awaited: the writer puts/deletes behind the event stream.
        if name == "CHANNEL_CREATE" and uuid:
            self.channels.add(uuid)
            self.ended.discard(uuid)
            if self._since is not None:
                self._since[0].add(uuid)
            self.writer.put(uuid)
        elif name == "CHANNEL_DESTROY" and uuid:
            self.channels.discard(uuid)
            self.ended.add(uuid)
            self.writer.delete(uuid)
            if self._since is not None:
                self._since[1].add(uuid)
        elif name == "CHANNEL_HANGUP" and uuid:
            self.ended.add(uuid)

    def _traced(self, name: str) -> str:
        """A PRODUCER span for one event: the root of its trace through
        JetStream to the webhook POST, as the traceparent its message carries."""
        span = self.bus.tracer.start_span(
            f"esl event {name}",
            kind=trace.SpanKind.PRODUCER,
            attributes={"switchyard.node": self.name},
        )
        parent = traceparent(span)  # before end(): an ended span records no more
        span.end()
        return parent

    async def _flush_locations(self) -> None:
        try:
            async with asyncio.timeout(RECONCILE_FLUSH):
                await self.writer.flush()
        except TimeoutError:
            log.warning("node %s: channel-location writes still pending", self.name)

    async def _on_connect(self, client: EslClient, reconnected: bool) -> None:
        """Reconcile: channels that began or ended while we were not listening.

        ``show channels`` trails the channels by one SQL batch (show_lag.py), so
        the table is read ``settle`` after this point, beside the event stream
        (not in it: events keep flowing). What the events of this connection
        say wins over the table: they are newer than anything it lacks or
        still holds. Called in the event stream, before any event of the new
        connection is handled."""
        if self.metrics is not None:
            self.metrics.connections.inc()
        if self.standby:
            return
        self._since = (set(), set())
        if self._ready_task is not None:
            self._ready_task.cancel()
        # A fresh context: this callback runs in the client's event handler,
        # whose context marks commands as the handler's own.
        self._ready_task = asyncio.get_running_loop().create_task(
            self._reconcile(client), context=contextvars.Context()
        )

    async def _reconcile(self, client: EslClient) -> None:
        await asyncio.sleep(self.settle)
        # The lease is checked here as before every command: it may have lapsed
        # while this waited (a frozen process thawing: its wake-up can come
        # before the lapse is handled), and a replica that no longer owns the
        # node must neither command it nor rewrite its channels' locations.
        if not self.owns():
            self._since = None
            return
        try:
            rows = parse_show_channels(await client.api("show channels as json", timeout=10))
            await client.caught_up()  # the events read before the rows are counted
        except (ConnectionLost, CommandTimeout, msgspec.DecodeError) as exc:
            log.warning("node %s: could not reconcile channels: %s", self.name, exc)
            self._since = None
            return
        if not self.owns():
            self._since = None
            return
        since, self._since = self._since, None
        assert since is not None  # set at connect; only this task clears it
        created, ended = since
        live = ({r["uuid"] for r in rows if r.get("uuid")} | created) - ended
        for uuid in live - self.channels:
            self.writer.put(uuid)
        for uuid in self.channels - live:
            self.writer.delete(uuid)
        self.channels = live
        # Written before the KV is read back below.
        await self._flush_locations()
        # Entries a previous owner left for channels that are gone; self.channels
        # now also holds whatever began since (its put may still be queued).
        for uuid in await self._located_here() - self.channels:
            self.writer.delete(uuid)
        await self._flush_locations()
        log.info("node %s: connected, %d live channel(s)", self.name, len(self.channels))
        if self.on_ready is not None and self.owns():
            await self._ready(self.on_ready)

    async def _ready(self, on_ready: Callable[[NodeAgent], Awaitable[None]]) -> None:
        try:
            await on_ready(self)
            self.readied += 1
        except (ConnectionLost, CommandTimeout) as exc:
            log.warning("node %s: re-applying configuration failed: %s", self.name, exc)
        except Exception:
            log.exception("node %s: re-applying configuration failed", self.name)

    async def _located_here(self) -> set[str]:
        try:
            keys = await self.locations.keys()
        except nats.js.errors.NoKeysError:
            return set()
        here = set()
        for key in keys:
            with contextlib.suppress(nats.js.errors.KeyNotFoundError):
                entry = await self.locations.get(key)
                if entry.value == self.name.encode():
                    here.add(key)
        return here

    # --- commands ----------------------------------------------------------------------

    async def handle(self, cmd: NodeCommand) -> Any:
        if self.standby or not self.owns():
            raise BusError("node_unavailable", f"node {self.name}: not owned by this replica now")
        try:
            return await self._dispatch(cmd)
        except ConnectionLost as exc:
            raise BusError("node_unavailable", f"node {self.name}: {exc}") from None
        except CommandTimeout as exc:
            raise BusError("timeout", f"node {self.name}: {exc}") from None

    async def _dispatch(self, cmd: NodeCommand) -> Any:
        # Any process that can publish on the node's subject reaches here, not
        # only our HTTP handlers: every command is held to the shared rules.
        try:
            _check_command(cmd)
        except UnsafeValue as exc:
            raise BusError("invalid", str(exc)) from None
        if isinstance(cmd, Originate):
            return await self.originate(cmd)
        if isinstance(cmd, Hangup):
            body = await self.client.api(f"uuid_kill {cmd.uuid} {cmd.cause}")
            if body.startswith("+OK"):
                self.ended.add(cmd.uuid)  # a list right after must not show it
            return self._result(body, not_found=True)
        if isinstance(cmd, ChannelApi):
            body = await self.client.api(f"{cmd.command} {cmd.args}".strip())
            if _channel_gone(body):
                raise BusError("not_found", f"no channel {cmd.uuid}")
            return ApiResult(self.name, body)
        if isinstance(cmd, CliApi):
            return await self._cli(cmd)
        if isinstance(cmd, CallcenterConfig | Transfer):
            try:
                line = coocenter_line(cmd)
            except UnsafeValue as exc:
                raise BusError("invalid", str(exc)) from None
            body = await self.client.api(line)
            if isinstance(cmd, Transfer) and _channel_gone(body):
                raise BusError("not_found", f"no channel {cmd.uuid}")
            return ApiResult(self.name, body)
        if isinstance(cmd, ListChannels):
            rows = await current_rows(self._show_channels, lambda: self.channels, self.ended)
            return ChannelList(self.name, rows)
        assert isinstance(cmd, Api)
        return ApiResult(self.name, await self.client.api(f"{cmd.command} {cmd.args}".strip()))

    async def _cli(self, cmd: CliApi) -> ApiResult:
        """A /cli command, answered with FreeSWITCH's own text (or ``-ERR`` why not)."""
        try:
            command, args = check_cli(cmd.command, cmd.args, self.cli_commands, self.applications)
            if cmd.background and not UUID.ok(cmd.job):
                raise CliRefused("the job uuid is not a uuid")
        except CliRefused as exc:
            return ApiResult(self.name, f"-ERR {exc}\n")
        line = f"{command} {args}".strip()
        if cmd.background:
            # FreeSWITCH's bgapi answer; the outcome arrives as BACKGROUND_JOB.
            await self.client.command(f"bgapi {line}", {"Job-UUID": cmd.job})
            return ApiResult(self.name, f"+OK Job-UUID: {cmd.job}\n")
        if command == "originate":
            # Never `api originate`: it would hold this node's ESL connection
            # (events, every other command) until the far end answers.
            return ApiResult(self.name, await self.client.bgapi(line, timeout=cmd.timeout))
        return ApiResult(self.name, await self.client.api(line, timeout=cmd.timeout))

    async def _show_channels(self) -> Rows:
        rows = parse_show_channels(await self.client.api("show channels as json"))
        # Every event read before the reply is handled: self.channels and
        # self.ended are at least as new as the rows.
        await self.client.caught_up()
        return rows

    def _result(self, body: str, *, not_found: bool = False) -> ApiResult:
        if not_found and _channel_gone(body):
            raise BusError("not_found", body.removeprefix("-ERR").strip())
        return ApiResult(self.name, body)

    async def originate(self, cmd: Originate) -> OriginateResult:
        try:
            line = originate_line(cmd, self.applications)
        except UnsafeValue as exc:
            raise BusError("invalid", str(exc)) from None
        if cmd.background:
            # bgapi answers at once; the call's fate arrives as events.
            await self.client.command(f"bgapi originate {line}", {"Job-UUID": cmd.uuid})
            return OriginateResult(True, cmd.uuid, self.name)
        # Never `api originate`: it would block this node's whole ESL connection
        # (events and every other command) until the far end answers.
        body = (await self.client.bgapi(f"originate {line}", timeout=cmd.timeout + 5)).strip()
        if body.startswith("+OK"):
            uuid = body.removeprefix("+OK").strip() or cmd.uuid
            await self._located(uuid)
            return OriginateResult(True, uuid, self.name)
        return OriginateResult(False, cmd.uuid, self.name, body.removeprefix("-ERR").strip())

    async def _located(self, uuid: str) -> None:
        """Wait for the channel's location write, so a command sent right after
        the originate reply finds the channel. Its CHANNEL_CREATE was read before
        the BACKGROUND_JOB that answered, but may still sit in the ESL client's
        queue: first wait until the handler took every event read so far (which
        queues the put), then for the put itself. Bounded: the reply is not
        held hostage to a NATS outage."""
        try:
            async with asyncio.timeout(LOCATION_WAIT):
                # Usually its CHANNEL_CREATE, read a ringing time earlier, was
                # handled long ago: then only its put is waited for, not every
                # event read since (each a JetStream publish; 0.2-0.3 ms).
                if uuid not in self.channels:
                    await self.client.caught_up()
                await self.writer.written(uuid)
        except TimeoutError:
            log.warning("node %s: location of %s not written at originate reply", self.name, uuid)


def _channel_gone(body: str) -> bool:
    # 1.10 spells it "No such channel!"; other builds' mod_commands answer
    # "No Such Channel!" (uuid_kill among them), so compare without case.
    return body.startswith("-ERR") and "no such channel" in body.lower()

"""The ESL client call-control uses: one node, reconnecting, events delivered in order.

The client keeps the wanted subscription (event names, CUSTOM subclasses,
filters) and replays it on every new connection, after re-authenticating.
Connection attempts back off exponentially with jitter. The owner learns
about each (re)connection through ``on_connect`` -- delivered in the same
ordered stream as events, before any event of the new connection -- so it
can reconcile its view with ``show channels as json``.

Calls never wait for a connection: while disconnected, and for every call in
flight when the socket drops, they fail at once with ConnectionLost.

Events wait for the owner in a queue of ``max_queued_events``; when it is
full the reader stops reading the socket (see ``_enqueue``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from opentelemetry import trace

from switchyard.call_control.esl.connection import EslConnection
from switchyard.call_control.esl.errors import AuthFailed, CommandError, ConnectionLost, EslError
from switchyard.call_control.esl.frames import EslEvent, Reply
from switchyard.shared.tasks import cancel_and_wait

log = logging.getLogger("switchyard.call_control.esl")

EventHandler = Callable[[EslEvent], Awaitable[None] | None]
ConnectHandler = Callable[["EslClient", bool], Awaitable[None] | None]
# Told each command's ESL verb and round trip in seconds (metrics).
CommandObserver = Callable[[str, float], None]

_CONNECTED = object()
# The client's own filter: FreeSWITCH drops events lacking a filtered header,
# so while any filter is set this one must be too, or bgapi would starve.
_BGJOB = ("Event-Name", "BACKGROUND_JOB")
DEFAULT_MAX_QUEUED_EVENTS = 10_000
# True inside the dispatcher (and tasks it starts): a command sent from there
# must not wait for a reader that waits for the dispatcher.
_IN_HANDLER: contextvars.ContextVar[bool] = contextvars.ContextVar("esl_in_handler", default=False)


def _check_filter(header: str, value: str) -> None:
    # What FreeSWITCH would answer `-ERR invalid syntax` to: refused before it is kept.
    if not header or header != header.strip() or " " in header or "\t" in header:
        raise ValueError(f"bad filter header {header!r}")
    if not value.strip():
        raise ValueError(f"filter {header} needs a value")


def parse_esl_url(url: str) -> tuple[str, int, str]:
    """``esl://password@host:port`` -> (host, port, password)."""
    parts = urlsplit(url)
    if parts.scheme != "esl" or not parts.hostname:
        raise ValueError(f"not an esl:// URL: {url!r}")
    password = unquote(parts.password or parts.username or "ClueCon")
    return parts.hostname, parts.port or 8021, password


class EslClient:
    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        *,
        on_event: EventHandler | None = None,
        on_connect: ConnectHandler | None = None,
        events: tuple[str, ...] = (),
        subclasses: tuple[str, ...] = (),
        connect_timeout: float = 5.0,
        command_timeout: float = 30.0,
        backoff_initial: float = 0.1,
        backoff_max: float = 10.0,
        backoff_reset_after: float = 5.0,
        max_queued_events: int = DEFAULT_MAX_QUEUED_EVENTS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_command: CommandObserver | None = None,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self.host, self.port, self._password = host, port, password
        self.on_command = on_command
        # A CLIENT span per command ("esl api", never the command's text: it
        # may carry channel variables), child of whatever span is current.
        self.tracer = tracer
        self.on_event = on_event
        self.on_connect = on_connect
        # BACKGROUND_JOB is always wanted: bgapi results arrive as that event.
        self._events: set[str] = {"BACKGROUND_JOB", *(e.upper() for e in events)}
        self._subclasses: set[str] = set(subclasses)
        self._filters: list[tuple[str, str]] = []
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        # The backoff restarts only after a connection that subscribed and lived this long.
        self.backoff_reset_after = backoff_reset_after
        if max_queued_events < 1:
            raise ValueError("max_queued_events must be at least 1")
        self.max_queued_events = max_queued_events
        self._sleep = sleep
        self._clock = clock
        self._conn: EslConnection | None = None
        # Unbounded as a container; _enqueue holds it to max_queued_events.
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._room = asyncio.Event()
        self._handler_waits = 0  # commands the dispatcher is waiting on
        self._filter_lock = asyncio.Lock()
        self._supervisor: asyncio.Task[None] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self.connections = 0  # successful connections so far (1 + reconnections)

    @classmethod
    def from_url(cls, url: str, **kw: Any) -> EslClient:
        host, port, password = parse_esl_url(url)
        return cls(host, port, password, **kw)

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self, *, wait: float | None = None) -> None:
        """Start connecting (and reconnecting); with ``wait``, await the first connection."""
        if self._supervisor is None:
            self._dispatcher = asyncio.create_task(self._dispatch_loop())
            self._supervisor = asyncio.create_task(self._supervise())
        if wait is not None:
            await self.wait_connected(wait)

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    @property
    def connected(self) -> bool:
        return self._conn is not None and self._conn.is_open

    async def close(self) -> None:
        self._closing = True
        conn = self._conn
        if conn is not None and conn.is_open:
            with contextlib.suppress(Exception):
                await conn.command("exit", timeout=1.0)
            conn.close()
        await cancel_and_wait(self._supervisor, self._dispatcher)

    async def __aenter__(self) -> EslClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _backoff(self, attempt: int) -> float:
        cap: float = min(self.backoff_max, self.backoff_initial * 2.0 ** min(attempt, 30))
        return cap / 2 + random.uniform(0, cap / 2)  # noqa: S311 - jitter, not crypto

    async def _supervise(self) -> None:
        attempt = 0
        reason = ""
        while not self._closing:
            if reason:
                # Before every retry, also after a connection that opened and then
                # failed: otherwise a server that drops or rejects us right after
                # auth is hammered in a tight loop.
                delay = self._backoff(attempt)
                attempt += 1
                log.warning("ESL %s:%d: %s; retrying in %.2fs", self.host, self.port, reason, delay)
                await self._sleep(delay)
            try:
                conn = await EslConnection.open(
                    self.host,
                    self.port,
                    self._password,
                    self._enqueue,
                    timeout=self.connect_timeout,
                    default_timeout=self.command_timeout,
                )
            except (OSError, TimeoutError, ConnectionLost, AuthFailed) as exc:
                reason = f"unavailable ({type(exc).__name__}: {exc})"
                continue
            opened = self._clock()
            first = self.connections == 0
            self.connections += 1
            self._conn = conn
            # Queued before re-subscribing: the owner hears "connected" before any
            # event of this connection, and its reconcile api calls queue up
            # behind the subscription commands on the same FIFO.
            self._queue.put_nowait((_CONNECTED, first))
            subscribed = False
            try:
                await self._subscribe_all(conn)
            except (ConnectionLost, CommandError, TimeoutError) as exc:
                log.warning("ESL re-subscription failed: %s", exc)
                conn.close("re-subscription failed")
            else:
                subscribed = True
                self._connected.set()
            reason = await conn.wait_closed()
            self._connected.clear()
            self._conn = None
            if subscribed and self._clock() - opened >= self.backoff_reset_after:
                attempt = 0
            reason = f"lost ({reason})"

    async def _subscribe_all(self, conn: EslConnection) -> None:
        await self._checked(conn.command(self._event_line()), "event")
        for header, value in list(self._filters):  # a copy: add_filter may run meanwhile
            await self._checked(conn.command(f"filter {header} {value}"), "filter")

    def _event_line(self) -> str:
        words = sorted(self._events - {"CUSTOM"})
        if self._subclasses or "CUSTOM" in self._events:
            words += ["CUSTOM", *sorted(self._subclasses)]
        return "event json " + " ".join(words)

    @staticmethod
    async def _checked(call: Awaitable[Reply], what: str) -> Reply:
        reply = await call
        if not reply.ok:
            raise CommandError(what, reply.text)
        return reply

    # --- events ---------------------------------------------------------------------------

    def _enqueue(self, event: EslEvent) -> Awaitable[None] | None:
        """The reader's sink. When the queue is full it returns a wait for room, and
        the reader reads nothing more until then: FreeSWITCH queues the events (and
        applies its own limit) instead of this process. api/bgapi replies come on
        the same socket after those events, so they wait too, for as long as the
        owner needs to take events off the queue. Except: while the owner's own
        handler waits on a command, the reader keeps going past the bound until
        that reply is read, or handler and reader would wait on each other."""
        self._queue.put_nowait(event)
        if self._queue.qsize() >= self.max_queued_events and not self._handler_waits:
            return self._wait_room()
        return None

    async def _wait_room(self) -> None:
        while self._queue.qsize() >= self.max_queued_events and not self._handler_waits:
            self._room.clear()
            await self._room.wait()

    async def caught_up(self) -> None:
        """Wait until the owner has handled every event read so far (and the
        (re)connection notices queued with them). From inside the handler it
        returns at once: the handler cannot wait for itself."""
        if _IN_HANDLER.get() or self._dispatcher is None or self._dispatcher.done():
            return
        marker: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(marker)
        await marker

    @property
    def queued(self) -> int:
        """Events (and connection markers) read but not yet handed to the owner."""
        return self._queue.qsize()

    @contextlib.contextmanager
    def _awaiting_reply(self) -> Iterator[None]:
        if not _IN_HANDLER.get():
            yield
            return
        self._handler_waits += 1
        self._room.set()  # wake a reader paused on a full queue
        try:
            yield
        finally:
            self._handler_waits -= 1

    async def _dispatch_loop(self) -> None:
        _IN_HANDLER.set(True)  # this task's own context (and that of tasks it starts)
        while True:
            item = await self._queue.get()
            if self._queue.qsize() < self.max_queued_events:
                self._room.set()
            try:
                if isinstance(item, asyncio.Future):
                    if not item.done():  # caught_up(): everything before it is handled
                        item.set_result(None)
                elif isinstance(item, tuple) and item[0] is _CONNECTED:
                    if self.on_connect is not None:
                        result = self.on_connect(self, item[1])
                        if inspect.isawaitable(result):
                            await result
                elif self.on_event is not None:
                    result = self.on_event(item)
                    if inspect.isawaitable(result):
                        await result
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("ESL event handler failed")

    # --- commands ------------------------------------------------------------------------

    def _live(self) -> EslConnection:
        conn = self._conn
        if conn is None or not conn.is_open:
            raise ConnectionLost(f"not connected to FreeSWITCH at {self.host}:{self.port}")
        return conn

    @contextlib.contextmanager
    def _timed(self, verb: str) -> Iterator[None]:
        observe = self.on_command
        tracer = self.tracer
        if observe is None and tracer is None:
            yield
            return
        with contextlib.ExitStack() as stack:
            if tracer is not None:
                stack.enter_context(
                    tracer.start_as_current_span(
                        f"esl {verb}",
                        kind=trace.SpanKind.CLIENT,
                        attributes={"server.address": self.host, "server.port": self.port},
                    )
                )
            started = time.perf_counter()
            try:
                yield
            finally:
                if observe is not None:
                    observe(verb, time.perf_counter() - started)

    async def api(self, cmd: str, *, timeout: float | None = None) -> str:
        conn = self._live()
        with self._awaiting_reply(), self._timed("api"):
            return await conn.api(cmd, timeout=timeout)

    async def bgapi(self, cmd: str, *, timeout: float | None = None) -> str:
        """Run ``cmd`` in the background and return its output (the BACKGROUND_JOB body)."""
        conn = self._live()
        with self._awaiting_reply(), self._timed("bgapi"):
            return (await conn.bgapi(cmd, timeout=timeout)).body

    async def command(
        self,
        line: str,
        headers: dict[str, str] | None = None,
        body: str | None = None,
        *,
        timeout: float | None = None,
    ) -> Reply:
        conn = self._live()
        with self._awaiting_reply(), self._timed(line.split(" ", 1)[0]):
            return await conn.command(line, headers, body, timeout=timeout)

    async def _send(
        self, line: str, what: str, headers: dict[str, str] | None = None, body: str | None = None
    ) -> Reply:
        """A command whose ``-ERR`` raises CommandError."""
        return await self._checked(self.command(line, headers, body), what)

    async def subscribe(self, *events: str, subclasses: tuple[str, ...] = ()) -> None:
        """Add events (and CUSTOM subclasses) to the subscription, now and on every
        reconnect. If FreeSWITCH rejects it, CommandError and nothing is kept."""
        new_events = {e.upper() for e in events} - self._events
        new_subclasses = set(subclasses) - self._subclasses
        self._events |= new_events
        self._subclasses |= new_subclasses
        if self.connected:
            try:
                await self._send(self._event_line(), "event")
            except CommandError:
                self._events -= new_events
                self._subclasses -= new_subclasses
                raise

    async def unsubscribe(self, *events: str, subclasses: tuple[str, ...] = ()) -> None:
        names = {e.upper() for e in events} - {"BACKGROUND_JOB"}
        self._events -= names
        self._subclasses -= set(subclasses)
        if self.connected:
            words = sorted(names)
            if subclasses:
                words += ["CUSTOM", *subclasses]
            if words:
                await self._send("nixevent " + " ".join(words), "nixevent")

    @property
    def filters(self) -> tuple[tuple[str, str], ...]:
        """The filters replayed on every connection, in order (the client's own included)."""
        return tuple(self._filters)

    async def add_filter(self, header: str, value: str) -> None:
        """Add a filter, now and on every reconnect. FreeSWITCH drops events lacking
        the header, so the first filter also adds ``Event-Name BACKGROUND_JOB``, or
        bgapi would never complete. A filter FreeSWITCH rejects raises CommandError
        and is not kept (nor is the BACKGROUND_JOB filter it brought)."""
        _check_filter(header, value)
        async with self._filter_lock:
            wanted = [(header, value)]
            if not self._filters and (header, value) != _BGJOB:
                wanted.insert(0, _BGJOB)
            added: list[tuple[str, str]] = []
            for h, v in wanted:
                if (h, v) in self._filters:
                    continue
                self._filters.append((h, v))
                if self.connected:
                    try:
                        await self._send(f"filter {h} {v}", "filter")
                    except CommandError:
                        self._filters.remove((h, v))
                        for f in reversed(added):
                            self._filters.remove(f)
                            with contextlib.suppress(EslError):
                                await self.command(f"filter delete {f[0]} {f[1]}")
                        raise
                added.append((h, v))

    async def delete_filter(self, header: str, value: str = "") -> None:
        """Delete the filters on ``header`` (with ``value``: that one only;
        ``delete_filter("all")``: every filter). The client's own
        ``Event-Name BACKGROUND_JOB`` filter stays while any other filter is
        left -- ``delete_filter("Event-Name")`` would otherwise starve every
        bgapi -- and goes with the last one, which lets every event through."""
        everything = header.lower() == "all" and not value
        async with self._filter_lock:
            doomed = [
                (h, v)
                for h, v in self._filters
                if everything or (h.lower() == header.lower() and (not value or v == value))
            ]
            left = [f for f in self._filters if f not in doomed]
            if _BGJOB in doomed and left:  # other filters stay: so does ours
                doomed.remove(_BGJOB)
                left.insert(0, _BGJOB)
            elif left == [_BGJOB] and doomed:  # the last other one went: ours goes too
                doomed.append(_BGJOB)  # last, so no other filter is ever without it
                left = []
            self._filters = left
            if not self.connected:
                return
            if everything:
                await self._send("filter delete all", "filter delete")
                return
            # One by one: FreeSWITCH's `filter delete Event-Name` would also take
            # the BACKGROUND_JOB filter, if only for a moment.
            for h, v in doomed:
                await self._send(f"filter delete {h} {v}", "filter delete")

    async def sendmsg(
        self,
        uuid: str,
        command: str,
        headers: dict[str, str] | None = None,
        body: str | None = None,
    ) -> Reply:
        h = {"call-command": command, **(headers or {})}
        if body is not None:
            h["content-type"] = "text/plain"
        return await self._send(f"sendmsg {uuid}", "sendmsg", h, body)

    async def execute(
        self,
        uuid: str,
        app: str,
        arg: str = "",
        *,
        event_lock: bool = False,
        event_uuid: str | None = None,
    ) -> Reply:
        """Queue ``app(arg)`` on a channel (long or multi-line args travel as a body)."""
        headers = {"execute-app-name": app}
        if event_lock:
            headers["event-lock"] = "true"
        if event_uuid:
            headers["Event-UUID"] = event_uuid
        if arg and ("\n" in arg or len(arg) > 1024):
            return await self.sendmsg(uuid, "execute", headers, body=arg)
        if arg:
            headers["execute-app-arg"] = arg
        return await self.sendmsg(uuid, "execute", headers)

    async def hangup(self, uuid: str, cause: str = "NORMAL_CLEARING") -> Reply:
        return await self.sendmsg(uuid, "hangup", {"hangup-cause": cause})

    async def linger(self, seconds: int | None = None) -> Reply:
        return await self.command("linger" + (f" {seconds}" if seconds is not None else ""))

    async def nolinger(self) -> Reply:
        return await self.command("nolinger")

    async def exit(self) -> Reply:
        return await self.command("exit")

"""FreeSWITCH events into JetStream: in order, deduplicated, nothing lost.

The owner of a node hands every event to ``EventPublisher.submit`` (never
blocks the ESL reader). One pump publishes them in arrival order without
waiting for each ack (``AckInbox``), so NATS receives them in FreeSWITCH's
order; a second task collects the acks in the same order. An event whose ack
fails or times out is published again, synchronously, until JetStream takes
it. Each message carries ``Nats-Msg-Id = <Core-UUID>:<Event-Sequence>``, so
a retry, or another replica replaying after a fail-over, is dropped by the
stream's duplicate window instead of stored twice.

Order across a NATS outage: an event written to a connection as it died
is lost without a word, and its retry (at its ack deadline) would land after
the events published once NATS was back. So the pump publishes nothing while
disconnected (the client would queue it and send it first on reconnect) and,
after each reconnect, first publishes again every event not yet
acknowledged, in order; those already stored are dropped as duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

import msgspec
import nats.errors
import nats.js.errors
from nats.js.api import StorageType, StreamConfig

from switchyard.shared.bus import Bus
from switchyard.shared.tasks import cancel_and_wait

log = logging.getLogger(__name__)

DUPLICATE_WINDOW = 300.0  # seconds; longer than any retry or fail-over
MAX_AGE = 7 * 24 * 3600.0


def stream_config(bus: Bus) -> StreamConfig:
    s = bus.subjects
    return StreamConfig(
        name=s.events_stream,
        subjects=[s.events_all],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW,
        max_age=MAX_AGE,
    )


@dataclass(frozen=True)
class Event:
    subject: str
    msg_id: str
    payload: bytes
    # The event's trace (W3C traceparent) when it starts one, else ''.
    traceparent: str = ""

    @property
    def headers(self) -> dict[str, str]:
        if self.traceparent:
            return {"Nats-Msg-Id": self.msg_id, "traceparent": self.traceparent}
        return {"Nats-Msg-Id": self.msg_id}


class _PublishError(msgspec.Struct):
    code: int = 0
    description: str = ""


class _PubAck(msgspec.Struct):
    stream: str = ""
    seq: int = 0
    error: _PublishError | None = None


class PublishRefused(Exception):
    """JetStream answered a publish with an error (or nothing stores the subject)."""


class AckInbox:
    """Asynchronous JetStream publishes whose acks come to one wildcard inbox,
    matched by a counter.

    What nats.py's ``publish_async`` does, for the one hot path that sends
    every FreeSWITCH event: it drew random bytes per message, took a
    semaphore through ``wait_for`` and parsed each ack with ``json`` into a
    dataclass, about a third of the owner's cost per event after parsing it
    (issue 12). Backpressure is the publisher's (``max_inflight``).
    """

    def __init__(self, nc: Any) -> None:
        self.nc = nc
        self._prefix = ""
        self._next = 0
        self._futures: dict[str, asyncio.Future[_PubAck]] = {}
        self._sub: Any = None
        self._decoder = msgspec.json.Decoder(_PubAck)

    async def start(self) -> None:
        self._prefix = self.nc.new_inbox() + "."
        self._sub = await self.nc.subscribe(self._prefix + "*", cb=self._on_ack)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._sub.unsubscribe()
            self._sub = None

    async def publish(
        self, subject: str, payload: bytes, headers: dict[str, str]
    ) -> asyncio.Future[_PubAck]:
        self._next += 1
        token = str(self._next)
        future: asyncio.Future[_PubAck] = asyncio.get_running_loop().create_future()
        self._futures[token] = future
        try:
            await self.nc.publish(subject, payload, reply=self._prefix + token, headers=headers)
        except BaseException:
            del self._futures[token]
            raise
        return future

    def sweep(self) -> None:
        """Forget the futures given up on (their acks will not come: after a reconnect)."""
        self._futures = {t: f for t, f in self._futures.items() if not f.done()}

    async def _on_ack(self, msg: Any) -> None:
        future = self._futures.pop(msg.subject[len(self._prefix) :], None)
        if future is None or future.done():
            return
        if msg.headers and msg.headers.get("Status") == "503":
            future.set_exception(PublishRefused("no stream stores this subject"))
            return
        try:
            ack = self._decoder.decode(msg.data)
        except msgspec.DecodeError as exc:
            future.set_exception(PublishRefused(f"undecodable ack: {exc}"))
            return
        if ack.error is not None:
            future.set_exception(PublishRefused(f"{ack.error.code}: {ack.error.description}"))
        else:
            future.set_result(ack)


class EventPublisher:
    def __init__(
        self,
        bus: Bus,
        *,
        max_inflight: int = 2000,
        ack_timeout: float = 5.0,
        max_buffered: int = 500_000,
    ) -> None:
        self.bus = bus
        self.ack_timeout = ack_timeout
        self.max_buffered = max_buffered
        self._queue: deque[Event] = deque()
        self._wakeup = asyncio.Event()
        # (event, ack future or None, deadline for the ack on the loop's clock)
        self._inflight: asyncio.Queue[tuple[Event, asyncio.Future[Any] | None, float]] = (
            asyncio.Queue(max_inflight)
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._idle = asyncio.Event()
        self._idle.set()
        # Published and not yet acknowledged, in publish order (by Nats-Msg-Id).
        self._unacked: dict[str, Event] = {}
        self._reconnects = 0
        self.published = 0
        self.retried = 0
        self.dropped = 0
        self._box = AckInbox(bus.nc)

    def submit(self, subject: str, msg_id: str, payload: bytes, traceparent: str = "") -> None:
        if len(self._queue) >= self.max_buffered:
            # NATS has been gone for a long time: keep the newest, say so loudly.
            self._queue.popleft()
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.error("event buffer full; %d events dropped so far", self.dropped)
        self._queue.append(Event(subject, msg_id, payload, traceparent))
        self._idle.clear()
        self._wakeup.set()

    async def start(self) -> None:
        await self._box.start()
        self._tasks = [
            asyncio.create_task(self._pump(), name="events:pump"),
            asyncio.create_task(self._acks(), name="events:acks"),
        ]

    async def drain(self) -> None:
        """Wait until every submitted event is stored in JetStream."""
        await self._idle.wait()

    async def stop(self, *, drain_timeout: float = 10.0) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(drain_timeout):
                await self.drain()
        await cancel_and_wait(*self._tasks)
        self._tasks = []
        await self._box.stop()

    async def _pump(self) -> None:
        while True:
            while not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
            event = self._queue.popleft()
            await self._after_outage()
            self._unacked[event.msg_id] = event
            future: asyncio.Future[Any] | None
            try:
                future = await self._box.publish(event.subject, event.payload, event.headers)
            except (nats.errors.Error, nats.js.errors.Error, OSError):
                future = None  # the ack collector publishes it the slow way
            deadline = asyncio.get_running_loop().time() + self.ack_timeout
            await self._inflight.put((event, future, deadline))

    async def _acks(self) -> None:
        while True:
            event, future, deadline = await self._inflight.get()
            ok = False
            if future is not None and future.done():
                # The common case under load: the ack came while we were busy.
                ok = not future.cancelled() and future.exception() is None
            elif future is not None:
                # The timeout runs from the publish, not from now: after an
                # outage the acks that will never come fail together, quickly.
                remaining = max(0.0, deadline - asyncio.get_running_loop().time())
                try:
                    # asyncio.timeout, not wait_for: on 3.11 wait_for swallows
                    # a cancel that lands as the ack arrives, and stop() hangs.
                    async with asyncio.timeout(remaining):
                        await asyncio.shield(future)
                    ok = True
                except asyncio.CancelledError:
                    # nats-py cancels pending acks when the connection drops;
                    # only our own cancellation (stop) ends this task.
                    if not future.cancelled():
                        raise
                except Exception:
                    future.cancel()
            if not ok:
                await self._publish_until_stored(event)
            self._unacked.pop(event.msg_id, None)
            self.published += 1
            if not self._queue and self._inflight.empty():
                self._idle.set()

    async def _after_outage(self) -> None:
        """Before the next publish: wait out a disconnection, and after a
        reconnect store again, in order, what the old connection may have lost."""
        nc = self.bus.nc
        while not nc.is_connected:  # noqa: ASYNC110 - polls the client's state
            await asyncio.sleep(0.05)
        reconnects = int(nc.stats["reconnects"])
        if reconnects != self._reconnects:
            self._reconnects = reconnects
            self._box.sweep()
            for event in list(self._unacked.values()):
                await self._publish_until_stored(event)

    async def _publish_until_stored(self, event: Event) -> None:
        delay = 0.1
        while True:
            try:
                await self.bus.js.publish(
                    event.subject,
                    event.payload,
                    headers=event.headers,
                    timeout=self.ack_timeout,
                )
                self.retried += 1
                return
            except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
                log.warning("event %s not stored yet (%s); retrying", event.msg_id, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

"""One relay process: subscriptions, the leader's intake and dispatcher, pruning.

One process at a time leads (a Postgres advisory lock on a connection of
its own): it consumes the event stream through the durable consumer, writes
what each subscription is owed, acknowledges the batch, and sends. The
others serve the API and stand by; when the leader dies its lock goes with
its connection, the next one takes over, adopts the pending deliveries and
the unacknowledged stream messages come to it again. One leader keeps a
call's events in one order without coordinating lanes across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import nats.errors
import nats.js.errors
from msgspec import UNSET
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, ConsumerInfo, DeliverPolicy

from switchyard.event_relay import coocenter, store, subscriptions, xswitch
from switchyard.event_relay.delivery import Dispatcher
from switchyard.event_relay.metrics import EventRelayMetrics
from switchyard.event_relay.retry import parse_schedule
from switchyard.event_relay.store import AttemptWriter, Incoming, Wanted
from switchyard.event_relay.subscriptions import Subscription
from switchyard.event_relay.urlpolicy import Policy, Refused, parse_allow
from switchyard.shared.bus import Bus
from switchyard.shared.event_consumer import Lag
from switchyard.shared.messages import WebhooksChanged
from switchyard.shared.runtime import Runtime
from switchyard.shared.tasks import cancel_and_wait

log = logging.getLogger(__name__)

LEADER_LOCK = 0x53595F52454C4159  # "SY_RELAY"
FETCH_BATCH = 512
ACK_WAIT = 10.0  # seconds before the stream offers an unacknowledged batch again
REFRESH = 30.0  # subscriptions are re-read this often besides on notices
PRUNE_EVERY = 3600.0
# The cycle collector's thresholds in a relay's process: see tune_gc.
GC_THRESHOLDS = (20_000, 10, 10)


class _Head(msgspec.Struct):
    """The headers routing reads (issue 14). An event is about 5 KB of JSON
    with some 150 headers; these are read and the rest skipped unbuilt:
    4.7 instead of 11.0 us per event."""

    name: Any = msgspec.field(name="Event-Name", default=UNSET)
    subclass: Any = msgspec.field(name="Event-Subclass", default=UNSET)
    call: Any = msgspec.field(name="Channel-Call-UUID", default=UNSET)
    unique_id: Any = msgspec.field(name="Unique-ID", default=UNSET)
    caller: Any = msgspec.field(name="Caller-Caller-ID-Number", default=UNSET)
    callee: Any = msgspec.field(name="Caller-Destination-Number", default=UNSET)
    answer_state: Any = msgspec.field(name="Answer-State", default=UNSET)


HEAD = tuple(f.encode_name for f in msgspec.structs.fields(_Head))
_decode_head = msgspec.json.Decoder(_Head).decode


def _whole(payload: bytes, head: dict[str, Any]) -> dict[str, Any]:
    """The whole event of which ``head`` holds the routing headers."""
    event = msgspec.json.decode(payload)
    return event if isinstance(event, dict) else head


class Pull:
    """The durable consumer's events, as they come.

    Not nats-py's ``fetch``: it takes each message of a batch with a task of
    its own and a turn of the event loop, and the relay's loop also runs
    every lane's sending. Fetching 512 events of 5.6 KB took 21 ms on an idle
    loop and 1.7 s beside 200 busy tasks; this takes 10 and 27 ms (issue 14).

    One pull request (JetStream's ``CONSUMER.MSG.NEXT``) is open at a time;
    the subscription's callback gathers its messages as they are read, and
    a fetch takes what has come, waiting only when nothing has. The request
    stays open across fetches until its batch is filled or the server ends
    it (its status; with ``no_wait`` and ``expires`` the server waits up to
    ``expires`` for the first events and ends the request some time after
    they come, never waiting for the batch to fill: nats 2.9 and 2.15
    alike). Waiting for that end instead held every event about 10 ms: at a
    steady 1,000 events/s the oldest of a batch was 13 ms old when fetched,
    and it is now the newest, about 4 ms (issue 14). Under load the intake's
    writer paces the fetches, so what gathers meanwhile makes the batches
    big again.
    """

    def __init__(self, bus: Bus, stream: str, durable: str) -> None:
        self.bus = bus
        self.stream = stream
        self.durable = durable
        # The JetStream API's own subject (nats-py's fetch asks the same).
        self._next = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._got: list[Msg] = []
        self._owed = 0  # of the open request, the messages still to come; 0: none open
        self._until = 0.0  # the open request's end at the latest, on the loop's clock
        self._news = asyncio.Event()  # a message came, or the request ended
        self._refused = ""
        self._sub: Any = None
        self._inbox = ""
        self._asked = 0  # requests made; each has its own reply subject
        self._reply = ""  # the open request's
        self._brought = 0  # events the open (or last) request brought

    async def start(self) -> None:
        self._inbox = self.bus.nc.new_inbox()
        self._sub = await self.bus.nc.subscribe(self._inbox + ".*", cb=self._on)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def consumer_info(self) -> ConsumerInfo:
        info: ConsumerInfo = await self.bus.js.consumer_info(self.stream, self.durable)
        return info

    async def _on(self, msg: Msg) -> None:
        headers = msg.headers or {}
        status = headers.get("Status")
        if status is None:
            # An event carries its own subject, not the request's: counted
            # against the open request (an earlier one's late event only
            # makes the next request come sooner).
            self._got.append(msg)
            self._owed = max(0, self._owed - 1)
            self._brought += 1
        elif status == "100" or msg.subject != self._reply:
            # A heartbeat goes on; the end of an earlier request (given up on
            # after a reconnect, and sent again by the client) ends nothing.
            return
        else:
            if status not in ("404", "408"):  # not "none (left)", not "expired"
                self._refused = f"{status} {headers.get('Description', '')}".strip()
            self._owed = 0
        # Set once a burst's messages are in: they are read together and this
        # callback runs for each without a turn of the loop in between.
        self._news.set()

    async def fetch(self, batch: int, timeout: float) -> list[Msg]:
        """Up to ``batch`` events: those that have come, else the first to come
        within ``timeout`` seconds with those read with them; [] when none came.

        A request the server ends with nothing buffered is followed at once by
        the next, within the same ``timeout``: at a steady rate requests end
        every few tens of milliseconds, and each [] would cost the intake a
        consumer-info round trip before it asked again."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        made = 0
        while not self._refused:
            if self._owed and loop.time() > self._until:
                self._owed = 0  # its end never came (a reconnect lost it): ask again
            if not self._owed and len(self._got) < batch:
                if made and not self._brought:
                    break  # ended with nothing: the intake idles, then asks again
                # Asked for before the last is taken: under load the next
                # batch is on its way while this one is written.
                made += 1
                self._brought = 0
                self._asked += 1
                self._reply = f"{self._inbox}.{self._asked}"
                self._owed = batch
                self._until = loop.time() + timeout + 0.5
                request = {"batch": batch, "expires": int(timeout * 1e9), "no_wait": True}
                await self.bus.nc.publish(self._next, msgspec.json.encode(request), self._reply)
            if self._got or self._refused:
                break
            left = min(deadline, self._until) - loop.time()
            if left <= 0:
                break
            if self._owed:
                self._news.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(left):
                        await self._news.wait()
        if self._refused:
            # 409: the consumer is gone, or busy with requests (another
            # process's?); 503: no such consumer, or JetStream is away. The
            # intake starts again, with the consumer made anew.
            refused, self._refused = self._refused, ""
            raise RuntimeError(f"the event stream refused a fetch: {refused}")
        got, self._got = self._got[:batch], self._got[batch:]
        return got


def tune_gc() -> None:
    """Keep the cycle collector from costing a busy relay a quarter of its CPU.

    Every delivery allocates a few dozen tracked objects (coroutines, futures,
    headers, its attempt) that live across awaits, hundreds of deliveries in
    flight: with the default thresholds (700, 10, 10) the collector ran about
    17 times for every 1,000 deliveries, and each full collection walked the
    100k objects the process has held since it started (the app, its
    imports). Deliveries make no cyclic garbage to speak of (reference
    counting frees them), so that was all overhead: 1.16 s of the relay's
    4.6 s of CPU for 40,000 deliveries at 10 and 100 subscriptions (issue
    14). Now what the process holds once started is frozen (no collection
    walks it again) and a young collection waits for 20,000 new objects: the
    same deliveries then took 0.07 s of collections, and the rates rose by a
    third. Cyclic garbage (an exception's traceback) is still collected, a
    little later; what there is at start is collected before the freeze."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _nodes(text: str) -> set[str]:
    return {n.strip() for n in text.split(",") if n.strip()}


class Relay:
    def __init__(self, runtime: Runtime) -> None:
        s = runtime.settings
        self.runtime = runtime
        self.pool = runtime.pool
        self.bus = runtime.bus
        self.owner = uuid.uuid4().hex
        self.subs: dict[int, Subscription] = {}
        self.mod_ai = _nodes(s.mod_ai_nodes)
        self.policy = Policy(parse_allow(s.webhook_allow_private))
        self.writer = AttemptWriter(self.pool, owner=self.owner)
        self.metrics = runtime.metrics.bundle(EventRelayMetrics)
        self.metrics.count_disabled(lambda: sum(not sub.enabled for sub in self.subs.values()))
        self.dispatcher = Dispatcher(
            self.pool,
            lambda: self.subs,
            self.policy,
            self.writer,
            self.emit,
            schedule=parse_schedule(s.webhook_retry_schedule),
            timeout=s.webhook_timeout,
            disable_after=float(s.webhook_disable_after),
            coo=coocenter.Context.from_settings(s),
            metrics=self.metrics,
            tracer=self.bus.tracer,
        )
        self.retention = dt.timedelta(days=s.webhook_retention_days)
        self.leader = False
        self.relayed = 0
        self._prefix = f"{self.bus.subjects.prefix}.fs.events."
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[Any]] = set()
        self._notices: Any = None
        self._adopting = asyncio.Lock()

    # --- life ----------------------------------------------------------------------
    async def start(self) -> None:
        s = self.runtime.settings
        await subscriptions.sync_system(self.pool, "xswitch", s.post_event_url, s.post_event_secret)
        await subscriptions.sync_system(self.pool, "coocenter", s.coocenter_push_url)
        for setting, url in (
            ("SWITCHYARD_POST_EVENT_URL", s.post_event_url),
            ("SWITCHYARD_COOCENTER_PUSH_URL", s.coocenter_push_url),
        ):
            if not url:
                continue
            # Settings skip the API's URL check: say now what every delivery would.
            try:
                await self.policy.check(url)
            except Refused as exc:
                log.warning("%s is refused (%s): every delivery to it fails", setting, exc)
        await self.reload()
        for row in await self.pool.fetch("SELECT node FROM webhook_mod_ai_nodes"):
            self.mod_ai.add(row["node"])
        self._notices = await self.bus.subscribe(
            self.bus.subjects.webhooks_changed, WebhooksChanged, self._on_notice
        )
        self._tasks = [
            asyncio.create_task(self._lead(), name="relay:lead"),
            asyncio.create_task(self._refresh(), name="relay:refresh"),
        ]
        tune_gc()

    async def stop(self) -> None:
        if self._notices is not None:
            with contextlib.suppress(Exception):
                await self._notices.unsubscribe()
        # SIGTERM (a scale-in, a rollout): requests in flight finish first.
        await self.dispatcher.drain(self.runtime.settings.webhook_timeout + 1)
        await cancel_and_wait(*self._tasks)
        await self.dispatcher.stop()
        await self.writer.stop()

    async def reload(self) -> None:
        self.subs = await subscriptions.load(self.pool)

    async def changed(self) -> None:
        """After an API write: this process reloads now, the others on the notice."""
        await self.reload()
        await self.bus.publish(self.bus.subjects.webhooks_changed, WebhooksChanged())

    async def _on_notice(self, _: WebhooksChanged) -> None:
        try:
            await self.reload()
            for gone in self.dispatcher.webhooks() - set(self.subs):
                self.dispatcher.forget(gone)
            if self.leader:
                await self._adopt()
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("reloading webhooks failed (%s); the next refresh retries", exc)

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH)
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                await self.reload()

    async def _adopt(self) -> None:
        async with self._adopting:
            while jobs := await store.adopt(self.pool, self.owner):
                self.dispatcher.enqueue(jobs)
                if len(jobs) < 5000:
                    break

    # --- leadership ------------------------------------------------------------------
    async def _lead(self) -> None:
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self.runtime.settings.database_url)
                locked = "SELECT pg_try_advisory_lock($1)"
                while not await conn.fetchval(locked, LEADER_LOCK):  # noqa: ASYNC110 - polls Postgres
                    await asyncio.sleep(1.0)
                # A run id per term: what an earlier term of this process held
                # (dropped from memory when it lost the lock) is adopted again,
                # like a dead leader's, and its late attempts are not recorded.
                self.owner = uuid.uuid4().hex
                self.writer.owner = self.owner
                log.info("event-relay %s leads", self.owner[:8])
                self.leader = True
                await self.writer.start()
                await self._adopt()
                work = [
                    asyncio.create_task(self._intake(), name="relay:intake"),
                    asyncio.create_task(self._prune(), name="relay:prune"),
                ]
                try:
                    while True:  # the lock lives as long as this connection
                        await asyncio.sleep(2.0)
                        await conn.fetchval("SELECT 1")
                        for t in work:
                            if t.done():
                                t.result()
                finally:
                    await cancel_and_wait(*work)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event-relay leadership lost; standing by")
                await asyncio.sleep(1.0)
            finally:
                if self.leader:
                    self.leader = False
                    await self.dispatcher.stop()
                    await self.writer.stop()
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()

    # --- intake ----------------------------------------------------------------------
    async def _consumer(self) -> Any:
        js = self.bus.js
        subjects = self.bus.subjects
        while True:  # call-control creates the stream
            try:
                await js.stream_info(subjects.events_stream)
                break
            except nats.js.errors.NotFoundError:
                await asyncio.sleep(1.0)
        config = ConsumerConfig(
            durable_name=subjects.events_consumer,
            # Explicit, not ALL: acknowledging a later message must never
            # acknowledge an earlier batch a dead leader fetched and never wrote.
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=ACK_WAIT,
            deliver_policy=DeliverPolicy.NEW,  # a new relay starts from now, not 7 days back
            max_ack_pending=20_000,
        )
        with contextlib.suppress(nats.js.errors.NotFoundError):
            info = await js.consumer_info(subjects.events_stream, subjects.events_consumer)
            if info.num_ack_pending:
                # A previous leader fetched events and never recorded them: the
                # stream would offer them again only after ACK_WAIT, behind the
                # newer events of the same calls, breaking each call's order.
                # Start over from the first unacknowledged event instead; the
                # ones recorded since are known by their Nats-Msg-Id and skipped.
                floor = info.ack_floor.stream_seq if info.ack_floor else 0
                log.info("resuming the event stream at %d (unacknowledged events)", floor + 1)
                await js.delete_consumer(subjects.events_stream, subjects.events_consumer)
                config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
                config.opt_start_seq = (floor or 0) + 1
        config.filter_subject = subjects.events_all
        try:
            await js.consumer_info(subjects.events_stream, subjects.events_consumer)
        except nats.js.errors.NotFoundError:
            await js.add_consumer(subjects.events_stream, config)
        pull = Pull(self.bus, subjects.events_stream, subjects.events_consumer)
        await pull.start()
        return pull

    async def _intake(self) -> None:
        """Fetch and route the next batch while the last one is written:
        the durable write (a Postgres round trip and commit) no longer sits
        between two fetches (issue 14). One writer, in fetch order, so the
        deliveries keep their lanes' order; a batch is acknowledged only once
        written, as before."""
        pull = await self._consumer()
        routed: asyncio.Queue[tuple[list[Msg], list[Incoming]]] = asyncio.Queue(maxsize=1)
        writing = asyncio.create_task(self._record(routed), name="relay:record")
        try:
            await self._fetch(pull, routed, writing)
        finally:
            await cancel_and_wait(writing)
            await pull.stop()

    async def _fetch(
        self,
        pull: Pull,
        routed: asyncio.Queue[tuple[list[Msg], list[Incoming]]],
        writing: asyncio.Task[None],
    ) -> None:
        lag = Lag(self.runtime.metrics, self.bus.subjects.events_consumer)
        while True:
            msgs = await pull.fetch(FETCH_BATCH, timeout=1.0)
            if not msgs:
                await lag.idle(pull)  # or held back by max_ack_pending
                continue
            lag.fetched(msgs)
            batch = [b for b in (self._route_msg(m) for m in msgs) if b is not None]
            # Wait for room, or for the writer to fail (its failure is the intake's).
            put = asyncio.ensure_future(routed.put((msgs, batch)))
            try:
                await asyncio.wait((put, writing), return_when=asyncio.FIRST_COMPLETED)
            finally:
                put.cancel()  # a no-op once it went in
            if writing.done():
                writing.result()
                raise RuntimeError("the event writer stopped")

    async def _record(self, routed: asyncio.Queue[tuple[list[Msg], list[Incoming]]]) -> None:
        while True:
            msgs, batch = await routed.get()
            delay = 0.1
            while True:
                try:
                    jobs = await store.record(self.pool, batch, self.owner)
                    break
                except (OSError, asyncpg.PostgresError) as exc:
                    # Not acknowledged: nothing is lost, however long Postgres is away.
                    log.warning("cannot record events (%s); retrying", exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
            for m in msgs:
                await m.ack()
            self.relayed += len(msgs)
            self.dispatcher.enqueue(jobs)

    def _route_msg(self, msg: Msg) -> Incoming | None:
        try:
            head = _decode_head(msg.data)
        except msgspec.DecodeError:  # not JSON, or not an object
            log.warning("undecodable event on %s skipped", msg.subject)
            return None
        values = msgspec.structs.astuple(head)
        event = {k: v for k, v in zip(HEAD, values, strict=True) if v is not UNSET}
        msg_id = (msg.headers or {}).get("Nats-Msg-Id") or f"js:{msg.metadata.sequence.stream}"
        node = msg.subject[len(self._prefix) :].split(".", 1)[0]
        incoming = self.route(msg_id, node, msg.data, event)
        if msg.headers:
            incoming.trace = msg.headers.get("traceparent", "")
        return incoming

    def route(self, msg_id: str, node: str, payload: bytes, event: dict[str, Any]) -> Incoming:
        """What each subscription is owed of one event. ``event`` need hold only
        the headers in HEAD; the whole of it is decoded from ``payload`` only for
        what is made from it (coocenter's pushes, mod_ai's event)."""
        name = xswitch.event_name(event)
        lane = str(event.get("Channel-Call-UUID") or event.get("Unique-ID") or msg_id)
        if xswitch.is_channel_state(event) and node not in self.mod_ai:
            self._learn_mod_ai(node)
        makes = node not in self.mod_ai and name in xswitch.ANSWER_STATE
        made: dict[str, Any] | None = None
        pushes: list[str] | None = None
        whole: dict[str, Any] | None = None
        incoming = Incoming(msg_id, node, payload)
        for sub in self.subs.values():
            if not sub.enabled:
                continue
            if sub.format == "coocenter":
                # coocenter's pushes made from this event, each its own delivery,
                # rendered from the stored event when sent.
                if pushes is None:
                    whole = whole if whole is not None else _whole(payload, event)
                    pushes = coocenter.made(whole)
                for push in pushes:
                    if sub.wants(push, event, node):
                        incoming.wanted.append(
                            Wanted(
                                sub.id,
                                coocenter.KIND_PREFIX + push,
                                push,
                                coocenter.lane(whole if whole is not None else event, push),
                                f"{msg_id}:{push}",
                            )
                        )
                continue
            if sub.wants(name, event, node):
                incoming.wanted.append(Wanted(sub.id, "", name, lane, msg_id))
            if makes and sub.format == "xswitch":
                if made is None:
                    whole = whole if whole is not None else _whole(payload, event)
                    made = xswitch.channel_state(whole)
                if made is not None and sub.wants(xswitch.SUBCLASS, made, node):
                    incoming.wanted.append(
                        Wanted(sub.id, "ai", xswitch.SUBCLASS, lane, msg_id + ":ai")
                    )
        return incoming

    def _learn_mod_ai(self, node: str) -> None:
        # From now on this node's own ai::channel-state events are the only ones.
        log.info("node %s sends ai::channel-state: it runs mod_ai", node)
        self.mod_ai.add(node)
        task = asyncio.get_running_loop().create_task(
            self.pool.execute(
                "INSERT INTO webhook_mod_ai_nodes (node) VALUES ($1) ON CONFLICT DO NOTHING", node
            )
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- operational events ------------------------------------------------------------
    async def emit(self, kind: str, data: dict[str, Any]) -> None:
        """A webhook.* event to the subscriptions that asked for it."""
        msg_id = f"op_{uuid.uuid4().hex}"
        payload = msgspec.json.encode(
            {"type": kind, "timestamp": dt.datetime.now(dt.UTC).isoformat(), "data": data}
        )
        incoming = Incoming(msg_id, "", payload)
        lane = f"webhook:{data.get('webhook_id', '')}"
        for sub in self.subs.values():
            if sub.enabled and sub.wants(kind, {}, ""):
                incoming.wanted.append(Wanted(sub.id, "", kind, lane, msg_id))
        jobs = await store.record(self.pool, [incoming], self.owner)
        self.dispatcher.enqueue(jobs)

    # --- retention ---------------------------------------------------------------------
    async def _prune(self) -> None:
        while True:
            try:
                await prune(self.pool, self.retention)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("pruning the delivery log failed (%s)", exc)
            await asyncio.sleep(PRUNE_EVERY)


async def prune(pool: asyncpg.Pool, keep: dt.timedelta) -> int:
    """Delete attempts, finished deliveries and events older than ``keep``; how many rows."""
    cutoff = dt.datetime.now(dt.UTC) - keep
    n = 0
    for sql in (
        "DELETE FROM webhook_attempts WHERE attempted_at < $1",
        "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1",
        "DELETE FROM webhook_events e WHERE received_at < $1 "
        "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)",
    ):
        n += int((await pool.execute(sql, cutoff)).split()[-1])
    return n


@contextlib.asynccontextmanager
async def relay_lifespan(runtime: Runtime) -> AsyncIterator[Relay]:
    relay = Relay(runtime)
    await relay.start()
    try:
        yield relay
    finally:
        await relay.stop()

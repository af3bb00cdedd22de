"""The relay's tables: events it owes, their deliveries, every attempt.

An event taken from the stream is written with one delivery row per
subscription (and format) that wants it, in one transaction, before the
stream message is acknowledged: from then on Postgres holds what is owed.
Attempts are written in batches by ``AttemptWriter`` so that a busy relay
makes a few statements per batch, not two per delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field

import asyncpg

from switchyard.shared.tasks import cancel_and_wait

log = logging.getLogger(__name__)

UTC = dt.UTC


@dataclass(slots=True)
class Job:
    """One delivery row in memory: what to send, to whom, in which lane."""

    id: int
    webhook_id: int
    event_id: int
    message_id: str
    kind: str
    event_name: str
    lane: str
    payload: bytes
    attempts: int = 0
    next_at: float = 0.0  # Unix seconds
    # The event's trace (its JetStream message's traceparent), '' when none;
    # in memory only: a delivery adopted or replayed later starts no span.
    trace: str = ""


@dataclass(slots=True)
class Wanted:
    webhook_id: int
    kind: str
    event_name: str
    lane: str
    message_id: str


@dataclass(slots=True)
class Incoming:
    msg_id: str
    node: str
    payload: bytes
    wanted: list[Wanted] = field(default_factory=list)
    trace: str = ""  # the message's traceparent


async def record(pool: asyncpg.Pool, batch: list[Incoming], owner: str) -> list[Job]:
    """Write the events that are owed something and their deliveries (owned by
    ``owner``); an event already written (a redelivery) is skipped. Jobs come
    back in the batch's order.

    One statement, so one round trip and no BEGIN/COMMIT of their own: at a
    steady rate the intake writes small batches often (issue 14).

    The deliveries travel as two arrays of numbers: asyncpg checks every
    element of an array parameter against collections.abc's classes (about
    0.1 us a check, two for a string), and six arrays per delivery, five of
    them of strings, cost the relay more than the rest of the write (issue
    14). What varies by subscription is only its id: the rest (message id,
    kind, event name, lane) is a "variant", usually one per event, shared by
    every subscription that wants it, and sent once."""
    batch = [b for b in batch if b.wanted]
    if not batch:
        return []
    v_msg: list[str] = []  # per variant: its event's msg_id, then what it writes
    v_message: list[str] = []
    v_kind: list[str] = []
    v_name: list[str] = []
    v_lane: list[str] = []
    d_variant: list[int] = []  # per delivery: its variant (1-based) and subscription
    d_webhook: list[int] = []
    for b in batch:
        variants: dict[tuple[str, str, str, str], int] = {}
        for w in b.wanted:
            key = (w.message_id, w.kind, w.event_name, w.lane)
            vi = variants.get(key)
            if vi is None:
                v_msg.append(b.msg_id)
                v_message.append(w.message_id)
                v_kind.append(w.kind)
                v_name.append(w.event_name)
                v_lane.append(w.lane)
                vi = variants[key] = len(v_msg)
            d_variant.append(vi)
            d_webhook.append(w.webhook_id)
    rows = await pool.fetch(
        """
        WITH e AS (
            INSERT INTO webhook_events (msg_id, node, payload)
            SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[])
            ON CONFLICT (msg_id) DO NOTHING
            RETURNING id, msg_id
        ), v AS (
            SELECT * FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
                WITH ORDINALITY AS v(msg_id, m, k, n, l, vi)
        )
        INSERT INTO webhook_deliveries
            (webhook_id, event_id, message_id, kind, event_name, lane, owner)
        SELECT u.w, e.id, v.m, v.k, v.n, v.l, $11
        FROM unnest($9::bigint[], $10::bigint[]) WITH ORDINALITY AS u(vi, w, i)
        JOIN v ON v.vi = u.vi
        JOIN e ON e.msg_id = v.msg_id
        -- A subscription deleted since the batch was routed is owed nothing
        -- (else the foreign key fails the batch, and every retry of it).
        WHERE EXISTS (SELECT 1 FROM webhooks h WHERE h.id = u.w)
        -- Ids in the batch's order, which is each lane's order.
        ORDER BY u.i
        RETURNING id, event_id
        """,
        [b.msg_id for b in batch],
        [b.node for b in batch],
        [b.payload for b in batch],
        v_msg,
        v_message,
        v_kind,
        v_name,
        v_lane,
        d_variant,
        d_webhook,
        owner,
    )
    # (id, event_id) per delivery written, in the batch's order (ids are taken
    # in that order: sorting restores it whatever order RETURNING used).
    rows.sort(key=_first)
    made: list[tuple[int, int] | None]
    if len(rows) == len(d_webhook):  # every delivery written: the usual case
        made = [(r[0], r[1]) for r in rows]
    else:
        made = await _which(pool, batch, rows)
    jobs = []
    i = 0
    for b in batch:
        for w in b.wanted:
            m = made[i]
            i += 1
            if m is not None:
                jobs.append(
                    Job(
                        m[0],
                        w.webhook_id,
                        m[1],
                        w.message_id,
                        w.kind,
                        w.event_name,
                        w.lane,
                        b.payload,
                        trace=b.trace,
                    )
                )
    return jobs


def _first(row: asyncpg.Record) -> int:
    return int(row[0])


async def _which(
    pool: asyncpg.Pool, batch: list[Incoming], rows: list[asyncpg.Record]
) -> list[tuple[int, int] | None]:
    """Which of the batch's deliveries ``rows`` (id, event_id) are, when some
    were not written (a redelivered event, a deleted subscription): per
    delivery of the batch, in order, its (id, event_id) or None."""
    if not rows:
        return [None] * sum(len(b.wanted) for b in batch)
    keyed = await pool.fetch(
        "SELECT id, event_id, webhook_id, message_id, kind FROM webhook_deliveries "
        "WHERE id = ANY($1::bigint[])",
        [r[0] for r in rows],
    )
    by_key = {(r[2], r[3], r[4]): (r[0], r[1]) for r in keyed}
    return [by_key.get((w.webhook_id, w.message_id, w.kind)) for b in batch for w in b.wanted]


async def adopt(pool: asyncpg.Pool, owner: str, limit: int = 5000) -> list[Job]:
    """Pending deliveries no live dispatcher holds (a dead leader's, replays),
    taken over by ``owner``, oldest first."""
    rows = await pool.fetch(
        """
        UPDATE webhook_deliveries d SET owner = $1
        FROM webhook_events e
        WHERE d.id IN (
            SELECT id FROM webhook_deliveries
            WHERE status = 'pending' AND owner IS DISTINCT FROM $1
            ORDER BY id LIMIT $2
        ) AND e.id = d.event_id
        RETURNING d.id, d.webhook_id, d.event_id, d.message_id, d.kind, d.event_name,
                  d.lane, e.payload, d.attempts, extract(epoch FROM d.next_at) AS next_at
        """,
        owner,
        limit,
    )
    jobs = [
        Job(
            r["id"],
            r["webhook_id"],
            r["event_id"],
            r["message_id"],
            r["kind"],
            r["event_name"],
            r["lane"],
            r["payload"],
            r["attempts"],
            float(r["next_at"]),
        )
        for r in rows
    ]
    jobs.sort(key=lambda j: j.id)
    return jobs


@dataclass(slots=True)
class Attempt:
    job: Job
    at: dt.datetime
    status_code: int
    ok: bool
    latency_ms: float
    response: str
    error: str
    attempts: int
    # The delivery's state after this attempt.
    outcome: str  # pending | delivered | failed
    next_at: float


# How long the attempt writer lets attempts gather before it writes them. At
# a steady rate deliveries finish one by one, and writing each handful as it
# came made a Postgres transaction (and WAL flush) of its own, hundreds a
# second: at 1,000 events/s Postgres used 46 % of a core, more than the relay
# itself; with this and the intake's single statement, 23 % (issue 14). An
# attempt not yet written when the relay dies is made again (at least once),
# as before.
LINGER = 0.05


class AttemptWriter:
    """Writes attempts and the delivery rows they change, a batch at a time."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        max_batch: int = 1000,
        owner: str | None = None,
        linger: float = LINGER,
    ) -> None:
        self.pool = pool
        self.max_batch = max_batch
        self.owner = owner
        self.linger = linger
        self._queue: asyncio.Queue[Attempt] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def add(self, attempt: Attempt) -> None:
        self._queue.put_nowait(attempt)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="relay:attempts")

    async def stop(self) -> None:
        # Flush what is queued: each lost row would be one attempt too many after a restart.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self._queue.join()
        if self._task is not None:
            await cancel_and_wait(self._task)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            if self.linger and self._queue.qsize() < self.max_batch:
                await asyncio.sleep(self.linger)
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            delay = 0.1
            while True:
                try:
                    await write_attempts(self.pool, batch, self.owner)
                    for _ in batch:
                        self._queue.task_done()
                    break
                except (OSError, asyncpg.PostgresError) as exc:
                    log.warning("delivery log write failed (%s); retrying", exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)


def _ts(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


async def write_attempts(
    pool: asyncpg.Pool, batch: list[Attempt], owner: str | None = None
) -> None:
    """The attempts, and their deliveries' new state where ``owner`` (the
    dispatcher that made them; None: any) still holds the delivery: one replayed
    since (owner reset) keeps the replay's ``pending`` instead of this older
    attempt's outcome."""
    last = {a.job.id: a for a in batch}  # a delivery's final state in this batch
    now = dt.datetime.now(UTC)
    await pool.execute(
        """
        WITH a AS (
            INSERT INTO webhook_attempts (webhook_id, delivery_id, attempted_at,
                                          status_code, ok, latency_ms, response, error)
            SELECT x.* FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::int[],
                                   $5::bool[], $6::real[], $7::text[], $8::text[])
                AS x(webhook_id, delivery_id, attempted_at, status_code, ok, latency_ms,
                     response, error)
            -- A subscription deleted meanwhile took its deliveries along: its
            -- attempts have nothing to belong to (without this the batch
            -- failed its foreign key, and was retried forever).
            WHERE EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = x.delivery_id)
        )
        UPDATE webhook_deliveries d
        SET status = u.status, attempts = u.attempts, next_at = u.next_at,
            finished_at = CASE WHEN u.status = 'pending' THEN NULL ELSE $13::timestamptz END
        FROM unnest($9::bigint[], $10::text[], $11::int[], $12::timestamptz[])
            AS u(id, status, attempts, next_at)
        WHERE d.id = u.id AND ($14::text IS NULL OR d.owner = $14::text)
        """,
        [a.job.webhook_id for a in batch],
        [a.job.id for a in batch],
        [a.at for a in batch],
        [a.status_code for a in batch],
        [a.ok for a in batch],
        [a.latency_ms for a in batch],
        [a.response for a in batch],
        [a.error for a in batch],
        list(last),
        [a.outcome for a in last.values()],
        [a.attempts for a in last.values()],
        [_ts(a.next_at) for a in last.values()],
        now,
        owner,
    )


# Deleting a subscription cascades into its deliveries and attempts while
# the attempt writer may hold some of those rows and wait for the
# subscription's row (its attempts' foreign key): Postgres breaks the cycle
# by aborting one side. Both sides retry; the API's DELETE this many times.
DELETE_TRIES = 5


async def delete_subscription(pool: asyncpg.Pool, webhook_id: int) -> None:
    """Delete a subscription with everything it is owed, retried through
    deadlocks with a busy attempt writer; still deadlocked after
    DELETE_TRIES: ``asyncpg.DeadlockDetectedError``."""
    for tried in range(1, DELETE_TRIES + 1):
        try:
            await pool.execute("DELETE FROM webhooks WHERE id = $1", webhook_id)
            return
        except asyncpg.DeadlockDetectedError:
            if tried == DELETE_TRIES:
                raise
            log.info("deleting webhook %s met a deadlock; trying again", webhook_id)
            await asyncio.sleep(0.05 * tried)

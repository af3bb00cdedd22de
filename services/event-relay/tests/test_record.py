"""The intake's write: every job is the delivery row written for it.

``store.record`` sends a batch's deliveries compactly and pairs the rows
written with the batch by their ids; when some were not written (an event
already recorded, redelivered by the stream) it reads back which rows are
whose. A job paired with another delivery's row would be sent, and marked
delivered, in that delivery's name.
"""

from __future__ import annotations

import asyncpg

from switchyard.event_relay import store
from switchyard.shared.webhooks import new_secret


async def _webhook(db: asyncpg.Pool) -> int:
    webhook: int = await db.fetchval(
        "INSERT INTO webhooks (url, events, format, secret) "
        "VALUES ('http://127.0.0.1:9/', '{*}', 'xswitch', $1) RETURNING id",
        new_secret(),
    )
    return webhook


def _event(msg_id: str, a: int, b: int) -> store.Incoming:
    """One event owed to ``a`` and ``b``, and ``b`` owed the ai event made from it."""
    return store.Incoming(
        msg_id,
        "fs1",
        b"{}",
        [
            store.Wanted(a, "", "CHANNEL_ANSWER", "call-1", msg_id),
            store.Wanted(b, "", "CHANNEL_ANSWER", "call-1", msg_id),
            store.Wanted(b, "ai", "ai::channel-state", "call-1", msg_id + ":ai"),
        ],
    )


async def _check_rows(db: asyncpg.Pool, jobs: list[store.Job]) -> None:
    rows = {r["id"]: r for r in await db.fetch("SELECT * FROM webhook_deliveries")}
    for job in jobs:
        row = rows[job.id]
        assert (row["webhook_id"], row["kind"], row["message_id"], row["event_name"]) == (
            job.webhook_id,
            job.kind,
            job.message_id,
            job.event_name,
        )
        assert row["event_id"] == job.event_id


async def test_each_job_is_its_own_delivery_row(db: asyncpg.Pool) -> None:
    a, b = await _webhook(db), await _webhook(db)
    jobs = await store.record(db, [_event("core:1", a, b), _event("core:2", a, b)], "me")
    assert [(j.message_id, j.webhook_id, j.kind) for j in jobs] == [
        ("core:1", a, ""),
        ("core:1", b, ""),
        ("core:1:ai", b, "ai"),
        ("core:2", a, ""),
        ("core:2", b, ""),
        ("core:2:ai", b, "ai"),
    ]
    assert [j.id for j in jobs] == sorted(j.id for j in jobs)  # the lanes' order
    await _check_rows(db, jobs)


async def test_a_redelivered_event_is_skipped_and_the_rest_paired(db: asyncpg.Pool) -> None:
    a, b = await _webhook(db), await _webhook(db)
    first = await store.record(db, [_event("core:2", a, b)], "me")
    # core:2 comes again (the stream redelivered it) between two new events.
    batch = [_event("core:1", a, b), _event("core:2", a, b), _event("core:3", a, b)]
    jobs = await store.record(db, batch, "me")
    assert [(j.message_id, j.webhook_id, j.kind) for j in jobs] == [
        ("core:1", a, ""),
        ("core:1", b, ""),
        ("core:1:ai", b, "ai"),
        ("core:3", a, ""),
        ("core:3", b, ""),
        ("core:3:ai", b, "ai"),
    ]
    assert [j.id for j in jobs] == sorted(j.id for j in jobs)
    await _check_rows(db, first + jobs)
    assert await store.record(db, batch, "me") == []  # all of it again: nothing new

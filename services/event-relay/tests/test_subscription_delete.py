"""Deleting a subscription while its deliveries are being written.

The attempt writer updates delivery rows and inserts attempts (whose
foreign key waits for the subscription's row); the API's DELETE holds the
subscription's row and cascades into the deliveries. Caught between the
two, Postgres aborted the DELETE (a 500) or the writer's batch failed its
foreign key for ever after.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import asyncpg
import msgspec
import pytest

from switchyard.event_relay import store
from switchyard.event_relay.service import service as event_relay
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import serving
from switchyard.shared.webhooks import new_secret


async def _subscription_owed_one(pool: asyncpg.Pool) -> tuple[int, int]:
    """A subscription and one finished delivery of one event: (webhook, delivery)."""
    webhook = await pool.fetchval(
        "INSERT INTO webhooks (url, events, format, secret) "
        "VALUES ('http://127.0.0.1:9/', '{*}', 'raw', $1) RETURNING id",
        new_secret(),
    )
    event = await pool.fetchval(
        "INSERT INTO webhook_events (msg_id, payload) VALUES ($1, '{}') RETURNING id",
        f"core:{time.monotonic_ns()}",
    )
    delivery = await pool.fetchval(
        "INSERT INTO webhook_deliveries (webhook_id, event_id, message_id, event_name, "
        "lane, status) VALUES ($1, $2, 'msg_1', 'HEARTBEAT', 'x', 'failed') RETURNING id",
        webhook,
        event,
    )
    return webhook, delivery


async def _waiting_on_a_lock(pool: asyncpg.Pool, query_start: str) -> None:
    async with asyncio.timeout(10):
        # Postgres has no event to wait for: poll.
        while not await pool.fetchval(  # noqa: ASYNC110
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE $1",
            query_start + "%",
        ):
            await asyncio.sleep(0.02)


async def test_delete_caught_in_a_deadlock_with_the_attempt_writer_succeeds(
    settings: Settings, api_token: str, db: asyncpg.Pool
) -> None:
    settings = msgspec.structs.replace(settings, webhook_allow_private="127.0.0.0/8")
    webhook, delivery = await _subscription_owed_one(db)
    async with serving(
        create_app(settings, [event_relay]), headers={"X-XTRA-AUTH-ID": api_token}
    ) as api:
        writer = await asyncpg.connect(settings.database_url)
        try:
            tx = writer.transaction()
            await tx.start()
            # The writer's order: the delivery row first...
            await writer.execute(
                "UPDATE webhook_deliveries SET attempts = 1 WHERE id = $1", delivery
            )
            deleting = asyncio.create_task(api.delete(f"/api/webhooks/{webhook}"))
            await _waiting_on_a_lock(db, "DELETE FROM webhooks")
            # ...then an attempt, whose foreign key waits for the subscription
            # the DELETE holds: a cycle. Postgres aborts the side that waited
            # first (the DELETE) once deadlock_timeout (1 s) has passed.
            await writer.execute(
                "INSERT INTO webhook_attempts (webhook_id, delivery_id, attempted_at, ok) "
                "VALUES ($1, $2, now(), false)",
                webhook,
                delivery,
            )
            await tx.commit()
        finally:
            await writer.close()
        resp = await asyncio.wait_for(deleting, 30)
        assert resp.status_code == 200, resp.text
        assert (await api.get(f"/api/webhooks/{webhook}")).status_code == 404
    assert await db.fetchval("SELECT count(*) FROM webhook_deliveries WHERE id = $1", delivery) == 0
    assert await db.fetchval("SELECT count(*) FROM webhook_attempts") == 0


async def test_attempts_of_a_deleted_subscription_are_dropped_not_retried_for_ever(
    db: asyncpg.Pool,
) -> None:
    webhook, delivery = await _subscription_owed_one(db)
    kept_webhook, kept_delivery = await _subscription_owed_one(db)

    def attempt(webhook_id: int, delivery_id: int) -> store.Attempt:
        job = store.Job(delivery_id, webhook_id, 0, "msg_1", "", "HEARTBEAT", "x", b"{}")
        now = dt.datetime.now(dt.UTC)
        return store.Attempt(job, now, 500, False, 1.0, "", "", 2, "pending", time.time())

    batch = [attempt(webhook, delivery), attempt(kept_webhook, kept_delivery)]
    await db.execute("DELETE FROM webhooks WHERE id = $1", webhook)  # after the batch formed
    await store.write_attempts(db, batch)
    rows = await db.fetch("SELECT webhook_id, delivery_id FROM webhook_attempts")
    assert [(r["webhook_id"], r["delivery_id"]) for r in rows] == [(kept_webhook, kept_delivery)]
    assert (
        await db.fetchval("SELECT attempts FROM webhook_deliveries WHERE id = $1", kept_delivery)
        == 2
    )


async def test_the_api_answers_503_not_500_when_the_deadlocks_do_not_stop(
    settings: Settings, api_token: str, db: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def always_deadlocked(pool: asyncpg.Pool, webhook_id: int) -> None:
        raise asyncpg.DeadlockDetectedError("deadlock detected")

    webhook, _ = await _subscription_owed_one(db)
    monkeypatch.setattr(store, "delete_subscription", always_deadlocked)
    async with serving(
        create_app(settings, [event_relay]), headers={"X-XTRA-AUTH-ID": api_token}
    ) as api:
        resp = await api.delete(f"/api/webhooks/{webhook}")
    assert resp.status_code == 503
    assert resp.json()["data"]["reason"] == "busy"

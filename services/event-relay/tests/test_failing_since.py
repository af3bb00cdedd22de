"""Two lanes of one subscription finishing at once: one fails (410), the
other succeeds. The success clears the subscription's failing mark while the
failure is still recording it; the failure must still be judged (a 410
disables the subscription) instead of crashing on the cleared mark.

Found by the chaos run (`./sy chaos`, webhook-outage): "delivery N:
unexpected failure" (a TypeError), the 410 ignored and the delivery retried.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from switchyard.event_relay.delivery import Dispatcher
from switchyard.event_relay.store import AttemptWriter, Job
from switchyard.event_relay.subscriptions import Subscription
from switchyard.event_relay.urlpolicy import Policy


async def test_a_410_disables_even_while_another_lane_recovers(db: asyncpg.Pool) -> None:
    wid = await db.fetchval(
        "INSERT INTO webhooks (url, events, format) "
        "VALUES ('http://127.0.0.1:9/', '{*}', 'raw') RETURNING id"
    )
    sub = Subscription(wid, "http://127.0.0.1:9/", frozenset({"*"}), "raw", True, False, (b"k",))
    emitted: list[str] = []

    async def emit(kind: str, data: dict[str, Any]) -> None:
        emitted.append(kind)

    dispatcher = Dispatcher(
        db,
        lambda: {wid: sub},
        Policy(()),
        AttemptWriter(db),
        emit,
        schedule=(1.0,),
        timeout=1.0,
        disable_after=3600,
    )

    def job(n: int) -> Job:
        return Job(n, wid, n, f"m{n}", "", "CHANNEL_ANSWER", f"call-{n}", b"{}")

    # The failure marks the subscription failing and awaits its UPDATE; the
    # success (started right after) clears the mark meanwhile.
    await asyncio.gather(
        dispatcher._after(sub, job(1), False, 410, "failed"),
        dispatcher._after(sub, job(2), True, 204, "delivered"),
    )
    row = await db.fetchrow("SELECT enabled, disabled_reason FROM webhooks WHERE id = $1", wid)
    assert row["enabled"] is False
    assert "410" in row["disabled_reason"]
    assert "webhook.disabled" in emitted

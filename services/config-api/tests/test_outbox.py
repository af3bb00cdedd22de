"""Config-changed notices survive a NATS outage: kept while it is down, sent when it is back."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import msgspec
import nats
from litestar.testing import AsyncTestClient

from switchyard.config_api.service import service
from switchyard.shared.embedded import EmbeddedNats
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.subjects import Subjects
from switchyard.shared.testing import eventually


async def test_writes_during_a_nats_outage_are_announced_after_it_in_order(
    settings: Settings, own_nats: EmbeddedNats, api_token: str, db: asyncpg.Pool
) -> None:
    settings = msgspec.structs.replace(settings, nats_url=own_nats.url)
    seen: list[tuple[str, dict[str, Any]]] = []

    async def on_msg(msg: Any) -> None:
        seen.append((msg.subject, msgspec.json.decode(msg.data)))

    # A listener that, like every replica, reconnects by itself.
    listener = await nats.connect(own_nats.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    await listener.subscribe(Subjects(settings.nats_namespace).config_changed_all, cb=on_msg)
    headers = {"X-XTRA-AUTH-ID": api_token}
    app = create_app(settings, [service])
    try:
        async with AsyncTestClient(app, timeout=10) as client:
            own_nats.stop()
            ids = []
            for name in ("a", "b", "c"):
                r = await client.post(
                    "/api/contexts", json={"name": f"outage-{name}"}, headers=headers
                )
                assert r.status_code == 200, r.text  # the write itself needs no NATS
                ids.append(r.json()["data"])
            # A refused write leaves nothing to announce.
            r = await client.post("/api/contexts", json={"name": ""}, headers=headers)
            assert r.status_code == 400

            # While NATS is away the notices wait in the outbox; none is dropped.
            await asyncio.sleep(1.5)  # more than one retry period of the worker
            assert await db.fetchval("SELECT count(*) FROM config_outbox") == 3
            assert seen == []

            own_nats.start()
            await eventually(lambda: len(seen) >= 3, timeout=20)
            for _ in range(100):  # the rows go once NATS has acknowledged them
                if await db.fetchval("SELECT count(*) FROM config_outbox") == 0:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("outbox rows left after their notices went out")
    finally:
        await listener.close()
    contexts = [(s, n) for s, n in seen if s.endswith(".contexts")]
    assert [n["ids"] for _, n in contexts] == [[i] for i in ids]
    seqs = [n["seq"] for _, n in contexts]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3

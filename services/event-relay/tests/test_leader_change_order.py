"""A new leader keeps each call's order when the old one died holding a batch.

Found by the chaos run (`./sy chaos`, restart-postgres): the leader fetched
a batch, could not record it (Postgres was restarting) and lost the lock.
The stream offers an unacknowledged batch again only after the ack wait
(10 s), so the next leader delivered the newer events of the same calls
first: a call's CHANNEL_CREATE arrived after its CHANNEL_HANGUP_COMPLETE.
"""

from __future__ import annotations

import asyncio
import json

import msgspec
import pytest

from switchyard.call_control.events import stream_config
from switchyard.event_relay.service import service as event_relay
from switchyard.shared.bus import Bus
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import serving
from switchyard.shared.webhook_receiver import Receiver

CORE = "6a1c3e34-0000-4000-8000-00000000c4a0"


async def publish(bus: Bus, seq: int, name: str) -> None:
    event = {"Event-Name": name, "Event-Sequence": str(seq), "Core-UUID": CORE,
             "Unique-ID": "call-1", "Channel-Call-UUID": "call-1"}  # fmt: skip
    await bus.js.publish(
        bus.subjects.events("fs1", name),
        msgspec.json.encode(event),
        headers={"Nats-Msg-Id": f"{CORE}:{seq}"},
    )


@pytest.fixture
def relay_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, webhook_allow_private="127.0.0.0/8")


async def test_a_batch_the_old_leader_never_recorded_comes_first(
    relay_settings: Settings, bus: Bus, api_token: str
) -> None:
    await bus.ensure_stream(stream_config(bus))
    async with Receiver() as rx:
        # A first leader creates the consumer and the subscription, then goes.
        app = create_app(relay_settings, [event_relay])
        async with serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as api:
            relay = app.state["event-relay"]
            while not relay.leader:  # noqa: ASYNC110 - the leader takes the lock on its own
                await asyncio.sleep(0.05)
            r = await api.post("/api/webhooks", json={"url": rx.url, "format": "raw"})
            assert r.status_code == 200, r.text
            while not relay.subs:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        # A leader that fetched the call's first event and died before recording it.
        await publish(bus, 1, "CHANNEL_CREATE")
        dying = await bus.js.pull_subscribe(
            bus.subjects.events_all,
            durable=bus.subjects.events_consumer,
            stream=bus.subjects.events_stream,
        )
        assert len(await dying.fetch(1, timeout=5)) == 1
        await dying.unsubscribe()
        await publish(bus, 2, "CHANNEL_HANGUP_COMPLETE")
        app = create_app(relay_settings, [event_relay])
        async with serving(app) as _:
            await rx.wait_for(lambda got: len(got) >= 2, timeout=30)
    names = [json.loads(g.body)["Event-Name"] for g in rx.received]
    assert names[:2] == ["CHANNEL_CREATE", "CHANNEL_HANGUP_COMPLETE"]

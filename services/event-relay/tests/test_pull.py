"""relay.Pull against a real JetStream: events come as they are published,
in order, each once, across the pull request kept open between fetches."""

from __future__ import annotations

import asyncio

import msgspec
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from switchyard.call_control.events import stream_config
from switchyard.event_relay.relay import Pull
from switchyard.shared.bus import Bus


async def _pull(bus: Bus) -> Pull:
    await bus.ensure_stream(stream_config(bus))
    s = bus.subjects
    await bus.js.add_consumer(
        s.events_stream,
        ConsumerConfig(
            durable_name=s.events_consumer,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            filter_subject=s.events_all,
        ),
    )
    pull = Pull(bus, s.events_stream, s.events_consumer)
    await pull.start()
    return pull


async def _publish(bus: Bus, seqs: range) -> None:
    for n in seqs:
        subject = bus.subjects.events("fs1", "CHANNEL_CREATE")
        await bus.js.publish(subject, msgspec.json.encode({"Event-Sequence": str(n)}))


def _seqs(msgs: list) -> list[int]:  # type: ignore[type-arg]
    return [int(msgspec.json.decode(m.data)["Event-Sequence"]) for m in msgs]


async def test_events_come_in_order_each_once_as_they_are_published(bus: Bus) -> None:
    pull = await _pull(bus)
    try:
        assert await pull.fetch(512, timeout=0.3) == []  # nothing yet: [] in time
        got: list[int] = []

        async def publisher() -> None:
            for start in range(1, 301, 30):  # bursts, some while a fetch waits
                await _publish(bus, range(start, start + 30))
                await asyncio.sleep(0.01)

        task = asyncio.create_task(publisher())
        async with asyncio.timeout(20):
            while len(got) < 300:
                msgs = await pull.fetch(64, timeout=1.0)
                assert len(msgs) <= 64
                for m in msgs:
                    await m.ack()
                got += _seqs(msgs)
        await task
        assert got == list(range(1, 301))
        assert await pull.fetch(64, timeout=0.3) == []  # and nothing more
    finally:
        await pull.stop()


async def test_the_next_batch_is_asked_for_when_a_full_one_came(bus: Bus) -> None:
    """A request filled to its batch ends with no status from the server: the
    next fetch must ask again then, not once the request's ``expires`` is over
    (60 s here; the guard below fails the test long before)."""
    pull = await _pull(bus)
    try:
        await _publish(bus, range(1, 201))
        got: list[int] = []
        async with asyncio.timeout(15):
            while len(got) < 200:
                msgs = await pull.fetch(64, timeout=60.0)
                for m in msgs:
                    await m.ack()
                got += _seqs(msgs)
        assert got == list(range(1, 201))
    finally:
        await pull.stop()

"""Events reach JetStream exactly once, in order, even when NATS dies mid-stream."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator

import pytest_asyncio

from switchyard.call_control.events import EventPublisher, stream_config
from switchyard.shared.bus import Bus
from switchyard.shared.embedded import EmbeddedNats
from switchyard.shared.subjects import Subjects
from switchyard.shared.testing import eventually

CORE = "4e1f2c52-0000-4000-8000-00000000c0de"


@pytest_asyncio.fixture
async def publisher(own_nats: EmbeddedNats) -> AsyncIterator[tuple[Bus, EventPublisher]]:
    bus = await Bus.connect(own_nats.url, Subjects("ev"))
    await bus.ensure_stream(stream_config(bus))
    pub = EventPublisher(bus, ack_timeout=1.0)
    await pub.start()
    yield bus, pub
    await pub.stop(drain_timeout=1)
    await bus.close()


def _submit(bus: Bus, pub: EventPublisher, seqs: range) -> None:
    for seq in seqs:
        subject = bus.subjects.events("fs1", "CHANNEL_CALLSTATE")
        pub.submit(subject, f"{CORE}:{seq}", f'{{"Event-Sequence":"{seq}"}}'.encode())


async def _stored_ids(bus: Bus) -> list[str]:
    info = await bus.js.stream_info(bus.subjects.events_stream)
    ids = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await bus.js.get_msg(bus.subjects.events_stream, seq)
        assert msg.headers is not None
        ids.append(msg.headers["Nats-Msg-Id"])
    return ids


async def test_events_are_stored_in_order_with_their_dedupe_id(
    publisher: tuple[Bus, EventPublisher],
) -> None:
    bus, pub = publisher
    _submit(bus, pub, range(1, 501))
    await asyncio.wait_for(pub.drain(), 30)
    assert await _stored_ids(bus) == [f"{CORE}:{s}" for s in range(1, 501)]


async def test_a_replayed_event_is_not_stored_twice(publisher: tuple[Bus, EventPublisher]) -> None:
    bus, pub = publisher
    _submit(bus, pub, range(1, 201))
    # A new owner after fail-over replays what it cannot know was published.
    _submit(bus, pub, range(150, 301))
    await asyncio.wait_for(pub.drain(), 30)
    ids = await _stored_ids(bus)
    assert ids == [f"{CORE}:{s}" for s in range(1, 301)]


async def test_nothing_is_lost_when_nats_is_killed_mid_stream(
    publisher: tuple[Bus, EventPublisher], own_nats: EmbeddedNats
) -> None:
    bus, pub = publisher
    _submit(bus, pub, range(1, 1001))
    await asyncio.wait_for(pub.drain(), 30)

    assert own_nats.proc is not None
    own_nats.proc.send_signal(signal.SIGKILL)
    own_nats.proc.wait()
    _submit(bus, pub, range(1001, 2001))  # FreeSWITCH keeps talking meanwhile
    await asyncio.sleep(1.5)
    own_nats.start()
    _submit(bus, pub, range(2001, 3001))

    await asyncio.wait_for(pub.drain(), 60)
    ids = await _stored_ids(bus)
    assert len(ids) == len(set(ids)) == 3000
    assert set(ids) == {f"{CORE}:{s}" for s in range(1, 3001)}
    assert pub.dropped == 0


async def test_an_event_lost_as_nats_dies_is_stored_before_later_ones(
    own_nats: EmbeddedNats,
) -> None:
    """A call's order survives NATS dying with an event in flight: found by the
    chaos run (`./sy chaos`, restart-nats), where such an event's retry landed
    after the same call's later events and its webhook arrived last."""
    bus = await Bus.connect(own_nats.url, Subjects("ev"))
    await bus.ensure_stream(stream_config(bus))
    # The ack deadline is longer than the outage: the lost event's own retry
    # would come after the events published once NATS is back.
    pub = EventPublisher(bus, ack_timeout=5.0)
    await pub.start()
    try:
        _submit(bus, pub, range(1, 11))
        await asyncio.wait_for(pub.drain(), 30)
        assert own_nats.proc is not None
        # Frozen, then killed: what was written to it meanwhile is lost.
        own_nats.proc.send_signal(signal.SIGSTOP)
        _submit(bus, pub, range(11, 12))
        await asyncio.sleep(0.3)
        own_nats.proc.send_signal(signal.SIGKILL)
        own_nats.proc.wait()
        own_nats.start()
        await eventually(lambda: bus.nc.is_connected and bus.nc.stats["reconnects"] > 0)
        _submit(bus, pub, range(12, 21))
        await asyncio.wait_for(pub.drain(), 30)
        assert await _stored_ids(bus) == [f"{CORE}:{s}" for s in range(1, 21)]
    finally:
        await pub.stop(drain_timeout=1)
        await bus.close()


async def test_events_published_before_their_stream_exists_are_stored_once_it_does(
    own_nats: EmbeddedNats,
) -> None:
    """JetStream refuses a publish no stream takes (503, no responders): the
    event is published again until one does, and nothing is lost."""
    bus = await Bus.connect(own_nats.url, Subjects("late"))
    pub = EventPublisher(bus, ack_timeout=1.0)
    await pub.start()
    try:
        _submit(bus, pub, range(1, 21))
        await asyncio.sleep(0.5)
        assert pub.published == 0  # refused so far, still held
        await bus.ensure_stream(stream_config(bus))
        await asyncio.wait_for(pub.drain(), 30)
        assert await _stored_ids(bus) == [f"{CORE}:{s}" for s in range(1, 21)]
    finally:
        await pub.stop(drain_timeout=1)
        await bus.close()

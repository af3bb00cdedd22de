"""The channel-location writer: queued without blocking, coalesced, ordered, flushed on stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import nats.js.errors
import pytest
import pytest_asyncio
from nats.js.api import KeyValueConfig
from nats.js.kv import KeyValue

from switchyard.call_control.locations import LocationWriter
from switchyard.shared.bus import Bus
from switchyard.shared.embedded import EmbeddedNats
from switchyard.shared.subjects import Subjects


async def _kv(bus: Bus) -> KeyValue:
    return await bus.ensure_kv(
        KeyValueConfig(bucket=bus.subjects.channel_location_bucket, history=1)
    )


@pytest_asyncio.fixture
async def kv(bus: Bus) -> KeyValue:
    return await _kv(bus)


async def _value(kv: KeyValue, uuid: str) -> str | None:
    try:
        entry = await kv.get(uuid)
    except nats.js.errors.KeyNotFoundError:
        return None
    return entry.value.decode() if entry.value else None


class RecordingKv:
    """A real KV whose writes are recorded, in the order they start and end."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv
        self.log: list[tuple[str, str, str]] = []  # (start|end, put|delete, uuid)
        self.delay = 0.0

    async def put(self, key: str, value: bytes) -> int:
        self.log.append(("start", "put", key))
        await asyncio.sleep(self.delay)
        rev = await self.kv.put(key, value)
        self.log.append(("end", "put", key))
        return rev

    async def delete(self, key: str) -> bool:
        self.log.append(("start", "delete", key))
        await asyncio.sleep(self.delay)
        ok = await self.kv.delete(key)
        self.log.append(("end", "delete", key))
        return ok


@pytest_asyncio.fixture
async def recorded(kv: KeyValue) -> AsyncIterator[tuple[RecordingKv, LocationWriter]]:
    rec = RecordingKv(kv)
    writer = LocationWriter(rec, "fs1")  # type: ignore[arg-type]
    writer.start()
    yield rec, writer
    await writer.stop(flush_timeout=5)


async def test_queueing_never_waits_and_the_writes_land(kv: KeyValue) -> None:
    writer = LocationWriter(kv, "fs1")
    writer.start()
    try:
        for i in range(500):
            writer.put(f"u{i}")  # plain calls: nothing to await
        assert writer.pending == 500
        async with asyncio.timeout(10):
            await writer.flush()
        assert writer.written_ops == 500 and writer.failed == 0
        assert {await _value(kv, f"u{i}") for i in range(500)} == {"fs1"}
    finally:
        await writer.stop()


async def test_a_put_then_delete_in_one_batch_is_just_the_delete(
    recorded: tuple[RecordingKv, LocationWriter], kv: KeyValue
) -> None:
    rec, writer = recorded
    await kv.put("stale", b"fs1")
    # Queued in one go (no await between): the writer sees them as one batch.
    writer.put("stale")
    writer.delete("stale")
    writer.put("kept")
    writer.delete("gone")
    writer.put("gone")  # last op wins: a delete then a put is the put
    async with asyncio.timeout(10):
        await writer.flush()
    assert sorted((what, uuid) for edge, what, uuid in rec.log if edge == "start") == [
        ("delete", "stale"),
        ("put", "gone"),
        ("put", "kept"),
    ]
    assert writer.coalesced == 2
    assert await _value(kv, "stale") is None
    assert await _value(kv, "kept") == "fs1"
    assert await _value(kv, "gone") == "fs1"


async def test_a_batch_runs_concurrently_and_ends_before_the_next_starts(
    recorded: tuple[RecordingKv, LocationWriter], kv: KeyValue
) -> None:
    rec, writer = recorded
    rec.delay = 0.05
    for i in range(20):
        writer.put(f"c{i}")
    await asyncio.sleep(0.01)  # the first batch is in flight
    # Later ops on the same uuids: queued for the next batch, never beside it.
    for i in range(20):
        writer.delete(f"c{i}")
    started = asyncio.get_running_loop().time()
    async with asyncio.timeout(10):
        await writer.flush()
    # Twenty ops of 50 ms each, concurrently: two batches, well under a second.
    assert asyncio.get_running_loop().time() - started < 0.5
    first_end = max(i for i, (edge, what, _) in enumerate(rec.log) if what == "put")
    first_delete = min(i for i, (_, what, _) in enumerate(rec.log) if what == "delete")
    assert first_end < first_delete  # every put ended before any delete started
    starts = [i for i, (edge, what, _) in enumerate(rec.log) if edge == "start" and what == "put"]
    ends = [i for i, (edge, what, _) in enumerate(rec.log) if edge == "end" and what == "put"]
    assert max(starts) < min(ends)  # the puts overlapped
    for i in range(20):
        assert await _value(kv, f"c{i}") is None


async def test_per_uuid_order_holds_under_churn(kv: KeyValue) -> None:
    writer = LocationWriter(kv, "fs1", max_batch=7)
    writer.start()
    try:
        # Each uuid is created and destroyed, some re-created; events interleave
        # with the writer's batches (a yield now and then, as the ESL reader does).
        final: dict[str, str | None] = {}
        for round_ in range(30):
            for i in range(10):
                uuid = f"o{i}"
                if (round_ + i) % 3 == 0:
                    writer.delete(uuid)
                    final[uuid] = None
                else:
                    writer.put(uuid)
                    final[uuid] = "fs1"
            await asyncio.sleep(0)
        async with asyncio.timeout(10):
            await writer.flush()
        assert {u: await _value(kv, u) for u in final} == final
    finally:
        await writer.stop()


async def test_written_waits_for_that_uuid_only(
    recorded: tuple[RecordingKv, LocationWriter], kv: KeyValue
) -> None:
    rec, writer = recorded
    await writer.written("never-queued")  # nothing queued: at once
    rec.delay = 0.05
    writer.put("mine")
    async with asyncio.timeout(5):
        await writer.written("mine")
    assert await _value(kv, "mine") == "fs1"


async def test_stop_flushes_what_is_queued(kv: KeyValue) -> None:
    await kv.put("ended", b"fs1")
    writer = LocationWriter(kv, "fs1")
    writer.start()
    writer.put("began")
    writer.delete("ended")
    await writer.stop(flush_timeout=5)
    assert writer.pending == 0
    assert await _value(kv, "began") == "fs1"
    assert await _value(kv, "ended") is None


async def test_nats_errors_are_dropped_logged_and_the_writer_goes_on(
    own_nats: EmbeddedNats, caplog: pytest.LogCaptureFixture
) -> None:
    bus = await Bus.connect(own_nats.url, Subjects("loc"), timeout=0.5)
    try:
        kv = await _kv(bus)
        writer = LocationWriter(kv, "fs1")
        writer.start()
        own_nats.stop()
        with caplog.at_level(logging.DEBUG, logger="switchyard.call_control.locations"):
            writer.put("during")
            writer.delete("during-2")
            async with asyncio.timeout(15):
                await writer.flush()
        assert writer.failed == 2
        assert "channel-location put of during failed" in caplog.text
        assert own_nats.url.split("//")[-1] not in caplog.text  # no address, no credentials
        own_nats.start()
        async with asyncio.timeout(15):
            while not bus.nc.is_connected:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        writer.put("after")
        async with asyncio.timeout(10):
            await writer.flush()
        assert await _value(kv, "after") == "fs1"
        await writer.stop(flush_timeout=5)
    finally:
        await bus.close()


async def test_stop_is_bounded_when_nats_is_gone(own_nats: EmbeddedNats) -> None:
    bus = await Bus.connect(own_nats.url, Subjects("loc"), timeout=5.0)
    try:
        kv = await _kv(bus)
        writer = LocationWriter(kv, "fs1")
        writer.start()
        own_nats.stop()
        writer.delete("lost")
        started = asyncio.get_running_loop().time()
        await writer.stop(flush_timeout=0.5)
        assert asyncio.get_running_loop().time() - started < 2
    finally:
        own_nats.start()
        await bus.close()

"""A replica whose lease renewals stall stops serving its node at the lease deadline.

The renewal round can hang (a NATS request that never completes, a paused
process resuming): the replica must neither keep answering
``sy.cmd.node.<node>`` past its lease nor wait for the round to notice. The
agent asks ``Ownership.owns`` before every command, and a timer releases the
node at the deadline itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from switchyard.call_control.node_commands import Api, ApiResult
from switchyard.call_control.nodes import parse_nodes
from switchyard.call_control.replica import Replica
from switchyard.fssim import Simulator
from switchyard.shared.bus import Bus, BusError
from switchyard.shared.testing import eventually

TTL = 1.6


@pytest_asyncio.fixture
async def replica(bus: Bus) -> AsyncIterator[Replica]:
    async with Simulator() as sim:
        await sim.add_node("fs1")
        r = Replica(bus, parse_nodes(sim.fs_nodes), lease=TTL)
        await r.start()
        try:
            await eventually(lambda: "fs1" in r.agents and r.agents["fs1"].client.connected)
            yield r
        finally:
            await r.stop()


async def _status(bus: Bus) -> ApiResult:
    return await bus.request(bus.subjects.node_command("fs1"), Api("status"), ApiResult)


async def test_a_stalled_renewal_round_stops_commands_at_the_lease_deadline(
    replica: Replica, bus: Bus, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = replica.ownership
    assert (await _status(bus)).node == "fs1"
    agent = replica.agents["fs1"]

    # From now on every KV update (heartbeat, renewal) hangs: the round stalls.
    stalled = asyncio.Event()

    async def hang(*args: Any, **kwargs: Any) -> int:
        stalled.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    assert own._kv is not None
    monkeypatch.setattr(own._kv, "update", hang)
    # Hold the release too, so the old agent stays connected and subscribed:
    # only the ownership check stands between it and a command.
    release = asyncio.Event()
    released = own.on_release
    assert released is not None

    async def held(node: str) -> None:
        await release.wait()
        await released(node)

    own.on_release = held
    try:
        async with asyncio.timeout(TTL * 4):
            await stalled.wait()
        await eventually(lambda: not own.owns("fs1"), timeout=TTL * 4)
        assert agent.client.connected and agent._sub is not None
        with pytest.raises(BusError) as err:
            await _status(bus)
        assert err.value.code == "node_unavailable"
        with pytest.raises(BusError) as err:
            await agent.handle(Api("status"))
        assert err.value.code == "node_unavailable"
    finally:
        release.set()

    # The release came from the deadline timer, not from the round, which still hangs.
    await eventually(lambda: "fs1" not in replica.agents, timeout=TTL * 4)
    assert own._task is not None and not own._task.done()
    assert not agent.client.connected
    with pytest.raises(BusError) as err:
        await _status(bus)
    assert err.value.code == "no_responder"

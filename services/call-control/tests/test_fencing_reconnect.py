"""A replica that no longer owns its node sends it nothing when the ESL
connection comes back: no ``show channels``, no configuration re-applied, no
channel location written.

Found by the chaos run (`./sy chaos`, pause-replica): the node's connection
dropped and came back, the replica was frozen (SIGSTOP) while its
reconciliation waited for the channels table to settle, and on SIGCONT --
its lease long lapsed and the node owned by the other replica -- the
reconciliation woke before the lapse was handled and sent ``api show
channels as json`` (then would have rewritten the node's channel
locations). The agent checks the lease there as before every command.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_asyncio

from switchyard.call_control.nodes import parse_nodes
from switchyard.call_control.replica import Replica
from switchyard.fssim import Node, Simulator
from switchyard.shared.bus import Bus
from switchyard.shared.testing import eventually


@pytest_asyncio.fixture
async def owned(bus: Bus) -> AsyncIterator[tuple[Replica, Node]]:
    async with Simulator() as sim:
        node = await sim.add_node("fs1")
        node.record()
        r = Replica(bus, parse_nodes(sim.fs_nodes), lease=30)
        await r.start()
        try:
            await eventually(lambda: "fs1" in r.agents and r.agents["fs1"].readied == 1)
            yield r, node
        finally:
            await r.stop()


async def test_a_reconnect_after_the_lease_lapsed_sends_the_node_nothing(
    owned: tuple[Replica, Node],
) -> None:
    replica, node = owned
    agent = replica.agents["fs1"]
    assert node.server is not None and node.server.journal is not None
    journal = node.server.journal
    agent.settle = 0.5
    first = agent._ready_task
    await node.drop_connections()
    await eventually(lambda: agent._ready_task is not first)
    sent = len(journal.commands)
    # The lease lapses while the reconciliation waits (the process was frozen).
    agent.owns = lambda: False
    task = agent._ready_task
    assert task is not None
    async with asyncio.timeout(5):
        await task
    assert journal.commands[sent:] == []
    assert agent.readied == 1

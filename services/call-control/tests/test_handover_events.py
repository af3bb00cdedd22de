"""A node handed from one replica to another is listened to throughout.

Found by the chaos run (`./sy chaos`: fssim's journal notes every event a
node fires): when a replica joined and fair share moved a node to it, the
old owner closed its connection before the new owner (or the old owner's
own standby connection, a round later) was listening, and the events the
node fired in between went to nobody -- FreeSWITCH drops those; and a
standby taking a node over closed its standby connection before its owner
connection was up. Both hand-overs now overlap the two connections.
"""

from __future__ import annotations

from typing import Any

from switchyard.call_control.nodes import parse_nodes
from switchyard.call_control.replica import Replica
from switchyard.fssim import Simulator
from switchyard.fssim.journal import Journal
from switchyard.shared.bus import Bus
from switchyard.shared.testing import eventually


def _unheard(
    journals: list[Journal], marks: list[int], ends: list[int]
) -> tuple[int, list[dict[str, Any]]]:
    """How many events the nodes fired between the marks and the ends, and
    the heartbeats among them that no connection took."""
    unheard = []
    for journal, mark, end in zip(journals, marks, ends, strict=True):
        taken = {e["id"] for e in journal.events}
        fired = journal.every_event[mark:end]
        unheard += [e for e in fired if e["name"] == "HEARTBEAT" and e["id"] not in taken]
    return sum(end - mark for mark, end in zip(marks, ends, strict=True)), unheard


async def test_no_event_goes_unheard_while_a_node_changes_hands(bus: Bus) -> None:
    async with Simulator() as sim:
        nodes = [await sim.add_node(name, heartbeat_seconds=0.02) for name in ("fs1", "fs2")]
        journals = [node.record() for node in nodes]
        first = Replica(bus, parse_nodes(sim.fs_nodes), lease=2.0)
        second = Replica(bus, parse_nodes(sim.fs_nodes), lease=2.0)
        await first.start()
        try:
            await eventually(
                lambda: (
                    len(first.agents) == 2
                    and all(a.client.connected for a in first.agents.values())
                ),
                timeout=20,
            )
            marks = [len(j.every_event) for j in journals]
            await second.start()  # fair share: one node moves to it
            await eventually(
                lambda: (
                    len(first.agents) == 1
                    and len(second.agents) == 1
                    and all(a.client.connected for a in second.agents.values())
                ),
                timeout=20,
            )
            # Until here: stopping both replicas below leaves the nodes unheard.
            ends = [len(j.every_event) for j in journals]
        finally:
            await second.stop()
            await first.stop()
    fired, unheard = _unheard(journals, marks, ends)
    assert fired > 20
    assert unheard == []


async def test_no_event_goes_unheard_while_the_standby_takes_over(bus: Bus) -> None:
    """The other way round: a replica leaves (scale-in) and the one standing by
    for its node takes it; the standby connection closes only once the new
    owner's connection hears the node."""
    async with Simulator() as sim:
        nodes = [await sim.add_node(name, heartbeat_seconds=0.001) for name in ("fs1", "fs2")]
        journals = [node.record() for node in nodes]
        first = Replica(bus, parse_nodes(sim.fs_nodes), lease=2.0)
        second = Replica(bus, parse_nodes(sim.fs_nodes), lease=2.0)
        await first.start()
        await second.start()
        try:
            await eventually(
                lambda: (
                    len(first.agents) == 1
                    and len(second.agents) == 1
                    and len(first.taps) == 1
                    and all(
                        a.client.connected for a in [*first.agents.values(), *first.taps.values()]
                    )
                ),
                timeout=20,
            )
            marks = [len(j.every_event) for j in journals]
            await second.stop()  # its node goes to the first, which stood by for it
            await eventually(
                lambda: (
                    len(first.agents) == 2
                    and not first.taps
                    and all(a.client.connected for a in first.agents.values())
                ),
                timeout=20,
            )
            ends = [len(j.every_event) for j in journals]
        finally:
            await first.stop()
    fired, unheard = _unheard(journals, marks, ends)
    assert fired > 3
    assert unheard == []

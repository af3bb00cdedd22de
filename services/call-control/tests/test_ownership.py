"""Node ownership across replicas: fair, fail-over within the lease, never two owners."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from switchyard.call_control.ownership import Ownership, assign
from switchyard.shared.bus import Bus
from switchyard.shared.subjects import Subjects

TTL = 1.6
NODES = ["fs1", "fs2", "fs3", "fs4", "fs5"]


def test_assignment_is_fair_and_the_same_for_everyone() -> None:
    for members in (["a"], ["a", "b"], ["a", "b", "c"], ["c", "a", "b", "d"]):
        target = assign(NODES, members)
        counts = [list(target.values()).count(m) for m in members]
        assert max(counts) - min(counts) <= 1, (members, target)
        assert assign(NODES, list(reversed(members))) == target
    assert assign(NODES, []) == {}


def test_a_leaving_member_moves_only_its_own_nodes_when_shares_allow() -> None:
    nodes = [f"fs{i}" for i in range(12)]
    before = assign(nodes, ["a", "b", "c"])
    after = assign(nodes, ["a", "b"])
    moved = {n for n in nodes if before[n] != after[n]}
    assert {n for n in nodes if before[n] == "c"} <= moved


class Cluster:
    """Replicas, each with its own NATS connection, and a watchdog for double ownership."""

    def __init__(self, nats_url: str, namespace: str) -> None:
        self.nats_url = nats_url
        self.namespace = namespace
        self.replicas: dict[str, tuple[Bus, Ownership]] = {}
        self.violations: list[str] = []
        self._watch: asyncio.Task[None] | None = None

    async def add(self, name: str) -> Ownership:
        bus = await Bus.connect(self.nats_url, Subjects(self.namespace))
        own = Ownership(bus, name, NODES, ttl=TTL)
        await own.start()
        self.replicas[name] = (bus, own)
        return own

    def owners(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {n: [] for n in NODES}
        for name, (_, own) in self.replicas.items():
            for node in own.owned:
                found[node].append(name)
        return found

    async def watch(self) -> None:
        while True:
            for node, holders in self.owners().items():
                if len(holders) > 1:
                    self.violations.append(f"{node}: {holders}")
            await asyncio.sleep(0.01)

    async def until(self, condition: Callable[[], bool], timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached; owners: {self.owners()}")
            await asyncio.sleep(0.05)

    def settled(self, names: list[str]) -> bool:
        owners = self.owners()
        if any(len(h) != 1 for h in owners.values()):
            return False
        counts = [sum(h == [n] for h in owners.values()) for n in names]
        return max(counts) - min(counts) <= 1 and min(counts) >= 1


@pytest_asyncio.fixture
async def cluster(nats_url: str, namespace: str) -> AsyncIterator[Cluster]:
    c = Cluster(nats_url, namespace)
    c._watch = asyncio.create_task(c.watch())
    yield c
    c._watch.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await c._watch
    for bus, own in c.replicas.values():
        with contextlib.suppress(Exception):
            await own.stop()
        with contextlib.suppress(Exception):
            await bus.close()
    assert c.violations == [], c.violations


async def test_replicas_share_the_nodes_fairly_and_rebalance(cluster: Cluster) -> None:
    await cluster.add("a")
    await cluster.until(lambda: cluster.owners() == {n: ["a"] for n in NODES})
    await cluster.add("b")
    await cluster.until(lambda: cluster.settled(["a", "b"]))
    await cluster.add("c")
    await cluster.until(lambda: cluster.settled(["a", "b", "c"]))


async def test_a_stopping_replica_hands_its_nodes_over_at_once(cluster: Cluster) -> None:
    await cluster.add("a")
    await cluster.add("b")
    await cluster.until(lambda: cluster.settled(["a", "b"]))
    bus, own = cluster.replicas.pop("b")
    await own.stop(release=True)
    await bus.close()
    await cluster.until(lambda: cluster.owners() == {n: ["a"] for n in NODES}, timeout=TTL * 3)


async def test_a_crashed_replica_loses_its_nodes_within_the_lease(cluster: Cluster) -> None:
    await cluster.add("a")
    await cluster.add("b")
    await cluster.until(lambda: cluster.settled(["a", "b"]))
    bus, own = cluster.replicas["b"]
    had = own.owned
    assert had
    # A crash: no goodbye, the connection just vanishes.
    assert own._task is not None
    own._task.cancel()
    await bus.nc.close()
    crashed = time.monotonic()
    await cluster.until(lambda: all(cluster.owners()[n] == ["a"] for n in had), timeout=TTL * 6)
    # The cut-off replica itself stopped claiming the nodes (the watchdog saw no overlap).
    assert own.owned == set()
    # Fail-over took about one lease plus one renewal period, not forever.
    assert time.monotonic() - crashed < TTL * 6


async def test_a_replica_cut_off_from_nats_stops_acting_before_anyone_takes_over(
    cluster: Cluster,
) -> None:
    # This replica keeps running and keeps asking owns(); only its NATS link dies.
    a = await cluster.add("a")
    await cluster.until(lambda: cluster.owners() == {n: ["a"] for n in NODES})
    await cluster.add("b")
    await cluster.until(lambda: cluster.settled(["a", "b"]))
    bus_a, _ = cluster.replicas["a"]
    await bus_a.nc.close()
    await cluster.until(lambda: cluster.owners() == {n: ["b"] for n in NODES}, timeout=TTL * 6)
    assert a.owned == set()


@pytest.mark.parametrize("n_nodes", [1, 3])
async def test_callbacks_tell_the_owner_when_to_connect_and_disconnect(
    nats_url: str, namespace: str, n_nodes: int
) -> None:
    events: list[tuple[str, str]] = []

    async def acquired(node: str) -> None:
        events.append(("acquire", node))

    async def released(node: str) -> None:
        events.append(("release", node))

    bus = await Bus.connect(nats_url, Subjects(namespace))
    nodes = NODES[:n_nodes]
    own = Ownership(bus, "solo", nodes, ttl=TTL, on_acquire=acquired, on_release=released)
    await own.start()
    try:
        async with asyncio.timeout(10):
            while own.owned != set(nodes):
                await own.wait_changed()
        assert sorted(events) == sorted(("acquire", n) for n in nodes)
    finally:
        await own.stop()
        await bus.close()
    assert sorted(e for e in events if e[0] == "release") == sorted(("release", n) for n in nodes)

"""Node ownership: each FreeSWITCH node is owned by exactly one replica at a time.

Leases live in a JetStream KV bucket whose max age is the lease time:
``owner.<node>`` holds the owning replica and is renewed by compare-and-set
on its revision; ``member.<replica>`` is each replica's heartbeat. A key not
renewed within the lease time expires on the server, and only then can
another replica ``create`` it.

Never two owners: a replica considers itself owner only until
``last successful renewal was SENT + ttl - margin``. The server stamps the
renewal after we send it, so the server-side expiry (the earliest moment
anyone else can take the node) is always later than our own deadline; a
replica cut off from NATS stops acting before anyone else can start. The
deadline is enforced twice: ``owns()`` reads the clock (the node's agent
asks it before every command), and a timer on the event loop releases the
node at the deadline itself, whatever a stalled renewal round is waiting on.

Fair share: every replica computes the same target assignment from the live
members (rendezvous hashing, capped at ceil(nodes / members) per replica)
and moves toward it: it takes free nodes assigned to it, releases nodes
assigned to others. Views may briefly differ; CAS keeps that safe and the
next tick converges.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import nats.errors
import nats.js.errors
from nats.js.api import KeyValueConfig
from nats.js.kv import KeyValue

from switchyard.shared.bus import Bus
from switchyard.shared.tasks import cancel_and_wait

log = logging.getLogger(__name__)

OWNER = "owner."
MEMBER = "member."

NodeCallback = Callable[[str], Awaitable[None]]
StandbyCallback = Callable[[set[str]], Awaitable[None]]


def assign(nodes: Sequence[str], members: Sequence[str]) -> dict[str, str]:
    """The target owner of each node: each member gets floor or ceil of n/m nodes.

    Rendezvous (highest-random-weight) order decides who gets which, so a
    member joining or leaving moves few nodes and every replica computes the
    same answer from the same member list.
    """
    if not members:
        return {}
    floor = len(nodes) // len(members)
    load = dict.fromkeys(members, 0)
    target: dict[str, str] = {}
    leftovers: list[str] = []
    for node in sorted(nodes):
        chosen = next((m for m in _ranked(node, members) if load[m] < floor), None)
        if chosen is None:
            leftovers.append(node)
            continue
        load[chosen] += 1
        target[node] = chosen
    # Fewer leftovers than members: each goes to a distinct member still at floor.
    for node in leftovers:
        chosen = next(m for m in _ranked(node, members) if load[m] == floor)
        load[chosen] += 1
        target[node] = chosen
    return target


def standbys(nodes: Sequence[str], members: Sequence[str]) -> dict[str, str]:
    """For each node, the replica that listens to its events besides the owner.

    The next member in the node's rendezvous order after its target owner,
    so that a crashed owner leaves no gap in the event stream; none when
    only one member is alive.
    """
    target = assign(nodes, members)
    out: dict[str, str] = {}
    for node in nodes:
        for member in _ranked(node, members):
            if member != target.get(node):
                out[node] = member
                break
    return out


def _ranked(node: str, members: Sequence[str]) -> list[str]:
    return sorted(members, key=lambda m: _score(node, m), reverse=True)


def _score(node: str, member: str) -> bytes:
    return hashlib.sha256(f"{node}\0{member}".encode()).digest()


@dataclass
class _Lease:
    revision: int
    deadline: float  # monotonic; we stop acting as owner after this
    timer: asyncio.TimerHandle | None = None  # fires at the deadline


@dataclass
class Ownership:
    bus: Bus
    replica: str
    nodes: Sequence[str]
    ttl: float = 6.0
    on_acquire: NodeCallback | None = None
    on_release: NodeCallback | None = None
    # Told, every round, the nodes whose events this replica should also relay.
    on_standby: StandbyCallback | None = None
    # The nodes this replica stands by for, as of the latest round.
    watching: set[str] = field(default_factory=set)
    # Safety margin against clock-rate drift and scheduling delay.
    margin: float = 0.25
    _kv: KeyValue | None = None
    _leases: dict[str, _Lease] = field(default_factory=dict)
    _member_rev: int | None = None
    _task: asyncio.Task[None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _lapsing: set[asyncio.Task[None]] = field(default_factory=set)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _left: Any = None  # subscription to other replicas' goodbyes

    @property
    def tick(self) -> float:
        return self.ttl / 4

    def owns(self, node: str) -> bool:
        lease = self._leases.get(node)
        return lease is not None and time.monotonic() < lease.deadline

    @property
    def owned(self) -> set[str]:
        return {n for n in self._leases if self.owns(n)}

    async def start(self) -> None:
        self._kv = await self.bus.ensure_kv(
            KeyValueConfig(bucket=self.bus.subjects.node_owner_bucket, ttl=self.ttl, history=1)
        )
        # A replica that stops says so after releasing: the others run a round at
        # once instead of at their next tick, so its nodes move with no gap.
        self._left = await self.bus.nc.subscribe(self.bus.subjects.replica_left, cb=self._on_left)
        self._task = asyncio.create_task(self._run(), name=f"ownership:{self.replica}")

    async def _on_left(self, msg: Any) -> None:
        if msg.data.decode(errors="replace") != self.replica:
            self._wake.set()

    async def stop(self, *, release: bool = True) -> None:
        """Stop; with ``release`` hand every node back at once instead of at expiry."""
        if self._left is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._left.unsubscribe()
            self._left = None
        await cancel_and_wait(self._task)
        self._task = None
        for lease in self._leases.values():
            if lease.timer is not None:
                lease.timer.cancel()
        for task in list(self._lapsing):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for node in list(self._leases):
            await self._drop(node, delete=release)
        if release and self._kv is not None and self._member_rev is not None:
            with contextlib.suppress(nats.errors.Error, nats.js.errors.Error):
                await self._kv.delete(MEMBER + self.replica, last=self._member_rev)
                await self.bus.nc.publish(self.bus.subjects.replica_left, self.replica.encode())
                await self.bus.nc.flush()

    def wake(self) -> None:
        """Run a round now (the node list changed), not at the next tick."""
        self._wake.set()

    async def wait_changed(self) -> None:
        """Resolves after the next change in what this replica owns."""
        self._changed.clear()
        await self._changed.wait()

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await self._round()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # NATS down or slow: keep trying; leases lapse by their deadlines.
                log.warning("ownership round failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), max(0.0, self.tick - (time.monotonic() - started))
                )
            self._wake.clear()

    async def _round(self) -> None:
        kv = self._kv
        assert kv is not None
        await self._heartbeat(kv)
        for node in list(self._leases):
            if node in self._leases:  # not lapsed while an earlier renewal waited
                await self._renew(kv, node)
        for node in set(self._leases) - set(self.nodes):
            log.info("node %s is gone from the node list; releasing it", node)
            await self._drop(node, delete=True)
        members = await self._members(kv)
        target = assign(self.nodes, members)
        # Known before the hand-overs below (on_release may listen to a node it
        # lets go of, as its standby) and applied after the acquisitions (a
        # standby connection closes only once our owner's connection is up):
        # either way round, the node would be unheard for a moment.
        self.watching = {n for n, m in standbys(self.nodes, members).items() if m == self.replica}
        for node in self.nodes:
            mine = target.get(node) == self.replica
            if mine and node not in self._leases:
                await self._try_acquire(kv, node)
            elif not mine and node in self._leases and target.get(node) in members:
                log.info("handing node %s to %s", node, target[node])
                await self._drop(node, delete=True)
        if self.on_standby is not None:
            await self.on_standby(self.watching)

    async def _heartbeat(self, kv: KeyValue) -> None:
        key = MEMBER + self.replica
        value = self.replica.encode()
        if self._member_rev is None:
            self._member_rev = await kv.put(key, value)
            return
        try:
            self._member_rev = await kv.update(key, value, last=self._member_rev)
        except nats.js.errors.KeyWrongLastSequenceError:
            # Our key expired (we were cut off) and maybe got recreated: reclaim it.
            self._member_rev = await kv.put(key, value)

    async def _members(self, kv: KeyValue) -> list[str]:
        try:
            # No server-side filter: NATS < 2.10 ignores it, and the bucket is small.
            keys = await kv.keys()
        except nats.js.errors.NoKeysError:
            return [self.replica]
        live = {k.removeprefix(MEMBER) for k in keys if k.startswith(MEMBER)}
        return sorted(live | {self.replica})

    async def _try_acquire(self, kv: KeyValue, node: str) -> None:
        sent = time.monotonic()
        try:
            revision = await kv.create(OWNER + node, self.replica.encode())
        except nats.js.errors.KeyWrongLastSequenceError:
            return  # somebody holds it; it is theirs until released or expired
        lease = self._leases[node] = _Lease(revision, sent + self.ttl - self.margin)
        self._arm(node, lease)
        log.info("replica %s owns node %s", self.replica, node)
        self._changed.set()
        if self.on_acquire is not None:
            await self.on_acquire(node)

    async def _renew(self, kv: KeyValue, node: str) -> None:
        lease = self._leases[node]
        sent = time.monotonic()
        try:
            revision = await kv.update(OWNER + node, self.replica.encode(), last=lease.revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            if self._leases.get(node) is lease:
                log.warning("lost node %s: its lease was taken over", node)
                await self._drop(node, delete=False)
            return
        if self._leases.get(node) is not lease:
            # The deadline passed while the renewal was in flight and the node
            # was released: a late success does not bring it back. Free the key
            # we just extended so the next owner need not wait for it to expire.
            with contextlib.suppress(nats.errors.Error, nats.js.errors.Error):
                await kv.delete(OWNER + node, last=revision)
            return
        lease.revision = revision
        lease.deadline = sent + self.ttl - self.margin
        self._arm(node, lease)

    def _arm(self, node: str, lease: _Lease) -> None:
        """(Re)start the timer that releases ``node`` at ``lease``'s deadline."""
        if lease.timer is not None:
            lease.timer.cancel()
        loop = asyncio.get_running_loop()
        delay = max(0.0, lease.deadline - time.monotonic())
        lease.timer = loop.call_at(loop.time() + delay, self._lapse, node, lease)

    def _lapse(self, node: str, lease: _Lease) -> None:
        lease.timer = None
        if self._leases.get(node) is not lease:
            return
        if time.monotonic() < lease.deadline:
            self._arm(node, lease)  # renewed meanwhile
            return
        log.warning("lease on node %s lapsed unrenewed", node)
        task = asyncio.create_task(self._drop(node, delete=False), name=f"lapse:{node}")
        self._lapsing.add(task)
        task.add_done_callback(self._lapsing.discard)

    async def _drop(self, node: str, *, delete: bool) -> None:
        lease = self._leases.pop(node, None)
        if lease is None:
            return
        if lease.timer is not None:
            lease.timer.cancel()
        self._changed.set()
        if self.on_release is not None:
            try:
                await self.on_release(node)
            except Exception:
                log.exception("on_release(%s) failed", node)
        if delete and self._kv is not None:
            # Only our own revision is deleted: a lease someone else took stays theirs.
            with contextlib.suppress(nats.errors.Error, nats.js.errors.Error):
                await self._kv.delete(OWNER + node, last=lease.revision)

"""What the run watches while it runs: node owners (the lease bucket), the
nodes' journals (events taken, commands and who sent them), and which
replica process holds each ESL connection."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import nats
import psutil

from chaos.stack import Replica, Stack
from switchyard.shared.subjects import Subjects

POLL = 0.1
# A read of the lease bucket slower than this does not say what the owner is now.
CLEAR = 0.3
# Reads further apart than this leave the owner between them unknown.
GAP = 0.6


@dataclass
class OwnerChange:
    at: float
    node: str
    owner: str | None  # replica id, None: no owner


@dataclass
class Observer:
    stack: Stack
    nodes: list[str]
    owners: dict[str, str | None] = field(default_factory=dict)
    history: list[OwnerChange] = field(default_factory=list)
    # Each quick, successful read of the bucket: (start, end, owner per node).
    reads: list[tuple[float, float, dict[str, str | None]]] = field(default_factory=list)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fired: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # taken or not
    # ESL peer "host:port" -> [(first seen, replica name)]: a port may be reused
    peers: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    # replica name -> the replica ids (lease values) it has had
    ids: dict[str, set[str]] = field(default_factory=dict)
    # (peer, pid) of the ESL sockets seen on the last pass
    _live: set[tuple[str, int]] = field(default_factory=set)

    async def run(self, http: httpx.AsyncClient) -> None:
        await asyncio.gather(self._owners(), self._journals(http), self._peers())

    def replica_of_id(self, owner: str | None) -> str | None:
        if owner is None:
            return None
        for name, pid_ids in self.ids.items():
            if owner in pid_ids:
                return name
        return None

    # --- owners ------------------------------------------------------------------------

    async def _owners(self) -> None:
        async def quiet(_: Exception) -> None:
            return None  # NATS restarts are the point; the gaps in reads are recorded

        nc = await nats.connect(
            self.stack.nats.url,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.2,
            error_cb=quiet,
        )
        try:
            bucket = Subjects().node_owner_bucket
            # A short timeout: a read held back through a reconnect would return a
            # value seconds old and pass it off as current.
            js = nc.jetstream(timeout=CLEAR)
            while True:
                started = time.time()
                with contextlib.suppress(
                    nats.errors.Error, nats.js.errors.Error, OSError, TimeoutError
                ):
                    kv = await js.key_value(bucket)
                    values: dict[str, str | None] = {}
                    for node in self.nodes:
                        try:
                            entry = await kv.get(f"owner.{node}", validate_keys=False)
                            values[node] = (entry.value or b"").decode() or None
                        except nats.js.errors.KeyNotFoundError:
                            values[node] = None
                    ended = time.time()
                    for node, value in values.items():
                        if node not in self.owners or self.owners[node] != value:
                            self.owners[node] = value
                            self.history.append(OwnerChange(ended, node, value))
                    if ended - started < CLEAR:
                        self.reads.append((started, ended, values))
                await asyncio.sleep(POLL)
        finally:
            with contextlib.suppress(Exception):
                await nc.close()

    def owner_at(self, node: str, at: float) -> tuple[str | None, float] | None:
        """The owner at ``at`` and since when it was seen. None unless a quick
        read of the bucket ended shortly before ``at`` and another began
        shortly after, and both saw the same owner: anything else (a NATS
        restart, the lease changing hands right then) leaves it unknown."""
        i = bisect.bisect_left(self.reads, (at,))  # the first read begun after ``at``
        j = i - 1
        while j >= 0 and self.reads[j][1] > at:  # begun before, still running at ``at``
            j -= 1
        if j < 0 or i == len(self.reads):
            return None
        before, after = self.reads[j], self.reads[i]
        if at - before[1] > GAP or after[0] - at > GAP:
            return None
        if before[2].get(node) != after[2].get(node):
            return None
        seen: tuple[str | None, float] | None = None
        for change in self.history:
            if change.node != node:
                continue
            if change.at > at:
                break
            seen = (change.owner, change.at)
        return seen

    def sender(self, peer: str, opened: float) -> str | None:
        """The replica holding the connection from ``peer`` that the node
        accepted at ``opened``: the first process seen with that socket since
        (a port seen before belonged to an earlier connection). None: the
        connection closed before the run saw it."""
        for first, who in self.peers.get(peer, []):
            if first >= opened - 0.05:
                return who
        return None

    # --- journals ----------------------------------------------------------------------

    async def _journals(self, http: httpx.AsyncClient) -> None:
        for node in self.nodes:
            self.events[node] = []
            self.commands[node] = []
            self.fired[node] = []
        while True:
            await self.fetch_journals(http)
            await asyncio.sleep(0.5)

    async def fetch_journals(self, http: httpx.AsyncClient) -> None:
        for node in self.nodes:
            with contextlib.suppress(httpx.HTTPError):
                r = await http.get(
                    f"{self.stack.control}/nodes/{node}/journal",
                    params={
                        "events": len(self.events[node]),
                        "commands": len(self.commands[node]),
                        "fired": len(self.fired[node]),
                    },
                    timeout=10,
                )
                if r.status_code == 200:
                    body = r.json()
                    self.events[node] += body["events"]
                    self.commands[node] += body["commands"]
                    self.fired[node] += body["fired"]

    # --- who holds which ESL connection -----------------------------------------------

    async def _peers(self) -> None:
        while True:
            self.map_peers()
            await asyncio.sleep(0.2)

    def map_peers(self) -> None:
        esl = set(self.stack.esl_ports.values())
        live: set[tuple[str, int]] = set()
        for r in self.stack.of("call-control"):
            self._map(r, esl, live)
        self._live = live

    def _map(self, r: Replica, esl: set[int], live: set[tuple[str, int]]) -> None:
        for pid in r.pids():
            try:
                proc = psutil.Process(pid)
                conns = proc.net_connections(kind="tcp")
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            for c in conns:
                if c.raddr and c.raddr.port in esl:
                    peer = f"{c.laddr.ip}:{c.laddr.port}"
                    key = (peer, pid)
                    if key not in self._live:
                        # A socket not seen on the last pass: a new connection.
                        self.peers.setdefault(peer, []).append((time.time(), r.name))
                    live.add(key)
            # The replica id (the lease's value) carries its worker's pid.
            self.ids.setdefault(r.name, set()).update(
                o for o in self.owners.values() if o and f"-{pid}-" in o
            )

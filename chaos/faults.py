"""The faults, one at a time: each does its damage, waits, and undoes it.

Each returns a ``Fault`` record: what was done, when, and what it measured
on the way (time without an owner, calls controllable after fail-over).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from chaos.observe import Observer
from chaos.stack import LEASE, Replica, Stack
from chaos.traffic import Traffic

# Longer than the lease, so that the lease really lapses.
PAST_LEASE = LEASE * 2.5


@dataclass
class Fault:
    name: str
    target: str
    start: float
    end: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Chaos:
    stack: Stack
    traffic: Traffic
    observer: Observer
    rng: random.Random  # the run's seeded generator: victims and outage lengths

    # --- helpers -------------------------------------------------------------------------

    def owner_of(self, node: str) -> Replica | None:
        name = self.observer.replica_of_id(self.observer.owners.get(node))
        return next((r for r in self.stack.replicas if r.name == name), None)

    def owned_by(self, rep: Replica) -> list[str]:
        return [n for n in self.observer.nodes if self.owner_of(n) is rep]

    async def settled(self, timeout: float = 60) -> bool:
        """Every replica ready and every node owned by a live replica."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            self.observer.map_peers()
            owners = [self.owner_of(n) for n in self.observer.nodes]
            if all(o is not None and o.alive and not o.paused for o in owners):
                ready = True
                for r in self.stack.replicas:
                    try:
                        resp = await self.traffic.http.get(r.url + "/readyz", timeout=2)
                        ready = ready and resp.status_code == 200
                    except Exception:
                        ready = False
                if ready:
                    return True
            await asyncio.sleep(0.3)
        return False

    async def _restart(self, rep: Replica) -> None:
        rep.start()
        await rep.ready(self.traffic.http)

    async def _ownerless(self, nodes: list[str], old: set[str], since: float) -> dict[str, float]:
        """Per node: seconds from ``since`` until a replica other than ``old`` owns it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LEASE * 10
        gaps: dict[str, float] = {}
        while len(gaps) < len(nodes) and loop.time() < deadline:
            for n in nodes:
                owner = self.observer.owners.get(n)
                if n not in gaps and owner is not None and owner not in old:
                    gaps[n] = round(time.time() - since, 2)
            await asyncio.sleep(0.05)
        return gaps

    async def _hold_calls(self, n: int = 3) -> list[str]:
        held: list[str] = []
        for _ in range(n * 3):
            if len(held) >= n:
                break
            if (uuid := await self.traffic.originate()) is not None:
                held.append(uuid)
                self.traffic.calls.pop(uuid, None)
        return held

    async def _hang_up_held(self, held: list[str]) -> dict[str, int]:
        """Hang the calls up through the API after the fail-over: each must end
        with 200 (retrying a 503 while the new owner settles)."""
        results = {"ok": 0, "failed": 0}
        loop = asyncio.get_running_loop()
        for uuid in held:
            deadline = loop.time() + LEASE * 10
            while True:
                result = await self.traffic.hangup(uuid)
                if result == "ok":
                    results["ok"] += 1
                    break
                if loop.time() > deadline or result == "gone":
                    results["failed"] += 1
                    self.traffic.hung_up[uuid] = result
                    break
                await asyncio.sleep(0.3)
        return results

    # --- the faults ------------------------------------------------------------------------

    async def _owner_victim(self) -> Replica:
        """The call-control replica owning most nodes, once every node has an
        owner again (after a NATS restart the leases take a moment)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LEASE * 10
        while loop.time() < deadline:
            self.observer.map_peers()
            if all(self.owner_of(n) is not None for n in self.observer.nodes):
                break
            await asyncio.sleep(0.1)
        return max(self.stack.of("call-control"), key=lambda r: len(self.owned_by(r)))

    async def kill_call_control(self) -> Fault:
        victim = await self._owner_victim()
        nodes = self.owned_by(victim)
        held = await self._hold_calls()
        old = {o for o in (self.observer.owners.get(n) for n in nodes) if o}
        f = Fault("kill -9 call-control", victim.name, time.time())
        victim.kill()
        f.notes["ownerless_s"] = await self._ownerless(nodes, old, f.start)
        f.notes["held_calls"] = await self._hang_up_held(held)
        await self._restart(victim)
        return f

    async def kill_service(self, service: str) -> Fault:
        victim = self.rng.choice(self.stack.of(service))
        f = Fault(f"kill -9 {service}", victim.name, time.time())
        victim.kill()
        await asyncio.sleep(self.rng.uniform(1, 3))
        await self._restart(victim)
        return f

    async def restart_nats(self) -> Fault:
        f = Fault("restart NATS", "nats-server", time.time())
        self.stack.nats.stop()
        await asyncio.sleep(self.rng.uniform(2, 4))
        await asyncio.to_thread(self.stack.nats.start)
        return f

    async def restart_postgres(self) -> Fault:
        f = Fault("restart Postgres", "postgres", time.time())
        await asyncio.to_thread(self.stack.pg.stop)
        f.notes["down_at"] = time.time()
        await asyncio.sleep(self.rng.uniform(3, 5))
        f.notes["up_at"] = time.time()
        await asyncio.to_thread(self.stack.pg.start)
        return f

    async def drop_esl(self) -> Fault:
        f = Fault("drop every ESL connection", "fssim", time.time())
        for node in self.observer.nodes:
            await self.traffic.http.post(f"{self.stack.control}/nodes/{node}/drop", timeout=5)
        return f

    async def stop_node(self) -> Fault:
        node = self.rng.choice(self.observer.nodes)
        f = Fault("stop a node past the lease", node, time.time())
        await self.traffic.http.post(
            f"{self.stack.control}/nodes/{node}/restart",
            json={"down_seconds": PAST_LEASE},
            timeout=PAST_LEASE + 10,
        )
        return f

    async def webhook_outage(self) -> Fault:
        f = Fault("webhook receiver 500, timeout, 410, recover", "receiver", time.time())
        t = self.traffic
        t.webhook_mode = "500"
        await asyncio.sleep(self.rng.uniform(3, 5))
        t.webhook_mode = "timeout"
        await asyncio.sleep(self.rng.uniform(3, 5))
        t.webhook_mode = "410"
        f.notes["gone_at"] = time.time()
        await asyncio.sleep(3)
        t.webhook_mode = "ok"
        sub = await t.subscription(t.gone_sub)
        f.notes["disabled_by_410"] = bool(sub is not None and not sub.get("enabled", True))
        f.notes["reenabled"] = await t.reenable(t.gone_sub)
        f.notes["reenabled_at"] = time.time()
        return f

    async def pause_replica(self) -> Fault:
        victim = await self._owner_victim()
        nodes = self.owned_by(victim)
        old = {o for o in (self.observer.owners.get(n) for n in nodes) if o}
        f = Fault("SIGSTOP call-control past the lease, SIGCONT", victim.name, time.time())
        victim.pause()
        f.notes["ownerless_s"] = await self._ownerless(nodes, old, f.start)
        await asyncio.sleep(max(0.0, PAST_LEASE - (time.time() - f.start)))
        f.notes["resumed_at"] = time.time()
        victim.resume()
        return f


FAULTS: dict[str, Callable[[Chaos], Awaitable[Fault]]] = {
    "kill-call-control": Chaos.kill_call_control,
    "kill-event-relay": lambda c: c.kill_service("event-relay"),
    "kill-config-api": lambda c: c.kill_service("config-api"),
    "restart-nats": Chaos.restart_nats,
    "restart-postgres": Chaos.restart_postgres,
    "drop-esl": Chaos.drop_esl,
    "stop-node": Chaos.stop_node,
    "webhook-outage": Chaos.webhook_outage,
    "pause-replica": Chaos.pause_replica,
}

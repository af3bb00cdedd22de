"""Two call-control replicas (real processes), three FreeSWITCH nodes, one replica killed.

Requests keep working through the survivor, its nodes are re-owned within
the lease, and every relayed event FreeSWITCH fired is in the stream exactly
once (the standby listener covers the gap a crashed owner leaves).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import nats.js.errors
import psutil
import pytest_asyncio

from switchyard.call_control.agent import DEFAULT_EVENTS
from switchyard.fssim import Simulator
from switchyard.shared import accounts
from switchyard.shared.bus import Bus
from switchyard.shared.embedded import free_port
from switchyard.shared.settings import Settings

LEASE = 2.0


class Replica:
    def __init__(self, settings: Settings, fs_nodes: str, service: str = "call-control") -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
        env.update(settings.to_env())
        env.update(
            SWITCHYARD_FS_NODES=fs_nodes,
            SWITCHYARD_NODE_LEASE=str(LEASE),
            SWITCHYARD_HTTP_PORT=str(self.port),
            SWITCHYARD_LOG_FORMAT="text",
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "switchyard.shared.cli", "run", service],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    async def ready(self, client: httpx.AsyncClient) -> None:
        for _ in range(300):
            try:
                if (await client.get(self.url + "/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError("replica never became ready")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as s:
        for i in range(1, 4):
            node = await s.add_node(f"fs{i}", heartbeat_seconds=0.5)
            for ext in range(1000, 1010):
                node.register_user(str(ext))
        yield s


async def _owners(bus: Bus) -> dict[str, str]:
    kv = await bus.js.key_value(bus.subjects.node_owner_bucket)
    out = {}
    for node in ("fs1", "fs2", "fs3"):
        with contextlib.suppress(nats.js.errors.KeyNotFoundError):
            out[node] = (await kv.get(f"owner.{node}")).value.decode()
    return out


async def _stored(bus: Bus) -> list[str]:
    try:
        info = await bus.js.stream_info(bus.subjects.events_stream)
    except nats.js.errors.NotFoundError:
        return []
    ids = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await bus.js.get_msg(bus.subjects.events_stream, seq)
        ids.append(msg.headers["Nats-Msg-Id"])
    return ids


async def test_killing_a_replica_loses_no_request_and_no_event(
    settings: Settings, sim: Simulator, bus: Bus, db: asyncpg.Pool
) -> None:
    fired: list[str] = []
    relayed = set(DEFAULT_EVENTS)
    for node in sim.nodes:
        original = node.fire

        def record(event, _original=original, _node=node):  # type: ignore[no-untyped-def]
            if event.get("Event-Name") in relayed:
                fired.append(f"{_node.core_uuid}:{event.get('Event-Sequence')}")
            _original(event)

        node.fire = record  # type: ignore[method-assign]

    _, token = (await accounts.issue_token(db, kind="api", name="failover"))[:2]
    # config-api resolves originate numbers (sy.config.route); it is not the victim.
    config_api = Replica(settings, sim.fs_nodes, "config-api")
    replicas = [Replica(settings, sim.fs_nodes), Replica(settings, sim.fs_nodes)]
    headers = {"X-XTRA-AUTH-ID": token}
    try:
        async with httpx.AsyncClient(headers=headers, timeout=30) as http:
            for r in [config_api, *replicas]:
                await r.ready(http)
            deadline = time.monotonic() + 30
            while len(set((await _owners(bus)).values())) < 2 or len(await _owners(bus)) < 3:
                assert time.monotonic() < deadline, await _owners(bus)
                await asyncio.sleep(0.1)
            victim_id = (await _owners(bus))["fs1"]
            # Count from the moment every node has its owner and its standby
            # listening: what fires before anyone listens is nobody's to relay.
            while not all(len(n.sessions) >= 2 for n in sim.nodes):
                assert time.monotonic() < deadline, [len(n.sessions) for n in sim.nodes]
                await asyncio.sleep(0.05)
            fired.clear()

            async def call(base: str) -> None:
                # A request in flight on the dying replica may fail; the client
                # retries on the other, as any client of a replicated service does.
                for _ in range(50):
                    try:
                        r = await http.post(base + "/api/channels", data={"destNumber": "1000"})
                        if r.status_code == 200 and r.json()["result"] == "ok":
                            uuid = r.json()["uuid"]
                            break
                    except httpx.HTTPError:
                        pass
                    base = survivor.url
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError("originate never succeeded")
                for _ in range(100):
                    try:
                        r = await http.delete(f"{survivor.url}/api/channels/{uuid}")
                        if r.status_code == 200:
                            return
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(0.1)
                raise AssertionError(f"hangup of {uuid} never succeeded")

            # The victim is the replica owning fs1 (its id carries its worker's pid).
            victim = next(
                r
                for r in replicas
                if any(f"-{c.pid}-" in victim_id for c in psutil.Process(r.proc.pid).children())
            )
            survivor = replicas[1] if victim is replicas[0] else replicas[0]
            calls = 0
            start = time.monotonic()
            killed = False
            while time.monotonic() - start < 6:
                if not killed and time.monotonic() - start > 2:
                    victim.kill()
                    killed = True
                target = survivor.url if killed else replicas[calls % 2].url
                await call(target)
                calls += 1

            # The survivor owns every node within a few leases.
            deadline = time.monotonic() + LEASE * 6
            while True:
                owners = await _owners(bus)
                if len(owners) == 3 and len(set(owners.values())) == 1:
                    break
                assert time.monotonic() < deadline, owners
                await asyncio.sleep(0.1)
            assert victim_id not in owners.values()

            # And it still serves every node.
            await call(survivor.url)

        expected = set(fired)
        deadline = time.monotonic() + 20
        while True:
            stored = await _stored(bus)
            missing = expected - set(stored)
            if not missing or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert not missing, f"{len(missing)} of {len(expected)} events missing"
        assert len(stored) == len(set(stored)), "an event was stored twice"
        assert calls >= 5
    finally:
        for r in [*replicas, config_api]:
            r.stop()

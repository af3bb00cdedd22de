"""Scale-in of call-control: a replica that gets SIGTERM (what Kubernetes sends)
hands its FreeSWITCH node to the other replica before it exits, without the
other waiting for the lease. Real processes: two `switchyard run call-control`
and one config-api (originate routes through it) on one simulated node.

The lease is 300 s here (a round every 75 s): if the node moved only at the
lease's expiry or the survivor's next round, the waits below (bounded at
30 s) would fail, so passing shows the hand-over.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import httpx
import nats.js.errors
import psutil
import pytest_asyncio

from switchyard.fssim import Simulator
from switchyard.shared import accounts
from switchyard.shared.bus import Bus
from switchyard.shared.embedded import free_port
from switchyard.shared.settings import Settings

LEASE = 300.0


async def until(check: Callable[[], Awaitable[object]], timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition never reached"
        await asyncio.sleep(0.05)


class Process:
    def __init__(self, settings: Settings, fs_nodes: str, service: str) -> None:
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
        async def answers() -> bool:
            try:
                return (await client.get(self.url + "/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await until(answers, timeout=60)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as s:
        node = await s.add_node("fs1", heartbeat_seconds=3600)
        node.register_user("1000")
        yield s


async def _owner(bus: Bus) -> str | None:
    kv = await bus.js.key_value(bus.subjects.node_owner_bucket)
    try:
        return (await kv.get("owner.fs1")).value.decode()
    except nats.js.errors.KeyNotFoundError:
        return None


async def test_sigterm_hands_the_node_over_at_once(
    settings: Settings, sim: Simulator, bus: Bus, db: asyncpg.Pool
) -> None:
    _, token = (await accounts.issue_token(db, kind="api", name="scale-in"))[:2]
    config_api = Process(settings, "", "config-api")
    replicas = [Process(settings, sim.fs_nodes, "call-control") for _ in range(2)]
    try:
        async with httpx.AsyncClient(headers={"X-XTRA-AUTH-ID": token}, timeout=30) as http:
            for p in [config_api, *replicas]:
                await p.ready(http)
            await until(lambda: _owner(bus), timeout=30)
            first = await _owner(bus)
            assert first is not None
            # The replica id carries its granian worker's pid.
            victim = next(
                r for r in replicas if any(f"-{pid}-" in first for pid in _children(r.proc.pid))
            )
            survivor = replicas[1] if victim is replicas[0] else replicas[0]

            async def originate() -> dict[str, str]:
                r = await http.post(survivor.url + "/api/channels", data={"destNumber": "1000"})
                assert r.status_code == 200, r.text
                body: dict[str, str] = r.json()
                return body

            assert (await originate())["result"] == "ok"

            victim.proc.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(victim.proc.wait, 30) == 0

            async def moved() -> bool:
                owner = await _owner(bus)
                return owner is not None and owner != first

            # Inside the lease and before the next round: handed over, not left to expire.
            await until(moved, timeout=30)
            result = await originate()
            assert result["result"] == "ok", result
            assert result["node"] == "fs1"
    finally:
        for p in [*replicas, config_api]:
            p.stop()


def _children(pid: int) -> list[int]:
    return [c.pid for c in psutil.Process(pid).children(recursive=True)]

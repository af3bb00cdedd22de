"""Helpers of the cross-service tests: `switchyard` as a real subprocess, or
services served in the test's own event loop with a FreeSWITCH simulator."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
import psutil
import pytest
from granian.constants import Interfaces
from granian.server.embed import Server
from litestar import Litestar

from switchyard.call_control.service import service as call_control
from switchyard.fssim import Node, Simulator
from switchyard.shared.embedded import free_port
from switchyard.shared.runner import create_app
from switchyard.shared.service import Service
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually

SWITCHYARD = [sys.executable, "-m", "switchyard.shared.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any SWITCHYARD_* variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env.update(extra)
    env["SWITCHYARD_LOG_FORMAT"] = "text"
    return env


class Up:
    def __init__(
        self, proc: subprocess.Popen[str], port: int, data_dir: Path | None = None
    ) -> None:
        self.proc = proc
        self.url = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self.data_dir = data_dir

    def token(self) -> str:
        """The API token of this run. Its stdout is a pipe, not a terminal, so
        `up` writes the token to ``up.credentials`` (0600) instead of printing it."""
        self.wait_for(r"API token \(stdout is not a terminal\)")
        assert self.data_dir is not None
        return self.credentials()["token"]

    def credentials(self) -> dict[str, str]:
        """``up.credentials`` as {"token": …, "admin": password (first run only)}."""
        assert self.data_dir is not None
        text = (self.data_dir / "up.credentials").read_text()
        out = {"token": re.search(r"API token: (\S+)", text).group(1)}  # type: ignore[union-attr]
        if m := re.search(r"Login: admin / (\S+)", text):
            out["admin"] = m.group(1)
        return out

    def wait_for(self, pattern: str, timeout: float = 90) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    break
                continue
            self.lines.append(line)
            if m := re.search(pattern, line):
                return m
        raise AssertionError(f"never printed {pattern!r}:\n{''.join(self.lines)}")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("never became ready")

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    def stop_and_check_nothing_left(self) -> None:
        children = self.descendants()
        assert children, "up should run embedded servers and a worker"
        self.proc.send_signal(signal.SIGINT)
        assert self.proc.wait(timeout=60) in (0, -signal.SIGINT, 130)
        _, alive = psutil.wait_procs(children, timeout=15)
        assert alive == [], f"left behind: {[p.pid for p in alive]}"


StartUp = Callable[..., Up]


@pytest.fixture
def start_up(tmp_path: Path) -> Iterator[StartUp]:
    """``start_up(*args, **env)``: `switchyard up` on a free port, data in ``tmp_path/data``."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, **env: str) -> Up:
        port = free_port()
        proc = subprocess.Popen(
            [*SWITCHYARD, "up", "--port", str(port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=clean_env(SWITCHYARD_DATA_DIR=str(tmp_path / "data"), **env),
        )
        started.append(proc)
        return Up(proc, port, tmp_path / "data")

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@dataclass
class Served:
    api: httpx.AsyncClient  # authenticated, on ``base_url``
    app: Litestar
    node: Node
    base_url: str


@contextlib.asynccontextmanager
async def served_stack(
    settings: Settings,
    api_token: str,
    services: Sequence[Service],
    *,
    node_name: str = "fs1",
    node_setup: Callable[[Node], None] | None = None,
    port: int | None = None,
) -> AsyncIterator[Served]:
    """``services`` under granian on a free port, in this loop, with one fssim node.

    The node's mod_xml_curl fetches from the served /fs/xml; ``node_setup``
    (users, gateways) runs before the app starts; ``port``: serve there (settings
    that name the service's own URL know it beforehand). With call-control among
    ``services`` its settings name the node (and a short node lease), and this
    yields once its agent is connected; in any case once /readyz answers 200.
    """
    logging.getLogger("_granian").setLevel(logging.WARNING)
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    async with Simulator() as sim:
        node = await sim.add_node(
            node_name,
            xml_curl_url=f"{base}/fs/xml",
            xml_curl_credentials=f"freeswitch:{settings.xml_curl_secret}",
            heartbeat_seconds=3600,
        )
        if node_setup is not None:
            node_setup(node)
        agents = call_control in services
        if agents:
            settings = msgspec.structs.replace(settings, fs_nodes=sim.fs_nodes, node_lease=2.0)
        app = create_app(settings, services)
        server = Server(
            app, address="127.0.0.1", port=port, interface=Interfaces.ASGI, log_enabled=False
        )
        serving = asyncio.create_task(server.serve())
        try:
            async with httpx.AsyncClient(
                base_url=base, headers={"X-XTRA-AUTH-ID": api_token}, timeout=10
            ) as api:
                async with asyncio.timeout(30):
                    while True:
                        with contextlib.suppress(httpx.HTTPError):
                            if (await api.get("/readyz")).status_code == 200:
                                break
                        await asyncio.sleep(0.02)
                if agents:
                    replica = app.state["call-control"]
                    await eventually(
                        lambda: (
                            node.name in replica.agents
                            and replica.agents[node.name].client.connected
                        )
                    )
                yield Served(api, app, node, base)
        finally:
            server.stop()
            async with asyncio.timeout(10):
                await serving

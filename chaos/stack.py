"""The stack a chaos run owns: private Postgres and NATS, fssim, two replicas of each service.

Everything is a child process of the run and lives under one temporary
folder. Postgres and NATS are the run's own (embedded wheels, free ports),
never the machine's shared ones: the run stops and starts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import psutil

from switchyard.shared import accounts
from switchyard.shared.db import migrate
from switchyard.shared.embedded import EmbeddedNats, EmbeddedPostgres, die_with_parent, free_port

SWITCHYARD = [sys.executable, "-m", "switchyard.shared.cli"]
SERVICES = ("config-api", "call-control", "event-relay")
LEASE = 2.0
# The relay retries quickly here so that a delivery failed during a webhook
# outage arrives within the run (production: Svix's schedule, hours).
RETRY_SCHEDULE = ",".join(["1"] * 5 + ["2"] * 40)
WEBHOOK_TIMEOUT = 1.5


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}


@dataclass
class Replica:
    """One `switchyard run <service>` (a granian main process and its worker)."""

    service: str
    index: int
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    paused: bool = False
    starts: int = 0

    @property
    def name(self) -> str:
        return f"{self.service}#{self.index}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        env = {**self.env, "SWITCHYARD_HTTP_PORT": str(self.port)}
        with self.log.open("ab") as out:
            # Its own process group: kill -9 / SIGSTOP reach the worker too, as
            # when a container dies or freezes.
            self.proc = subprocess.Popen(
                [*SWITCHYARD, "run", self.service],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        self.paused = False
        self.starts += 1

    def signal(self, sig: signal.Signals) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def pause(self) -> None:
        self.signal(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        self.signal(signal.SIGCONT)
        self.paused = False

    def stop(self) -> None:
        if self.paused:
            self.resume()
        if self.alive:
            assert self.proc is not None
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def pids(self) -> set[int]:
        """The main process and its worker(s)."""
        if not self.alive:
            return set()
        assert self.proc is not None
        try:
            main = psutil.Process(self.proc.pid)
            return {main.pid, *(c.pid for c in main.children(recursive=True))}
        except psutil.NoSuchProcess:
            return set()

    async def ready(self, http: httpx.AsyncClient, timeout: float = 90) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited; see {self.log}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(self.url + "/readyz", timeout=2)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.name} never became ready; see {self.log}")


@dataclass
class Stack:
    root: Path
    pg: EmbeddedPostgres
    nats: EmbeddedNats
    fssim: subprocess.Popen[bytes] | None = None
    control: str = ""
    esl_ports: dict[str, int] = field(default_factory=dict)
    replicas: list[Replica] = field(default_factory=list)
    token: str = ""
    xml_secret: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    @classmethod
    def create(cls, root: Path) -> Stack:
        return cls(
            root,
            EmbeddedPostgres(root / "pg", port=free_port()),
            EmbeddedNats(root / "nats", port=free_port()),
        )

    def of(self, service: str) -> list[Replica]:
        return [r for r in self.replicas if r.service == service]

    @property
    def fs_nodes(self) -> str:
        return ",".join(
            f"{name}=esl://ClueCon@127.0.0.1:{port}" for name, port in self.esl_ports.items()
        )

    async def start(self, http: httpx.AsyncClient, nodes: int = 2) -> None:
        self.pg.start()
        self.nats.start()
        await migrate(self.pg.url)
        conn = await asyncpg.connect(self.pg.url)
        try:
            _, self.token, _ = await accounts.issue_token(conn, kind="api", name="chaos")
        finally:
            await conn.close()
        self._start_fssim(nodes)
        env = {
            **_clean_env(),
            "SWITCHYARD_DATABASE_URL": self.pg.url,
            "SWITCHYARD_NATS_URL": self.nats.url,
            "SWITCHYARD_HTTP_HOST": "127.0.0.1",
            "SWITCHYARD_FS_NODES": self.fs_nodes,
            "SWITCHYARD_NODE_LEASE": str(LEASE),
            "SWITCHYARD_LOG_FORMAT": "text",
            "SWITCHYARD_XML_CURL_SECRET": self.xml_secret,
            "SWITCHYARD_WEBHOOK_ALLOW_PRIVATE": "127.0.0.0/8",
            "SWITCHYARD_WEBHOOK_RETRY_SCHEDULE": RETRY_SCHEDULE,
            "SWITCHYARD_WEBHOOK_TIMEOUT": str(WEBHOOK_TIMEOUT),
            "SWITCHYARD_BUS_TIMEOUT": "3",
            "SWITCHYARD_DB_POOL_MAX": "4",
        }
        for service in SERVICES:
            for i in (1, 2):
                r = Replica(
                    service,
                    i,
                    {**env, "SWITCHYARD_DATA_DIR": str(self.root / f"data-{service}-{i}")},
                    self.root / f"{service}-{i}.log",
                )
                r.start()
                self.replicas.append(r)
        for r in self.replicas:
            await r.ready(http)

    def _start_fssim(self, nodes: int) -> None:
        cport = free_port()
        self.fssim = subprocess.Popen(
            [
                *SWITCHYARD,
                "fssim",
                "--nodes",
                str(nodes),
                "--esl-port",
                "0",
                "--control-port",
                str(cport),
                "--heartbeat",
                "2",
                "--journal",
            ],
            env={**_clean_env(), "SWITCHYARD_LOG_FORMAT": "text"},
            stdout=subprocess.PIPE,
            stderr=(self.root / "fssim.log").open("ab"),
            preexec_fn=die_with_parent,
        )
        assert self.fssim.stdout is not None
        while len(self.esl_ports) < nodes or not self.control:
            line = self.fssim.stdout.readline().decode()
            if not line:
                raise RuntimeError("fssim exited while starting")
            if m := re.match(r"fssim node (\S+) ESL on [\d.]+:(\d+)", line):
                self.esl_ports[m.group(1)] = int(m.group(2))
            elif m := re.match(r"fssim control on (\S+)", line):
                self.control = m.group(1)
        self.fssim.stdout.close()

    def stop(self) -> None:
        for r in self.replicas:
            with contextlib.suppress(Exception):
                r.stop()
        if self.fssim is not None and self.fssim.poll() is None:
            self.fssim.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.fssim.wait(10)
        self.nats.stop()
        self.pg.stop()

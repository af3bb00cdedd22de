"""What every benchmark shares: backing services, timing, and the report.

A benchmark module is ``benchmarks/bench_<name>.py`` with
``async def run(ctx: Context) -> None``. It measures its subject and a
baseline in the same run and reports both through ``ctx.report``, which
prints figures and the ratio. Results are recorded by hand in
docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import psutil

from switchyard.shared.db import migrate
from switchyard.shared.embedded import EmbeddedNats, EmbeddedPostgres, free_port


@dataclass
class Context:
    pg_url: str
    nats_url: str
    lines: list[str] = field(default_factory=list)

    def report(
        self,
        name: str,
        value: float,
        unit: str,
        *,
        baseline: float | None = None,
        baseline_name: str = "baseline",
        higher_is_better: bool = True,
    ) -> None:
        line = f"  {name:<48} {value:>12,.1f} {unit}"
        if baseline:
            ratio = value / baseline
            line += f"   ({ratio:.2f}x {baseline_name}"
            line += ", higher is better)" if higher_is_better else ", lower is better)"
        print(line, flush=True)
        self.lines.append(line)


async def rate(n: int, one: Callable[[], Awaitable[object]]) -> float:
    """Calls per second of ``one`` run ``n`` times in sequence."""
    start = time.perf_counter()
    for _ in range(n):
        await one()
    return n / (time.perf_counter() - start)


async def latencies(n: int, one: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """p50 and p99 latency of ``one`` in milliseconds."""
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await one()
        samples.append((time.perf_counter() - start) * 1000)
    q = statistics.quantiles(samples, n=100)
    return q[49], q[98]


async def one_at_a_time(
    ctx: Context,
    label: str,
    ours: Callable[[], Awaitable[object]],
    bare: Callable[[], Awaitable[object]],
    *,
    n: int,
    warm: int,
    unit: str,
    bare_label: str,
    short: str,
) -> float:
    """``ours`` beside ``bare`` (the baseline), one call at a time: both warmed
    up, then their rates, then the p50/p99 latency of ours (``short`` names
    it) against bare's. Returns the rate of ours."""
    await rate(warm, ours)
    await rate(warm, bare)
    bare_rate = await rate(n, bare)
    our_rate = await rate(n, ours)
    ctx.report(f"{bare_label} (baseline)", bare_rate, unit)
    ctx.report(label, our_rate, unit, baseline=bare_rate, baseline_name="bare")
    report_latency(ctx, short, await latencies(n, ours), await latencies(n, bare))
    return our_rate


def report_latency(
    ctx: Context, label: str, ours: tuple[float, float], base: tuple[float, float]
) -> None:
    """Our p50 and p99 (ms) against the bare baseline's."""
    for q, ms, base_ms in zip((50, 99), ours, base, strict=True):
        ctx.report(
            f"{label} p{q}",
            ms,
            "ms",
            baseline=base_ms,
            baseline_name=f"bare p{q}",
            higher_is_better=False,
        )


@contextlib.contextmanager
def backing() -> Iterator[Context]:
    """Postgres and NATS from SWITCHYARD_TEST_* when set, else embedded ones."""
    with contextlib.ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="sy-bench-"))
        pg = os.environ.get("SWITCHYARD_TEST_DATABASE_URL")
        if not pg:
            pg = stack.enter_context(EmbeddedPostgres(tmp / "pg")).url
        nats = os.environ.get("SWITCHYARD_TEST_NATS_URL")
        if not nats:
            nats = stack.enter_context(EmbeddedNats(tmp / "nats")).url
        yield Context(pg, nats)


# --- timing many calls, in sequence or in flight ------------------------------------


async def timed(
    n: int, in_flight: int, one: Callable[[int], Awaitable[object]]
) -> tuple[float, list[float]]:
    """Run ``one(0)`` … ``one(n - 1)`` with at most ``in_flight`` at once.

    Returns calls per second and each call's latency in milliseconds.
    """
    sem = asyncio.Semaphore(in_flight)
    samples: list[float] = []

    async def run(i: int) -> None:
        async with sem:
            t = time.perf_counter()
            await one(i)
            samples.append((time.perf_counter() - t) * 1000)

    start = time.perf_counter()
    await asyncio.gather(*(run(i) for i in range(n)))
    return n / (time.perf_counter() - start), samples


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1]


@dataclass
class Measured:
    """One request kind: rate in sequence (with its latencies) and in flight."""

    width: int
    sequential: float = 0.0
    samples: list[float] = field(default_factory=list)
    in_flight: float = 0.0
    _seconds: list[float] = field(default_factory=lambda: [0.0, 0.0])
    _calls: list[int] = field(default_factory=lambda: [0, 0])

    async def add(self, one: Callable[[int], Awaitable[object]], n: int, width: int) -> None:
        """Run ``n`` more calls, in sequence (width 1) or ``self.width`` in flight."""
        k = 0 if width == 1 else 1
        start = self._calls[k]
        per_s, samples = await timed(n, width, lambda i: one(start + i))
        self._seconds[k] += n / per_s
        self._calls[k] += n
        if k == 0:
            self.samples += samples
            self.sequential = self._calls[0] / self._seconds[0]
        else:
            self.in_flight = self._calls[1] / self._seconds[1]


async def compare(
    ours: Callable[[int], Awaitable[object]],
    base: Callable[[int], Awaitable[object]],
    *,
    sequential: int,
    concurrent: int,
    width: int,
    rounds: int = 5,
    settle: Callable[[], Awaitable[object]] | None = None,
) -> tuple[Measured, Measured]:
    """Ours and the baseline in alternating slices, so load from elsewhere on the
    machine falls on both alike; ``settle`` is awaited after each slice of ours
    (to let work it leaves behind, such as reloads, finish first)."""
    mine, theirs = Measured(width), Measured(width)
    for _ in range(rounds):
        for n, w in ((sequential // rounds, 1), (concurrent // rounds, width)):
            await theirs.add(base, n, w)
            await mine.add(ours, n, w)
            if settle is not None:
                await settle()
    return mine, theirs


def report_against(
    ctx: Context, label: str, ours: Measured, base: Measured, base_name: str
) -> None:
    """Ours and the baseline side by side: rates, then sequential p50 and p99."""
    for kind, value, against in (
        ("sequential", ours.sequential, base.sequential),
        (f"{ours.width} in flight", ours.in_flight, base.in_flight),
    ):
        ctx.report(f"{label}, {kind}", value, "req/s", baseline=against, baseline_name=base_name)
        ctx.report(f"  {base_name}, {kind}", against, "req/s")
    for q in (50, 99):
        ctx.report(
            f"{label} p{q}",
            percentile(ours.samples, q),
            "ms",
            baseline=percentile(base.samples, q),
            baseline_name=base_name,
            higher_is_better=False,
        )
        ctx.report(f"  {base_name} p{q}", percentile(base.samples, q), "ms", higher_is_better=False)


# --- a scratch database and a config-api child process ------------------------------


@contextlib.asynccontextmanager
async def scratch_database(pg_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database on the server of ``pg_url``, dropped afterwards."""
    name = "sy_bench_" + secrets.token_hex(4)
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    try:
        url = pg_url.rsplit("/", 1)[0] + "/" + name
        await migrate(url)
        yield url
    finally:
        admin = await asyncpg.connect(pg_url)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()


# config-api as ``switchyard run`` serves it (granian, embedded, one worker), plus
# a bare Litestar handler answering a constant: the floor the server, Litestar
# and the HTTP client impose. ``POST /bench/set/<name>`` stores a body (and its
# content type) that ``GET`` or ``POST /bench/const/<name>`` then returns as is.
CONFIG_API_SERVER = r"""
import asyncio, sys
from granian.constants import Interfaces
import uvloop
from granian.server.embed import Server
from litestar import Request, Response, post, route
from switchyard.config_api.service import service
from switchyard.shared.runner import create_app
from switchyard.shared.service import Service
from switchyard.shared.settings import Settings

BODIES = {}

@route("/bench/const/{name:str}", http_method=["GET", "POST"],
       opt={"exclude_from_auth": True}, status_code=200)
async def const(name: str) -> Response[bytes]:
    body, media_type = BODIES[name]
    return Response(body, media_type=media_type)

@post("/bench/set/{name:str}", opt={"exclude_from_auth": True}, status_code=200)
async def set_body(name: str, request: Request) -> None:
    BODIES[name] = (await request.body(), request.headers["content-type"])

bench = Service(name="bench-const", route_handlers=[const, set_body])
app = create_app(Settings.from_env(), [service, bench])
uvloop.run(Server(app, address="127.0.0.1", port=int(sys.argv[1]),
                   interface=Interfaces.ASGI, log_enabled=False).serve())
"""


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@dataclass
class Served:
    http: httpx.AsyncClient
    process: subprocess.Popen[bytes]

    async def quiet(self, below: float = 0.1, window: float = 0.5, within: float = 120) -> None:
        """Wait until the server uses less than ``below`` of a core over ``window`` seconds."""
        proc = psutil.Process(self.process.pid)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            before = sum(proc.cpu_times()[:2])
            await asyncio.sleep(window)
            if sum(proc.cpu_times()[:2]) - before < below * window:
                return
        raise TimeoutError(f"server still busy after {within}s")


async def autovacuum_done(db_url: str, within: float = 120) -> None:
    """Wait until no autovacuum worker runs in ``db_url``'s database: after a
    bench has written 100k rows, one may start minutes later, and its core
    is then not the server's (a latency measure of the server would count
    it)."""
    conn = await asyncpg.connect(db_url)
    try:
        deadline = time.monotonic() + within
        sql = (
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' "
            "AND datname = current_database()"
        )
        while await conn.fetchval(sql):
            if time.monotonic() > deadline:
                raise TimeoutError(f"autovacuum still running after {within}s")
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


# What a service child's /fs/xml wants as basic auth (user ``freeswitch``).
XML_CURL_SECRET = "bench-" + secrets.token_hex(8)
XML_CURL_AUTH = ("freeswitch", XML_CURL_SECRET)


def service_env(ctx: Context, db_url: str, **extra: str) -> dict[str, str]:
    """The environment of a service child process: this run's servers, a fresh
    NATS namespace, nothing of the caller's own SWITCHYARD_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env.update(
        SWITCHYARD_DATABASE_URL=db_url,
        SWITCHYARD_NATS_URL=ctx.nats_url,
        SWITCHYARD_NATS_NAMESPACE="bench" + secrets.token_hex(3),
        SWITCHYARD_LOG_LEVEL="WARNING",
        SWITCHYARD_XML_CURL_SECRET=XML_CURL_SECRET,
        **extra,
    )
    return env


@contextlib.asynccontextmanager
async def config_api(
    ctx: Context,
    db_url: str,
    *,
    headers: dict[str, str] | None = None,
    ready_within: float = 120,
    extra: dict[str, str] | None = None,
) -> AsyncIterator[Served]:
    """config-api over ``db_url`` in a child process; a client once /readyz says so.
    ``extra``: more environment for it (settings under comparison)."""
    port = free_port()
    env = service_env(ctx, db_url, **(extra or {}))
    server = _spawn([sys.executable, "-c", CONFIG_API_SERVER, str(port)], env)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30
        ) as client:
            deadline = time.monotonic() + ready_within
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"config-api exited with {server.returncode} while starting")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/readyz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"config-api not ready within {ready_within}s")
                await asyncio.sleep(0.1)
            yield Served(client, server)
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, 10)


async def set_constant(
    client: httpx.AsyncClient, name: str, body: bytes, content_type: str
) -> None:
    """What ``/bench/const/<name>`` answers from now on."""
    r = await client.post(
        f"/bench/set/{name}", content=body, headers={"Content-Type": content_type}
    )
    r.raise_for_status()

"""mod_xml_curl dialplan fetches over real HTTP, beside a constant handler.

A child process serves config-api (granian, one worker, as ``switchyard
run`` does) over a configuration of 10,000 routes in 50 contexts, plus a
Litestar handler that returns a constant document of the same size: the
floor the server, Litestar and the HTTP client impose. Both are measured
in the same run from this process: sequential (latency) and 16 in flight
(throughput). The request is FreeSWITCH's captured dialplan form with the
context and number varied.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

import asyncpg
import httpx

from benchmarks.harness import Context
from switchyard.shared.db import migrate
from switchyard.shared.embedded import free_port

CONTEXTS = 50
ROUTES = 10_000
SEQUENTIAL = 1500
CONCURRENT = 4000
IN_FLIGHT = 16
SAMPLE = (
    Path(__file__).parents[1]
    / "services/config-api/tests/routing/data/dialplan-request-loopback.form"
)

SERVER = r"""
import asyncio, sys
from granian.constants import Interfaces
from granian.server.embed import Server
from litestar import post, Request, Response
from switchyard.config_api.service import service
from switchyard.shared.runner import create_app
from switchyard.shared.service import Service
from switchyard.shared.settings import Settings

BODY = [""]

@post("/bench/const", opt={"exclude_from_auth": True}, status_code=200)
async def const() -> Response[str]:
    return Response(BODY[0], media_type="text/xml")

@post("/bench/set", opt={"exclude_from_auth": True}, status_code=200)
async def set_body(request: Request) -> None:
    BODY[0] = (await request.body()).decode()

bench = Service(name="bench-const", route_handlers=[const, set_body])
app = create_app(Settings.from_env(), [service, bench])
asyncio.run(Server(app, address="127.0.0.1", port=int(sys.argv[1]),
                   interface=Interfaces.ASGI, log_enabled=False).serve())
"""


async def _seed(db_url: str) -> list[tuple[str, str]]:
    """10k routes over 50 contexts to gateways; returns (context, number) to dial."""
    rng = random.Random(7)  # noqa: S311 - test data, not secrets
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("INSERT INTO gateways (name, realm) VALUES ('gw', 'example.net')")
        gw = await conn.fetchval("SELECT id FROM gateways WHERE name = 'gw'")
        await conn.executemany(
            "INSERT INTO contexts (name, key) VALUES ($1, $1)",
            [(f"ctx{c}",) for c in range(CONTEXTS)],
        )
        rows: list[tuple[str, str, int, str, str]] = []
        seen: set[tuple[str, str, int]] = set()
        while len(rows) < ROUTES:
            ctx = f"ctx{rng.randrange(CONTEXTS)}"
            prefix = str(rng.randrange(10, 10 ** rng.randint(2, 6)))
            max_length = rng.choice((4, 8, 11, 12, 16))
            if (ctx, prefix, max_length) in seen:
                continue
            seen.add((ctx, prefix, max_length))
            name = f"r{len(rows)}"
            rows.append((name, prefix, max_length, ctx, str(gw)))
        await conn.executemany(
            "INSERT INTO routes (name, prefix, max_length, context, dest_type, dest_uuid) "
            "VALUES ($1, $2, $3, $4, 'FS_DEST_GATEWAY', $5)",
            rows,
        )
        await conn.execute(
            "INSERT INTO config_outbox (resource, payload) VALUES ('routes', '{}'::jsonb)"
        )
    finally:
        await conn.close()
    return [(ctx, prefix + "1234567"[: max(0, min(ml, 11) - len(prefix))])
            for _, prefix, ml, ctx, _ in rows]  # fmt: skip


def _form(template: str, context: str, number: str) -> bytes:
    out = []
    for part in template.split("&"):
        key, _, _ = part.partition("=")
        if key in ("Caller-Context", "Hunt-Context"):
            part = f"{key}={quote(context)}"
        elif key in ("Caller-Destination-Number", "Hunt-Destination-Number"):
            part = f"{key}={quote(number)}"
        out.append(part)
    return "&".join(out).encode()


async def _timed(
    n: int, in_flight: int, one: Callable[[int], Awaitable[None]]
) -> tuple[float, list[float]]:
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


def _p(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100)[q - 1]


def _spawn(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def run(ctx: Context) -> None:
    db_name = "sy_bench_" + secrets.token_hex(4)
    admin = await asyncpg.connect(ctx.pg_url)
    await admin.execute(f"CREATE DATABASE {db_name}")
    await admin.close()
    db_url = ctx.pg_url.rsplit("/", 1)[0] + "/" + db_name
    await migrate(db_url)
    calls = await _seed(db_url)
    template = SAMPLE.resolve().read_text()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env.update(
        SWITCHYARD_DATABASE_URL=db_url,
        SWITCHYARD_NATS_URL=ctx.nats_url,
        SWITCHYARD_NATS_NAMESPACE="bench" + secrets.token_hex(3),
        SWITCHYARD_LOG_LEVEL="WARNING",
    )
    base = f"http://127.0.0.1:{port}"
    server = _spawn(port, env)
    async with httpx.AsyncClient(base_url=base, timeout=30) as probe:
        try:
            for _ in range(600):
                try:
                    if (await probe.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            context, number = calls[0]
            r = await probe.post("/fs/xml", content=_form(template, context, number))
            assert r.status_code == 200 and "sofia/gateway/gw/" in r.text, r.text
            body = r.text
            # The constant answer is as long as a real one: both move the same bytes.
            await probe.post("/bench/set", content=body, headers={"Content-Type": "text/plain"})
            forms = [_form(template, c, n) for c, n in calls[:2000]]
            headers = {"Content-Type": "application/x-www-form-urlencoded"}

            async def dialplan(i: int) -> None:
                r = await probe.post("/fs/xml", content=forms[i % len(forms)], headers=headers)
                assert r.status_code == 200

            async def constant(i: int) -> None:
                r = await probe.post("/bench/const", content=forms[i % len(forms)], headers=headers)
                assert r.status_code == 200

            await _timed(300, 4, dialplan)  # warm up both paths
            await _timed(300, 4, constant)
            seq_d, lat_d = await _timed(SEQUENTIAL, 1, dialplan)
            seq_c, lat_c = await _timed(SEQUENTIAL, 1, constant)
            con_d, _ = await _timed(CONCURRENT, IN_FLIGHT, dialplan)
            con_c, _ = await _timed(CONCURRENT, IN_FLIGHT, constant)
        finally:
            server.terminate()
            await asyncio.to_thread(server.wait, 10)
            admin = await asyncpg.connect(ctx.pg_url)
            await admin.execute(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
            await admin.close()
    ctx.report("dialplan fetch, sequential", seq_d, "req/s", baseline=seq_c,
               baseline_name="constant handler")  # fmt: skip
    ctx.report(
        f"dialplan fetch, {IN_FLIGHT} in flight", con_d, "req/s", baseline=con_c,
        baseline_name="constant handler",
    )  # fmt: skip
    ctx.report("dialplan p50", _p(lat_d, 50), "ms", baseline=_p(lat_c, 50),
               baseline_name="constant handler", higher_is_better=False)  # fmt: skip
    ctx.report("dialplan p99", _p(lat_d, 99), "ms", baseline=_p(lat_c, 99),
               baseline_name="constant handler", higher_is_better=False)  # fmt: skip
    print(f"  ({ROUTES} routes in {CONTEXTS} contexts, answer {len(body)} bytes)", flush=True)

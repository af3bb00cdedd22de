"""config-api's generated CRUD over real HTTP, beside a constant handler.

A child process serves config-api (granian, one worker, as ``switchyard
run`` does) over 100,000 routes in 50 contexts, plus a Litestar handler
answering a constant JSON body as long as the real answer of each measure:
the floor the server, Litestar and the HTTP client impose. Measured from
this process, sequential (latency) and 16 in flight (throughput):

- ``GET /api/routes/<id>``, random ids;
- ``GET /api/routes?page=N&perPage=20``: the first ten pages, and pages
  spread over all 5,000 (deep pages: OFFSET up to 100k);
- ``POST /api/routes``, each with a new name and prefix.

Every real request carries an API token (looked up in Postgres, as in
production); the constant handler is outside auth.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Awaitable, Callable

import asyncpg
import httpx

from benchmarks import harness, routing_load
from benchmarks.harness import Context
from switchyard.config_api import loader
from switchyard.config_api.live import build
from switchyard.shared import accounts
from switchyard.shared.http.paging import Paging, fetch_page

CONTEXTS = 50
ROUTES = 100_000
PER_PAGE = 20
IN_FLIGHT = 16
# (sequential, in flight) requests per measure; lists over 100k rows are slow.
COUNTS = {"get": (1000, 2000), "list": (300, 600), "create": (500, 1000)}
# The routes resource's list select, as crud.list_rows wraps it.
SELECT = "SELECT * FROM (SELECT * FROM routes) AS r"


async def _seed(db_url: str) -> tuple[str, int, list[int]]:
    """100k routes to one gateway; returns an API token, the gateway id and the route ids."""
    rng = random.Random(11)  # noqa: S311 - test data, not secrets
    conn = await asyncpg.connect(db_url)
    try:
        gw = await routing_load.gateway_and_contexts(conn, CONTEXTS)
        ids = await routing_load.numbered_routes(conn, ROUTES, CONTEXTS, gw, rng)
        _, token, _ = await accounts.issue_token(conn, kind="api", name="bench")
    finally:
        await conn.close()
    return token, gw, ids


def _getter(
    http: httpx.AsyncClient, paths: list[str], const: str
) -> tuple[Callable[[int], Awaitable[None]], Callable[[int], Awaitable[None]]]:
    """GET ``paths[i]`` (round robin), and the same requests' count to the constant."""

    async def real(i: int) -> None:
        r = await http.get(paths[i % len(paths)])
        assert r.status_code == 200, r.text

    async def constant(i: int) -> None:
        r = await http.get(const)
        assert r.status_code == 200

    return real, constant


async def _pair(
    ctx: Context,
    http: httpx.AsyncClient,
    label: str,
    kind: str,
    real: Callable[[int], Awaitable[None]],
    constant: Callable[[int], Awaitable[None]],
    settle: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Warm both, then alternate them; ``settle`` lets the reloads creates set off finish."""
    await harness.timed(50, 4, constant)
    await harness.timed(50, 4, real)
    if settle is not None:
        await settle()
    sequential, concurrent = COUNTS[kind]
    ours, base = await harness.compare(
        real,
        constant,
        sequential=sequential,
        concurrent=concurrent,
        width=IN_FLIGHT,
        settle=settle,
    )
    harness.report_against(ctx, label, ours, base, "constant")


async def _explain(db_url: str) -> None:
    """What the list query (``fetch_page``, as the handler calls it) costs in Postgres alone."""
    conn = await asyncpg.connect(db_url)
    try:
        for page in (1, ROUTES // PER_PAGE):
            paging = Paging(page=page, per_page=PER_PAGE)

            async def one(i: int) -> None:
                await fetch_page(conn, select=SELECT, paging=paging)  # noqa: B023 - awaited here

            await one(0)
            per_s, _ = await harness.timed(20, 1, one)
            print(f"  (list SQL alone, page {page}: {1000 / per_s:.1f} ms)", flush=True)
    finally:
        await conn.close()


async def _reload_cost(db_url: str) -> None:
    """What one reload of the live configuration costs (each burst of writes sets one off)."""
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=1)
    try:
        start = time.perf_counter()
        loaded = await loader.load(pool, domain="example.net", timezone="UTC")
        loaded_at = time.perf_counter()
        build(loaded)
        done = time.perf_counter()
    finally:
        await pool.close()
    print(
        f"  (one reload: load {(loaded_at - start) * 1000:.0f} ms on the loop, "
        f"compile {(done - loaded_at) * 1000:.0f} ms in a thread)",
        flush=True,
    )


async def run(ctx: Context) -> None:
    rng = random.Random(5)  # noqa: S311 - test data, not secrets
    async with harness.scratch_database(ctx.pg_url) as db_url:
        started = time.perf_counter()
        token, gw, ids = await _seed(db_url)
        print(f"  (seeded {ROUTES:,} routes in {time.perf_counter() - started:.1f} s)")
        headers = {"X-XTRA-AUTH-ID": token}
        async with harness.config_api(ctx, db_url, headers=headers) as server:
            http = server.http
            sizes: dict[str, int] = {}

            async def constant_for(name: str, path: str) -> str:
                """A constant as long as the real answer at ``path``."""
                r = await http.get(path)
                assert r.status_code == 200, r.text
                sizes[name] = len(r.content)
                await harness.set_constant(http, name, r.content, "application/json")
                return f"/bench/const/{name}"

            gets = [f"/api/routes/{i}" for i in rng.sample(ids, 2000)]
            const = await constant_for("get", gets[0])
            await _pair(ctx, http, "GET /api/routes/<id>", "get", *_getter(http, gets, const))

            pages = ROUTES // PER_PAGE
            shallow = [f"/api/routes?page={1 + p % 10}&perPage={PER_PAGE}" for p in range(10)]
            page = await http.get(shallow[0])
            assert page.json()["rowCount"] == ROUTES, page.text[:200]
            const = await constant_for("list", shallow[0])
            await _pair(ctx, http, "list, pages 1-10", "list", *_getter(http, shallow, const))
            deep = [
                f"/api/routes?page={rng.randint(1, pages)}&perPage={PER_PAGE}" for _ in range(500)
            ]
            await _pair(ctx, http, f"list, pages 1-{pages}", "list", *_getter(http, deep, const))

            serial = itertools.count()

            def body() -> bytes:
                n = next(serial)
                return json.dumps(
                    {
                        "name": f"new{n}",
                        "prefix": f"9{n:07d}",
                        "max_length": 16,
                        "context": f"ctx{n % CONTEXTS}",
                        "dest_type": "FS_DEST_GATEWAY",
                        "dest_uuid": str(gw),
                        "description": "benchmark",
                    }
                ).encode()

            json_type = {"Content-Type": "application/json"}
            r = await http.post("/api/routes", content=body(), headers=json_type)
            assert r.status_code == 200 and r.json()["data"]["body"] == "gw", r.text
            sizes["create"] = len(r.content)
            await harness.set_constant(http, "create", r.content, "application/json")

            async def create(i: int) -> None:
                r = await http.post("/api/routes", content=body(), headers=json_type)
                assert r.status_code == 200, r.text

            async def create_const(i: int) -> None:
                r = await http.post("/bench/const/create", content=body(), headers=json_type)
                assert r.status_code == 200

            await _pair(ctx, http, "POST /api/routes", "create", create, create_const, server.quiet)
        await _explain(db_url)
        await _reload_cost(db_url)
    print(
        f"  ({ROUTES:,} routes in {CONTEXTS} contexts; answers: get {sizes['get']} B, "
        f"list {sizes['list']} B, create {sizes['create']} B)",
        flush=True,
    )

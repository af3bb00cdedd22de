"""The hot HTTP paths under wrk, each beside two baselines of the same run.

A child process serves config-api (granian, embedded, one worker, as
``switchyard run`` does) over 100,000 routes in 50 contexts and 1,000
extensions; the same app serves ``/bench/const/<name>``, a handler answering
a constant as long as the real answer, behind the same middleware (token
auth skipped, as for ``/fs/xml``; the operation log, OpenTelemetry, the
security headers and the body check all run). A second child serves a bare
constant Litestar app under the same server: what granian and Litestar cost
alone, and proof that wrk reaches the server's own rate.

Measured with wrk (``benchmarks/requests.lua``, one thread, 32 connections):

- ``POST /fs/xml`` dialplan (FreeSWITCH's captured ~200-field form, context
  and number varied) and directory (``sip_auth`` for varied users), with
  the basic auth mod_xml_curl sends; then each paced at a fixed 1,000 req/s
  for p50/p99, and the dialplan again while a client writes 10 routes a
  second through the API (each write reloads the configuration);
- ``GET /api/routes/<id>`` with an API token, random ids;
- ``GET /api/routes?page=1&perPage=20`` with the token, 100k rows.

A second config-api with tracing off (``OTEL_SDK_DISABLED=true``) runs
beside the first and is measured in the same rounds: what OpenTelemetry
costs on these paths. Tracing on is the default
configuration (every request sampled, a span each) without an exporter:
what the process pays to trace, not the collector's network.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import random
import time
from collections.abc import AsyncIterator
from typing import NamedTuple

import asyncpg
import httpx

from benchmarks import harness, routing_load, wrk
from benchmarks.harness import XML_CURL_AUTH, Context
from benchmarks.wrk import Req, Result
from switchyard.shared import accounts

CONTEXTS = 50
ROUTES = 100_000
EXTENSIONS = 1000
# Each measure is ROUNDS wrk runs of SECONDS, the three kinds in turn, so a
# burst of load from elsewhere on the shared machine falls on all of them.
SECONDS = 3
ROUNDS = 3
CONNECTIONS = 32
PACED_RATE = 1000
PACED_SECONDS = 10
WRITES_PER_S = 10
FORM = "application/x-www-form-urlencoded"


async def _seed(db_url: str) -> tuple[str, int, list[int], list[tuple[str, str]]]:
    """100k routes to one gateway and 1k extensions; an API token, the
    gateway id, the route ids and (context, number) pairs that hit a route."""
    rng = random.Random(11)  # noqa: S311 - test data, not secrets
    conn = await asyncpg.connect(db_url)
    try:
        gw = await routing_load.gateway_and_contexts(conn, CONTEXTS)
        ids = await routing_load.numbered_routes(conn, ROUTES, CONTEXTS, gw, rng)
        await conn.copy_records_to_table(
            "extensions",
            columns=["extn", "name", "password", "context"],
            records=[
                (str(2000 + i), f"user {i}", f"pw{i:04d}x", "ctx0") for i in range(EXTENSIONS)
            ],
        )
        await routing_load.announce_routes(conn)
        _, token, _ = await accounts.issue_token(conn, kind="api", name="bench")
    finally:
        await conn.close()
    calls = []
    for i in rng.sample(range(ROUTES), 2000):
        prefix = str(i)
        calls.append((f"ctx{i % CONTEXTS}", prefix + "1234567"[: max(0, 11 - len(prefix))]))
    return token, gw, ids, calls


def _directory_form(user: str) -> str:
    # What mod_sofia sends for a REGISTER's digest check (sip_auth).
    return (
        "hostname=fs1&section=directory&tag_name=domain&key_name=name&key_value=example.net"
        f"&key=id&user={user}&domain=example.net&action=sip_auth&ip=10.0.0.{int(user) % 250}"
        "&sip_auth_username=" + user + "&sip_auth_realm=example.net&sip_auth_method=REGISTER"
    )


class Row:
    """One measure: the path, the constant in the same app, the bare app."""

    def __init__(self, label: str, ours: Result, const: Result, bare: Result) -> None:
        self.label, self.ours, self.const, self.bare = label, ours, const, bare

    def report(self, ctx: Context) -> None:
        ctx.report(
            self.label, self.ours.rate, "req/s", baseline=self.const.rate,
            baseline_name="constant handler",
        )  # fmt: skip
        ctx.report("  constant handler, same app", self.const.rate, "req/s",
                   baseline=self.bare.rate, baseline_name="bare app")  # fmt: skip
        ctx.report("  bare constant app", self.bare.rate, "req/s")
        print(
            f"  {'':<48} p50/p99 ms: path {self.ours.p50:.1f}/{self.ours.p99:.1f}, "
            f"constant {self.const.p50:.1f}/{self.const.p99:.1f}, "
            f"bare {self.bare.p50:.1f}/{self.bare.p99:.1f}",
            flush=True,
        )


class Server(NamedTuple):
    base: str
    http: httpx.AsyncClient


async def _measure(
    servers: dict[str, Server],
    bare: str,
    label: str,
    real: list[Req],
    const: list[Req],
    headers: dict[str, str],
) -> dict[str, Row]:
    """Per server (tracing on, off): the constant and the path; and the bare app.
    ROUNDS wrk runs of each, all in turn, so the machine's load falls on all alike."""
    b_reqs = [Req(r.method, "/const", r.body) for r in const[:50]]
    plan = [(f"{n}:{k}", s.base, reqs) for n, s in servers.items()
            for k, reqs in (("const", const), ("real", real))]  # fmt: skip
    plan.append(("bare", bare, b_reqs))
    runs: dict[str, list[Result]] = {key: [] for key, _, _ in plan}
    for _ in range(ROUNDS):
        for key, url, reqs in plan:
            runs[key].append(
                await wrk.wrk(url, reqs, headers, seconds=SECONDS, connections=CONNECTIONS)
            )
    got = {key: wrk.combined(r) for key, r in runs.items()}
    return {n: Row(label, got[f"{n}:real"], got[f"{n}:const"], got["bare"]) for n in servers}


@contextlib.asynccontextmanager
async def _writer(
    http: httpx.AsyncClient, gw: int, per_s: float, start: int = 0
) -> AsyncIterator[list[float]]:
    """Start a new route's POST ``per_s`` times a second while the block runs,
    each on its own (a slow answer does not delay the next); yields latencies.
    Routes are numbered from ``start`` (a second writer needs other numbers)."""
    latencies: list[float] = []
    pending: set[asyncio.Task[None]] = set()

    async def one(n: int) -> None:
        body = {
            "name": f"w{n}", "prefix": f"8{n:07d}", "max_length": 16,
            "context": f"ctx{n % CONTEXTS}", "dest_type": "FS_DEST_GATEWAY",
            "dest_uuid": str(gw),
        }  # fmt: skip
        t = time.perf_counter()
        r = await http.post("/api/routes", json=body)
        assert r.status_code == 200, r.text
        latencies.append((time.perf_counter() - t) * 1000)

    async def loop() -> None:
        n = start
        next_at = time.monotonic()
        while True:
            n += 1
            task = asyncio.create_task(one(n))
            pending.add(task)
            task.add_done_callback(done)
            next_at += 1 / per_s
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    failed: list[BaseException] = []

    def done(task: asyncio.Task[None]) -> None:
        pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            failed.append(task.exception())  # type: ignore[arg-type]

    ticker = asyncio.create_task(loop())
    try:
        yield latencies
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        await asyncio.gather(*pending)
    if failed:
        raise RuntimeError(f"{len(failed)} route writes failed, the first: {failed[0]!r}")


async def run(ctx: Context) -> None:
    wrk.require_wrk()
    print(f"  (load average before: {wrk.load()})", flush=True)
    template = routing_load.DIALPLAN_SAMPLE.resolve().read_text()
    basic = base64.b64encode(":".join(XML_CURL_AUTH).encode()).decode()
    fs_headers = {"Authorization": f"Basic {basic}", "Content-Type": FORM,
                  "User-Agent": "freeswitch-xml/1.0"}  # fmt: skip
    async with harness.scratch_database(ctx.pg_url) as db_url:
        token, gw, ids, calls = await _seed(db_url)
        api_headers = {"X-XTRA-AUTH-ID": token}
        rng = random.Random(5)  # noqa: S311 - test data, not secrets
        dialplan = [
            Req("POST", "/fs/xml", routing_load.dialplan_form(template, c, n)) for c, n in calls
        ]
        directory = [
            Req("POST", "/fs/xml", _directory_form(str(2000 + rng.randrange(EXTENSIONS))))
            for _ in range(1000)
        ]
        gets = [Req("GET", f"/api/routes/{i}") for i in rng.sample(ids, 2000)]
        page1 = [Req("GET", "/api/routes?page=1&perPage=20")]
        async with (
            harness.config_api(ctx, db_url, headers=api_headers) as on,
            contextlib.AsyncExitStack() as second,
            wrk.bare_app(600) as bare,
        ):
            # The tracing-off server is only for the rows that compare: it is
            # stopped before the paced measures, which are of one worker on the
            # machine (a second server reloads on every write too).
            off = await second.enter_async_context(
                harness.config_api(
                    ctx, db_url, headers=api_headers, extra={"OTEL_SDK_DISABLED": "true"}
                )
            )
            servers = {
                "on": Server(str(on.http.base_url).rstrip("/"), on.http),
                "off": Server(str(off.http.base_url).rstrip("/"), off.http),
            }

            async def constant(name: str, sample: Req, headers: dict[str, str]) -> list[Req]:
                """``/bench/const/<name>`` on both servers answers what ``sample`` gets."""
                for server in servers.values():
                    r = await server.http.request(
                        sample.method, sample.path, content=sample.body or None, headers=headers
                    )
                    assert r.status_code == 200, r.text
                    kind = r.headers["content-type"].split(";")[0]
                    await harness.set_constant(server.http, name, r.content, kind)
                return [Req(sample.method, f"/bench/const/{name}", sample.body)]

            xml_const = await constant("dialplan", dialplan[0], fs_headers)
            assert b"sofia/gateway/gw/" in (await on.http.get("/bench/const/dialplan")).content
            # The constant gets the same form bodies posted (and does not read them).
            xml_const = [Req("POST", xml_const[0].path, r.body) for r in dialplan[:200]]
            dir_const = await constant("directory", directory[0], fs_headers)
            dir_const = [Req("POST", dir_const[0].path, r.body) for r in directory[:200]]
            get_const = await constant("get", gets[0], api_headers)
            list_const = await constant("list", page1[0], api_headers)
            for server in servers.values():
                # Warm the paths (first requests compile templates, fill caches).
                await wrk.wrk(server.base, dialplan, fs_headers, seconds=1)
                await wrk.wrk(server.base, gets, api_headers, seconds=1)
            rows = {
                "dialplan": await _measure(
                    servers, bare, "POST /fs/xml dialplan", dialplan, xml_const, fs_headers
                ),
                "directory": await _measure(
                    servers, bare, "POST /fs/xml directory", directory, dir_const, fs_headers
                ),
                "get": await _measure(
                    servers, bare, "GET /api/routes/<id> (token)", gets, get_const, api_headers
                ),
                "list": await _measure(
                    {"on": servers["on"]}, bare, "GET /api/routes page 1 of 100k", page1,
                    list_const, api_headers,
                ),
            }  # fmt: skip
            print("tracing on (the default):", flush=True)
            for row in rows.values():
                row["on"].report(ctx)
            base = servers["on"].base
            await second.aclose()
            # The paced measures are of the server: its own work settled, and
            # no autovacuum of the seeded tables on the other core.
            await on.quiet()
            await harness.autovacuum_done(db_url)
            print(f"  paced at {PACED_RATE} req/s, tracing on (load {wrk.load()}):", flush=True)
            for name, reqs, creqs in (
                ("dialplan", dialplan, xml_const),
                ("directory", directory, dir_const),
            ):
                for what, rq in ((name, reqs), ("constant", creqs)):
                    p = await wrk.wrk(
                        base, rq, fs_headers, seconds=PACED_SECONDS, connections=CONNECTIONS,
                        rate=PACED_RATE,
                    )  # fmt: skip
                    print(
                        f"    {what:<12} {p.rate:>8,.0f} req/s  p50 {p.p50:.2f} ms  "
                        f"p99 {p.p99:.2f} ms  max {p.max_us / 1000:.1f} ms",
                        flush=True,
                    )
            async with _writer(on.http, gw, WRITES_PER_S) as writes:
                p = await wrk.wrk(
                    base, dialplan, fs_headers, seconds=PACED_SECONDS,
                    connections=CONNECTIONS, rate=PACED_RATE,
                )  # fmt: skip
            print(
                f"    dialplan while {WRITES_PER_S} routes/s are written: {p.rate:,.0f} req/s  "
                f"p50 {p.p50:.2f} ms  p99 {p.p99:.2f} ms  max {p.max_us / 1000:.1f} ms "
                f"({len(writes)} writes, p50 "
                f"{sorted(writes)[len(writes) // 2]:.0f} ms)",
                flush=True,
            )
    print("OpenTelemetry, on vs off (both servers in the same rounds):", flush=True)
    for name in ("dialplan", "directory", "get"):
        row_on, row_off = rows[name]["on"], rows[name]["off"]
        ctx.report(
            f"{row_on.label}, tracing on", row_on.ours.rate, "req/s",
            baseline=row_off.ours.rate, baseline_name="tracing off",
        )  # fmt: skip
        ctx.report(
            f"  tracing off ({row_off.ours.rate / row_off.const.rate:.2f}x its constant)",
            row_off.ours.rate, "req/s",
        )  # fmt: skip
        ctx.report(
            "  constant handler, tracing on", row_on.const.rate, "req/s",
            baseline=row_off.const.rate, baseline_name="tracing off",
        )  # fmt: skip
    print(f"  (load average after: {wrk.load()}; {ROUTES:,} routes, {EXTENSIONS} extensions)")

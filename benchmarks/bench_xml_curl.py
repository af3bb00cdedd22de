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

import random
from collections.abc import Awaitable, Callable

import asyncpg

from benchmarks import routing_load
from benchmarks.harness import (
    XML_CURL_AUTH,
    Context,
    compare,
    config_api,
    report_against,
    scratch_database,
    set_constant,
    timed,
)

CONTEXTS = 50
ROUTES = 10_000
SEQUENTIAL = 1500
CONCURRENT = 4000
IN_FLIGHT = 16


async def _seed(db_url: str) -> list[tuple[str, str]]:
    """10k routes over 50 contexts to gateways; returns (context, number) to dial."""
    rng = random.Random(7)  # noqa: S311 - test data, not secrets
    conn = await asyncpg.connect(db_url)
    try:
        gw = await routing_load.gateway_and_contexts(conn, CONTEXTS)
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
        await routing_load.announce_routes(conn)
    finally:
        await conn.close()
    return [(ctx, prefix + "1234567"[: max(0, min(ml, 11) - len(prefix))])
            for _, prefix, ml, ctx, _ in rows]  # fmt: skip


def _form(template: str, context: str, number: str) -> bytes:
    return routing_load.dialplan_form(template, context, number).encode()


async def run(ctx: Context) -> None:
    template = routing_load.DIALPLAN_SAMPLE.resolve().read_text()
    async with scratch_database(ctx.pg_url) as db_url:
        calls = await _seed(db_url)
        async with config_api(ctx, db_url) as server:
            http = server.http
            # FreeSWITCH's gateway-credentials; the constant handler gets them too,
            # so both requests carry the same bytes.
            http.auth = XML_CURL_AUTH
            context, number = calls[0]
            r = await http.post("/fs/xml", content=_form(template, context, number))
            assert r.status_code == 200 and "sofia/gateway/gw/" in r.text, r.text
            body = r.content
            # The constant answer is as long as a real one: both move the same bytes.
            await set_constant(http, "xml", body, "text/xml")
            forms = [_form(template, c, n) for c, n in calls[:2000]]
            headers = {"Content-Type": "application/x-www-form-urlencoded"}

            def poster(path: str) -> Callable[[int], Awaitable[None]]:
                async def one(i: int) -> None:
                    r = await http.post(path, content=forms[i % len(forms)], headers=headers)
                    assert r.status_code == 200

                return one

            dialplan, constant = poster("/fs/xml"), poster("/bench/const/xml")
            await timed(300, 4, dialplan)  # warm up both paths
            await timed(300, 4, constant)
            ours, base = await compare(
                dialplan, constant, sequential=SEQUENTIAL, concurrent=CONCURRENT, width=IN_FLIGHT
            )
    report_against(ctx, "dialplan fetch", ours, base, "constant handler")
    print(f"  ({ROUTES} routes in {CONTEXTS} contexts, answer {len(body)} bytes)", flush=True)

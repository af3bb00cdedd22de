"""Bus request/reply: the typed Bus.request against a bare nats-py request, same server."""

from __future__ import annotations

import msgspec

from benchmarks.harness import Context, latencies, rate
from switchyard.shared.bus import Bus
from switchyard.shared.subjects import Subjects

N = 3000


class Ask(msgspec.Struct):
    n: int


async def run(ctx: Context) -> None:
    bus = await Bus.connect(ctx.nats_url, Subjects("bench"))
    try:

        async def echo(ask: Ask) -> Ask:
            return ask

        await bus.serve(bus.subjects.ping, Ask, echo)
        raw_subject = bus.subjects.ping + "-raw"

        async def raw_echo(msg: object) -> None:
            await msg.respond(msg.data)  # type: ignore[attr-defined]

        await bus.nc.subscribe(raw_subject, cb=raw_echo)

        async def typed() -> object:
            return await bus.request(bus.subjects.ping, Ask(1), Ask)

        async def bare() -> object:
            return await bus.nc.request(raw_subject, b'{"n":1}', timeout=5)

        await rate(200, typed)  # warm up both paths
        await rate(200, bare)
        bare_rate = await rate(N, bare)
        typed_rate = await rate(N, typed)
        ctx.report("bare nats-py request (baseline)", bare_rate, "req/s")
        ctx.report(
            "Bus.request (typed, traced envelope)",
            typed_rate,
            "req/s",
            baseline=bare_rate,
            baseline_name="bare",
        )
        p50, p99 = await latencies(N, typed)
        bp50, bp99 = await latencies(N, bare)
        ctx.report(
            "Bus.request p50",
            p50,
            "ms",
            baseline=bp50,
            baseline_name="bare p50",
            higher_is_better=False,
        )
        ctx.report(
            "Bus.request p99",
            p99,
            "ms",
            baseline=bp99,
            baseline_name="bare p99",
            higher_is_better=False,
        )
    finally:
        await bus.close()

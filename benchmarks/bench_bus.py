"""Bus request/reply: the typed Bus.request against a bare nats-py request, same server."""

from __future__ import annotations

import msgspec

from benchmarks.harness import Context, one_at_a_time
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

        await one_at_a_time(
            ctx,
            "Bus.request (typed, traced envelope)",
            typed,
            bare,
            n=N,
            warm=200,
            unit="req/s",
            bare_label="bare nats-py request",
            short="Bus.request",
        )
    finally:
        await bus.close()

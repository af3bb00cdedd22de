"""call-control reuses config-api's route answers only while they cannot
have changed: a timeless answer (or "no route") until a configuration change
is announced, never one that depends on the time, never one asked just after
a change."""

from __future__ import annotations

import asyncio

import pytest

from switchyard.call_control.route_cache import RouteCache
from switchyard.shared.bus import Bus, BusError
from switchyard.shared.messages import ConfigChanged, RouteReply, RouteRequest


def reply(request: RouteRequest, version: int, *, timeless: bool = True) -> RouteReply:
    return RouteReply(
        outcome="route", reason="", context=request.context, callee=request.number,
        caller=request.caller, actions=[], dial_string=f"user/{request.number}@v{version}",
        version=version, timeless=timeless,
    )  # fmt: skip


async def test_answers_are_reused_until_the_configuration_changes(bus: Bus) -> None:
    asked: list[RouteRequest] = []
    version = 1

    async def config_api(request: RouteRequest) -> RouteReply:
        asked.append(request)
        if request.number == "404":
            raise BusError("not_found", "no route matches")
        return reply(request, version, timeless=request.number != "9000")

    await bus.serve(bus.subjects.route_lookup, RouteRequest, config_api)
    cache = RouteCache(bus, ttl=30, quiet=1.0)
    await cache.start()
    try:
        office = RouteRequest("context-1", "1000")
        for _ in range(5):
            assert (await cache.lookup(office)).dial_string == "user/1000@v1"
        assert len(asked) == 1 and cache.hits == 4

        # Time-dependent answers are asked every time; "no route" is kept.
        for _ in range(3):
            await cache.lookup(RouteRequest("context-1", "9000"))
            with pytest.raises(BusError) as err:
                await cache.lookup(RouteRequest("context-1", "404"))
            assert err.value.code == "not_found"
        assert len(asked) == 5

        # A change is announced: the next call asks again and sees it; during
        # the quiet time after the notice answers are not kept (a config-api
        # replica may still serve the previous version).
        version = 2
        await bus.publish(
            bus.subjects.config_changed("routes"), ConfigChanged("routes", "update", [1])
        )
        asked.clear()
        async with asyncio.timeout(5):
            while (await cache.lookup(office)).dial_string != "user/1000@v2":  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await cache.lookup(office)
        assert len(asked) >= 2  # not kept while quiet
        await asyncio.sleep(1.05)
        asked.clear()
        await cache.lookup(office)
        await cache.lookup(office)
        assert len(asked) == 1  # kept again once quiet
    finally:
        await cache.stop()

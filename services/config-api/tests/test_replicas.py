"""Two config-api replicas on one database and NATS namespace: a write
acknowledged by one is served by the other within a second, notices or not;
and sy.config.route answers as a dialled call would be routed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import pytest_asyncio

from switchyard.config_api.live import Live
from switchyard.config_api.service import service
from switchyard.shared.bus import Bus, BusError
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import serving

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# The promise: acknowledged writes are served everywhere within this.
PROMISE = 1.0


class Replica:
    def __init__(self, client: httpx.AsyncClient, live: Live, xml_curl_secret: str) -> None:
        self.client = client
        self.live = live
        self.fs_auth = httpx.BasicAuth("freeswitch", xml_curl_secret)


@pytest_asyncio.fixture
async def replicas(settings: Settings, api_token: str) -> AsyncIterator[list[Replica]]:
    async with AsyncExitStack() as stack:
        out = []
        for _ in range(2):
            app = create_app(settings, [service])
            client = await stack.enter_async_context(
                serving(app, headers={"X-XTRA-AUTH-ID": api_token})
            )
            out.append(Replica(client, app.state["config-api"].live, settings.xml_curl_secret))
        yield out


async def bridge_of(r: Replica, number: str) -> str | None:
    body = urlencode(
        {"section": "dialplan", "Caller-Context": "context-1",
         "Caller-Destination-Number": number, "Caller-Caller-ID-Number": "1000"}
    )  # fmt: skip
    resp = await r.client.post("/fs/xml", content=body, headers=FORM, auth=r.fs_auth)
    assert resp.status_code == 200
    if 'application="bridge"' not in resp.text:
        return None
    return resp.text.split('application="bridge" data="')[1].split('"')[0]


async def served_within(r: Replica, number: str, expected: str, start: float) -> float:
    """Seconds from ``start`` until ``r`` answers ``expected``; fails after PROMISE."""
    while True:
        if await bridge_of(r, number) == expected:
            return time.monotonic() - start
        assert time.monotonic() - start < PROMISE, f"not served within {PROMISE}s"
        await asyncio.sleep(0.01)


async def write_route(r: Replica, name: str, prefix: str, gateway_id: int) -> float:
    resp = await r.client.post(
        "/api/routes",
        json={"name": name, "prefix": prefix, "max_length": 12, "context": "context-1",
              "dest_type": "FS_DEST_GATEWAY", "dest_uuid": str(gateway_id)},
    )  # fmt: skip
    assert resp.status_code == 200, resp.text
    return time.monotonic()  # the moment the client has its acknowledgement


async def gateway(r: Replica, name: str) -> int:
    resp = await r.client.post("/api/gateways", json={"name": name, "realm": "x"})
    assert resp.status_code == 200, resp.text
    return int(resp.json()["data"])


async def test_the_other_replica_serves_an_acknowledged_write_within_a_second(
    replicas: list[Replica],
) -> None:
    a, b = replicas
    gid = await gateway(a, "gw-a")
    assert await bridge_of(b, "5551") is None
    full_loads = (a.live.full_loads, b.live.full_loads)
    acked = await write_route(a, "r1", "555", gid)
    await served_within(b, "5551", "sofia/gateway/gw-a/5551", acked)
    await served_within(a, "5551", "sofia/gateway/gw-a/5551", acked)
    # Both read only what changed (loader.py, 0105_route_changes.sql).
    assert (a.live.full_loads, b.live.full_loads) == full_loads


async def test_a_replica_whose_notice_was_lost_still_converges(replicas: list[Replica]) -> None:
    a, b = replicas
    # B stops hearing sy.config.changed.*: only its config_version poll is left.
    await b.live._sub.unsubscribe()
    gid = await gateway(a, "gw-b")
    before = b.live.reloads
    acked = await write_route(a, "r2", "556", gid)
    await served_within(b, "5561", "sofia/gateway/gw-b/5561", acked)
    assert b.live.reloads > before


async def test_route_lookup_over_nats(replicas: list[Replica], bus: Bus) -> None:
    a, _ = replicas
    gid = await gateway(a, "gw-c")
    await write_route(a, "r3", "557", gid)
    await a.client.get("/api/routes/explain?destNumber=0")  # a has compiled the write
    ask: dict[str, Any] = {"context": "context-1", "number": "5571", "caller": "1000"}
    reply: dict[str, Any] = {}
    deadline = time.monotonic() + PROMISE
    while True:  # either replica may answer (queue group); b compiles within a second
        try:
            reply = await bus.request(bus.subjects.route_lookup, ask, dict, timeout=2)
            break
        except BusError as exc:
            assert exc.code == "not_found" and time.monotonic() < deadline
            await asyncio.sleep(0.02)
    assert reply["dial_string"] == "sofia/gateway/gw-c/5571"
    assert reply["outcome"] == "route" and reply["callee"] == "5571"
    assert reply["timeless"] is True  # no time rule: call-control may reuse it
    assert ("bridge", "sofia/gateway/gw-c/5571") in [
        (x["application"], x["data"]) for x in reply["actions"]
    ]
    with pytest.raises(BusError) as err:
        await bus.request(
            bus.subjects.route_lookup, {"context": "public", "number": "1"}, dict, timeout=2
        )
    assert err.value.code == "not_found"
    with pytest.raises(BusError) as bad:
        await bus.request(bus.subjects.route_lookup, {"number": "1"}, dict, timeout=2)
    assert bad.value.code == "invalid"


async def read_within(r: Replica, path: str, check: Any, start: float) -> float:
    """Seconds from ``start`` until ``check(response)`` holds on ``r``; fails after PROMISE."""
    while True:
        if check(await r.client.get(path)):
            return time.monotonic() - start
        assert time.monotonic() - start < PROMISE, f"{path} not current within {PROMISE}s"
        await asyncio.sleep(0.01)


def named(name: str) -> Any:
    return lambda resp: resp.status_code == 200 and resp.json()["name"] == name


async def test_cached_reads_follow_writes_on_both_replicas(replicas: list[Replica]) -> None:
    a, b = replicas
    gid = await gateway(a, "gw-d")
    await write_route(a, "before", "558", gid)
    listed = await a.client.get("/api/routes?name=before")
    rid = listed.json()["data"][0]["id"]
    path, page = f"/api/routes/{rid}", "/api/routes?page=1&perPage=5"
    for r in (a, b):  # both replicas have read (and kept) the row and the count
        assert named("before")(await r.client.get(path))
    total = (await b.client.get(page)).json()["rowCount"]
    await a.client.get(page)

    def listed_as(name: str) -> Any:
        return lambda resp: name in [r["name"] for r in resp.json()["data"]]

    resp = await a.client.put(path, json={"name": "after"})
    assert resp.status_code == 200, resp.text
    # The replica that wrote answers its own write at once, not from what it kept.
    assert named("after")(await a.client.get(path))
    assert listed_as("after")(await a.client.get(page))
    await read_within(b, path, named("after"), time.monotonic())
    await read_within(b, page, listed_as("after"), time.monotonic())

    acked = await write_route(a, "another", "559", gid)
    assert (await a.client.get(page)).json()["rowCount"] == total + 1
    await read_within(b, page, lambda resp: resp.json()["rowCount"] == total + 1, acked)

    assert (await a.client.delete(path)).status_code == 200
    assert (await a.client.get(path)).status_code == 404
    await read_within(b, path, lambda resp: resp.status_code == 404, time.monotonic())


async def test_cached_reads_follow_a_write_whose_notice_was_lost(
    replicas: list[Replica],
) -> None:
    a, b = replicas
    gid = await gateway(a, "gw-e")
    await write_route(a, "heard", "560", gid)
    rid = (await a.client.get("/api/routes?name=heard")).json()["data"][0]["id"]
    path = f"/api/routes/{rid}"
    assert named("heard")(await b.client.get(path))
    await b.live._sub.unsubscribe()  # only b's config_version poll is left
    resp = await a.client.put(path, json={"name": "unheard"})
    assert resp.status_code == 200, resp.text
    await read_within(b, path, named("unheard"), time.monotonic())

"""A FreeSWITCH node that drops its ESL connections, and the call variants that act on calls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import msgspec
import nats.js.errors
import pytest_asyncio

from switchyard.call_control.replica import Replica
from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.fssim import Behaviour, Simulator
from switchyard.shared.bus import Bus
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually, serving


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as s:
        node = await s.add_node("fs1")
        node.register_user("1000")
        node.register_user("1002")
        node.register_user("1009", behaviour=Behaviour(mode="silent"))
        yield s


@pytest_asyncio.fixture
async def stack(
    settings: Settings, sim: Simulator, api_token: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Replica]]:
    s = msgspec.structs.replace(settings, fs_nodes=sim.fs_nodes, node_lease=2.0)
    app = create_app(s, [config_api, call_control])
    async with serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as c:
        replica: Replica = app.state["call-control"]
        await eventually(lambda: "fs1" in replica.agents and replica.agents["fs1"].client.connected)
        yield c, replica


async def _location(bus: Bus, uuid: str) -> str | None:
    kv = await bus.js.key_value(bus.subjects.channel_location_bucket)
    try:
        entry = await kv.get(uuid)
    except nats.js.errors.KeyNotFoundError:
        return None
    return entry.value.decode() if entry.value else None


async def test_a_dropped_node_fails_pending_calls_fast_then_reconnects_and_reconciles(
    stack: tuple[httpx.AsyncClient, Replica], sim: Simulator, bus: Bus
) -> None:
    client, replica = stack
    node = sim.node("fs1")
    kept = (await client.post("/api/channels", data={"destNumber": "1000"})).json()["uuid"]
    ended = (await client.post("/api/channels", data={"destNumber": "1000"})).json()["uuid"]
    assert await _location(bus, kept) == "fs1"

    # An originate to a phone that never answers is pending when the node drops.
    pending = asyncio.create_task(
        client.post("/api/channels", data={"destNumber": "1009", "timeout": "60"})
    )
    await eventually(
        lambda: any(
            c.variables.get("dialed_user") == "1009" or "1009" in c.name
            for c in node.channels.values()
        )
    )
    started = time.monotonic()
    await node.drop_connections()
    answer = await asyncio.wait_for(pending, 15)
    assert answer.status_code == 503
    assert answer.json()["data"]["reason"] == "node_unavailable"
    assert time.monotonic() - started < 15  # it did not sit out the 60 s originate

    # Meanwhile, on the node: one call ends, another begins.
    node.hangup(node.find(ended), "NORMAL_CLEARING")  # type: ignore[arg-type]
    await eventually(lambda: node.find(ended) is None)
    began = (await node.api("originate user/1002 &park()")).split()[1]

    # The replica still owns the node, reconnects and reconciles the locations.
    assert replica.ownership.owns("fs1")
    await eventually(lambda: replica.agents["fs1"].client.connected, timeout=15)
    assert replica.agents["fs1"].client.connections >= 2
    deadline = time.monotonic() + 10
    while await _location(bus, ended) is not None:
        assert time.monotonic() < deadline, "an ended channel stayed located"
        await asyncio.sleep(0.05)
    assert await _location(bus, kept) == "fs1"
    assert await _location(bus, began) == "fs1"
    live = {c.uuid for c in node.channels.values()}
    for uuid in live:
        assert await _location(bus, uuid) == "fs1"

    # Commands work again.
    r = await client.delete(f"/api/channels/{kept}")
    assert r.status_code == 200


async def test_the_reconcile_neither_loses_nor_invents_a_channel_while_show_channels_lags(
    stack: tuple[httpx.AsyncClient, Replica], sim: Simulator, bus: Bus
) -> None:
    """A call begins and another ends while the owner is away, just before it
    is back: its first ``show channels`` comes while the table is still one SQL
    batch behind (rows lack the new call and still hold the ended one)."""
    client, replica = stack
    node = sim.node("fs1")
    assert node.show_channels_lag
    agent = replica.agents["fs1"]
    kept = (await client.post("/api/channels", data={"destNumber": "1000"})).json()["uuid"]
    ended = (await client.post("/api/channels", data={"destNumber": "1000"})).json()["uuid"]
    await eventually(lambda: {r["uuid"] for r in node.channel_table.rows()} == {kept, ended})
    # The owner retries at once, and is let in right after the changes.
    agent.client.backoff_initial = agent.client.backoff_max = 0.005
    reconciled = agent.readied  # on_ready runs after each reconcile
    node.accept_connections = False
    await node.drop_connections()
    node.hangup(node.find(ended))  # type: ignore[arg-type]
    began = (await node.api("originate user/1002 &park()")).split()[1]
    node.accept_connections = True

    await eventually(lambda: agent.readied > reconciled, timeout=15)
    assert agent.channels == {kept, began}
    assert await _location(bus, ended) is None
    assert await _location(bus, kept) == "fs1"
    assert await _location(bus, began) == "fs1"


async def test_eavesdrop_three_way_and_intercept_act_on_the_given_call(
    stack: tuple[httpx.AsyncClient, Replica], sim: Simulator
) -> None:
    client, _ = stack
    node = sim.node("fs1")
    target = (await client.post("/api/channels", data={"destNumber": "1000"})).json()["uuid"]
    for app in ("eavesdrop", "three_way"):
        r = await client.post(
            "/api/channels", data={"destNumber": "1002", "app": app, "args": target}
        )
        body = r.json()
        assert body["result"] == "ok", body
        spy = await eventually(lambda uuid=body["uuid"]: node.find(uuid))
        await eventually(lambda spy=spy, app=app: spy.application == app)
        assert spy.application_data == target

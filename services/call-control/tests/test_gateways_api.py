"""Gateway status and control, and config changes reaching FreeSWITCH, against fssim."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import httpx
import msgspec
import pytest_asyncio

from switchyard.call_control.replica import Replica
from switchyard.call_control.service import service as call_control
from switchyard.fssim import Node, Simulator
from switchyard.shared.bus import Bus
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually, serving

Handler = Callable[[Node, str], Awaitable[str]]


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as s:
        await s.add_node("fs1")
        await s.add_node("fs2")
        yield s


@pytest_asyncio.fixture
async def client(
    settings: Settings, sim: Simulator, api_token: str
) -> AsyncIterator[httpx.AsyncClient]:
    s = msgspec.structs.replace(settings, fs_nodes=sim.fs_nodes, node_lease=2.0)
    app = create_app(s, [call_control])
    async with serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as c:
        replica = app.state["call-control"]
        await eventually(
            lambda: (
                len(replica.agents) == 2
                and all(a.client.connected for a in replica.agents.values())
            )
        )
        c.app_state = app.state  # type: ignore[attr-defined]
        yield c


async def test_list1_shows_every_nodes_gateways(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/gateways/list1")
    assert r.status_code == 200
    assert sorted(r.json(), key=lambda g: g["node"]) == [
        {"gateway_status": "UP", "name": "example", "gateway_state": "NOREG", "node": "fs1"},
        {"gateway_status": "UP", "name": "example", "gateway_state": "NOREG", "node": "fs2"},
    ]


async def test_control_by_name_in_body_or_query(client: httpx.AsyncClient, sim: Simulator) -> None:
    r = await client.put("/api/gateways/control", json={"action": "killgw", "gwname": "example"})
    assert r.json() == {"code": 200, "message": "success", "data": {}}
    assert all("example" not in n.gateways for n in sim.nodes)
    assert (await client.get("/api/gateways/list1")).json() == []

    r = await client.put("/api/gateways/control?gwname=example&action=start")
    assert r.status_code == 200
    assert all("example" in n.gateways for n in sim.nodes)

    r = await client.put("/api/gateways/control", json={"action": "register", "gwname": "example"})
    assert r.status_code == 200
    states = {g["gateway_state"] for g in (await client.get("/api/gateways/list1")).json()}
    assert states == {"REGED"}


async def test_control_failures(client: httpx.AsyncClient) -> None:
    r = await client.put("/api/gateways/control", json={"action": "killgw", "gwname": "nope"})
    assert r.status_code == 404
    r = await client.put("/api/gateways/control", json={"action": "explode", "gwname": "example"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "action"
    r = await client.put("/api/gateways/control", json={"action": "start"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "gwname"
    # A whole number names the gateway of its digits; a fraction names none
    # (it was read as the text "2.5e-42" and started on the first profile).
    r = await client.put("/api/gateways/control", json={"action": "start", "gwname": 2.5e-42})
    assert r.status_code == 400 and r.json()["data"]["field"] == "gwname"
    # The name reaches a sofia command line: what could end or extend it is refused.
    for bad in ("gw}", "${system(id)}", "gw\nkillgw all", "gw all", "gw\r"):
        r = await client.put("/api/gateways/control", json={"action": "killgw", "gwname": bad})
        assert r.status_code == 400 and r.json()["data"]["field"] == "gwname", bad


async def test_control_and_config_changes_reach_the_nodes(
    client: httpx.AsyncClient, sim: Simulator, db: asyncpg.Pool, bus: Bus
) -> None:
    gw_id = await db.fetchval(
        "INSERT INTO gateways (name, profile_id) VALUES ('example', 'internal') RETURNING id"
    )
    r = await client.put("/api/gateways/control", json={"action": "killgw", "gwname": "example"})
    assert r.status_code == 200
    assert all("example" not in n.gateways for n in sim.nodes)
    r = await client.put("/api/gateways/control", json={"action": "start", "gwname": "example"})
    assert all("example" in n.gateways for n in sim.nodes)

    # Disabling the row in configuration stops it on every node...
    await db.execute("UPDATE gateways SET disabled = 1 WHERE id = $1", gw_id)
    notice = {"resource": "gateways", "action": "update", "ids": [gw_id]}
    await bus.publish(bus.subjects.config_changed("gateways"), notice)
    await eventually(lambda: all("example" not in n.gateways for n in sim.nodes))
    # ...and enabling it starts it again.
    await db.execute("UPDATE gateways SET disabled = 0 WHERE id = $1", gw_id)
    await bus.publish(bus.subjects.config_changed("gateways"), notice)
    await eventually(lambda: all("example" in n.gateways for n in sim.nodes))


def _record(sim: Simulator, *commands: str) -> dict[str, list[str]]:
    """Record, per node, each of ``commands`` the node is asked to run."""
    seen: dict[str, list[str]] = {n.name: [] for n in sim.nodes}
    for node in sim.nodes:
        for command in commands:
            real = node.api_handlers[command]

            async def recorded(
                n: Node, args: str, command: str = command, real: Handler = real
            ) -> str:
                seen[n.name].append(command)
                return await real(n, args)

            node.api_handlers[command] = recorded
    return seen


async def _settled(client: httpx.AsyncClient) -> Replica:
    replica: Replica = client.app_state["call-control"]  # type: ignore[attr-defined]
    # The configuration re-applied on connecting is done.
    await eventually(lambda: all(a.readied for a in replica.agents.values()))
    return replica


async def test_reload_notices_reach_every_node(
    client: httpx.AsyncClient, sim: Simulator, bus: Bus
) -> None:
    await _settled(client)
    seen = _record(sim, "reloadxml", "reloadacl")
    for resource, command in (
        ("extensions", "reloadxml"),
        ("ivrs", "reloadxml"),
        ("contexts", "reloadxml"),
        ("iptables", "reloadacl"),
    ):
        before = {name: len(cmds) for name, cmds in seen.items()}
        await bus.publish(
            bus.subjects.config_changed(resource),
            {"resource": resource, "action": "update", "ids": [1]},
        )
        await eventually(lambda b=before: all(len(c) > b[n] for n, c in seen.items()))
        assert all(c[before[n] :] == [command] for n, c in seen.items()), (resource, seen)


async def test_a_reconnected_node_gets_what_it_missed(
    client: httpx.AsyncClient, sim: Simulator, db: asyncpg.Pool
) -> None:
    replica = await _settled(client)
    fs1, fs2 = sim.node("fs1"), sim.node("fs2")
    seen = _record(sim, "reloadxml", "reloadacl")
    # Configured and disabled with no notice heard: fs1 learns it on reconnecting.
    await db.execute("INSERT INTO gateways (name, disabled) VALUES ('example', 1)")
    readied = replica.agents["fs1"].readied
    await fs1.drop_connections()
    await eventually(lambda: replica.agents["fs1"].readied > readied, timeout=15)
    assert seen["fs1"] == ["reloadxml", "reloadacl"]
    assert "example" not in fs1.gateways
    # fs2 stayed connected: nothing was re-applied there.
    assert seen["fs2"] == [] and "example" in fs2.gateways


async def test_a_gateway_starts_on_the_profile_config_api_puts_it_on(
    client: httpx.AsyncClient, sim: Simulator, db: asyncpg.Pool, bus: Bus
) -> None:
    await _settled(client)
    for node in sim.nodes:
        node.profiles["external"] = "sip:mod_sofia@127.0.0.1:5080"
    # No profile named: config-api's sofia.conf lists it under "external".
    gw_id = await db.fetchval("INSERT INTO gateways (name) VALUES ('example') RETURNING id")
    r = await client.put("/api/gateways/control", json={"action": "killgw", "gwname": "example"})
    assert r.status_code == 200
    r = await client.put("/api/gateways/control", json={"action": "start", "gwname": "example"})
    assert r.status_code == 200
    assert [n.gateways["example"].profile for n in sim.nodes] == ["external", "external"]

    await client.put("/api/gateways/control", json={"action": "killgw", "gwname": "example"})
    notice = {"resource": "gateways", "action": "update", "ids": [gw_id]}
    await bus.publish(bus.subjects.config_changed("gateways"), notice)
    await eventually(lambda: all("example" in n.gateways for n in sim.nodes))
    assert [n.gateways["example"].profile for n in sim.nodes] == ["external", "external"]


async def test_control_without_a_live_owner_is_503_not_404(
    client: httpx.AsyncClient, sim: Simulator, db: asyncpg.Pool
) -> None:
    replica = await _settled(client)
    await db.execute("INSERT INTO gateways (name) VALUES ('example')")
    # Every node loses its owner: nobody can say whether the gateway is there.
    await replica.ownership.stop(release=True)
    await eventually(lambda: not replica.agents)
    for r in (
        await client.put("/api/gateways/control", json={"action": "killgw", "gwname": "example"}),
        await client.put("/api/gateways/control", json={"action": "start", "gwname": "example"}),
        await client.put("/api/gateways/control", json={"action": "killgw", "gwname": "nope"}),
    ):
        assert r.status_code == 503, r.text
        assert r.json()["data"]["reason"] == "no_responder"
    assert all("example" in n.gateways for n in sim.nodes)  # nothing was done

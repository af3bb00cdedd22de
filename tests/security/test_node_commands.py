"""Issue 10, findings 4, 6 and 10 at call-control's end: a command that
arrives on a node's bus subject (from our HTTP handlers or from any process
that can publish there) is held to the shared rules before it reaches ESL,
and a stored gateway name FreeSWITCH would read as several arguments is
skipped without stopping the others."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from switchyard.call_control import config_sync
from switchyard.call_control.node_commands import (
    Api,
    ApiResult,
    App,
    CallcenterConfig,
    ChannelApi,
    Hangup,
    NodeCommand,
    Originate,
    OriginateResult,
    Transfer,
)
from switchyard.call_control.nodes import parse_nodes
from switchyard.call_control.replica import Replica
from switchyard.fssim import Simulator
from switchyard.shared.bus import Bus, BusError
from switchyard.shared.testing import eventually


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as s:
        await s.add_node("fs1")
        yield s


@pytest_asyncio.fixture
async def replica(bus: Bus, sim: Simulator, db: asyncpg.Pool) -> AsyncIterator[Replica]:
    r = Replica(bus, parse_nodes(sim.fs_nodes), pool=db, lease=2.0)
    await r.start()
    try:
        await eventually(lambda: "fs1" in r.agents and r.agents["fs1"].client.connected)
        # The configuration re-applied on connecting is done (not recorded below).
        await eventually(lambda: r.agents["fs1"].readied > 0)
        yield r
    finally:
        await r.stop()


UUID = "7f4c0f7e-0000-4000-8000-000000000001"


@pytest.mark.parametrize(
    "cmd",
    [
        Api("system", "id"),
        Api("bgapi", "system id"),
        Api("lua", "~os.execute('id')"),
        Api("status", "${system(id)}"),
        Api("status", "x\nbgapi system id"),
        ChannelApi(UUID, "system", "id"),
        ChannelApi(UUID, "uuid_setvar", f"{UUID} api_hangup_hook system id"),
        Hangup(UUID, "NORMAL_CLEARING\nbgapi system id"),
        Originate(uuid=UUID, dial="user/1000", apps=(App("system", "id"),)),
        Originate(uuid=UUID, dial="user/1000", apps=(App("bgsystem", "id"),)),
        Originate(uuid=UUID, dial="{execute_on_answer=system id}user/1000"),
        Originate(uuid=UUID, dial="user/1000 &system(id)"),
        Originate(uuid=UUID, dial="user/1000", variables=(("api_hangup_hook", "system id"),)),
        Originate(uuid=UUID, dial="user/1000", variables=(("x", "a}[y=1]user/2"),)),
        Originate(uuid=UUID, dial="user/1000", apps=(App("set", "x=${system(id)}"),)),
        # uuid_transfer reads a leading - as its -bleg/-both flag.
        Transfer(UUID, "-both", "default"),
        Transfer(UUID, "800 XML x", "default"),
        CallcenterConfig(("agent", "set", "status", "800@default", "x\nbgapi system id")),
    ],
)
async def test_a_command_from_the_bus_that_breaks_the_rules_never_reaches_esl(
    replica: Replica, sim: Simulator, bus: Bus, cmd: NodeCommand
) -> None:
    node = sim.node("fs1")
    seen: list[str] = []
    for name, real in list(node.api_handlers.items()):

        async def recorded(n: object, args: str, name: str = name, real: object = real) -> str:
            seen.append(f"{name} {args}")
            return await real(n, args)  # type: ignore[operator]

        node.api_handlers[name] = recorded
    reply = OriginateResult if isinstance(cmd, Originate) else ApiResult
    subject = (
        bus.subjects.any_node_command
        if isinstance(cmd, Originate)
        else bus.subjects.node_command("fs1")
    )
    with pytest.raises(BusError) as err:
        await bus.request(subject, cmd, reply)
    assert err.value.code == "invalid"
    assert seen == []
    # The same node still answers a command that keeps the rules.
    ok = await bus.request(bus.subjects.node_command("fs1"), Api("status"), ApiResult)
    assert ok.body.startswith("UP ")


async def test_a_stored_gateway_name_with_syntax_is_skipped_and_the_rest_start(
    replica: Replica, sim: Simulator, db: asyncpg.Pool
) -> None:
    node = sim.node("fs1")
    sent: list[str] = []
    real = node.api_handlers["sofia"]

    async def sofia(n: object, args: str) -> str:
        sent.append(args)
        return await real(n, args)  # type: ignore[arg-type]

    node.api_handlers["sofia"] = sofia
    # Rows written before config-api refused such names.
    for name in ("badnl\n\napi status", "sp x", "gwsec\n", "good-gw"):
        await db.execute("INSERT INTO gateways (name, profile_id) VALUES ($1, 'internal')", name)
    run = await config_sync.sync_gateways(replica.agents["fs1"], db, set())
    assert run == ["sofia profile internal startgw good-gw"]
    assert sent == ["status", "profile internal startgw good-gw"]

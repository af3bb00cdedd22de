"""mod_cti's /cli: the key, the command allowlist, line-break smuggling, and the
owner's own check of every CliApi whoever sends it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
import pytest_asyncio

from switchyard.call_control.cli_http import parse_query
from switchyard.call_control.cli_rules import REFUSED, CliRefused, check_cli
from switchyard.call_control.node_commands import Api, ApiResult, CliApi
from switchyard.call_control.service import service as call_control
from switchyard.fssim import Simulator
from switchyard.shared.bus import BusError
from switchyard.shared.fsvalues import APPLICATIONS, REFUSED_API_COMMANDS
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually, serving

SHELL = ["system", "bg_system", "spawn", "lua", "perl", "jsrun", "eval", "expand"]
EVERYTHING = frozenset(SHELL) | REFUSED_API_COMMANDS | {"status", "originate"}
SMUGGLED = [
    "status\nbgapi system id",
    "status\r\n\r\nbgapi system id",
    "status\x00api system id",
    "user/1000 &echo\n\napi system id",
]
ORIGINATE_ATTACKS = [
    "{execute_on_answer=system id}user/1000 &echo",
    "{execute_on_answer='record_session /tmp/${system(id)}.wav'}user/1000 &echo",
    "{api_hangup_hook=system id}user/1000 &echo",
    "user/1000 &system(id)",
    "user/1000 &lua(x.lua)",
    "user/1000 'system:id' inline",
    "user/1000 'set:a=${system(id)},park' inline",
    "{a=${system(id)}}user/1000 &park()",
    "user/1000 &bridge({execute_on_answer=system id}user/1001)",
    "user/1000 &bridge(loopback/x/default/inline)",
    "user/1000 1000 inline",
    "user/1000 &transfer(x inline)",
    "user/1000 &playback(${system(id)})",
]


@pytest.mark.parametrize("command", sorted(EVERYTHING - {"status", "originate"}))
def test_shell_and_refused_commands_stay_refused_even_when_listed(command: str) -> None:
    with pytest.raises(CliRefused):
        check_cli(command, "id", EVERYTHING, APPLICATIONS)
    assert command in REFUSED or command in ("uuid_broadcast", "bgapi")


@pytest.mark.parametrize("arg", SMUGGLED)
def test_line_breaks_never_pass(arg: str) -> None:
    command, _, rest = arg.partition(" ")
    with pytest.raises(CliRefused, match="line break"):
        check_cli(
            command if command == "status" else "originate",
            arg if command != "status" else rest,
            EVERYTHING,
            APPLICATIONS,
        )
    with pytest.raises(CliRefused):
        check_cli("status", arg, EVERYTHING, APPLICATIONS)


@pytest.mark.parametrize("arg", ORIGINATE_ATTACKS)
def test_originate_pieces_are_checked(arg: str) -> None:
    with pytest.raises(CliRefused):
        check_cli("cti_originate", arg, EVERYTHING, APPLICATIONS)


def test_raw_query_forms_decode_alike() -> None:
    raw = b"key=abc&cmd=bgapi&arg=originate user/1000 &echo"
    assert parse_query(raw)["arg"] == "originate user/1000 &echo"
    assert parse_query(b"key=abc&cmd=bgapi&arg=originate+user/1000+%26echo")["arg"] == (
        "originate user/1000 &echo"
    )
    assert parse_query("arg=a 文件&key=k".encode())["arg"] == "a 文件"
    assert parse_query(b"cmd=status&arg=%0abgapi%20system")["arg"] == "\nbgapi system"


KEY = "s3cret"


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as s:
        await s.add_node("fs1")
        yield s


async def _served(settings: Settings, sim: Simulator, key: str) -> AsyncIterator[httpx.AsyncClient]:
    s = msgspec.structs.replace(settings, fs_nodes=sim.fs_nodes, node_lease=2.0, cli_key=key)
    app = create_app(s, [call_control])
    async with serving(app) as c:
        replica = app.state["call-control"]
        await eventually(
            lambda: all(a.client.connected for a in replica.agents.values()) and replica.agents
        )
        c.app_state = app.state  # type: ignore[attr-defined]
        yield c


@pytest_asyncio.fixture
async def client(settings: Settings, sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _served(settings, sim, KEY):
        yield c


async def test_wrong_or_missing_key_is_refused(client: httpx.AsyncClient) -> None:
    for query in ("key=s3creT&cmd=status&arg=", "cmd=status&arg=", "key=&cmd=status"):
        r = await client.get("/cli?" + query)
        assert r.status_code == 403 and r.text == "-ERR invalid key\n"
    r = await client.get(f"/cli?key={KEY}&cmd=status&arg=")
    assert r.status_code == 200 and r.text.startswith("UP")


async def test_no_key_configured_means_no_cli(settings: Settings, sim: Simulator) -> None:
    async for c in _served(settings, sim, ""):
        r = await c.get("/cli?key=&cmd=status&arg=")
        assert r.status_code == 404


async def test_smuggling_over_http_never_reaches_the_node(
    client: httpx.AsyncClient, sim: Simulator
) -> None:
    for query in (
        f"key={KEY}&cmd=status&arg=%0abgapi%20system%20id",
        f"key={KEY}&cmd=status%0d%0a%0d%0abgapi%20system%20id&arg=",
        f"key={KEY}&cmd=bgapi&arg=system id",
        f"key={KEY}&cmd=bgapi&arg=status%0a%0aapi system id",
    ):
        r = await client.get("/cli?" + query)
        assert r.text.startswith("-ERR"), (query, r.text)


async def test_the_owner_checks_a_cli_command_sent_on_the_bus(client: httpx.AsyncClient) -> None:
    """Anything that can publish on the node's subject is held to the /cli rules."""
    runtime = client.app_state.runtime  # type: ignore[attr-defined]
    bus = runtime.bus
    subject = bus.subjects.node_command("fs1")
    for cmd in (
        CliApi("system", "id"),
        CliApi("status", "\nbgapi system id"),
        CliApi("originate", "{execute_on_answer=system id}user/1000 &echo"),
        CliApi("originate", "user/1000 &echo", background=True, job="x\nbgapi system id"),
    ):
        answer = await bus.request(subject, cmd, ApiResult)
        assert answer.body.startswith("-ERR"), cmd
    # A plain Api still gets the default (narrower) check: no originate.
    with pytest.raises(BusError):
        await bus.request(subject, Api("originate", "user/1000 &echo"), ApiResult)

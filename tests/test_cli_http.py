"""mod_cti's /cli end to end: HTTP, NATS, the owning replica, ESL, fssim.

The spec's examples (../shared/spec/mod-cti-http-cli.zh.md) replayed; the
reply is FreeSWITCH's text as the node sent it."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest_asyncio

from switchyard.call_control.service import service as call_control
from switchyard.fssim import Simulator
from switchyard.media.service import service as media
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually, serving, wav

KEY = "abc"
JOB = re.compile(r"\+OK Job-UUID: ([0-9a-f-]{36})\n")


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as s:
        node = await s.add_node("fs1")
        for user in ("1000", "121", "123"):
            node.register_user(user)
        yield s


@pytest_asyncio.fixture
async def client(settings: Settings, sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    s = msgspec.structs.replace(settings, fs_nodes=sim.fs_nodes, node_lease=2.0, cli_key=KEY)
    app = create_app(s, [call_control])
    async with serving(app) as c:  # no token: /cli authenticates itself
        replica = app.state["call-control"]
        await eventually(
            lambda: all(a.client.connected for a in replica.agents.values()) and replica.agents
        )
        yield c


async def cli(c: httpx.AsyncClient, query: str) -> httpx.Response:
    return await c.get("/cli?" + query)


async def test_bgapi_originate_user_echo_answers_a_job_and_places_the_call(
    client: httpx.AsyncClient, sim: Simulator
) -> None:
    r = await cli(client, f"key={KEY}&cmd=bgapi&arg=originate user/1000 &echo")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert JOB.fullmatch(r.text), r.text
    node = sim.node("fs1")
    await eventually(lambda: any(ch.application == "echo" for ch in node.channels.values()))


async def test_percent_encoded_click_to_call_makes_both_legs(
    client: httpx.AsyncClient, sim: Simulator
) -> None:
    # Example 3's shape, percent-encoded, with + for the first blank.
    arg = (
        "{origination_nested_vars=true,origination_caller_id_number=9999}user/121 "
        "&bridge({origination_caller_id_number=121,execute_on_answer='record_session "
        "/fs/recording/x.wav',ignore_early_media=true}user/123)"
    )
    r = await cli(client, f"key={KEY}&cmd=bgapi&arg=cti_originate+" + urllib.parse.quote(arg))
    assert JOB.fullmatch(r.text), r.text
    node = sim.node("fs1")
    await eventually(lambda: [c.peer is not None for c in node.channels.values()].count(True) >= 2)


async def test_foreground_originate_answers_freeswitch_ok_uuid(
    client: httpx.AsyncClient, sim: Simulator
) -> None:
    r = await cli(client, f"key={KEY}&cmd=originate&arg=user/1000 &park()")
    assert re.fullmatch(r"\+OK [0-9a-f-]{36}\n", r.text), r.text


async def test_linegroup_dials_the_trunk_groups_trunks_in_order(
    client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    a = await db.fetchval(
        "INSERT INTO trunks (name, remote_addr) VALUES ('t1', '10.9.0.1') RETURNING id"
    )
    await db.execute(
        "INSERT INTO trunk_groups (name, params) VALUES ('default', $1)", f'{{"trunk_ids":[{a}]}}'
    )
    r = await cli(
        client, f"key={KEY}&cmd=bgapi&arg=cti_originate user/1000 &bridge(linegroup/default/5555)"
    )
    assert JOB.fullmatch(r.text), r.text
    r = await cli(
        client, f"key={KEY}&cmd=bgapi&arg=cti_originate user/1000 &bridge(linegroup/nope/5555)"
    )
    assert r.text == "-ERR linegroup 'nope': no such trunk group\n"


async def test_uuid_broadcast_runs_on_the_channels_node_and_freeswitch_errors_pass(
    client: httpx.AsyncClient, sim: Simulator
) -> None:
    r = await cli(client, f"key={KEY}&cmd=originate&arg=user/1000 &park()")
    uuid = r.text.split()[1]
    arg = f"{uuid} http://127.0.0.1:9989/tts?text=这个测试是放音文字转语音测试 both"
    r = await cli(client, f"key={KEY}&cmd=uuid_broadcast&arg={arg}")
    assert r.text == "+OK Message sent\n"
    r = await cli(client, f"key={KEY}&cmd=uuid_kill&arg=00000000-0000-0000-0000-000000000000")
    assert r.text.startswith("-ERR"), r.text


async def test_uuid_broadcast_of_a_media_id_plays_the_stored_file(
    settings: Settings, sim: Simulator, api_token: str, tmp_path: Path
) -> None:
    s = msgspec.structs.replace(
        settings,
        fs_nodes=sim.fs_nodes,
        node_lease=2.0,
        cli_key=KEY,
        media_dir=str(tmp_path / "media"),
    )
    app = create_app(s, [call_control, media])
    async with serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as c:
        replica = app.state["call-control"]
        await eventually(lambda: bool(replica.agents) and replica.agents["fs1"].client.connected)
        r = await c.post("/api/upload", files={"file": ("hello.wav", wav(), "audio/wav")})
        assert r.status_code == 200, r.text
        [item] = r.json()
        r = await cli(c, f"key={KEY}&cmd=originate&arg=user/1000 &park()")
        uuid = r.text.split()[1]
        r = await cli(c, f"key={KEY}&cmd=uuid_broadcast&arg={uuid} {item['id']} aleg")
        assert r.text == "+OK Message sent\n", r.text
        leg = sim.node("fs1").find(uuid)
        assert leg is not None
        # The channel played the stored file itself, by the path the media API answers.
        await eventually(lambda: item["abs_path"] in leg.played)
        assert item["abs_path"].startswith(f"{tmp_path}/media/upload/")
        assert (await c.get(f"/api/media_files/{item['id']}.wav")).content == wav()
        # An id with no file is refused, naming it; nothing reaches the node.
        r = await cli(c, f"key={KEY}&cmd=uuid_broadcast&arg={uuid} 987654 both")
        assert r.text == "-ERR no media file 987654\n"
        # Local and http:// files pass as before.
        r = await cli(c, f"key={KEY}&cmd=bgapi&arg=uuid_broadcast {uuid} /tmp/a.wav both")
        assert JOB.fullmatch(r.text), r.text


async def test_conference_json_list_and_status(client: httpx.AsyncClient) -> None:
    r = await cli(client, f"key={KEY}&cmd=conference&arg=" + urllib.parse.quote("3000 json_list"))
    assert r.status_code == 200 and r.text  # FreeSWITCH's own answer, whatever it is
    r = await cli(client, f"key={KEY}&cmd=status&arg=")
    assert "UP" in r.text or "up" in r.text


async def test_licensed_features_are_named_unsupported(client: httpx.AsyncClient) -> None:
    r = await cli(
        client, f"key={KEY}&cmd=bgapi&arg=cti_originate user/1000 'cti_robot:x,park' inline"
    )
    assert (
        r.text == "-ERR cti_robot (mod_cti's licensed call robot) is not supported by Switchyard\n"
    )
    r = await cli(client, f"key={KEY}&cmd=uuid_cti_background&arg=x y mfr")
    assert "uuid_cti_background" in r.text and "not supported" in r.text

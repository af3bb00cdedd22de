"""API commands: exact replies, ``show channels as json`` shapes, originate outcomes."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Any

import pytest

from switchyard.call_control.esl import EslClient
from tests.conformance.conftest import RawEsl, body_of, channels_shown, sample

NO_CHANNEL = "-ERR No such channel!\n"


async def _park(client: EslClient, dest: str = "9999") -> str:
    out = await client.api(f"originate loopback/{dest} &park")
    assert re.fullmatch(r"\+OK [0-9a-f-]{36}\n", out), out
    return out[4:].strip()


async def test_show_channels_with_no_channel_is_the_zero_row_quirk(
    raw: RawEsl, client: EslClient
) -> None:
    # An earlier test's channels may still be leaving the table (one SQL batch).
    await channels_shown(client, 0)
    assert await raw.reply("api show channels as json") == sample(
        "esl/api_show_channels_json_zero_rows.txt"
    )


async def test_show_channels_rows_have_freeswitchs_columns_all_strings(client: EslClient) -> None:
    a_leg = await _park(client)
    try:
        shown = await channels_shown(client, 2)
        captured = json.loads(body_of(sample("esl/api_show_channels_json.txt")))
        assert shown["row_count"] == len(shown["rows"]) == 2
        assert [list(r) for r in shown["rows"]] == [list(r) for r in captured["rows"]]
        assert all(isinstance(v, str) for r in shown["rows"] for v in r.values())
        rows = {r["name"]: r for r in shown["rows"]}
        assert rows["loopback/9999-a"]["uuid"] == a_leg
        assert rows["loopback/9999-a"]["direction"] == "outbound"
        assert rows["loopback/9999-b"]["direction"] == "inbound"
        assert {r["application"] for r in rows.values()} == {"park"}
        assert {r["callstate"] for r in rows.values()} == {"ACTIVE"}
        assert {r["state"] for r in rows.values()} == {"CS_EXECUTE"}
    finally:
        assert await client.api(f"uuid_kill {a_leg}") == "+OK\n"
    assert (await channels_shown(client, 0))["row_count"] == 0
    assert await client.api("show channels as json") == '{"row_count": 0}\n'


async def test_show_channels_trails_the_channels_by_one_sql_batch(client: EslClient) -> None:
    """uuid_exists reads the sessions at once; show channels reads the core DB,
    which gets the rows one batch later, both ways (freeswitch-observed section 1)."""
    a_leg = await _park(client)
    try:
        assert await client.api(f"uuid_exists {a_leg}") == "true"
        assert await client.api("show channels as json") == '{"row_count": 0}\n'
        assert (await channels_shown(client, 2))["row_count"] == 2
    finally:
        assert await client.api(f"uuid_kill {a_leg}") == "+OK\n"
    assert await client.api(f"uuid_exists {a_leg}") == "false"
    assert json.loads(await client.api("show channels as json"))["row_count"] == 2
    assert (await channels_shown(client, 0))["row_count"] == 0


async def test_uuid_kill_replies(raw: RawEsl, client: EslClient) -> None:
    assert await raw.reply(f"api uuid_kill {uuid.uuid4()}") == sample(
        "esl/api_uuid_kill_missing.txt"
    )
    assert await client.api("uuid_kill") == "-USAGE: <uuid> [cause]\n"


async def test_originate_outcomes(client: EslClient) -> None:
    assert await client.api("originate loopback/5555 &park") == "-ERR NO_ROUTE_DESTINATION\n"
    assert await client.api("originate error/USER_BUSY &park") == "-ERR USER_BUSY\n"
    assert await client.api("originate sofia/gateway/no-such-gw/1 &park") == (
        "-ERR INVALID_GATEWAY\n"
    )
    chosen = str(uuid.uuid4())
    assert await client.api(f"originate {{origination_uuid={chosen}}}loopback/9999 &park") == (
        f"+OK {chosen}\n"
    )
    assert await client.api(f"uuid_exists {chosen}") == "true"
    assert await client.api(f"uuid_kill {chosen} USER_BUSY") == "+OK\n"
    assert await client.api(f"uuid_exists {chosen}") == "false"


async def test_channel_variables(client: EslClient) -> None:
    a_leg = await _park(client)
    try:
        assert await client.api(f"uuid_setvar {a_leg} sy_test hello") == "+OK\n"
        assert await client.api(f"uuid_getvar {a_leg} sy_test") == "hello"
        assert await client.api(f"uuid_setvar {a_leg} sy_test") == "+OK\n"
        assert await client.api(f"uuid_getvar {a_leg} sy_test") == "_undef_"
        missing = str(uuid.uuid4())
        assert await client.api(f"uuid_getvar {missing} x") == NO_CHANNEL
        assert await client.api(f"uuid_setvar {missing} x y") == NO_CHANNEL
    finally:
        await client.api(f"uuid_kill {a_leg}")


async def test_per_channel_commands_and_their_failures(client: EslClient) -> None:
    a, b = await _park(client), await _park(client)
    missing = str(uuid.uuid4())
    try:
        assert await client.api(f"uuid_broadcast {a} silence_stream://10 aleg") == (
            "+OK Message sent\n"
        )
        assert await client.api(f"uuid_broadcast {missing} x") == "-ERR invalid uuid\n"
        assert await client.api(f"uuid_record {a} start /tmp/sy-{a}.wav") == "+OK Success\n"
        assert await client.api(f"uuid_record {a} stop /tmp/sy-{a}.wav") == "+OK Success\n"
        assert await client.api(f"uuid_record {missing} start /tmp/x.wav") == (
            "-ERR Cannot locate session!\n"
        )
        assert await client.api(f"uuid_audio {a} start write mute 1") == "+OK\n"
        assert await client.api(f"uuid_audio {a} stop") == "+OK\n"
        assert await client.api(f"uuid_audio {missing} start write mute 1") == NO_CHANNEL
        assert await client.api(f"uuid_bridge {a} {missing}") == "-ERR Invalid uuid\n"
        assert await client.api(f"uuid_bridge {a} {b}") == f"+OK {b}\n"
        assert await client.api(f"uuid_transfer {missing} 9999") == NO_CHANNEL
    finally:
        for u in (a, b):
            await client.api(f"uuid_kill {u}")


async def test_uuid_transfer_reruns_the_dialplan(client: EslClient) -> None:
    await client.subscribe("CHANNEL_EXECUTE")
    a_leg = await _park(client)
    try:
        assert await client.api(f"uuid_transfer {a_leg} 9999 XML default") == "+OK\n"
        assert await client.api(f"uuid_exists {a_leg}") == "true"
    finally:
        await client.api(f"uuid_kill {a_leg}")


async def test_status_and_version_look_like_freeswitchs(client: EslClient) -> None:
    status = await client.api("status")
    lines = status.split("\n")
    assert re.fullmatch(
        r"UP \d+ years, \d+ days, \d+ hours, \d+ minutes, \d+ seconds, "
        r"\d+ milliseconds, \d+ microseconds",
        lines[0],
    )
    assert re.fullmatch(r"FreeSWITCH \(Version .+\) is ready", lines[1])
    assert re.fullmatch(r"\d+ session\(s\) since startup", lines[2])
    assert (await client.api("version")).startswith("FreeSWITCH Version ")
    assert await client.api("reloadxml") == "+OK [Success]\n"


async def test_sofia_status_and_gateway_xml(raw: RawEsl, client: EslClient) -> None:
    captured = body_of(sample("esl/api_sofia_status.txt")).decode().split("\n")
    mine = (await client.api("sofia status")).split("\n")
    assert mine[:2] == captured[:2]
    assert mine[-2:] == captured[-2:]
    assert any(re.match(r"\s+internal::example\tgateway\t", line) for line in mine)
    xml = (await client.api("sofia xmlstatus gateway example")).split("\n")
    want = body_of(sample("esl/api_sofia_xmlstatus_gateway.txt")).decode().split("\n")
    assert xml[:3] == want[:3]
    tags = [re.sub(r">.*", ">", line) for line in xml]
    assert tags == [re.sub(r">.*", ">", line) for line in want]
    assert await client.api("sofia xmlstatus gateway nope") == "Invalid Gateway!\n"
    assert await client.api("sofia profile nope killgw x") == "Invalid Profile [nope]"
    assert await client.api("sofia profile internal killgw nope") == "-ERR no such gateway.\n"
    assert await client.api("sofia profile internal killgw") == "-ERR missing gw name\n"


async def test_originate_to_the_inline_dialplan_and_a_quoted_app(client: EslClient) -> None:
    chosen = str(uuid.uuid4())
    out = await client.api(
        f"originate {{origination_uuid={chosen},sy_v='a b'}}loopback/9999 "
        "'^^;set:sy_inline=x,y;park' inline"
    )
    assert out == f"+OK {chosen}\n"
    try:
        for _ in range(50):
            if await client.api(f"uuid_getvar {chosen} sy_inline") == "x,y":
                break
            await asyncio.sleep(0.02)
        assert await client.api(f"uuid_getvar {chosen} sy_inline") == "x,y"
        assert await client.api(f"uuid_getvar {chosen} sy_v") == "a b"
    finally:
        await client.api(f"uuid_kill {chosen}")
    out = await client.api("originate loopback/9999 '&playback(silence_stream://5000)'")
    assert out.startswith("+OK ")
    await client.api(f"uuid_kill {out[4:].strip()}")


async def test_originate_drops_the_quotes_before_splitting_variables(client: EslClient) -> None:
    """freeswitch-observed section 7: a quoted comma separates, an escaped one
    does not, so '…,x=…' in a value would set a variable of its own."""
    chosen = str(uuid.uuid4())
    out = await client.api(
        f"originate {{origination_uuid={chosen},sy_a='1,sy_b=2',sy_c='3\\, 4'}}"
        "loopback/9999 &park()"
    )
    assert out == f"+OK {chosen}\n"
    try:
        assert await client.api(f"uuid_getvar {chosen} sy_a") == "1"
        assert await client.api(f"uuid_getvar {chosen} sy_b") == "2"
        assert await client.api(f"uuid_getvar {chosen} sy_c") == "3, 4"
    finally:
        await client.api(f"uuid_kill {chosen}")
    out = await client.api("originate loopback/9999 '&playback(silence_stream://5000)'")
    assert out.startswith("+OK ")
    await client.api(f"uuid_kill {out[4:].strip()}")


# conference_jlist (mod_conference.c): the keys of a conference and of a member, in order.
# ``max_members`` only appears when the profile sets a limit (the stock default does not).
CONFERENCE_KEYS = [
    "conference_name",
    "member_count",
    "ghost_count",
    "rate",
    "run_time",
    "conference_uuid",
    "canvas_count",
    "max_bw_in",
    "force_bw_in",
    "video_floor_packets",
    "locked",
    "destruct",
    "wait_mod",
    "audio_always",
    "running",
    "answered",
    "enforce_min",
    "bridge_to",
    "dynamic",
    "exit_sound",
    "enter_sound",
    "recording",
    "video_bridge",
    "video_floor_only",
    "video_rfc4579",
    "variables",
    "members",
]
MEMBER_KEYS = [
    "type",
    "id",
    "flags",
    "uuid",
    "caller_id_name",
    "caller_id_number",
    "join_time",
    "last_talking",
    "energy",
    "volume_in",
    "volume_out",
    "output-volume",
    "input-volume",
]
MEMBER_FLAGS = [
    "can_hear",
    "can_see",
    "can_speak",
    "hold",
    "mute_detect",
    "talking",
    "has_video",
    "video_bridge",
    "has_floor",
    "is_moderator",
    "end_conference",
    "mandatory_member_end_conference",
    "pass_digits",
]


async def _conference(client: EslClient, room: str, members: int) -> dict[str, Any]:
    """The room's json_list entry once it has ``members`` members (they join after answer)."""
    out = ""
    for _ in range(100):
        out = await client.api(f"conference {room} json_list")
        if out.startswith("[") and json.loads(out)[0]["member_count"] == members:
            return json.loads(out)[0]  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{room} never had {members} members: {out!r}")


async def test_conference_members_and_commands(client: EslClient) -> None:
    room = f"sy-{uuid.uuid4().hex[:12]}"
    legs: list[str] = []
    try:
        for _ in range(3):
            out = await client.api(f"originate loopback/9999 &conference({room})")
            assert out.startswith("+OK "), out
            legs.append(out[4:].strip())
        conf = await _conference(client, room, 3)
        assert list(conf) == CONFERENCE_KEYS
        assert conf["conference_name"] == room
        assert re.fullmatch(r"[0-9a-f-]{36}", conf["conference_uuid"])
        assert (conf["running"], conf["dynamic"], conf["locked"]) == (True, True, False)
        # The member loop marks it answered once an outbound member's channel is.
        assert conf["answered"] is True
        assert isinstance(conf["rate"], int) and isinstance(conf["run_time"], int)
        members = conf["members"]
        # conference_member_add links each new member at the head: newest first.
        assert [m["uuid"] for m in members] == legs[::-1]
        for m in members:
            assert list(m) == MEMBER_KEYS and list(m["flags"]) == MEMBER_FLAGS
            assert m["type"] == "caller" and m["flags"]["can_speak"] is True
            assert all(isinstance(m[k], int) for k in MEMBER_KEYS[6:])
        newest, middle, oldest = (m["id"] for m in members)
        assert newest > middle > oldest
        # Exactly one member holds the floor (which one varies on a real node).
        assert sum(m["flags"]["has_floor"] for m in members) == 1

        assert await client.api(f"conference {room} mute {oldest}") == f"+OK mute {oldest}\n"
        muted = (await _conference(client, room, 3))["members"][2]
        assert muted["flags"]["can_speak"] is False
        assert await client.api(f"conference {room} unmute {oldest}") == f"+OK unmute {oldest}\n"
        assert (await _conference(client, room, 3))["members"][2]["flags"]["can_speak"] is True
        missing = newest + 1000
        assert await client.api(f"conference {room} mute {missing}") == (
            f"-ERR Non-Existant ID {missing}\n"
        )
        assert await client.api(f"conference {room} play silence_stream://100") == (
            "+OK (play) Playing file silence_stream://100\n"
        )
        assert await client.api(f"conference {room} play silence_stream://100 {oldest}") == (
            f"+OK (play) Playing file silence_stream://100 to member {oldest}\n"
        )
        assert await client.api(f"conference {room} play") == (
            "play <file_path> [async|<member_id> [nomux]]"
        )
        assert await client.api(f"conference {room} kick {middle}") == f"+OK kicked {middle}\n"
        assert await client.api(f"conference {room} hup {newest}") == f"+OK hup {newest}\n"
        left = await _conference(client, room, 1)
        assert [m["id"] for m in left["members"]] == [oldest]
        assert await client.api(f"conference {room} bogus") == (
            "-ERR Conference command 'bogus' not found.\n"
        )
        assert await client.api(f"conference {room}-gone json_list") == (
            f"-ERR Conference {room}-gone not found\n"
        )
    finally:
        for u in legs:
            await client.api(f"uuid_kill {u}")


async def test_uuid_write_png_is_mod_pngs(client: EslClient) -> None:
    missing = str(uuid.uuid4())
    out = await client.api(f"uuid_write_png {missing} /tmp/x.png")
    if out == "-ERR uuid_write_png Command not found!\n":
        pytest.skip("mod_png is not loaded (it is not one of the modules the suite needs)")
    assert out == "-ERR Could not locate session.\n"
    assert await client.api("uuid_write_png") == (
        "-USAGE: <uuid> <path> [concat | split <other_path>]\n"
    )
    a_leg = await _park(client)
    try:
        # An audio-only call has nothing to snapshot.
        assert await client.api(f"uuid_write_png {a_leg} /tmp/sy-{a_leg}.png") == (
            "-ERR Session does not have video.\n"
        )
    finally:
        await client.api(f"uuid_kill {a_leg}")

"""API commands: exact replies, ``show channels as json`` shapes, originate outcomes."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

from switchyard.call_control.esl import EslClient
from tests.conformance.conftest import RawEsl, body_of, sample

NO_CHANNEL = "-ERR No such channel!\n"


async def _park(client: EslClient, dest: str = "9999") -> str:
    out = await client.api(f"originate loopback/{dest} &park")
    assert re.fullmatch(r"\+OK [0-9a-f-]{36}\n", out), out
    return out[4:].strip()


async def test_show_channels_with_no_channel_is_the_zero_row_quirk(raw: RawEsl) -> None:
    assert await raw.reply("api show channels as json") == sample(
        "esl/api_show_channels_json_zero_rows.txt"
    )


async def test_show_channels_rows_have_freeswitchs_columns_all_strings(client: EslClient) -> None:
    a_leg = await _park(client)
    try:
        shown = json.loads(await client.api("show channels as json"))
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
    assert await client.api("show channels as json") == '{"row_count": 0}\n'


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

"""Registrations: ``show registrations``, ``sofia status profile … reg``, ``sofia_contact``,
``user/`` dialling, and the sofia::register/unregister/expire events.

With nobody registered the replies are the exact bytes FreeSWITCH 1.10.12
gave (freeswitch-observed section 13) and the tests run on both targets.
The suite has no SIP phone to register with a real node, so what a
registered phone changes is asserted on fssim only (its control
interface registers, unregisters, expires and pings simulated phones),
against mod_sofia's layouts.
"""

from __future__ import annotations

import asyncio
import json
import re
import time

import httpx
import pytest

from switchyard.call_control.esl import EslClient
from switchyard.fssim import Simulator
from switchyard.fssim.control import ControlServer
from tests.conformance.conftest import TIMEOUT, RawEsl, Target, body_of, event_headers

LINE = "=" * 97
NO_REGISTRATIONS = f"\nRegistrations:\n{LINE}\nTotal items returned: 0\n{LINE}\n"
COLUMNS = "reg_user,realm,token,url,expires,network_ip,network_port,network_proto,hostname,metadata"


async def test_with_no_phone_registered(client: EslClient) -> None:
    assert await client.api("show registrations as json") == '{"row_count": 0}\n'
    assert await client.api("show registrations") == "\n0 total.\n"
    assert await client.api("show registrations as xml") == '<result row_count="0"/>\n'
    assert await client.api("show registrations as delim |") == "\n0 total.\n"
    reg = await client.api("sofia status profile internal reg")
    assert reg == NO_REGISTRATIONS and len(reg.encode()) == 236
    assert await client.api("sofia status profile internal reg 1000") == NO_REGISTRATIONS
    assert await client.api("sofia status profile nope reg") == "Invalid Profile!\n"
    assert await client.api("sofia xmlstatus profile internal reg") == (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        "<profile>\n  <registrations>\n  </registrations>\n</profile>\n"
    )
    for who in ("1000@127.0.0.1", "internal/1000@127.0.0.1", "9999@nodomain", ""):
        reply = await client.api(f"sofia_contact {who}".strip())
        assert reply == "error/user_not_registered", who


async def test_dialling_a_user_who_is_not_registered_or_does_not_exist(client: EslClient) -> None:
    # In the directory, no registration: the dial-string's sofia_contact gives
    # error/user_not_registered. Not in the directory: user_outgoing_channel
    # gives up before that.
    assert await client.api("originate user/1000@127.0.0.1 &park") == "-ERR USER_NOT_REGISTERED\n"
    assert await client.api("originate user/1000 &park") == "-ERR USER_NOT_REGISTERED\n"
    assert await client.api("originate user/1099@127.0.0.1 &park") == "-ERR SUBSCRIBER_ABSENT\n"


def _expect_status(reply: str, *, user: str, ip: str, port: int, ping: str) -> str:
    """The one registration ``sofia status profile internal reg`` lists; its Call-ID."""
    m = re.fullmatch(
        rf"\nRegistrations:\n{LINE}\n"
        r"Call-ID:    \t(?P<call_id>[0-9a-f]+)\n"
        rf"User:       \t{user}@127\.0\.0\.1\n"
        rf'Contact:    \t"" <sip:{user}@{re.escape(ip)}:{port}>\n'
        r"Agent:      \tsoftphone 1\.0\n"
        r"Status:     \tRegistered\(UDP\)\(unknown\) "
        r"EXP\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\) EXPSECS\((?P<secs>\d+)\)\n"
        r"Ping-Status:\tReachable\n"
        rf"Ping-Time:\t{re.escape(ping)}\n"
        r"Host:       \tfssim\n"
        rf"IP:         \t{re.escape(ip)}\n"
        rf"Port:       \t{port}\n"
        rf"Auth-User:  \t{user}\n"
        r"Auth-Realm: \t127\.0\.0\.1\n"
        rf"MWI-Account:\t{user}@127\.0\.0\.1\n\n"
        rf"Total items returned: 1\n{LINE}\n",
        reply,
    )
    assert m is not None, reply
    # Expires 120 plus mod_sofia's 60 s late margin, counted down.
    assert 170 <= int(m["secs"]) <= 180
    return m["call_id"]


async def _until(client: EslClient, command: str, pred: object) -> str:
    """``command``'s reply once ``pred`` holds: the core DB's registrations table
    trails the registrations by one SQL batch, as the channels table does."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        reply = await client.api(command)
        if pred(reply) or time.monotonic() > deadline:  # type: ignore[operator]
            return reply
        await asyncio.sleep(0.02)


@pytest.mark.fssim_only
async def test_a_registered_phone_everywhere_mod_sofia_shows_it(
    target: Target, client: EslClient
) -> None:
    raw = await RawEsl.connect(target)
    await raw.reply(
        "event plain CUSTOM sofia::pre_register sofia::register_attempt sofia::register"
        " sofia::unregister sofia::expire"
    )
    reg = target.sim.register_user(
        "1001", network_ip="192.0.2.41", network_port=5070, user_agent="softphone 1.0", expires=120
    )
    # Challenged, authenticated, stored: pre_register, register_attempt, register.
    frames = await raw.events_until(lambda f: b"sofia%3A%3Aregister\n" in f)
    assert [dict(event_headers(f))["Event-Subclass"] for f in frames] == [
        "sofia%3A%3Apre_register",
        "sofia%3A%3Aregister_attempt",
        "sofia%3A%3Aregister",
    ]
    attempt = event_headers(frames[1])
    assert attempt[-1] == ("auth-result", "SUCCESS")
    assert [k for k, _ in event_headers(frames[0])[14:]] == [
        "profile-name",
        "from-user",
        "from-host",
        "contact",
        "call-id",
        "rpid",
        "status",
        "expires",
        "to-user",
        "to-host",
        "network-ip",
        "network-port",
        "user-agent",
    ]
    # sofia::register: Event-Subclass first, then sofia_reg.c's headers in its order.
    frame = frames[-1]
    headers = event_headers(frame)
    assert headers[0] == ("Event-Subclass", "sofia%3A%3Aregister")
    assert headers[1] == ("Event-Name", "CUSTOM")
    assert headers[14:] == [
        ("profile-name", "internal"),
        ("from-user", "1001"),
        ("from-host", "127.0.0.1"),
        ("presence-hosts", "n/a"),
        ("contact", "%22%22%20%3Csip%3A1001%40192.0.2.41%3A5070%3E"),
        ("call-id", reg.call_id),
        ("rpid", "unknown"),
        ("status", "Registered(UDP)"),
        ("expires", "120"),
        ("to-user", "1001"),
        ("to-host", "127.0.0.1"),
        ("network-ip", "192.0.2.41"),
        ("network-port", "5070"),
        ("username", "1001"),
        ("realm", "127.0.0.1"),
        ("user-agent", "softphone%201.0"),
    ]

    status = await client.api("sofia status profile internal reg")
    assert _expect_status(status, user="1001", ip="192.0.2.41", port=5070, ping="0.00") == (
        reg.call_id
    )
    assert await client.api("sofia status profile internal reg 192.0.2.41") == status
    assert await client.api("sofia status profile internal user 1001@127.0.0.1") == status
    assert await client.api("sofia status profile internal reg 1002") == NO_REGISTRATIONS
    xml = await client.api("sofia xmlstatus profile internal reg")
    assert "<contact>&quot;&quot; &lt;sip:1001@192.0.2.41:5070&gt;</contact>" in xml
    assert "        <ping-time>0.00</ping-time>\n" in xml
    assert xml.startswith('<?xml version="1.0" encoding="ISO-8859-1"?>\n<profile>\n')
    assert xml.count("<registration>") == 1

    contact = "sofia/internal/sip:1001@192.0.2.41:5070"
    for who in ("1001@127.0.0.1", "internal/1001@127.0.0.1", "*/1001@127.0.0.1", "1001"):
        assert await client.api(f"sofia_contact {who}") == contact, who
    # The prefix after the domain goes before each contact; without a profile the
    # first / would end the profile name instead (sofia_contact_function).
    assert await client.api("sofia_contact */1001@127.0.0.1/{x=1}") == "{x=1}" + contact
    assert await client.api("sofia_contact 1001@elsewhere") == "error/user_not_registered"

    shown = json.loads(
        await _until(client, "show registrations as json", lambda r: '"row_count":1' in r)
    )
    row = shown["rows"][0]
    assert list(row) == COLUMNS.split(",")
    assert (row["reg_user"], row["realm"], row["token"], row["url"]) == (
        "1001",
        "127.0.0.1",
        reg.call_id,
        contact,
    )
    assert (row["network_ip"], row["network_port"], row["network_proto"]) == (
        "192.0.2.41",
        "5070",
        "udp",
    )
    assert (row["hostname"], row["metadata"]) == ("fssim", "")
    assert int(row["expires"]) == reg.expires_at
    values = ",".join(row.values())
    assert await client.api("show registrations") == f"{COLUMNS}\n{values}\n\n1 total.\n"
    assert await client.api("show registrations as delim |") == (
        f"{COLUMNS.replace(',', '|')}\n{values.replace(',', '|')}\n\n1 total.\n"
    )
    xml_rows = "".join(f"    <{k}>{v}</{k}>\n" for k, v in row.items())
    assert await client.api("show registrations as xml") == (
        f'<result row_count="1">\n  <row row_id="1">\n{xml_rows}  </row>\n</result>\n'
    )

    ok = await client.api("originate user/1001 &park")
    assert ok.startswith("+OK ")
    await client.api(f"uuid_kill {ok[4:].strip()}")

    # Unregistering: PRESENCE_IN Unregistered, sofia::unregister, then nobody to
    # call (the user still exists).
    await raw.reply("event plain PRESENCE_IN")
    assert target.sim.unregister_user("1001")
    presence = (await raw.events_until(lambda f: b"PRESENCE_IN" in f))[-1]
    assert event_headers(presence)[13:] == [
        ("proto", "sip"),
        ("rpid", "unknown"),
        ("login", "sip%3Amod_sofia%40127.0.0.1%3A5060"),
        ("user-agent", "softphone%201.0"),
        ("from", "1001%40127.0.0.1"),
        ("status", "Unregistered"),
        ("presence-source", "register"),
        ("event_type", "presence"),
    ]
    frame = (await raw.events_until(lambda f: b"sofia%3A%3Aunregister" in f))[-1]
    assert [k for k, _ in event_headers(frame)[14:]] == [
        "profile-name",
        "username",
        "from-user",
        "from-host",
        "contact",
        "call-id",
        "rpid",
        "realm",
        "expires",
    ]
    assert dict(event_headers(frame))["expires"] == "0"
    assert await client.api("sofia_contact 1001") == "error/user_not_registered"
    assert await client.api("originate user/1001 &park") == "-ERR USER_NOT_REGISTERED\n"
    assert await client.api("sofia status profile internal reg") == NO_REGISTRATIONS
    gone = await _until(client, "show registrations", lambda r: r == "\n0 total.\n")
    assert gone == "\n0 total.\n"

    # Running out (here: flush_inbound_reg): sofia::expire with the stored expiry.
    again = target.sim.register_user("1001", user_agent="softphone 1.0")
    assert await client.api("sofia profile internal flush_inbound_reg") == (
        "+OK flushing all registrations\n"
    )
    frame = (await raw.events_until(lambda f: b"sofia%3A%3Aexpire" in f))[-1]
    assert event_headers(frame)[14:] == [
        ("profile-name", "internal"),
        ("call-id", again.call_id),
        ("user", "1001"),
        ("host", "127.0.0.1"),
        ("contact", f"%22%22%20%3Csip%3A1001%40127.0.0.1%3A{again.network_port}%3E"),
        ("expires", str(again.expires_at)),
        ("user-agent", "softphone%201.0"),
        ("realm", "127.0.0.1"),
    ]
    assert await client.api("sofia_contact 1001") == "error/user_not_registered"
    await raw.close()


@pytest.mark.fssim_only
async def test_a_new_registration_of_the_same_user_replaces_the_old(
    target: Target, client: EslClient
) -> None:
    target.sim.show_channels_lag = False
    first = target.sim.register_user("1002", network_ip="192.0.2.1", network_port=5060)
    second = target.sim.register_user("1002", network_ip="192.0.2.2", network_port=5060)
    assert first.call_id != second.call_id
    assert await client.api("sofia_contact 1002") == "sofia/internal/sip:1002@192.0.2.2:5060"
    shown = json.loads(await client.api("show registrations as json"))
    assert [r["network_ip"] for r in shown["rows"]] == ["192.0.2.2"]


@pytest.mark.fssim_only
async def test_ping_times_and_the_control_port() -> None:
    async with Simulator() as sim:
        node = await sim.add_node("fssim", heartbeat_seconds=3600)
        control = ControlServer(sim)
        port = await control.start()
        client = EslClient("127.0.0.1", node.port, "ClueCon")
        await client.start(wait=TIMEOUT)
        raw = await RawEsl.connect(Target("127.0.0.1", node.port, "ClueCon", node))
        await raw.reply("event plain CUSTOM sofia::sip_user_state")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=TIMEOUT) as http:
            r = await http.post(
                "/nodes/fssim/users",
                json={
                    "extension": "1003",
                    "network_ip": "192.0.2.3",
                    "network_port": 5064,
                    "user_agent": "softphone 1.0",
                    "expires": 120,
                },
            )
            assert r.status_code == 200
            assert r.json()["contact"] == "sofia/internal/sip:1003@192.0.2.3:5064"
            r = await http.post("/nodes/fssim/users/1003/ping", json={"ms": 45.25})
            assert r.status_code == 200
            frame = (await raw.events_until(lambda f: b"sip_user_state" in f))[-1]
            got = dict(event_headers(frame))
            assert (got["sip_user"], got["Ping-Status"], got["Status"]) == (
                "1003",
                "Reachable",
                "200",
            )
            status = await client.api("sofia status profile internal reg")
            _expect_status(status, user="1003", ip="192.0.2.3", port=5064, ping="45.25")
            xml = await client.api("sofia xmlstatus profile internal reg")
            assert "<ping-time>45.25</ping-time>" in xml
            listed = (await http.get("/nodes/fssim/registrations")).json()
            assert [(r["user"], r["ping_ms"], r["network_ip"]) for r in listed] == [
                ("1003", 45.25, "192.0.2.3")
            ]
            bad = await http.post("/nodes/fssim/users/1003/ping", json={"ms": 1, "status": "x"})
            assert bad.status_code == 400 and "status" in bad.json()["error"]
            bad = await http.post("/nodes/fssim/users", json={"extension": "a@b"})
            assert bad.status_code == 400 and "extension" in bad.json()["error"]
            bad = await http.post("/nodes/fssim/users", json={"extension": "1", "expires": 0})
            assert bad.status_code == 400 and "expires" in bad.json()["error"]
            assert (await http.post("/nodes/fssim/users/1003/expire")).status_code == 200
            assert (await http.post("/nodes/fssim/users/1003/expire")).status_code == 404
            assert (await http.delete("/nodes/fssim/users/1003")).status_code == 404
        assert await client.api("sofia_contact 1003") == "error/user_not_registered"
        assert body_of(await raw.reply("api sofia_contact 1003")) == b"error/user_not_registered"
        await raw.close()
        await client.close()
        await control.stop()


@pytest.mark.fssim_only
async def test_a_phone_that_does_not_register_again_expires(
    target: Target, client: EslClient
) -> None:
    raw = await RawEsl.connect(target)
    await raw.reply("event plain CUSTOM sofia::expire")
    target.sim.expires_late_margin = 0  # mod_sofia keeps it 60 s past its Expires
    reg = target.sim.register_user("1004", expires=1)
    frame = (await raw.events_until(lambda f: b"sofia%3A%3Aexpire" in f))[-1]
    assert dict(event_headers(frame))["call-id"] == reg.call_id
    assert await client.api("sofia_contact 1004") == "error/user_not_registered"
    assert await client.api("originate user/1004 &park") == "-ERR USER_NOT_REGISTERED\n"
    await raw.close()

"""coocenter's push events end to end: FreeSWITCH (fssim) -> call-control ->
the event stream -> event-relay -> a real HTTP receiver at
SWITCHYARD_COOCENTER_PUSH_URL, with the WEBKEY Authorization.

A click-to-call placed through the API (ring 1000, then bridge to user/1001)
arrives as dialbegin, dialend, hangup and cdr, in that order, each field as
the coocenter spec names it, and the extensions' statuses as they change
(calls, then a phone unregistering and registering again). A call through
fssim's mod_callcenter arrives as a cc_cdr with its queue and talking
times (every field of a cc_cdr is checked against chosen times in
services/event-relay/tests/test_coocenter.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.event_relay.service import service as event_relay
from switchyard.fssim import Behaviour, Node
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually
from switchyard.shared.webhook_receiver import Received, Receiver

from .conformance.test_xml_curl import DialplanServer
from .conftest import Served, served_stack

WEBKEY = "asjdfjklkasdf"
MAC = "68:69:2e:03:8b:3e"
ZONE = "Asia/Shanghai"
STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def _phones(node: Node) -> None:
    node.register_user("1000", behaviour=Behaviour(ring_seconds=0.2))
    node.register_user("1001", behaviour=Behaviour(ring_seconds=0.2))


def _pushes(rx: Receiver) -> list[dict[str, Any]]:
    return [json.loads(got.body) for got in rx.received]


def _idle(received: list[Received], exten: str) -> bool:
    idle = {"event": "extensionstatus", "exten": exten, "status": "0", "statustext": "Idle"}
    return any(json.loads(g.body) == idle for g in received)


def _statuses(received: list[Received], exten: str) -> list[str]:
    pushes = (json.loads(g.body) for g in received)
    return [p["status"] for p in pushes if p.get("exten") == exten]


def _local(epoch_us: int) -> str:
    return dt.datetime.fromtimestamp(epoch_us // 1_000_000, ZoneInfo(ZONE)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )


async def _relay_leads(stack: Served) -> None:
    relay = stack.app.state["event-relay"]
    await eventually(lambda: relay.leader, 20)
    await asyncio.sleep(1.5)  # the durable consumer starts from "now"


def _settings(settings: Settings, url: str) -> Settings:
    return msgspec.structs.replace(
        settings,
        webhook_allow_private="127.0.0.0/8",
        coocenter_push_url=url,
        coocenter_webkey=WEBKEY,
        coocenter_mac=MAC,
        timezone=ZONE,
    )


async def test_click_to_call_pushes_dialbegin_dialend_hangup_cdr_in_order(
    settings: Settings, api_token: str
) -> None:
    async with (
        Receiver() as rx,
        served_stack(
            _settings(settings, f"{rx.url}/coocenter"),
            api_token,
            [config_api, call_control, event_relay],
            node_setup=_phones,
        ) as stack,
    ):
        # The setting keeps a read-only system subscription of format coocenter.
        listed = (await stack.api.get("/api/webhooks")).json()["data"]
        (system,) = [w for w in listed if w["system"]]
        assert (system["format"], system["url"]) == ("coocenter", f"{rx.url}/coocenter")
        r = await stack.api.put(f"/api/webhooks/{system['id']}", json={"enabled": False})
        assert r.status_code == 403 and "SWITCHYARD_COOCENTER_PUSH_URL" in r.text

        await _relay_leads(stack)
        r = await stack.api.post(
            "/api/channels",
            json={"destNumber": "1000", "cidNumber": "4000", "app": "bridge", "args": "user/1001"},
        )
        assert r.json()["result"] == "ok", r.text
        a = stack.node.find(r.json()["uuid"])
        assert a is not None
        await eventually(lambda: a.peer is not None, 10)
        b = a.peer
        assert b is not None
        await asyncio.sleep(1.1)  # a whole second of talk: billsec 1
        r = await stack.api.delete(f"/api/channels/{a.uuid}")
        assert r.status_code == 200, r.text

        def cdr_came(received: list[Received]) -> bool:
            return any(json.loads(g.body)["event"] == "cdr" for g in received)

        await rx.wait_for(cdr_came)
        await rx.wait_for(lambda got: _idle(got, "1000") and _idle(got, "1001"))
        # The phone of 1001 unregisters, then registers again (sofia::unregister, ::register).
        stack.node.unregister_user("1001")
        await rx.wait_for(lambda got: "4" in _statuses(got, "1001"))
        stack.node.register_user("1001")
        await rx.wait_for(lambda got: _statuses(got, "1001")[-1:] == ["0"])

    pushes = _pushes(rx)
    calls = [p for p in pushes if p["event"] != "extensionstatus"]
    assert [p["event"] for p in calls] == ["dialbegein", "dialend", "hangup", "cdr"]
    begin, end, hangup, cdr = calls
    a_name, b_name = "sofia/internal/1000@127.0.0.1", "sofia/internal/1001@127.0.0.1"
    assert re.fullmatch(r"\d{10}\.\d{6}", begin.pop("timestamp"))
    assert begin == {
        "event": "dialbegein",
        "channel": a_name,
        "calleridnum": "1000",  # rung first: the caller of the click-to-call
        "destchannel": b_name,
        "destcalleridnum": "1001",
        "destuniqueid": b.uuid,
        "dialstring": "user/1001",
        "uniqueid": a.uuid,
        "mac": MAC,
    }
    assert re.fullmatch(r"\d{10}\.\d{6}", end.pop("timestamp"))
    assert end == {
        "event": "dialend",
        "channel": a_name,
        "calleridnum": "1000",
        "destchannel": b_name,
        "destcalleridnum": "1001",
        "uniqueid": a.uuid,
        "dialstatus": "answer",
    }
    assert hangup == {
        "event": "hangup",
        "calleridnum": "1000",
        "calleridname": "1000",
        "connectedlinenum": "1001",
        "connectedlinename": "1001",
        "uniqueid": a.uuid,
    }
    assert cdr == {
        "event": "cdr",
        "callerid": '"1000" <1000>',
        "source": "1000",
        "destination": "1001",
        "starttime": _local(a.created_us),
        "answertime": _local(a.times["answered"]),
        "endtime": _local(a.times["hangup"]),
        "disposition": "ANSWERED",
        "duration": a.variables["duration"],
        "billableseconds": a.variables["billsec"],
        "calltype": "",
        "recordfile": "",
        "uniqueid": a.uuid,
    }
    assert int(cdr["billableseconds"]) >= 1 and STAMP.fullmatch(cdr["answertime"])
    # Each extension rang, was in use, then idle again, in that order; 1001's
    # phone then went away (4 Unavailable) and came back (0 Idle).
    assert _statuses(rx.received, "1000") == ["8", "1", "0"]
    assert _statuses(rx.received, "1001") == ["8", "1", "0", "4", "0"]
    texts = {(p["status"], p["statustext"]) for p in pushes if p["event"] == "extensionstatus"}
    assert texts == {("8", "Ringing"), ("1", "InUse"), ("0", "Idle"), ("4", "Unavailable")}
    # Every push carried md5(WEBKEY + 'YYYY-MM-DD') of the local day it was sent.
    today = dt.datetime.now(ZoneInfo(ZONE)).date()
    days = {today, today - dt.timedelta(days=1)}  # should the test cross midnight
    digests = {
        hashlib.md5(f"{WEBKEY}{d:%Y-%m-%d}".encode(), usedforsecurity=False).hexdigest()
        for d in days
    }
    for got in rx.received:
        assert got.path == "/coocenter"
        assert got.headers["authorization"] in digests
        assert got.headers["content-type"] == "application/json"


QUEUE_DOCUMENT = (
    '<document type="freeswitch/xml">'
    '<section name="dialplan"><context name="default">'
    '<extension name="q"><condition field="destination_number" expression="^9630$">'
    '<action application="answer"/><action application="callcenter" data="630@default"/>'
    "</condition></extension></context></section>"
    '<section name="configuration"><configuration name="callcenter.conf">'
    '<queues><queue name="630@default"><param name="strategy" value="longest-idle-agent"/>'
    "</queue></queues>"
    '<agents><agent name="1000@default" type="callback" contact="[leg_timeout=10]user/1001"'
    ' status="Available"/></agents>'
    '<tiers><tier agent="1000@default" queue="630@default" level="1" position="1"/></tiers>'
    "</configuration></section></document>"
)


async def test_a_call_through_mod_callcenter_pushes_its_cc_cdr(
    settings: Settings, api_token: str
) -> None:
    """A caller dials the queue (fssim's mod_callcenter, its configuration from
    an xml_curl server), agent 1000's phone (user/1001) answers, the caller
    talks two seconds and hangs up, the agent pauses (pausetime=yes): one
    cc_cdr, bridged, with its times and the pause's length."""
    xml = DialplanServer(document=QUEUE_DOCUMENT)
    server = await asyncio.start_server(xml.handle, "127.0.0.1", 0)
    xml_url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/fs/xml"

    def setup(node: Node) -> None:
        node.register_user("1001", behaviour=Behaviour(ring_seconds=0.2))
        node.xml_curl_url = xml_url

    # pausetime=yes: the agent pauses 2 s after the call, and the cc_cdr says so.
    settings = msgspec.structs.replace(
        _settings(settings, ""), coocenter_pausetime=True, coocenter_pause_seconds=2
    )
    async with (
        server,
        Receiver() as rx,
        served_stack(
            msgspec.structs.replace(settings, coocenter_push_url=rx.url),
            api_token,
            [call_control, event_relay],
            node_setup=setup,
        ) as stack,
    ):
        await _relay_leads(stack)
        member = stack.node.inject_call("5550001", "9630", context="default")
        await eventually(lambda: member.peer is not None or not member.is_up, 10)
        assert member.peer is not None, member.hangup_cause
        await asyncio.sleep(2.2)
        stack.node.hangup(member, "NORMAL_CLEARING")
        await rx.wait_for(lambda got: any(json.loads(g.body)["event"] == "cc_cdr" for g in got))
        pool = stack.app.state["runtime"].pool
        paused = await pool.fetchval(
            "SELECT seconds FROM coocenter_pauses WHERE call_uuid = $1", member.uuid
        )
    (record,) = [p for p in _pushes(rx) if p["event"] == "cc_cdr"]
    assert (record["uuid"], record["caller"], record["queueCode"], record["agentCode"]) == (
        member.uuid,
        "5550001",
        "630",
        "1000",
    )
    assert (record["cdrState"], record["missCause"], record["callType"]) == (
        "bridged",
        "",
        "incoming",
    )
    assert record["trunkNumber"] == "9630" and record["startTime"] == _local(member.created_us)
    talking, queued, duration = (int(record[k]) for k in ("talkingTime", "queueTime", "duration"))
    assert 2 <= talking <= 3 and 0 <= queued <= 1  # whole seconds of a 2.2 s talk
    assert duration >= talking + queued
    # Sent once the agent's after-call pause ended, with its length.
    assert paused is not None and record["pauseTime"] == paused >= 1
    # The agent's own legs are no call of their own: the member's is the only cdr.
    cdrs = [p for p in _pushes(rx) if p["event"] == "cdr"]
    assert [c["uniqueid"] for c in cdrs] == [member.uuid]

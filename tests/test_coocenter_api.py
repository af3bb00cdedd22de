"""coocenter's call-center API end to end: HTTP, NATS, the owning replica, ESL, fssim.

Each example of the spec (../shared/spec/coocenter-api.zh.md, copied below as
the requests and bodies it shows) is replayed; the reply is compared field
by field with the spec's body, values that depend on the moment (IPs,
durations) checked by shape.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import AsyncIterator

import asyncpg
import httpx
import msgspec
import pytest_asyncio

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.fssim import Simulator
from switchyard.fssim.callcenter import CallCenter, of
from switchyard.fssim.node import Node
from switchyard.shared.coocenter_auth import digest, local_now
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually, serving
from tests.conformance.xml_server import serving_document

FORM = {"accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
CALLCENTER_CONF = (
    '<document type="freeswitch/xml"><section name="configuration">'
    '<configuration name="callcenter.conf"><queues>'
    '<queue name="630@default"><param name="strategy" value="longest-idle-agent"/></queue>'
    "</queues><agents>"
    '<agent name="876@default" type="callback" contact="user/876" status="Available"/>'
    '<agent name="893@default" type="callback" contact="user/893" status="On Break"/>'
    "</agents><tiers>"
    '<tier agent="876@default" queue="630@default" level="1" position="1"/>'
    '<tier agent="893@default" queue="630@default" level="2" position="1"/>'
    "</tiers></configuration></section></document>"
)


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as s:
        node = await s.add_node("fs1")
        node.show_channels_lag = False
        async with serving_document(node, CALLCENTER_CONF):
            yield s


async def _client(settings: Settings, sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    # config-api routes click-number's src (sy.config.route) and owns the blacklist.
    app = create_app(settings, [call_control, config_api])
    async with serving(app) as c:  # no API token: coocenter authenticates itself
        replica = app.state["call-control"]
        await eventually(
            lambda: all(a.client.connected for a in replica.agents.values()) and replica.agents
        )
        yield c


@pytest_asyncio.fixture
async def client(settings: Settings, sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    s = msgspec.structs.replace(settings, fs_nodes=sim.fs_nodes, node_lease=2.0)
    async for c in _client(s, sim):
        yield c


@pytest_asyncio.fixture
async def keyed(settings: Settings, sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    s = msgspec.structs.replace(
        settings, fs_nodes=sim.fs_nodes, node_lease=2.0, coocenter_webkey="asjdfjklkasdf"
    )
    async for c in _client(s, sim):
        yield c


def node_of(sim: Simulator) -> Node:
    return sim.node("fs1")


def callcenter(sim: Simulator) -> CallCenter:
    node = node_of(sim)
    return of(node.executor)


async def test_webkey_wants_todays_digest(keyed: httpx.AsyncClient, settings: Settings) -> None:
    url = "/coocenter-api/queues/queue-info"
    r = await keyed.get(url)
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Authorization failed"}
    today = local_now(settings.timezone).date()
    r = await keyed.get(url, headers={"Authorization": digest("asjdfjklkasdf", today)})
    assert r.status_code == 200, r.text
    yesterday = today - dt.timedelta(days=1)
    r = await keyed.get(url, headers={"Authorization": digest("asjdfjklkasdf", yesterday)})
    assert r.status_code == 401  # this test does not run within 5 minutes of midnight


async def test_extension_status_lists_registrations_with_ping_times(
    client: httpx.AsyncClient, sim: Simulator, db: asyncpg.Pool
) -> None:
    for extn in ("800", "801", "802"):
        await db.execute("INSERT INTO extensions (extn, name) VALUES ($1, $1)", extn)
    node = node_of(sim)
    node.register_user("801", network_ip="192.168.12.4").ping_time_us = 45_000
    node.register_user("802", network_ip="192.168.12.3").ping_time_us = 42_000
    r = await client.get("/coocenter-api/extensions/extension-status", headers=FORM)
    assert r.status_code == 200
    assert r.json() == {
        "status": "success",
        "message": "Peer status list will follow",
        "data": [
            {"Exten": "800", "Type": "SIP", "IPAddr": "-none-", "Status": "UNKNOWN"},
            {"Exten": "801", "Type": "SIP", "IPAddr": "192.168.12.4", "Status": "OK(45ms)"},
            {"Exten": "802", "Type": "SIP", "IPAddr": "192.168.12.3", "Status": "OK(42ms)"},
        ],
    }


async def test_extension_hints_status_codes(
    client: httpx.AsyncClient, sim: Simulator, db: asyncpg.Pool
) -> None:
    for extn in ("800", "801"):
        await db.execute("INSERT INTO extensions (extn, name) VALUES ($1, $1)", extn)
    node = node_of(sim)
    node.register_user("800")
    r = await client.get("/coocenter-api/extensions/extension-hints-status", headers=FORM)
    assert r.json() == [
        {"agentName": "800", "extension": "800", "extenType": "analogCallCenter", "status": "0"},
        {"agentName": "801", "extension": "801", "extenType": "analogCallCenter", "status": "4"},
    ]
    assert (await node.api("originate user/800 &park")).startswith("+OK")
    r = await client.get("/coocenter-api/extensions/extension-hints-status", headers=FORM)
    assert r.json()[0]["status"] == "1"  # in use


async def test_agent_login_pause_logout_reach_mod_callcenter_and_queue_info(
    client: httpx.AsyncClient, sim: Simulator
) -> None:
    r = await client.post(
        "/coocenter-api/queues/agent-login", headers=FORM, content="extension=800&queue=630"
    )
    assert r.json() == {"status": "success", "message": "login extension success"}
    cc = callcenter(sim)
    assert cc.agents["800@default"].status == "Available"
    assert cc.agents["800@default"].contact == "user/800"
    assert cc.tier("630@default", "800@default") is not None

    r = await client.post(
        "/coocenter-api/queues/agent-pause", headers=FORM, content="queue=630&member=800&state=on"
    )
    assert r.status_code == 200 and r.json()["status"] == "success"
    assert cc.agents["800@default"].status == "On Break"

    r = await client.get("/coocenter-api/queues/queue-info", headers=FORM)
    assert r.json() == {
        "status": "success",
        "message": "Queue status will follow",
        "data": {
            "630": [
                {"name": "sip/876", "paused": "0", "penalty": "0"},
                {"name": "sip/893", "paused": "1", "penalty": "1"},
                {"name": "sip/800", "paused": "1", "penalty": "0"},
            ]
        },
    }
    r = await client.post(
        "/coocenter-api/queues/agent-pause", headers=FORM, content="queue=630&member=800&state=off"
    )
    assert cc.agents["800@default"].status == "Available"
    r = await client.post(
        "/coocenter-api/queues/agent-logout", headers=FORM, content="extension=800&queue=630"
    )
    assert r.json() == {"status": "success", "message": "logout extension success"}
    assert cc.agents["800@default"].status == "Logged Out"


async def test_bad_input_is_a_400_naming_the_field(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/coocenter-api/queues/agent-login", headers=FORM, content="extension=8%7D0&queue=630"
    )
    assert r.status_code == 400 and r.json()["message"].startswith("extension:")
    r = await client.post("/coocenter-api/queues/agent-login", headers=FORM, content="queue=630")
    assert r.status_code == 400 and r.json()["message"] == "extension: is required"
    r = await client.post(
        "/coocenter-api/queues/agent-pause", headers=FORM, content="queue=630&member=1&state=x"
    )
    assert r.status_code == 400 and r.json()["message"].startswith("state:")


async def test_an_agent_whose_extension_callcenter_config_cannot_name_is_a_400(
    client: httpx.AsyncClient,
) -> None:
    # <extension>@default is a callcenter_config word, which takes no * or #:
    # every node refused the line and the request was answered 503.
    for path, form in (
        ("agent-login", "extension=80%2A1&queue=630"),
        ("agent-pause", "member=80%231&state=on"),
        ("agent-logout", "extension=80%2A1"),
    ):
        r = await client.post(f"/coocenter-api/queues/{path}", headers=FORM, content=form)
        assert r.status_code == 400, (path, r.text)
        field = form.partition("=")[0]
        assert r.json()["message"].startswith(f"{field}:"), r.text


async def test_current_calls_hangup_and_click_number(
    client: httpx.AsyncClient, sim: Simulator
) -> None:
    node = node_of(sim)
    for user in ("808", "809", "896", "897"):
        node.register_user(user)
    assert (await node.api("originate user/896 &bridge(user/897)")).startswith("+OK")
    await eventually(lambda: any(c.peer is not None for c in node.channels.values()))
    r = await client.post("/coocenter-api/extensions/current-calls", headers=FORM)
    body = r.json()
    assert (body["status"], body["message"]) == ("success", "Channels will follow")
    caller = next(c for c in body["data"] if c["channel"].startswith("sofia/internal/896@"))
    assert set(caller) == {
        "calleridname", "calleridnum", "channel", "channelstate", "channelstatedesc",
        "connectedlinename", "connectedlinenum", "duration",
    }  # fmt: skip
    assert (caller["channelstate"], caller["channelstatedesc"]) == ("6", "Up")
    assert caller["connectedlinenum"] == "897"
    assert len(caller["duration"]) == 8 and caller["duration"].count(":") == 2

    r = await client.post("/coocenter-api/extensions/hangup", headers=FORM, content="extension=896")
    assert r.json() == {"status": "success", "message": "hangup extension success"}
    await eventually(lambda: not node.channels)
    r = await client.post("/coocenter-api/extensions/hangup", headers=FORM, content="extension=896")
    assert r.status_code == 404 and r.json()["status"] == "error"

    # The spec's example sends " src=808" with a blank before the name.
    r = await client.post(
        "/coocenter-api/extensions/click-number", headers=FORM, content=" src=808&dst=809"
    )
    assert r.json()["status"] == "success", r.text
    # 808 was rung, answered and sent on to 809 in the originating context.
    await eventually(
        lambda: any(
            r.get("section") == "dialplan"
            and r.get("Hunt-Destination-Number") == "809"
            and r.get("Hunt-Context") == "context-1"
            and r.get("Channel-Name", "").startswith("sofia/internal/808@")
            for r in node.xml_curl_requests
        )
    )


async def test_blacklist_index_create_delete_on_config_apis_blacklists(
    client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    r = await client.get("/coocenter-api/blacklist/index", headers=FORM)
    assert r.json() == {"status": "success", "data": []}
    for number in ("123456", "123123"):
        r = await client.post(
            "/coocenter-api/blacklist/create", headers=FORM, content=f"number={number}"
        )
        assert r.json() == {"status": "success", "message": "Updated database successfully"}
    r = await client.get("/coocenter-api/blacklist/index", headers=FORM)
    assert r.json() == {"status": "success", "data": ["123456", "123123"]}
    r = await client.request(
        "DELETE", "/coocenter-api/blacklist/delete", headers=FORM, content="number=123456"
    )
    assert r.json() == {"status": "success", "message": "Key deleted successfully"}
    r = await client.get("/coocenter-api/blacklist/index", headers=FORM)
    assert r.json()["data"] == ["123123"]
    # It is config-api's blacklist "coocenter", which routes refuse like any other.
    assert await db.fetchval("SELECT list_type FROM blacklists WHERE name = 'coocenter'") == 0
    r = await client.post("/coocenter-api/blacklist/create", headers=FORM, content="number=1{2}")
    assert r.status_code == 400 and r.json()["message"].startswith("number:")


async def test_transfer_and_exten_spy(client: httpx.AsyncClient, sim: Simulator) -> None:
    node = node_of(sim)
    for user in ("801", "802", "806", "810"):
        node.register_user(user)
    assert (await node.api("originate user/806 &bridge(user/810)")).startswith("+OK")
    await eventually(lambda: any(c.peer is not None for c in node.channels.values()))
    watched = next(c for c in node.channels.values() if c.name.startswith("sofia/internal/806@"))

    # 801 listens to 806 (the spec: dst=806& src=801).
    r = await client.post(
        "/coocenter-api/extensions/extenSpy", headers=FORM, content="dst=806& src=801"
    )
    assert r.json() == {"status": "success", "message": "spy extension success"}, r.text
    await eventually(
        lambda: any(
            c.name.startswith("sofia/internal/801@")
            and c.application == "eavesdrop"
            and c.application_data == watched.uuid
            for c in node.channels.values()
        )
    )

    # 810's caller goes to 802 (the spec: dst=801& src=802 moves 802's call).
    r = await client.post(
        "/coocenter-api/extensions/transfer", headers=FORM, content="dst=802& src=810"
    )
    assert r.json() == {"status": "success", "message": "tansfer extension success"}, r.text
    await eventually(
        lambda: any(
            r.get("section") == "dialplan"
            and r.get("Hunt-Destination-Number") == "802"
            and r.get("Unique-ID") == watched.uuid
            for r in node.xml_curl_requests
        )
    )
    r = await client.post(
        "/coocenter-api/extensions/transfer", headers=FORM, content="dst=802&src=1"
    )
    assert r.status_code == 404 and r.json()["message"] == "src: not in a call"


ATTACKS = (
    "800'",
    "800 'Logged Out'",
    "8}0",
    "${system(id)}",
    "800\r\napi hupall",
    "a b",
    "&bridge(user/801)",
    "800,801",
    "800@192.0.2.1",
    # uuid_transfer and transfer read a leading - as their -bleg/-both flag.
    "-both",
    # Longer than a callcenter_config word may be once "@default" is added,
    # and a name no callcenter_config line can carry: refused before any node
    # command, not half done (an agent added, then its tier refused).
    "6" * 125,
    "队列",
)


async def test_no_field_carries_freeswitch_syntax_to_a_node(
    client: httpx.AsyncClient, sim: Simulator
) -> None:
    cases = [
        ("queues/agent-login", "extension", "queue=630&extension="),
        ("queues/agent-login", "queue", "extension=800&queue="),
        ("queues/agent-logout", "extension", "extension="),
        ("queues/agent-pause", "member", "queue=630&member="),
        ("extensions/hangup", "extension", "extension="),
        ("extensions/click-number", "dst", "src=808&dst="),
        ("extensions/transfer", "src", "dst=801&src="),
        ("extensions/extenSpy", "dst", "src=801&dst="),
    ]
    before = dict(callcenter(sim).agents)
    for path, field, body in cases:
        for attack in ATTACKS:
            r = await client.post(
                f"/coocenter-api/{path}",
                headers=FORM,
                content=body + urllib.parse.quote(attack),
            )
            assert r.status_code == 400, (path, attack, r.text)
            assert r.json()["message"].startswith(f"{field}:"), (path, attack, r.text)
    assert callcenter(sim).agents.keys() == before.keys()
    assert not node_of(sim).channels

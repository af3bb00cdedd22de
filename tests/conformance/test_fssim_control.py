"""The simulator's control interface: what only fssim can do (skipped on a real FreeSWITCH)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from switchyard.call_control.esl import EslClient, EslEvent
from switchyard.fssim import Behaviour, Simulator
from switchyard.fssim.control import ControlServer
from tests.conformance.conftest import TIMEOUT, RawEsl, Target, body_of, channels_shown

pytestmark = pytest.mark.fssim_only


class Events:
    def __init__(self) -> None:
        self.items: list[EslEvent] = []
        self.changed = asyncio.Event()

    def __call__(self, e: EslEvent) -> None:
        self.items.append(e)
        self.changed.set()

    async def wait(self, pred: object, timeout: float = TIMEOUT) -> EslEvent:
        async def loop() -> EslEvent:
            while True:
                for e in self.items:
                    if pred(e):  # type: ignore[operator]
                        return e
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(loop(), timeout)


async def _client(
    t: Target, events: Events, *names: str, subclasses: tuple[str, ...] = ()
) -> EslClient:
    c = EslClient(t.host, t.port, t.password, on_event=events, events=names, subclasses=subclasses)
    await c.start(wait=TIMEOUT)
    return c


async def test_users_answer_reject_or_stay_silent(target: Target, client: EslClient) -> None:
    sim = target.sim
    sim.register_user("1000")
    sim.register_user("1001", behaviour=Behaviour(mode="reject", cause="USER_BUSY"))
    sim.register_user("1002", behaviour=Behaviour(mode="silent"))
    sim.register_user(
        "1003", behaviour=Behaviour(mode="reject", cause="CALL_REJECTED", ring_seconds=0.05)
    )
    ok = await client.api("originate user/1000 &park")
    assert ok.startswith("+OK ")
    assert await client.api("originate user/1001 &park") == "-ERR USER_BUSY\n"
    assert await client.api("originate {originate_timeout=0.2}user/1002 &park") == (
        "-ERR NO_ANSWER\n"
    )
    assert await client.api("originate user/1003 &park") == "-ERR CALL_REJECTED\n"
    # 1019 is in the stock directory but has no phone; 1999 is in no directory.
    assert await client.api("originate user/1019 &park") == "-ERR USER_NOT_REGISTERED\n"
    assert await client.api("originate user/1999 &park") == "-ERR SUBSCRIBER_ABSENT\n"
    await client.api(f"uuid_kill {ok[4:].strip()}")


async def test_early_media_counts_as_success_unless_ignored(
    target: Target, client: EslClient
) -> None:
    target.sim.register_user("1010", behaviour=Behaviour(mode="silent", early_media=True))
    early = await client.api("originate user/1010 &park")
    assert early.startswith("+OK ")
    assert (
        await client.api("originate {ignore_early_media=true,originate_timeout=0.2}user/1010 &park")
        == "-ERR NO_ANSWER\n"
    )
    await client.api(f"uuid_kill {early[4:].strip()}")


async def test_a_ringing_leg_answered_or_rejected_from_the_control_interface(
    target: Target, client: EslClient
) -> None:
    sim = target.sim
    sim.register_user("1020", behaviour=Behaviour(mode="silent"))
    events = Events()
    c = await _client(target, events, "CHANNEL_PROGRESS")
    job = asyncio.create_task(c.bgapi("originate user/1020 &park"))
    ringing = await events.wait(lambda e: e.name == "CHANNEL_PROGRESS")
    assert sim.answer_leg(ringing.unique_id)
    assert (await asyncio.wait_for(job, TIMEOUT)) == f"+OK {ringing.unique_id}\n"
    job = asyncio.create_task(c.bgapi("originate user/1020 &park"))
    ringing = await events.wait(
        lambda e: (
            e.name == "CHANNEL_PROGRESS"
            and sim.find(e.unique_id) is not None
            and sim.find(e.unique_id).answer_state == "ringing"
        )  # type: ignore[union-attr]
    )
    assert sim.reject_leg(ringing.unique_id, "CALL_REJECTED")
    assert (await asyncio.wait_for(job, TIMEOUT)) == "-ERR CALL_REJECTED\n"
    await c.close()


async def test_gateway_state_changes_fire_events_and_gate_calls(
    target: Target, client: EslClient
) -> None:
    events = Events()
    c = await _client(target, events, subclasses=("sofia::gateway_state",))
    target.sim.set_gateway("example", "FAILED")
    e = await events.wait(lambda e: e.subclass == "sofia::gateway_state")
    assert (e.get("Gateway"), e.get("State"), e.get("Ping-Status")) == ("example", "FAILED", "DOWN")
    assert await client.api("originate sofia/gateway/example/123 &park") == "-ERR GATEWAY_DOWN\n"
    assert "<state>FAILED</state>" in await client.api("sofia xmlstatus gateway example")
    assert await client.api("sofia profile internal register example") == "+OK\n"
    await events.wait(lambda e: e.get("State") == "REGED")
    ok = await client.api("originate sofia/gateway/example/123 &park")
    assert ok.startswith("+OK ")
    await client.api(f"uuid_kill {ok[4:].strip()}")
    await c.close()


async def test_an_injected_inbound_call_runs_the_dialplan(
    target: Target, client: EslClient
) -> None:
    events = Events()
    c = await _client(target, events, "CHANNEL_CREATE", "CHANNEL_PARK")
    ch = target.sim.inject_call(
        "13800000000", "9999", context="default", sip_headers={"X-Tenant": "acme"}
    )
    create = await events.wait(lambda e: e.name == "CHANNEL_CREATE" and e.unique_id == ch.uuid)
    assert create.get("Call-Direction") == "inbound"
    assert create.get("variable_sip_h_X-Tenant") == "acme"
    await events.wait(lambda e: e.name == "CHANNEL_PARK" and e.unique_id == ch.uuid)
    assert await client.api(f"uuid_getvar {ch.uuid} sip_h_X-Tenant") == "acme"
    await c.close()


async def test_drop_and_restart(target: Target) -> None:
    raw = await RawEsl.connect(target)
    await target.sim.drop_connections()
    assert await asyncio.wait_for(raw.reader.read(1), TIMEOUT) == b""
    old = target.sim.core_uuid
    await target.sim.restart()
    raw = await RawEsl.connect(target)
    await raw.reply("event plain HEARTBEAT")
    target.sim.heartbeat()
    frame = (await raw.events_until(lambda f: b"HEARTBEAT" in f))[-1]
    assert f"Core-UUID: {target.sim.core_uuid}".encode() in body_of(frame)
    assert target.sim.core_uuid != old
    await raw.close()


async def test_several_nodes_in_one_process_and_the_http_control_port() -> None:
    async with Simulator() as sim:
        a = await sim.add_node("fs-a", heartbeat_seconds=3600)
        b = await sim.add_node("fs-b", heartbeat_seconds=3600)
        assert a.port != b.port and a.core_uuid != b.core_uuid
        assert sim.fs_nodes == f"fs-a={a.esl_url},fs-b={b.esl_url}"
        control = ControlServer(sim)
        port = await control.start()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=TIMEOUT) as http:
            nodes = (await http.get("/nodes")).json()
            assert [n["name"] for n in nodes] == ["fs-a", "fs-b"]
            r = await http.post(
                "/nodes/fs-b/users",
                json={"extension": "2000", "mode": "reject", "cause": "USER_BUSY"},
            )
            assert r.status_code == 200
            r = await http.post("/nodes/fs-b/users", json={"extension": "2001", "mode": "nope"})
            assert r.status_code == 400 and "mode" in r.json()["error"]
            r = await http.post(
                "/nodes/fs-b/calls",
                json={"caller": "100", "destination": "9999", "context": "default"},
            )
            uuid = r.json()["uuid"]
            assert b.find(uuid) is not None and a.find(uuid) is None
            assert (await http.post("/nodes/fs-x/drop")).status_code == 404
            assert (
                await http.post("/nodes/fs-b/gateways/example", json={"state": "REGED"})
            ).json()["state"] == "REGED"
        client = EslClient("127.0.0.1", b.port, "ClueCon")
        await client.start(wait=TIMEOUT)
        assert await client.api("originate user/2000 &park") == "-ERR USER_BUSY\n"
        rows = await channels_shown(client, 1)
        assert rows["row_count"] == 1
        await client.close()
        await control.stop()


async def test_bridge_and_mod_ai_channel_state_events(target: Target, client: EslClient) -> None:
    target.sim.ai_events = True
    target.sim.register_user("1030")
    events = Events()
    c = await _client(
        target, events, "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", subclasses=("ai::channel-state",)
    )
    ok = await client.api("originate loopback/9999 &bridge(user/1030)")
    a_leg = ok[4:].strip()
    bridge = await events.wait(lambda e: e.name == "CHANNEL_BRIDGE")
    b_leg = bridge.get("Bridge-B-Unique-ID")
    assert bridge.get("Bridge-A-Unique-ID") == a_leg
    # mod_ai's event is the channel's: its headers and variables, Answer-State saying which.
    answered = await events.wait(
        lambda e: e.subclass == "ai::channel-state" and e.get("Answer-State") == "answered"
    )
    assert answered.get("Channel-Call-UUID") and answered.get("Caller-Destination-Number")
    assert answered.get("variable_uuid") == answered.get("Unique-ID")
    assert not answered.get("State")
    assert await client.api(f"uuid_kill {b_leg}") == "+OK\n"
    await events.wait(lambda e: e.name == "CHANNEL_UNBRIDGE")
    hangup = await events.wait(
        lambda e: e.subclass == "ai::channel-state" and e.get("Answer-State") == "hangup"
    )
    assert hangup.get("Hangup-Cause")
    await client.api(f"uuid_kill {a_leg}")
    await c.close()


async def test_silence_after_connecting_gets_the_notice_and_a_close(target: Target) -> None:
    target.sim.auth_timeout = 0.2
    raw = await RawEsl.connect(target, auth=False)
    notice = await raw.frame()
    assert notice.startswith(b"Content-Type: text/disconnect-notice\n")
    assert await asyncio.wait_for(raw.reader.read(1), TIMEOUT) == b""


async def test_an_acl_refusal_is_a_rude_rejection_and_auth_failed(target: Target) -> None:
    from switchyard.call_control.esl import AuthFailed, EslConnection

    target.sim.accept_connections = False
    r, w = await asyncio.open_connection(target.host, target.port)
    data = await asyncio.wait_for(r.read(), TIMEOUT)
    assert data == (
        b"Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n"
    )
    w.close()
    with pytest.raises(AuthFailed, match="Access Denied"):
        await EslConnection.open(target.host, target.port, target.password, lambda e: None)


async def test_a_listener_that_falls_behind_loses_events_then_is_killed(target: Target) -> None:
    sim = target.sim
    sim.max_queued_events = 10
    sim.register_user("1040", behaviour=Behaviour(mode="silent"))
    raw = await RawEsl.connect(target)
    await raw.reply("event plain CUSTOM test::flood")
    # A blocking api holds the listener, so its queue fills while we fire.
    await raw.send("api originate {originate_timeout=0.3}user/1040 &park")
    await asyncio.sleep(0.05)
    for i in range(600):
        e = sim.event("CUSTOM", "t.c", "t", 1, subclass="test::flood")
        e.add("N", str(i))
        sim.fire(e)
    frames = [await raw.frame() for _ in range(12)]
    assert body_of(frames[0]) == b"-ERR NO_ANSWER\n"
    assert len([f for f in frames if b"test%3A%3Aflood" in f]) == 10
    assert frames[-1] == (
        b"Content-Type: text/disconnect-notice\nContent-Length: 39\n\n"
        b"killed listener because of lost events\n"
    )
    assert await asyncio.wait_for(raw.reader.read(1), TIMEOUT) == b""


async def test_the_switchyard_fssim_command_serves_esl_and_control() -> None:
    import os
    import signal
    import sys

    from switchyard.shared.embedded import free_port

    esl, ctl = free_port(), free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "switchyard.shared.cli",
        "fssim",
        "--esl-port",
        str(esl),
        "--control-port",
        str(ctl),
        "--nodes",
        "2",
        "--users",
        "1000",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "SWITCHYARD_LOG_FORMAT": "text"},
    )
    try:
        assert proc.stdout is not None
        lines = [await asyncio.wait_for(proc.stdout.readline(), 20) for _ in range(3)]
        assert b"control on" in lines[-1], lines
        for port in (esl, esl + 1):
            client = EslClient("127.0.0.1", port, "ClueCon")
            await client.start(wait=TIMEOUT)
            assert (await client.api("status")).startswith("UP ")
            await client.close()
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            nodes = (await http.get(f"http://127.0.0.1:{ctl}/nodes")).json()
        assert [(n["name"], n["esl_port"]) for n in nodes] == [("fssim1", esl), ("fssim2", esl + 1)]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0


async def test_digits_keyed_over_the_control_port_fire_dtmf_events(target: Target) -> None:
    sim = Simulator()
    sim.nodes.append(target.sim)
    control = ControlServer(sim)
    port = await control.start()
    events = Events()
    c = await _client(target, events, "DTMF", "CHANNEL_PARK")
    try:
        parked = target.sim.inject_call("100", "9999", context="default")
        await events.wait(lambda e: e.name == "CHANNEL_PARK" and e.unique_id == parked.uuid)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=TIMEOUT) as http:
            path = f"/nodes/{target.sim.name}/channels/{parked.uuid}/dtmf"
            r = await http.post(path, json={"digits": "4x"})
            assert r.status_code == 400 and "digits" in r.json()["error"]
            r = await http.post(path, json={"digits": "4#", "duration": 1600})
            assert r.status_code == 200
            gone = f"/nodes/{target.sim.name}/channels/00000000-0000-4000-8000-000000000000/dtmf"
            assert (await http.post(gone, json={"digits": "1"})).status_code == 404
        await events.wait(lambda e: e.get("DTMF-Digit") == "#")
        keyed = [e for e in events.items if e.name == "DTMF" and e.unique_id == parked.uuid]
        # A parked channel reads digits as they come, one DTMF event each.
        assert [(e.get("DTMF-Digit"), e.get("DTMF-Duration")) for e in keyed] == [
            ("4", "1600"),
            ("#", "1600"),
        ]
        assert keyed[0].get("DTMF-Source") == "RTP"
        assert keyed[0].get("Channel-State") == "CS_EXECUTE"
        assert "variable_uuid" not in keyed[0].headers
    finally:
        await c.close()
        await control.stop()

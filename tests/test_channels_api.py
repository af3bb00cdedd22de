"""/api/channels end to end: HTTP, NATS, the owning replica, ESL, fssim; config-api routes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest
import pytest_asyncio

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.fssim import Behaviour, Simulator
from switchyard.shared.bus import Bus
from switchyard.shared.media_location import media_root
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually, serving

Client = httpx.AsyncClient


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator() as s:
        node = await s.add_node("fs1")
        node.register_user("1000")
        node.register_user("1001", behaviour=Behaviour(mode="reject", cause="USER_BUSY"))
        yield s


@pytest_asyncio.fixture
async def client(settings: Settings, sim: Simulator, api_token: str) -> AsyncIterator[Client]:
    s = msgspec.structs.replace(settings, fs_nodes=sim.fs_nodes, node_lease=2.0)
    app = create_app(s, [config_api, call_control])
    async with serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as c:
        replica = app.state["call-control"]
        c.app_state = app.state  # type: ignore[attr-defined]
        await eventually(
            lambda: all(a.client.connected for a in replica.agents.values()) and replica.agents
        )
        yield c


async def test_originate_parks_a_channel_that_list_and_hangup_see(
    client: Client, sim: Simulator
) -> None:
    node = sim.node("fs1")
    r = await client.post("/api/channels", data={"destNumber": "1000"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["result"] == "ok" and body["node"] == "fs1"
    uuid = body["uuid"]
    channel = node.find(uuid)
    assert channel is not None and channel.parked

    listed = (await client.get("/api/channels")).json()
    mine = [row for row in listed if row["uuid"] == uuid]
    assert mine and mine[0]["node"] == "fs1"

    r = await client.delete(f"/api/channels/{uuid}")
    assert r.json() == {"result": "ok", "uuid": uuid}
    await eventually(lambda: node.find(uuid) is None)
    assert not [row for row in (await client.get("/api/channels")).json() if row["uuid"] == uuid]


async def test_the_list_is_right_at_once_although_show_channels_lags(
    client: Client, sim: Simulator
) -> None:
    """FreeSWITCH's ``show channels`` gets a row one SQL batch after the call and
    drops it one batch after the hangup (fssim does the same): the list does not."""
    node = sim.node("fs1")
    assert node.show_channels_lag
    uuids = []
    for _ in range(3):
        uuids.append(
            (await client.post("/api/channels", data={"destNumber": "1000"})).json()["uuid"]
        )
        listed = {row["uuid"] for row in (await client.get("/api/channels")).json()}
        assert set(uuids) <= listed
    gone = uuids.pop(1)
    assert (await client.delete(f"/api/channels/{gone}")).json()["result"] == "ok"
    listed = {row["uuid"] for row in (await client.get("/api/channels")).json()}
    assert gone not in listed and set(uuids) <= listed
    # Hung up on the node itself (no API call), then listed at once.
    node.hangup(node.find(uuids[0]))  # type: ignore[arg-type]
    listed = {row["uuid"] for row in (await client.get("/api/channels")).json()}
    assert uuids[0] not in listed and uuids[1] in listed


async def test_an_app_runs_after_answer_and_json_apps_run_in_order(
    client: Client, sim: Simulator
) -> None:
    node = sim.node("fs1")
    r = await client.post(
        "/api/channels",
        json={
            "destNumber": "1000",
            "autoAnswer": "true",
            "cidName": "Front Desk",
            "cidNumber": "8000",
            "apps": [{"app": "set", "args": "foo=bar"}, {"app": "park", "args": ""}],
        },
    )
    uuid = r.json()["uuid"]
    channel = await eventually(lambda: node.find(uuid))
    await eventually(lambda: channel.variables.get("foo") == "bar")
    assert channel.variables.get("sip_auto_answer") == "true"
    assert channel.variables.get("origination_caller_id_name") == "Front Desk"


async def test_a_failed_call_carries_freeswitchs_cause(client: Client) -> None:
    busy = (await client.post("/api/channels", data={"destNumber": "1001"})).json()
    assert (busy["result"], busy["reason"]) == ("error", "USER_BUSY")
    # 4444 is in no directory: FreeSWITCH's user/ endpoint says SUBSCRIBER_ABSENT
    # (a known user with no phone registered is USER_NOT_REGISTERED).
    nobody = (await client.post("/api/channels", data={"destNumber": "4444"})).json()
    assert (nobody["result"], nobody["reason"]) == ("error", "SUBSCRIBER_ABSENT")


async def test_async_originate_answers_at_once_with_the_uuid(
    client: Client, sim: Simulator
) -> None:
    r = await client.post("/api/channels", data={"destNumber": "1000", "async": "true"})
    body = r.json()
    assert body["result"] == "ok"
    await eventually(lambda: sim.node("fs1").find(body["uuid"]))


async def test_bad_originate_input_is_400_naming_the_field(client: Client) -> None:
    cases = [
        ({}, "destNumber"),
        ({"destNumber": "1000\nbgapi hupall"}, "destNumber"),
        ({"destNumber": "1000", "app": "playback", "args": "x'\n"}, "args"),
        ({"destNumber": "1000", "cidName": "it's"}, "cidName"),
        ({"destNumber": "1000", "apps": [{"app": "bad app"}]}, "apps[0].app"),
    ]
    for body, field in cases:
        r = await client.post("/api/channels", json=body)
        assert r.status_code == 400, body
        assert r.json()["data"]["field"] == field


async def test_unknown_channels_are_404(client: Client) -> None:
    r = await client.delete("/api/channels/00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404
    r = await client.put(
        "/api/channels/00000000-0000-4000-8000-000000000000",
        json={"action": "snapshot", "png_name": "a.png"},
    )
    assert r.json() == {"code": 404, "msg": "Could not locate session."}


async def test_deaf_mutes_what_the_channel_hears_and_unmutes_it(
    client: Client, sim: Simulator
) -> None:
    uuid = (await client.post("/api/channels", data={"destNumber": "1000"})).json()["uuid"]
    channel = sim.node("fs1").find(uuid)
    assert channel is not None and not channel.muted.get("write")
    r = await client.put(f"/api/channels/{uuid}", json={"action": "deaf", "deaf": "on"})
    assert r.json() == {"code": 200, "msg": "ok"}
    assert channel.muted == {"write": True}  # what FreeSWITCH writes to the phone: silence
    r = await client.put(f"/api/channels/{uuid}", json={"action": "deaf", "deaf": "off"})
    assert r.json() == {"code": 200, "msg": "ok"}
    assert channel.muted == {"write": False}
    # Twice on, once off: the state follows the last request, not a count.
    for state in ("on", "on", "off"):
        await client.put(f"/api/channels/{uuid}", json={"action": "deaf", "deaf": state})
    assert channel.muted == {"write": False}


async def test_channel_actions_answer_in_the_spec_shape(
    client: Client, sim: Simulator, settings: Settings
) -> None:
    uuid = (await client.post("/api/channels", data={"destNumber": "1000"})).json()["uuid"]
    r = await client.put(f"/api/channels/{uuid}", json={"action": "deaf", "deaf": "on"})
    assert r.json() == {"code": 200, "msg": "ok"}
    r = await client.put(
        f"/api/channels/{uuid}", json={"action": "record", "record": "on", "file_name": "t.mp4"}
    )
    assert r.json() == {
        "code": 200,
        "msg": "ok",
        # The media folder's recordings/ (SWITCHYARD_MEDIA_DIR, docs/media.md).
        "file": f"{media_root(settings)}/recordings/t.mp4",
    }
    r = await client.put(f"/api/channels/{uuid}", json={"action": "deaf"})
    assert r.status_code == 400
    assert r.json() == {"code": 400, "reason": "missing mute param in json body"}
    r = await client.put(
        f"/api/channels/{uuid}", json={"action": "record", "record": "on", "file_name": "../x.mp4"}
    )
    assert r.status_code == 400


async def test_every_event_of_a_call_lands_in_the_stream(
    client: Client, sim: Simulator, bus: Bus
) -> None:
    uuid = (await client.post("/api/channels", data={"destNumber": "1000"})).json()["uuid"]
    await client.delete(f"/api/channels/{uuid}")
    replica = client.app_state["call-control"]  # type: ignore[attr-defined]
    await asyncio.wait_for(replica.publisher.drain(), 10)

    async def names() -> list[str]:
        info = await bus.js.stream_info(bus.subjects.events_stream)
        seen = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await bus.js.get_msg(bus.subjects.events_stream, seq)
            event = msgspec.json.decode(msg.data)
            if event.get("Unique-ID") == uuid:
                assert (
                    msg.headers["Nats-Msg-Id"] == f"{event['Core-UUID']}:{event['Event-Sequence']}"
                )
                seen.append(event["Event-Name"])
        return seen

    seen: list[str] = []
    deadline = time.monotonic() + 10
    while "CHANNEL_DESTROY" not in seen and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        seen = await names()
    assert seen[0] == "CHANNEL_CREATE" and seen[-1] == "CHANNEL_DESTROY"
    assert "CHANNEL_ANSWER" in seen and "CHANNEL_HANGUP" in seen


async def test_without_nodes_originate_is_503(settings: Settings, api_token: str) -> None:
    async with serving(create_app(settings, [config_api, call_control])) as c:
        r = await c.post(
            "/api/channels", data={"destNumber": "1000"}, headers={"X-XTRA-AUTH-ID": api_token}
        )
        assert r.status_code == 503
        assert r.json()["data"]["reason"] == "no_responder"


@pytest.mark.parametrize("path", ["/api/channels"])
async def test_channels_need_a_token(client: Client, path: str) -> None:
    del client.headers["X-XTRA-AUTH-ID"]
    assert (await client.get(path)).status_code == 401


async def test_early_media_off_and_user_gateway_reach_the_channel(
    client: Client, sim: Simulator
) -> None:
    node = sim.node("fs1")
    r = await client.post("/api/channels", json={"destNumber": "1000", "earlyMedia": "false"})
    channel = await eventually(lambda: node.find(r.json()["uuid"]))
    assert channel.variables.get("ignore_early_media") == "true"

    r = await client.post(
        "/api/channels",
        data={
            "destNumber": "8000",
            "userGateway": "example",
            "app": "playback",
            "args": "/tmp/t.wav",
        },
    )
    body = r.json()
    assert body["result"] == "ok", body
    channel = await eventually(lambda: node.find(body["uuid"]))
    assert channel.name.startswith("sofia/") and "8000" in channel.name


async def test_dest_number_is_routed_as_a_dialled_call_would_be(
    client: Client, sim: Simulator, db: Any
) -> None:
    node = sim.node("fs1")
    gw = await db.fetchval("INSERT INTO gateways (name) VALUES ('example') RETURNING id")
    r = await client.post(
        "/api/routes",
        json={
            "name": "out",
            "prefix": "9",
            "max_length": "12",
            "context": "context-1",
            "dest_type": "FS_DEST_GATEWAY",
            "dest_uuid": str(gw),
            "dnc": "-9",
        },
    )
    assert r.status_code == 200, r.text
    # The engine answers from memory once it has compiled the new route.
    for _ in range(100):
        body = (await client.post("/api/channels", data={"destNumber": "9123456"})).json()
        if body["result"] == "ok":
            channel = node.find(body["uuid"])
            # FreeSWITCH names a gateway leg sofia/<gateway's profile>/<number>@<proxy>.
            if channel is not None and channel.name.startswith("sofia/internal/"):
                break
        await asyncio.sleep(0.05)
    else:
        explain = (
            await client.get(
                "/api/routes/explain", params={"destNumber": "9123456", "context": "context-1"}
            )
        ).json()
        raise AssertionError(f"never routed through the gateway: {body} {channel.name} {explain}")
    assert channel.name.startswith("sofia/internal/123456@")  # the route's dnc stripped the 9


async def test_a_snapshot_of_an_audio_call_is_a_clear_400(client: Client, sim: Simulator) -> None:
    # uuid_write_png (mod_png) needs video; an audio call gets its refusal, not a fake ok.
    uuid = (await client.post("/api/channels", data={"destNumber": "1000"})).json()["uuid"]
    r = await client.put(f"/api/channels/{uuid}", json={"action": "snapshot", "png_name": "a.png"})
    assert r.status_code == 400
    assert r.json() == {"code": 400, "reason": "Session does not have video."}

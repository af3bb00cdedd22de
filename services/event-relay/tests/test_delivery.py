"""event-relay against real NATS, Postgres and a real HTTP receiver.

Events are published into the stream as call-control publishes them (the
stream, subject and Nats-Msg-Id of docs/call-control.md), built from a
FreeSWITCH 1.10.12 CHANNEL_ANSWER capture.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
import pytest_asyncio
import standardwebhooks

from switchyard.call_control.events import stream_config
from switchyard.event_relay import store
from switchyard.event_relay.service import service as event_relay
from switchyard.shared.bus import Bus
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import logged_warnings, serving
from switchyard.shared.webhook_receiver import Answer, Received, Receiver

# A real FreeSWITCH 1.10.12 frame, kept in the repository (a clean clone has
# nothing outside it).
SAMPLE = Path(__file__).parents[3] / "tests/conformance/samples/esl/json-CHANNEL_ANSWER.txt"
CORE = "b52de70d-62a6-43ba-a84a-8c1a2a8d92f1"
STATES = {
    "CHANNEL_CREATE": "ringing",
    "CHANNEL_PROGRESS_MEDIA": "early",
    "CHANNEL_ANSWER": "answered",
    "CHANNEL_HANGUP_COMPLETE": "hangup",
}


def sample() -> dict[str, Any]:
    text = SAMPLE.read_text()
    return json.loads(text[text.index("{") :])


class Node:
    """Publishes a node's events the way call-control does."""

    def __init__(self, bus: Bus, name: str = "fs1") -> None:
        self.bus = bus
        self.name = name
        self.seq = 1000

    async def send(self, event_name: str, uuid: str, **headers: str) -> dict[str, Any]:
        self.seq += 1
        event = sample()
        event.update({"Event-Name": event_name, "Event-Sequence": str(self.seq)})
        event.update({"Unique-ID": uuid, "Channel-Call-UUID": uuid}, **headers)
        if event_name == "CHANNEL_HANGUP_COMPLETE":
            event["Hangup-Cause"] = "NORMAL_CLEARING"
        subclass = event.get("Event-Subclass") if event_name == "CUSTOM" else None
        await self.bus.js.publish(
            self.bus.subjects.events(self.name, event_name, subclass),
            msgspec.json.encode(event),
            headers={"Nats-Msg-Id": f"{CORE}:{self.name}:{self.seq}"},
        )
        return event

    async def call(self, uuid: str) -> list[dict[str, Any]]:
        return [await self.send(name, uuid) for name in STATES]


@pytest.fixture
def relay_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(
        settings,
        webhook_allow_private="127.0.0.0/8",
        webhook_retry_schedule="0.2,0.3,0.5",
    )


@pytest_asyncio.fixture
async def api(
    relay_settings: Settings, bus: Bus, api_token: str
) -> AsyncIterator[httpx.AsyncClient]:
    await bus.ensure_stream(stream_config(bus))  # call-control's stream
    app = create_app(relay_settings, [event_relay])
    async with serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as client:
        relay = app.state["event-relay"]
        client.relay = relay  # type: ignore[attr-defined]
        while not relay.leader:  # noqa: ASYNC110 - the leader takes the lock on its own
            await asyncio.sleep(0.05)
        yield client


async def subscribe(api: httpx.AsyncClient, url: str, **body: Any) -> tuple[int, str]:
    r = await api.post("/api/webhooks", json={"url": url, **body})
    assert r.status_code == 200, r.text
    assert r.json()["code"] == 200
    webhook_id = r.json()["data"]
    key = (await api.get(f"/api/webhooks/{webhook_id}/secret")).json()["key"]
    assert key.startswith("whsec_")
    return webhook_id, key


def verify(secret: str, got: Received) -> dict[str, Any]:
    """The body, after the reference library checked the signature."""
    standardwebhooks.Webhook(secret).verify(got.body, got.headers)
    body: dict[str, Any] = json.loads(got.body)
    return body


async def test_xswitch_push_is_signed_in_order_with_every_header_kept(
    api: httpx.AsyncClient, bus: Bus
) -> None:
    async with Receiver() as rx:
        _, secret = await subscribe(api, rx.url + "/events")
        sent = await Node(bus).call("call-1")
        await rx.wait_for(lambda r: len(r) >= 4)
        bodies = [verify(secret, got) for got in rx.received]
    assert [b["Answer-State"] for b in bodies] == ["ringing", "early", "answered", "hangup"]
    for source, body in zip(sent, bodies, strict=True):
        # As the spec's examples: the subclass, CUSTOM, and the source event's headers.
        assert body["Event-Subclass"] == "ai::channel-state"
        assert body["Event-Name"] == "CUSTOM"
        kept = {k: v for k, v in source.items() if k not in ("Event-Name", "Answer-State")}
        assert {k: body[k] for k in kept} == kept
    assert bodies[-1]["Hangup-Cause"] == "NORMAL_CLEARING"
    assert list(bodies[0])[:2] == ["Event-Subclass", "Event-Name"]
    assert {got.path for got in rx.received} == {"/events"}


async def test_raw_format_and_filters(api: httpx.AsyncClient, bus: Bus) -> None:
    async with Receiver() as rx:
        _, secret = await subscribe(
            api,
            rx.url,
            format="raw",
            events=["CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"],
            filters={"caller": "10[0-9]{2}", "callee": "99.*"},
        )
        node = Node(bus)
        await node.send("CHANNEL_ANSWER", "c1", **{"Caller-Caller-ID-Number": "2000"})
        await node.call("c2")
        await rx.wait_for(lambda r: len(r) >= 2)
        names = [verify(secret, got)["Event-Name"] for got in rx.received]
    assert names == ["CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"]


async def test_receiver_down_then_up_gets_everything_in_order_once_back(
    api: httpx.AsyncClient, bus: Bus
) -> None:
    up = False
    rx = Receiver(lambda _: Answer(204 if up else 503, {"retry-after": "0"}))
    async with rx:
        webhook_id, secret = await subscribe(api, rx.url)
        node = Node(bus)
        await node.call("call-a")
        await node.call("call-b")
        await rx.wait_for(lambda r: len(r) >= 2)  # first tries fail
        up = True
        await rx.wait_for(lambda r: len({g.headers["webhook-id"] for g in r}) >= 8)
        await asyncio.sleep(1.5)  # retries still due arrive
        for got in rx.received:
            verify(secret, got)
    by_call: dict[str, list[str]] = {}
    first_ok: dict[str, int] = {}
    # The receiver answered 503 before ``up``; a repeated webhook-id is the same event.
    ids = [g.headers["webhook-id"] for g in rx.received]
    for i, got in enumerate(rx.received):
        body = json.loads(got.body)
        first_ok.setdefault(got.headers["webhook-id"], i)
        by_call.setdefault(body["Unique-ID"], [])
        if body["Answer-State"] not in by_call[body["Unique-ID"]]:
            by_call[body["Unique-ID"]].append(body["Answer-State"])
    assert len(set(ids)) == 8
    assert by_call == {c: ["ringing", "early", "answered", "hangup"] for c in ("call-a", "call-b")}
    attempts = (await api.get(f"/api/webhooks/{webhook_id}/attempts?perPage=100")).json()
    assert attempts["rowCount"] == len(ids)
    failed = (await api.get(f"/api/webhooks/{webhook_id}/attempts?status=failed")).json()
    assert failed["rowCount"] >= 2 and failed["data"][0]["status_code"] == 503


async def test_a_call_keeps_its_order_across_retries(api: httpx.AsyncClient, bus: Bus) -> None:
    tries: dict[str, int] = {}

    def answer(got: Received) -> Answer:
        # The first event (ringing) fails twice; nothing after it may overtake it.
        state = json.loads(got.body)["Answer-State"]
        tries[state] = tries.get(state, 0) + 1
        return Answer(500 if state == "ringing" and tries[state] <= 2 else 200)

    async with Receiver(answer) as rx:
        await subscribe(api, rx.url)
        await Node(bus).call("call-r")
        await rx.wait_for(lambda r: len(r) >= 6)
    states = [json.loads(g.body)["Answer-State"] for g in rx.received]
    assert states == ["ringing", "ringing", "ringing", "early", "answered", "hangup"]


async def test_410_disables_the_subscription(api: httpx.AsyncClient, bus: Bus) -> None:
    async with Receiver(lambda _: Answer(410)) as rx:
        webhook_id, _ = await subscribe(api, rx.url)
        await Node(bus).call("call-g")
        await rx.wait_for(lambda r: len(r) >= 1)
        await asyncio.sleep(0.5)
    assert len(rx.received) == 1  # disabled at once: no retry, nothing else sent
    hook = (await api.get(f"/api/webhooks/{webhook_id}")).json()
    assert hook["enabled"] is False and "410" in hook["disabled_reason"]
    listed = (await api.get("/api/webhooks")).json()
    assert listed["rowCount"] == 1 and listed["data"][0]["enabled"] is False


async def test_replay_by_id_and_by_window(api: httpx.AsyncClient, bus: Bus) -> None:
    async with Receiver() as rx:
        webhook_id, secret = await subscribe(api, rx.url)
        await Node(bus).call("call-p")
        await rx.wait_for(lambda r: len(r) >= 4)
        first = rx.received[0].headers["webhook-id"]
        r = await api.post(f"/api/webhooks/{webhook_id}/replay", json={"event_id": first})
        assert r.status_code == 200, r.text
        await rx.wait_for(lambda r: len(r) >= 5)
        assert rx.received[4].headers["webhook-id"] == first
        verify(secret, rx.received[4])
        r = await api.post(
            f"/api/webhooks/{webhook_id}/replay", json={"since": "2000-01-01 00:00:00"}
        )
        assert r.json()["data"]["replayed"] == 4
        await rx.wait_for(lambda r: len(r) >= 9)
    states = [json.loads(g.body)["Answer-State"] for g in rx.received[5:]]
    assert states == ["ringing", "early", "answered", "hangup"]
    # The attempt log is written after the receiver has the delivery: the
    # last replay's row can trail its arrival.
    for _ in range(100):
        attempts = (await api.get(f"/api/webhooks/{webhook_id}/attempts?event_id={first}")).json()
        if attempts["rowCount"] >= 3:
            break
        await asyncio.sleep(0.1)
    assert attempts["rowCount"] == 3
    missing = await api.post(f"/api/webhooks/{webhook_id}/replay", json={"event_id": "nope"})
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/hook",
        "http://[::1]:9/hook",
        "http://192.168.1.1/",
        "ftp://example.com/",
        # A host IDNA cannot encode (found by schemathesis; was a 500).
        "https://\x80\x0b{l/",
        # An unmatched "[": urlsplit raises (found by schemathesis; was a 500).
        "http://[::1/hook",
    ],
)
async def test_private_and_metadata_urls_are_refused(api: httpx.AsyncClient, url: str) -> None:
    r = await api.post("/api/webhooks", json={"url": url})
    assert r.status_code == 400, r.text
    assert r.json()["data"]["field"] == "url"
    assert (await api.get("/api/webhooks")).json()["rowCount"] == 0


async def test_a_node_with_mod_ai_is_not_doubled(api: httpx.AsyncClient, bus: Bus) -> None:
    async with Receiver() as rx:
        await subscribe(api, rx.url)
        node = Node(bus, "fs2")
        # mod_ai's own event for the first state, then the stock events.
        real = {"Event-Subclass": "ai::channel-state", "Answer-State": "ringing"}
        await node.send("CUSTOM", "call-m", **real)
        for name in STATES:
            await node.send(name, "call-m")
        await node.send("CUSTOM", "call-m", **{**real, "Answer-State": "answered"})
        await rx.wait_for(lambda r: len(r) >= 2)
        await asyncio.sleep(0.5)
    states = [json.loads(g.body)["Answer-State"] for g in rx.received]
    assert states == ["ringing", "answered"]
    assert {g.headers["webhook-id"].endswith(":ai") for g in rx.received} == {False}


async def test_secret_rotation_signs_with_both(api: httpx.AsyncClient, bus: Bus) -> None:
    async with Receiver() as rx:
        webhook_id, old = await subscribe(api, rx.url)
        new = (await api.post(f"/api/webhooks/{webhook_id}/secret/rotate")).json()["key"]
        assert new != old
        await Node(bus).send("CHANNEL_ANSWER", "call-s")
        await rx.wait_for(lambda r: len(r) >= 1)
    verify(old, rx.received[0])
    verify(new, rx.received[0])
    assert len(rx.received[0].headers["webhook-signature"].split()) == 2


async def test_operational_events_reach_a_webhook_star_subscription(
    api: httpx.AsyncClient, bus: Bus
) -> None:
    calls: dict[str, int] = {}

    def flaky(got: Received) -> Answer:
        # Fails twice, then takes everything: the subscription recovers.
        calls["flaky"] = calls.get("flaky", 0) + 1
        return Answer(500 if calls["flaky"] <= 2 else 204)

    async with (
        Receiver() as ops,
        Receiver(flaky) as recovering,
        Receiver(lambda _: Answer(500)) as dead,
        Receiver(lambda _: Answer(410)) as gone,
    ):
        _, ops_secret = await subscribe(api, ops.url, events=["webhook.*"], format="raw")
        recovering_id, _ = await subscribe(api, recovering.url, format="raw", events=["*"])
        dead_id, _ = await subscribe(api, dead.url, format="raw", events=["*"])
        gone_id, _ = await subscribe(api, gone.url, format="raw", events=["*"])
        sent = await Node(bus).send("CHANNEL_ANSWER", "call-o")

        def kinds(r: list[Received]) -> set[str]:
            return {json.loads(g.body)["type"] for g in r}

        await ops.wait_for(
            lambda r: (
                {"webhook.recovered", "webhook.attempt.exhausted", "webhook.disabled"} <= kinds(r)
            )
        )
        await asyncio.sleep(0.5)  # nothing more is owed to ops
        bodies = [verify(ops_secret, got) for got in ops.received]
    by_kind = {b["type"]: b["data"] for b in bodies}
    assert sorted(b["type"] for b in bodies) == [
        "webhook.attempt.exhausted",
        "webhook.disabled",
        "webhook.recovered",
    ]
    assert by_kind["webhook.recovered"]["webhook_id"] == recovering_id
    exhausted = by_kind["webhook.attempt.exhausted"]
    assert exhausted["webhook_id"] == dead_id
    assert exhausted["attempts"] == 4  # the first try and the three of the schedule
    assert exhausted["message_id"] == dead.received[0].headers["webhook-id"]
    assert len(dead.received) == 4
    assert by_kind["webhook.disabled"]["webhook_id"] == gone_id
    assert "410" in by_kind["webhook.disabled"]["reason"]
    # The event itself reached the recovered endpoint once it took it.
    assert json.loads(recovering.received[-1].body)["Event-Sequence"] == sent["Event-Sequence"]
    # Operational events are never in "*" (nobody else got them).
    for rx in (recovering, dead, gone):
        assert all("type" not in json.loads(g.body) for g in rx.received)


async def test_retention_prunes_old_attempts_deliveries_and_events_only(
    api: httpx.AsyncClient, bus: Bus
) -> None:
    import datetime as dt

    from switchyard.event_relay.relay import prune

    async with Receiver() as rx:
        webhook_id, _ = await subscribe(api, rx.url, format="raw", events=["*"])
        node = Node(bus)
        for i in range(3):
            await node.send("CHANNEL_ANSWER", f"call-{i}")
        await rx.wait_for(lambda r: len(r) >= 3)
    pool = api.relay.pool  # type: ignore[attr-defined]
    async with asyncio.timeout(10):
        while await pool.fetchval("SELECT count(*) FROM webhook_attempts") < 3:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    rows = await pool.fetch("SELECT id, event_id FROM webhook_deliveries ORDER BY id")
    old, pending, recent = rows
    # Two of them 40 days old, one of those still pending (owed: kept with its event).
    await pool.execute(
        "UPDATE webhook_deliveries SET created_at = now() - interval '40 days' WHERE id = ANY($1)",
        [old["id"], pending["id"]],
    )
    await pool.execute(
        "UPDATE webhook_deliveries SET status = 'pending' WHERE id = $1", pending["id"]
    )
    await pool.execute(
        "UPDATE webhook_attempts SET attempted_at = now() - interval '40 days' "
        "WHERE delivery_id = ANY($1)",
        [old["id"], pending["id"]],
    )
    await pool.execute(
        "UPDATE webhook_events SET received_at = now() - interval '40 days' WHERE id = ANY($1)",
        [old["event_id"], pending["event_id"]],
    )
    assert await prune(pool, dt.timedelta(days=30)) == 2 + 1 + 1
    deliveries = {r["id"] for r in await pool.fetch("SELECT id FROM webhook_deliveries")}
    assert deliveries == {pending["id"], recent["id"]}
    events = {r["id"] for r in await pool.fetch("SELECT id FROM webhook_events")}
    assert events == {pending["event_id"], recent["event_id"]}
    listed = (await api.get(f"/api/webhooks/{webhook_id}/attempts")).json()
    assert [a["delivery_id"] for a in listed["data"]] == [recent["id"]]


async def test_a_subscription_deleted_after_routing_does_not_stall_the_intake(
    api: httpx.AsyncClient, bus: Bus
) -> None:
    from switchyard.event_relay import store

    relay = api.relay  # type: ignore[attr-defined]
    async with Receiver() as rx:
        webhook_id, _ = await subscribe(api, rx.url, format="raw", events=["*"])
        # Routed while it existed, recorded after it was deleted: owed nothing.
        incoming = relay.route("m:1", "fs1", b"{}", {"Event-Name": "HEARTBEAT"})
        assert [w.webhook_id for w in incoming.wanted] == [webhook_id]
        assert (await api.delete(f"/api/webhooks/{webhook_id}")).status_code == 200
        assert await store.record(relay.pool, [incoming], relay.owner) == []
        # The intake goes on for the others.
        _, secret = await subscribe(api, rx.url, format="raw", events=["*"])
        await Node(bus).send("CHANNEL_ANSWER", "call-d")
        await rx.wait_for(lambda r: len(r) >= 1)
    verify(secret, rx.received[0])


async def test_a_deleted_subscription_keeps_no_connection_open(
    api: httpx.AsyncClient, bus: Bus
) -> None:
    relay = api.relay  # type: ignore[attr-defined]
    async with Receiver() as rx:
        webhook_id, _ = await subscribe(api, rx.url, format="raw", events=["*"])
        await Node(bus).send("CHANNEL_ANSWER", "call-k")
        await rx.wait_for(lambda r: len(r) >= 1)
        assert webhook_id in relay.dispatcher.webhooks()  # its client keeps the connection
        assert (await api.delete(f"/api/webhooks/{webhook_id}")).status_code == 200
        async with asyncio.timeout(10):
            while webhook_id in relay.dispatcher.webhooks():  # noqa: ASYNC110 - the notice
                await asyncio.sleep(0.05)


async def delivered(api: httpx.AsyncClient, webhook_id: int, message_id: str) -> None:
    """Until the delivery log says ``message_id`` was delivered."""
    path = f"/api/webhooks/{webhook_id}/attempts?event_id={message_id}&status=ok"
    for _ in range(100):
        if (await api.get(path)).json()["rowCount"]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{message_id} was never recorded as delivered")


async def test_a_coocenter_subscription_gets_the_pushes_it_names_signed_and_replayable(
    api: httpx.AsyncClient, bus: Bus
) -> None:
    async with Receiver() as rx:
        webhook_id, secret = await subscribe(api, rx.url, format="coocenter", events=["cdr"])
        # The sample is a loopback A leg's: as a plain first leg, with its times.
        times = {"variable_start_epoch": "1795268872", "variable_answer_epoch": "1795268873",
                 "variable_end_epoch": "1795268880", "variable_duration": "8",
                 "variable_billsec": "7", "variable_loopback_leg": "A"}  # fmt: skip
        node = Node(bus)
        for name in STATES:
            await node.send(name, "call-c", **times)
        await rx.wait_for(lambda r: len(r) >= 1)
        cdr = verify(secret, rx.received[0])
        first = rx.received[0].headers["webhook-id"]
        await delivered(api, webhook_id, first)
        r = await api.post(f"/api/webhooks/{webhook_id}/replay", json={"event_id": first})
        assert r.status_code == 200, r.text
        await rx.wait_for(lambda r: len(r) >= 2)
        # Rendered again from the stored FreeSWITCH event: the same push, the same id.
        assert verify(secret, rx.received[1]) == cdr
        assert rx.received[1].headers["webhook-id"] == first
    assert first.endswith(":cdr") and len(rx.received) == 2  # only what it named
    assert (cdr["event"], cdr["uniqueid"], cdr["duration"], cdr["billableseconds"]) == (
        "cdr",
        "call-c",
        "8",
        "7",
    )
    assert (cdr["starttime"], cdr["disposition"]) == ("2026-11-21 13:47:52", "ANSWERED")  # UTC
    # Its events name coocenter's pushes; another format's events are refused.
    r = await api.post(
        "/api/webhooks", json={"url": rx.url, "format": "coocenter", "events": ["CHANNEL_ANSWER"]}
    )
    assert r.status_code == 400 and r.json()["data"]["field"] == "events", r.text
    raw_id, _ = await subscribe(api, rx.url, format="raw", events=["CHANNEL_ANSWER"])
    r = await api.put(f"/api/webhooks/{raw_id}", json={"format": "coocenter"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "events", r.text
    r = await api.put(f"/api/webhooks/{raw_id}", json={"format": "coocenter", "events": ["*"]})
    assert r.status_code == 200, r.text


async def test_a_replay_while_the_first_attempt_is_in_flight_is_not_lost(
    api: httpx.AsyncClient, bus: Bus
) -> None:
    # The endpoint takes a second over the first request: the replay comes
    # while that attempt is still in flight, before it is recorded.
    slow = Answer(delay=1.0)
    async with Receiver(lambda got: slow if len(rx.received) == 1 else Answer()) as rx:
        webhook_id, secret = await subscribe(api, rx.url, format="raw", events=["HEARTBEAT"])
        await Node(bus).send("HEARTBEAT", "beat-1")
        await rx.wait_for(lambda r: len(r) >= 1)
        first = rx.received[0].headers["webhook-id"]
        r = await api.post(f"/api/webhooks/{webhook_id}/replay", json={"event_id": first})
        assert r.status_code == 200 and r.json()["data"]["replayed"] == 1, r.text
        await rx.wait_for(lambda r: len(r) >= 2)
        assert rx.received[1].headers["webhook-id"] == first
        verify(secret, rx.received[1])
    # Both attempts are in the log, and the delivery ends delivered.
    for _ in range(100):
        page = (await api.get(f"/api/webhooks/{webhook_id}/attempts?event_id={first}")).json()
        if page["rowCount"] >= 2:
            break
        await asyncio.sleep(0.1)
    assert page["rowCount"] == 2
    assert {a["delivery_status"] for a in page["data"]} == {"delivered"}


async def test_an_attempt_recorded_after_a_replay_leaves_the_replay_pending(
    db: asyncpg.Pool,
) -> None:
    """The attempt writer's late 'delivered' must not undo a replay that came
    in between: the replay gave the delivery up (owner NULL) for adoption."""
    webhook = await db.fetchval(
        "INSERT INTO webhooks (url, events, format, secret) "
        "VALUES ('http://127.0.0.1:9/', '{*}', 'raw', '') RETURNING id"
    )
    event = await db.fetchval(
        "INSERT INTO webhook_events (msg_id, payload) VALUES ('core:1', '{}') RETURNING id"
    )
    delivery = await db.fetchval(
        "INSERT INTO webhook_deliveries (webhook_id, event_id, message_id, event_name, lane, "
        "owner) VALUES ($1, $2, 'core:1', 'HEARTBEAT', 'x', 'leader-1') RETURNING id",
        webhook,
        event,
    )
    job = store.Job(delivery, webhook, event, "core:1", "", "HEARTBEAT", "x", b"{}", attempts=1)
    attempt = store.Attempt(
        job, dt.datetime.now(dt.UTC), 204, True, 1.0, "", "", 1, "delivered", time.time()
    )
    # The replay (webhooks_http.replay) lands first...
    await db.execute(
        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, owner = NULL "
        "WHERE id = $1",
        delivery,
    )
    await store.write_attempts(db, [attempt], owner="leader-1")
    row = await db.fetchrow(
        "SELECT status, attempts FROM webhook_deliveries WHERE id = $1", delivery
    )
    assert (row["status"], row["attempts"]) == ("pending", 0)  # still owed: it is adopted
    assert await db.fetchval("SELECT count(*) FROM webhook_attempts") == 1  # logged all the same
    # Its own dispatcher's attempts land as always.
    await db.execute("UPDATE webhook_deliveries SET owner = 'leader-1' WHERE id = $1", delivery)
    await store.write_attempts(db, [attempt], owner="leader-1")
    assert (
        await db.fetchval("SELECT status FROM webhook_deliveries WHERE id = $1", delivery)
        == "delivered"
    )


async def test_a_leader_that_loses_its_lock_and_takes_it_back_still_delivers_what_it_held(
    relay_settings: Settings, bus: Bus, api_token: str, db: asyncpg.Pool
) -> None:
    settings = msgspec.structs.replace(relay_settings, webhook_retry_schedule="4,4,4")
    await bus.ensure_stream(stream_config(bus))
    up = False
    app = create_app(settings, [event_relay])
    async with (
        Receiver(lambda _: Answer(204 if up else 500)) as rx,
        serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as api,
    ):
        relay = app.state["event-relay"]
        while not relay.leader:  # noqa: ASYNC110 - the leader takes the lock on its own
            await asyncio.sleep(0.05)
        await subscribe(api, rx.url, format="raw", events=["HEARTBEAT"])
        await Node(bus).send("HEARTBEAT", "beat-2")
        await rx.wait_for(lambda r: len(r) >= 1)  # a 500: retried in about 4 s
        # The lock's connection dies (a Postgres restart, a network cut); the
        # same process takes the lock again and must pick up what it held.
        holder = (
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        pid = await db.fetchval(holder)
        await db.execute("SELECT pg_terminate_backend($1)", pid)
        async with asyncio.timeout(20):
            # It notices on its next check and takes the lock on a new connection.
            while await db.fetchval(holder) in (None, pid) or not relay.leader:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        up = True
        await rx.wait_for(lambda r: len(r) >= 2)
    assert len({got.headers["webhook-id"] for got in rx.received}) == 1


async def _start_warnings(settings: Settings) -> list[str]:
    """What the relay warns about while it starts with ``settings``."""
    with logged_warnings("switchyard.event_relay.relay") as lines:
        async with serving(create_app(settings, [event_relay])):
            pass
    return [line for line in lines if "is refused" in line]


async def test_a_push_url_setting_the_policy_refuses_is_said_at_start(
    settings: Settings, bus: Bus
) -> None:
    # coocenter's receiver on the LAN, the network not admitted.
    lan = msgspec.structs.replace(settings, coocenter_push_url="http://192.168.12.185:8090")
    await bus.ensure_stream(stream_config(bus))
    (warning,) = await _start_warnings(lan)
    assert warning.startswith("SWITCHYARD_COOCENTER_PUSH_URL is refused (192.168.12.185 is")
    assert "SWITCHYARD_WEBHOOK_ALLOW_PRIVATE" in warning
    admitted = msgspec.structs.replace(lan, webhook_allow_private="192.168.12.0/24")
    assert await _start_warnings(admitted) == []

"""Webhooks end to end: a call placed through the API reaches a real receiver
as mod_ai's ringing -> answered -> hangup, signed; the relay killed with
SIGKILL loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys

import asyncpg
import msgspec
import standardwebhooks

from switchyard.call_control.events import stream_config
from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.event_relay.service import service as event_relay
from switchyard.fssim import Behaviour
from switchyard.shared.bus import Bus
from switchyard.shared.messages import WebhooksChanged
from switchyard.shared.settings import Settings
from switchyard.shared.webhook_receiver import Received, Receiver
from switchyard.shared.webhooks import new_secret

from .conftest import served_stack


async def test_a_call_placed_through_the_api_arrives_ringing_answered_hangup(
    settings: Settings, api_token: str
) -> None:
    settings = msgspec.structs.replace(settings, webhook_allow_private="127.0.0.0/8")
    async with (
        Receiver() as rx,
        served_stack(
            settings,
            api_token,
            [config_api, call_control, event_relay],
            node_setup=lambda n: n.register_user("1000", behaviour=Behaviour(ring_seconds=0.2)),
        ) as stack,
    ):
        r = await stack.api.post("/api/webhooks", json={"url": rx.url})
        webhook_id = r.json()["data"]
        secret = (await stack.api.get(f"/api/webhooks/{webhook_id}/secret")).json()["key"]
        relay = stack.app.state["event-relay"]
        async with asyncio.timeout(20):
            while not relay.leader:  # noqa: ASYNC110 - it takes the lock on its own
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.5)  # the durable consumer starts from "now"
        r = await stack.api.post("/api/channels", data={"destNumber": "1000"})
        assert r.json()["result"] == "ok", r.text
        uuid = r.json()["uuid"]
        await stack.api.delete(f"/api/channels/{uuid}")

        def hung_up(received: list[Received]) -> bool:
            return any(json.loads(g.body).get("Answer-State") == "hangup" for g in rx.received)

        await rx.wait_for(hung_up)
    states = []
    for got in rx.received:
        standardwebhooks.Webhook(secret).verify(got.body, got.headers)
        body = json.loads(got.body)
        assert body["Event-Subclass"] == "ai::channel-state"
        if body["Unique-ID"] == uuid:
            states.append(body["Answer-State"])
    assert states[0] == "ringing" and states[-1] == "hangup"
    assert "answered" in states and states.index("answered") > states.index("ringing")


def _relay_process(settings: Settings) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings.to_env(), "SWITCHYARD_SERVICES": "event-relay"}
    code = (
        "import asyncio, contextlib\n"
        "from switchyard.shared.runner import create_app\n"
        "from switchyard.shared.settings import Settings\n"
        "from switchyard.shared.testing import serving\n"
        "from switchyard.event_relay.service import service\n"
        "async def main():\n"
        "    async with serving(create_app(Settings.from_env(), [service])):\n"
        "        print('up', flush=True)\n"
        "        await asyncio.Event().wait()\n"
        "asyncio.run(main())\n"
    )
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE)


async def test_relay_killed_mid_batch_loses_nothing(settings: Settings, bus: Bus) -> None:
    await bus.ensure_stream(stream_config(bus))
    settings = msgspec.structs.replace(
        settings, webhook_allow_private="127.0.0.0/8", webhook_retry_schedule="0.5,1,2,4"
    )
    seen: set[str] = set()
    async with Receiver(keep=False, on_request=lambda g: seen.add(g.headers["webhook-id"])) as rx:
        first = _relay_process(settings)
        try:
            assert first.stdout is not None
            await asyncio.to_thread(first.stdout.readline)
            pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
            await pool.execute(
                "INSERT INTO webhooks (url, events, format, secret) VALUES ($1, '{*}', 'raw', $2)",
                rx.url,
                new_secret(),
            )
            await bus.publish(bus.subjects.webhooks_changed, WebhooksChanged())
            await asyncio.sleep(2.5)  # leader, consumer, subscription loaded
            total = 3000
            for i in range(total):
                await bus.js.publish(
                    bus.subjects.events("fs1", "HEARTBEAT"),
                    json.dumps({"Event-Name": "HEARTBEAT", "Event-Sequence": str(i)}).encode(),
                    headers={"Nats-Msg-Id": f"core:{i}"},
                )
                if i == total // 3:
                    first.send_signal(signal.SIGKILL)  # mid-stream, mid-batch
        finally:
            first.kill()
            first.wait()
        second = _relay_process(settings)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(60):
                    while len(seen) < total:  # noqa: ASYNC110 - counting what arrives
                        await asyncio.sleep(0.2)
            errors = await pool.fetch(
                "SELECT error, count(*) FROM webhook_attempts WHERE NOT ok GROUP BY 1"
            )
            print("failed attempts:", [tuple(r) for r in errors])
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(10)
            await pool.close()
    missing = sorted({f"core:{i}" for i in range(total)} - seen, key=lambda m: int(m[5:]))
    assert not missing, f"{len(missing)} never arrived, e.g. {missing[:5]}"

    assert rx.count >= total

"""event-relay on SIGTERM (a scale-in, a rollout): a delivery in flight finishes
and is recorded before the process exits, instead of being cut off and sent
again by the next leader. A real `switchyard run event-relay` process; the
endpoint holds its answer until the relay has stopped listening for HTTP,
i.e. until its shutdown has begun.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys

import asyncpg
import httpx
import msgspec
import nats.js.errors

from switchyard.call_control.events import stream_config
from switchyard.shared.bus import Bus
from switchyard.shared.embedded import free_port
from switchyard.shared.messages import WebhooksChanged
from switchyard.shared.settings import Settings
from switchyard.shared.webhooks import new_secret


class HeldEndpoint:
    """Takes one request and answers 200 only when ``release`` is set."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.answered = asyncio.Event()
        self.peer_left_early = False

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        self.arrived.set()
        await self.release.wait()
        if reader.at_eof():
            self.peer_left_early = True  # the relay gave up on the request
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        self.answered.set()
        writer.close()


async def test_sigterm_lets_the_delivery_in_flight_finish(
    settings: Settings, bus: Bus, db: asyncpg.Pool
) -> None:
    await bus.ensure_stream(stream_config(bus))
    endpoint = HeldEndpoint()
    server = await asyncio.start_server(endpoint.serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook"
    await db.execute(
        "INSERT INTO webhooks (url, events, format, secret) VALUES ($1, '{*}', 'raw', $2)",
        url,
        new_secret(),
    )
    port = free_port()
    settings = msgspec.structs.replace(
        settings, webhook_allow_private="127.0.0.0/8", http_port=port
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env.update(settings.to_env(), SWITCHYARD_LOG_FORMAT="text")
    relay = _run_relay(env)
    try:
        async with asyncio.timeout(60):
            # The leader's durable consumer starts at "now": wait for it to exist.
            while True:
                try:
                    await bus.js.consumer_info(
                        bus.subjects.events_stream, bus.subjects.events_consumer
                    )
                    break
                except nats.js.errors.NotFoundError:
                    await asyncio.sleep(0.1)
            await bus.publish(bus.subjects.webhooks_changed, WebhooksChanged())
            await bus.js.publish(
                bus.subjects.events("fs1", "HEARTBEAT"),
                json.dumps({"Event-Name": "HEARTBEAT", "Event-Sequence": "1"}).encode(),
                headers={"Nats-Msg-Id": "core:1"},
            )
            await endpoint.arrived.wait()

            relay.send_signal(signal.SIGTERM)
            async with httpx.AsyncClient() as http:
                while True:  # shutting down once it stops answering HTTP
                    try:
                        await http.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    except httpx.HTTPError:
                        break
                    await asyncio.sleep(0.05)
            endpoint.release.set()
            await endpoint.answered.wait()
            assert await asyncio.to_thread(relay.wait, 30) == 0
    finally:
        if relay.poll() is None:
            relay.kill()
            relay.wait()
        server.close()
    assert not endpoint.peer_left_early
    rows = await db.fetch("SELECT status FROM webhook_deliveries")
    assert [r["status"] for r in rows] == ["delivered"]
    attempts = await db.fetch("SELECT ok, status_code FROM webhook_attempts")
    assert [(a["ok"], a["status_code"]) for a in attempts] == [(True, 200)]


def _run_relay(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "switchyard.shared.cli", "run", "event-relay"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

"""Issue 10, finding 10 on a shared NATS: anyone who could reach it could
send ``api system id`` to a node's command subject. Every connection now
logs in, and with one user per service (switchyard.shared.natsauth, the
table of docs/architecture.md) only call-control may publish commands.
Each service is run under its own permissions, so the table stays true."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import msgspec
import nats
import nats.errors
import pytest
from nats.aio.msg import Msg

from switchyard.shared.embedded import EmbeddedNats
from switchyard.shared.natsauth import SERVICES, permissions
from switchyard.shared.runner import create_app
from switchyard.shared.service import discover
from switchyard.shared.settings import Settings
from switchyard.shared.subjects import Subjects
from switchyard.shared.testing import serving


@pytest.fixture
def server(tmp_path: Path, namespace: str) -> Iterator[EmbeddedNats]:
    subjects = Subjects(namespace)
    users = {s: (secrets.token_urlsafe(16), permissions(subjects, s)) for s in SERVICES}
    with EmbeddedNats(tmp_path / "nats", users=users) as nats_server:
        yield nats_server


async def test_each_service_runs_under_its_own_permissions(
    server: EmbeddedNats, settings: Settings
) -> None:
    found = discover()
    for name in SERVICES:
        own = msgspec.structs.replace(settings, nats_url=server.url_of(name))
        async with serving(create_app(own, [found[name]])) as client:
            r = await client.get("/readyz")
            assert r.status_code == 200, (name, r.text)


async def test_only_call_control_may_command_a_node(server: EmbeddedNats, namespace: str) -> None:
    subject = Subjects(namespace).node_command("fs1")
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    owner = await nats.connect(server.url_of("call-control"))
    got: list[bytes] = []

    async def heard(msg: Msg) -> None:
        got.append(msg.data)

    sub = await owner.subscribe(subject, cb=heard)
    await owner.flush()
    try:
        for name in ("config-api", "event-relay", "media"):
            nc = await nats.connect(server.url_of(name), error_cb=on_error)
            await nc.publish(subject, b'{"api":"system id"}')
            await nc.flush()
            await asyncio.sleep(0.2)
            await nc.close()
        assert got == [], "a command from another service reached the owner"
        assert any("permissions violation" in str(e).lower() for e in errors), errors
        # The control: call-control's own user is heard.
        sender = await nats.connect(server.url_of("call-control"))
        await sender.publish(subject, b"{}")
        await sender.flush()
        for _ in range(50):
            if got:
                break
            await asyncio.sleep(0.02)
        assert got == [b"{}"]
        await sender.close()
    finally:
        await sub.unsubscribe()
        await owner.close()


async def test_no_credentials_no_connection(server: EmbeddedNats) -> None:
    for url in (
        f"nats://127.0.0.1:{server.port}",
        f"nats://call-control:guess@127.0.0.1:{server.port}",
    ):
        with pytest.raises(nats.errors.Error):
            await nats.connect(url, allow_reconnect=False, connect_timeout=2)

"""The spec's "call the extension, then transfer out" originates, end to end.

``POST /api/channels`` with ``app=transfer`` (or ``apps`` ending in a
transfer) calls an extension and, once it answers, transfers that leg to
another number. The number is routed as a call from the originating context
(``context-1``) would be: through config-api's dialplan, fetched by fssim's
mod_xml_curl from /fs/xml on a real port, as FreeSWITCH fetches it. What is
checked is where the call ends up: bridged to the extension or the gateway
the route names, the recording started first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest
import pytest_asyncio

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.fssim import Node
from switchyard.fssim.channel import Channel
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually
from tests.conftest import served_stack

DOMAIN = "127.0.0.1"  # fssim registers users in its node's IPv4 domain
WAIT = 10.0


@dataclass
class Stack:
    api: httpx.AsyncClient
    node: Node

    async def create(self, path: str, body: Any) -> Any:
        r = await self.api.post(path, json=body)
        assert r.status_code == 200, (path, r.text)
        return r.json()["data"]


def _phones(node: Node) -> None:
    node.register_user("1000")  # the agent's phone, answers at once
    node.register_user("1001")  # the colleague the call is transferred to
    node.set_gateway("carrier")


@pytest_asyncio.fixture
async def stack(
    settings: Settings, api_token: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Stack]:
    settings = msgspec.structs.replace(settings, sip_domain=DOMAIN)
    async with served_stack(
        settings, api_token, [config_api, call_control], node_setup=_phones
    ) as served:
        s = Stack(served.api, served.node)
        gw = await s.create("/api/gateways", {"name": "carrier", "realm": "sip.carrier"})
        await s.create(
            "/api/routes",
            {"name": "local", "prefix": "1", "max_length": 4, "context": "context-1",
             "dest_type": "FS_DEST_USER"},
        )  # fmt: skip
        await s.create(
            "/api/routes",
            {"name": "out", "prefix": "0", "max_length": 12, "context": "context-1",
             "dest_type": "FS_DEST_GATEWAY", "dest_uuid": str(gw), "dnc": "-0+86"},
        )  # fmt: skip
        # Routing answers wait for every acknowledged write.
        assert (await served.api.get("/api/routes/explain?destNumber=0")).status_code == 200
        yield s


async def _originate(stack: Stack, body: dict[str, Any]) -> Channel:
    r = await stack.api.post("/api/channels", json=body)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["result"] == "ok", answer
    leg = stack.node.find(answer["uuid"])
    assert leg is not None and leg.name == f"sofia/internal/1000@{DOMAIN}"
    return leg


async def _bridged(leg: Channel) -> Channel:
    await eventually(lambda: leg.peer is not None or not leg.is_up, WAIT)
    assert leg.peer is not None, f"the leg ended ({leg.hangup_cause}) instead of bridging"
    return leg.peer


async def test_call_the_extension_then_transfer_it(stack: Stack) -> None:
    # The spec: autoAnswer=true&destNumber=1000&app=transfer&args=<number>
    leg = await _originate(
        stack, {"autoAnswer": "true", "destNumber": "1000", "app": "transfer", "args": "1001"}
    )
    peer = await _bridged(leg)
    assert peer.name == f"sofia/internal/1001@{DOMAIN}"
    assert peer.is_up and peer.answer_state == "answered"
    # The transfer routed in the originating context, through the XML dialplan.
    assert (leg.profile.context, leg.profile.dialplan) == ("context-1", "XML")
    assert leg.profile.destination_number == "1001"


async def test_call_the_extension_record_then_transfer_out(stack: Stack) -> None:
    # The spec's JSON: set, record_session, transfer (an inline dialplan).
    leg = await _originate(
        stack,
        {
            "autoAnswer": "true",
            "destNumber": "1000",
            "apps": [
                {"app": "set", "args": "RECORD_ANSWER_REQ=true"},
                {"app": "record_session", "args": "/tmp/test.wav"},
                {"app": "transfer", "args": "0201234"},
            ],
        },
    )
    peer = await _bridged(leg)
    # Out through the gateway the route names, with the route's digit rewrite.
    assert peer.variables.get("sip_gateway_name") == "carrier"
    assert peer.profile.destination_number == "86201234"
    assert leg.variables.get("RECORD_ANSWER_REQ") == "true"
    assert leg.variables.get("record_session_path") == "/tmp/test.wav"
    assert (leg.profile.context, leg.profile.dialplan) == ("context-1", "XML")

"""coocenter's WEBKEY digest goes only where the operator sends pushes.

A push carries ``Authorization: md5(WEBKEY + today)``, which is also a whole
day's credential for ``/coocenter-api`` (and, md5 being fast, a way to guess
a short WEBKEY offline). Any API token may create a webhook of format
``coocenter`` to a URL of its choosing; its pushes must not carry the digest.
Only the system subscription, ``SWITCHYARD_COOCENTER_PUSH_URL`` (api.conf's
URL, set by the operator), does.
"""

from __future__ import annotations

import asyncio
import json

import msgspec

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.event_relay.service import service as event_relay
from switchyard.shared.coocenter_auth import digest, local_now
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually
from switchyard.shared.webhook_receiver import Received, Receiver
from tests.conftest import served_stack

WEBKEY = "asjdfjklkasdf"


def _status_pushes(received: list[Received], path: str) -> list[Received]:
    return [
        g
        for g in received
        if g.path == path and json.loads(g.body).get("event") == "extensionstatus"
    ]


async def test_a_coocenter_webhook_made_through_the_api_gets_no_webkey_digest(
    settings: Settings, api_token: str
) -> None:
    async with Receiver() as rx:
        s = msgspec.structs.replace(
            settings,
            webhook_allow_private="127.0.0.0/8",
            coocenter_push_url=f"{rx.url}/system",
            coocenter_webkey=WEBKEY,
        )
        async with served_stack(s, api_token, [config_api, call_control, event_relay]) as stack:
            r = await stack.api.post(
                "/api/webhooks",
                json={"url": f"{rx.url}/mine", "format": "coocenter", "events": ["*"]},
            )
            assert r.status_code in (200, 201), r.text
            relay = stack.app.state["event-relay"]
            await eventually(lambda: relay.leader, 20)
            await asyncio.sleep(1.5)  # the durable consumer starts from "now"
            stack.node.register_user("1001")  # sofia::register: an extensionstatus push
            await rx.wait_for(
                lambda got: bool(_status_pushes(got, "/system") and _status_pushes(got, "/mine"))
            )
    (system,) = _status_pushes(rx.received, "/system")[:1]
    today = local_now(s.timezone).date()
    assert system.headers.get("authorization") == digest(WEBKEY, today)
    for mine in _status_pushes(rx.received, "/mine"):
        assert "authorization" not in mine.headers

"""/metrics after real traffic: HTTP, /fs/xml, ESL, ownership, JetStream and webhooks.

One app serving config-api, call-control and event-relay with an fssim
node, a webhook receiver that fails its first request; a call placed
through the API. Each counter the traffic should move is read from the
Prometheus text the app serves (media's are in services/media/tests).
"""

from __future__ import annotations

import asyncio
import json

import httpx
import msgspec

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.event_relay.service import service as event_relay
from switchyard.fssim import Behaviour
from switchyard.shared.settings import Settings
from switchyard.shared.testing import eventually, metric, scrape
from switchyard.shared.webhook_receiver import Answer, Received, Receiver

from .conftest import served_stack


async def test_traffic_moves_the_counters_of_every_service(
    settings: Settings, api_token: str
) -> None:
    settings = msgspec.structs.replace(
        settings, webhook_allow_private="127.0.0.0/8", webhook_retry_schedule="0.2,0.2,0.2"
    )
    answered: list[int] = []

    def first_fails(_: Received) -> Answer:
        answered.append(503 if not answered else 204)
        return Answer(status=answered[-1])

    async with (
        Receiver(answer=first_fails) as rx,
        Receiver(answer=lambda _: Answer(status=410)) as gone,  # disables its subscription
        served_stack(
            settings,
            api_token,
            [config_api, call_control, event_relay],
            node_setup=lambda n: n.register_user("1000", behaviour=Behaviour(ring_seconds=0.1)),
        ) as stack,
    ):
        api = stack.api
        fresh = await scrape(api)
        assert metric(fresh, "switchyard_owned_nodes") == 1
        assert metric(fresh, "switchyard_esl_connected", node=stack.node.name) == 1
        assert metric(fresh, "switchyard_esl_connections_total", node=stack.node.name) >= 1

        for url in (rx.url, gone.url):
            r = await api.post("/api/webhooks", json={"url": url})
            assert r.status_code == 200, r.text
        relay = stack.app.state["event-relay"]
        await eventually(lambda: relay.leader, timeout=20)
        await asyncio.sleep(1.5)  # the durable consumer starts from "now"

        # /fs/xml: one wrong secret, one directory answer, one dialplan miss.
        secret = settings.xml_curl_secret
        async with httpx.AsyncClient(base_url=stack.base_url) as fs:
            wrong = await fs.post(
                "/fs/xml", data={"section": "directory"}, auth=("freeswitch", "x")
            )
            assert wrong.status_code == 403
            user = {"section": "directory", "user": "1000", "domain": "127.0.0.1"}
            assert (await fs.post(f"/fs/xml/{secret}", data=user)).status_code == 200
            nothing = {"section": "dialplan", "Caller-Destination-Number": "999", "context": "x"}
            assert (await fs.post("/fs/xml", data=nothing, auth=("freeswitch", secret))).is_success

        r = await api.post("/api/channels", data={"destNumber": "1000"})
        assert r.json()["result"] == "ok", r.text
        uuid = r.json()["uuid"]
        await api.delete(f"/api/channels/{uuid}")

        def hung_up(received: list[Received]) -> bool:
            return any(
                status == 204 and json.loads(g.body).get("Answer-State") == "hangup"
                for g, status in zip(received, answered, strict=False)
            )

        await rx.wait_for(lambda got: hung_up(got) and len(answered) > 1)
        await gone.wait_for(lambda got: len(got) > 0)
        await eventually(lambda: any(not sub.enabled for sub in relay.subs.values()))
        samples = await scrape(api)

    node = stack.node.name
    assert metric(samples, "switchyard_esl_events_total", node=node) > 0
    assert metric(samples, "switchyard_esl_command_duration_seconds_count", node=node) > 0
    assert metric(samples, "switchyard_fsxml_answers_total", outcome="forbidden") == 1
    assert metric(samples, "switchyard_fsxml_answers_total", section="directory") >= 1
    assert metric(samples, "switchyard_fsxml_answers_total", section="dialplan") >= 1
    http = "switchyard_http_requests_total"
    assert metric(samples, http, route="/api/channels", method="POST", status="200") == 1
    # The secret in the path never reaches a label: the route is the template.
    assert metric(samples, http, route="/fs/xml/{secret}") == 1
    assert not any(secret in v for (_, labels) in samples for _, v in labels)
    assert metric(samples, "switchyard_webhook_retries_total") >= 1
    assert metric(samples, "switchyard_webhook_deliveries_total") >= 1
    # The 410 gave its delivery up and disabled its subscription.
    assert metric(samples, "switchyard_webhook_failures_total") >= 1
    assert metric(samples, "switchyard_webhook_disabled_subscriptions") == 1
    # One series per durable consumer: event-relay's and call-control's own.
    lags = {dict(labels)["consumer"] for n, labels in samples if n.endswith("consumer_pending")}
    assert "event-relay" in lags and len(lags) >= 2, lags

"""The webhook deliveries page: a subscription disabled by a 410 says why and
is enabled again from the page; its failed message, replayed from the page
(everything failed since a time, then that one message), arrives at a real
local receiver with the same webhook-id."""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any

import msgspec
import pytest

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.event_relay.console_deliveries import PER_PAGE
from switchyard.event_relay.service import service as event_relay
from switchyard.shared.service import Service
from switchyard.shared.settings import Settings
from switchyard.shared.webhook_receiver import Answer, Received, Receiver
from tests.console.conftest import ADMIN, VIEWER, Console, wait_for_count

TIMEOUT = 15_000


@pytest.fixture
def console_services() -> list[Service]:
    return [config_api, call_control, event_relay]


@pytest.fixture
def console_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, webhook_allow_private="127.0.0.0/8")


async def test_a_failed_delivery_replayed_from_the_page_arrives(
    browser: Any, console: Console
) -> None:
    gone = True

    def answer(_: Received) -> Answer:
        return Answer(410 if gone else 204)

    async with Receiver(answer) as rx:
        api = console.served.api
        webhook_id = (await api.post("/api/webhooks", json={"url": rx.url})).json()["data"]
        relay = console.served.app.state["event-relay"]
        async with asyncio.timeout(20):
            while not relay.leader:  # noqa: ASYNC110 - it takes the lock on its own
                await asyncio.sleep(0.05)
        message = (await api.post(f"/api/webhooks/{webhook_id}/test")).json()["data"]["message_id"]

        async def disabled() -> bool:
            row = await console.db.fetchrow(
                "SELECT enabled FROM webhooks WHERE id = $1", webhook_id
            )
            return row is not None and not row["enabled"]

        async with asyncio.timeout(20):
            while not await disabled():  # noqa: ASYNC110 - the relay disables it
                await asyncio.sleep(0.1)

        page = await console.page(ADMIN, browser)
        await page.click("nav >> text=Webhook deliveries")
        sub = page.locator(f"#subscriptions tr[data-webhook='{webhook_id}']")
        assert "410 Gone" in await sub.locator("[data-testid=disabled-reason]").inner_text()
        row = page.locator(f"#deliveries tr[data-message='{message}']")
        await row.wait_for(timeout=TIMEOUT)
        assert await row.get_attribute("data-status") == "failed"
        assert "HTTP 410" in await row.inner_text()

        page.on("dialog", lambda dialog: dialog.accept())
        await sub.locator("button", has_text="Enable again").click()
        await sub.locator("text=enabled").wait_for(timeout=TIMEOUT)

        gone = False
        # Everything that failed since a time: the one failed message.
        before = len(rx.received)
        await page.fill("form[action$='/replay'] input[name=since]", "2020-01-01T00:00:00")
        await page.locator("button", has_text="Replay failed").click()
        await rx.wait_for(lambda got: len(got) > before)
        assert [g.headers["webhook-id"] for g in rx.received[before:]] == [message]

        async def status() -> str | None:
            await page.reload()
            return await page.locator(f"#deliveries tr[data-message='{message}']").get_attribute(
                "data-status"
            )

        async with asyncio.timeout(10):
            while await status() != "delivered":  # noqa: ASYNC110 - the relay writes it
                await asyncio.sleep(0.2)

        # One message again, delivered or not.
        before = len(rx.received)
        await page.locator(
            f"#deliveries tr[data-message='{message}'] button", has_text="Replay"
        ).click()
        await rx.wait_for(lambda got: len(got) > before)
        assert rx.received[-1].headers["webhook-id"] == message
        logged = (
            "SELECT count(*) FROM operation_logs WHERE resource = 'webhooks' AND action = 'replay'"
            " AND operator = 'boss'"
        )
        await wait_for_count(console.db, logged, count=2)

        # A viewer sees the log but neither the buttons nor the POSTs work.
        viewer = await console.page(VIEWER, browser)
        await viewer.goto(f"{console.url}/console/deliveries?webhook={webhook_id}")
        await viewer.locator(f"#deliveries tr[data-message='{message}']").wait_for()
        assert await viewer.locator("#deliveries button, #subscriptions button").count() == 0
        for action, form in [("replay", {"message_id": message}), ("enable", {})]:
            r = await viewer.request.post(
                f"{console.url}/console/deliveries/{webhook_id}/{action}",
                form=form,
                headers={"Origin": console.url},
            )
            assert r.status == 403, action


async def test_the_message_log_pages_back(console: Console) -> None:
    api = console.served.api
    webhook_id = (await api.post("/api/webhooks", json={"url": "http://127.0.0.1:9/"})).json()[
        "data"
    ]
    for i in range(PER_PAGE + 5):
        event_id = await console.db.fetchval(
            "INSERT INTO webhook_events (msg_id, payload) VALUES ($1, '{}') RETURNING id",
            f"test:{i}",
        )
        await console.db.execute(
            "INSERT INTO webhook_deliveries (webhook_id, event_id, message_id, event_name, lane,"
            " status) VALUES ($1, $2, $3, 'CHANNEL_CREATE', 'x', 'failed')",
            webhook_id,
            event_id,
            f"msg-{i}",
        )
    page = await api.get(f"/console/deliveries?webhook={webhook_id}")
    shown = re.findall(r'data-message="(msg-\d+)"', page.text)
    assert shown == [f"msg-{i}" for i in range(PER_PAGE + 4, 4, -1)]
    older = re.search(r'href="(/console/deliveries\?[^"]*before=[^"]*)"', page.text)
    assert older is not None
    page = await api.get(html.unescape(older.group(1)))
    assert re.findall(r'data-message="(msg-\d+)"', page.text) == [
        f"msg-{i}" for i in range(4, -1, -1)
    ]
    assert "before=" not in page.text

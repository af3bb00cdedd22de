"""docs/console.md's screenshots, made against the real stack with some calls,
routes and deliveries in it. Not a test of anything: it runs only when
SWITCHYARD_CONSOLE_SCREENSHOTS names the folder to write (docs/console)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import msgspec
import pytest

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.event_relay.service import service as event_relay
from switchyard.shared.service import Service
from switchyard.shared.settings import Settings
from switchyard.shared.webhook_receiver import Answer, Receiver
from tests.console.conftest import ADMIN, Console

OUT = os.environ.get("SWITCHYARD_CONSOLE_SCREENSHOTS", "")
pytestmark = pytest.mark.skipif(
    not OUT, reason="set SWITCHYARD_CONSOLE_SCREENSHOTS=docs/console to refresh the screenshots"
)


@pytest.fixture
def console_services() -> list[Service]:
    return [config_api, call_control, event_relay]


@pytest.fixture
def console_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, webhook_allow_private="127.0.0.0/8")


async def test_screenshots(browser: Any, console: Console) -> None:
    out = Path(OUT)
    out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before anything runs
    api = console.served.api
    placed = []
    for number, name in [("2001", "张伟"), ("2002", "Alice"), ("2003", "")]:
        body = {"destNumber": "1000", "cidNumber": number, "cidName": name, "async": True}
        placed.append((await api.post("/api/channels", json=body)).json()["uuid"])
    ended = (await api.post("/api/channels", json={"destNumber": "1002"})).json()["uuid"]
    await api.delete(f"/api/channels/{ended}")
    for name, prefix, max_length in [("local", "1", 4), ("mobile", "13", 11), ("all", "", 20)]:
        body = {"name": name, "prefix": prefix, "max_length": max_length, "context": "context-1"}
        await api.post("/api/routes", json={**body, "dest_type": "FS_DEST_USER"})
    async with Receiver(lambda _: Answer(500, body=b'{"error":"database down"}')) as rx:
        webhook = (await api.post("/api/webhooks", json={"url": rx.url})).json()["data"]
        relay = console.served.app.state["event-relay"]
        async with asyncio.timeout(20):
            while not relay.leader:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        await api.post(f"/api/webhooks/{webhook}/test")
        await rx.wait_for(lambda got: len(got) >= 1)
        await asyncio.sleep(2.5)  # ringing turns to answered

        page = await console.page(ADMIN, browser)
        await page.wait_for_selector("text=answered")
        await page.screenshot(path=str(out / "calls.png"), full_page=True)
        await page.goto(f"{console.url}/console/deliveries?webhook={webhook}")
        await page.screenshot(path=str(out / "deliveries.png"), full_page=True)
        await page.goto(f"{console.url}/console/routes?destNumber=13912345678&callerNumber=2001")
        await page.screenshot(path=str(out / "routes.png"), full_page=True)
        await page.goto(f"{console.url}/console/gateways")
        await page.screenshot(path=str(out / "gateways.png"), full_page=True)
        await page.goto(f"{console.url}/console/nodes")
        await page.screenshot(path=str(out / "nodes.png"), full_page=True)
        for uuid in placed[:2]:
            await api.delete(f"/api/channels/{uuid}")
        async with asyncio.timeout(10):
            while (await api.get("/api/cdrs")).json()["rowCount"] < 3:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        await page.goto(f"{console.url}/console/cdrs")
        await page.screenshot(path=str(out / "cdrs.png"), full_page=True)

        # A phone in the dark, in Chinese.
        context = await browser.new_context(
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport={"width": 390, "height": 844},
            color_scheme="dark",
        )
        console.contexts.append(context)  # closed before the stack stops
        phone = await context.new_page()
        await phone.goto(f"{console.url}/console/login?next=/console/calls")
        await phone.fill("input[name=username]", ADMIN[0])
        await phone.fill("input[name=password]", ADMIN[1])
        await phone.click("form[action='/console/login'] button[type=submit]")
        await phone.wait_for_selector("text=已接通")
        await phone.screenshot(path=str(out / "calls-phone-zh-dark.png"), full_page=True)

"""The live calls page in a real browser: a call placed through the API
appears, changes state and goes without a reload; an admin hangs it up
from the page (fssim sees it end, the operation log has it); a viewer gets
no buttons and a refused POST; zh-CN leaves no English on the page."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from switchyard.shared.testing import eventually
from tests.console.conftest import ADMIN, VIEWER, Console, wait_for_count

TIMEOUT = 15_000  # ms: what the page gets to show a change


async def _place_call(console: Console) -> str:
    body = {"destNumber": "1000", "async": True, "cidName": "李雷", "cidNumber": "2000"}
    r = await console.served.api.post("/api/channels", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["uuid"])


async def test_a_call_appears_rings_answers_and_an_admin_hangs_it_up(
    browser: Any, console: Console
) -> None:
    page = await console.page(ADMIN, browser)
    await page.wait_for_selector("text=No calls.", timeout=TIMEOUT)
    uuid = await _place_call(console)
    row = page.locator(f"tr[data-uuid='{uuid}']")
    await row.locator("text=ringing").wait_for(timeout=TIMEOUT)
    assert await row.locator("td[data-label=Callee]").inner_text() == "1000"
    assert await row.locator("td[data-label=Caller]").inner_text() == "2000 李雷"
    assert await row.locator("td[data-label=Node]").inner_text() == "fs1"
    assert (await row.locator("td[data-label='Owner replica']").inner_text()) != "none"
    await row.locator("text=answered").wait_for(timeout=TIMEOUT)
    # Duration ticks in the page; the start is shown in the viewer's zone with seconds.
    assert re.fullmatch(r"0:00:0\d", await row.locator("[data-since]").inner_text())
    shown = row.locator("time:not([data-local])")  # converted by the page's script
    instant = datetime.fromisoformat(str(await shown.get_attribute("datetime")))
    # The browser's zone is Asia/Shanghai (conftest): UTC+8, seconds included.
    local = instant.astimezone(timezone(timedelta(hours=8)))
    assert await shown.inner_text() == local.strftime("%Y-%m-%d %H:%M:%S")

    page.once("dialog", lambda dialog: dialog.accept())
    await row.locator("button", has_text="Hang up").click()
    await row.wait_for(state="detached", timeout=TIMEOUT)
    await page.wait_for_selector("text=No calls.", timeout=TIMEOUT)
    assert console.node.find(uuid) is None
    logged = "SELECT count(*) FROM operation_logs WHERE path = $1"
    await wait_for_count(console.db, logged, f"/console/calls/{uuid}/hangup", count=1)
    row_logged = await console.db.fetchrow(
        "SELECT operator, resource, action, status FROM operation_logs WHERE path = $1",
        f"/console/calls/{uuid}/hangup",
    )
    assert row_logged is not None
    assert dict(row_logged) == {
        "operator": "boss",
        "resource": "channels",
        "action": "hangup",
        "status": 200,
    }


async def test_a_viewer_sees_calls_but_cannot_act(browser: Any, console: Console) -> None:
    page = await console.page(VIEWER, browser)
    uuid = await _place_call(console)
    row = page.locator(f"tr[data-uuid='{uuid}']")
    await row.locator("text=answered").wait_for(timeout=TIMEOUT)
    assert await row.locator("button").count() == 0
    assert await page.locator("th", has_text="Actions").count() == 0
    # Not by hand either, with the browser's cookie and this site's Origin.
    for action in ["hangup", "transfer", "eavesdrop/listen", "record/start"]:
        r = await page.request.post(
            f"{console.url}/console/calls/{uuid}/{action}",
            headers={"Origin": console.url, "HX-Prompt": "1002"},
        )
        assert r.status == 403, action
    r = await page.request.post(
        f"{console.url}/console/gateways/example/stop", headers={"Origin": console.url}
    )
    assert r.status == 403
    assert console.node.find(uuid) is not None
    logged = "SELECT count(*) FROM operation_logs WHERE path LIKE '/console/calls/%'"
    assert await console.db.fetchval(logged) == 0


async def test_the_page_in_chinese_has_no_english_left(browser: Any, console: Console) -> None:
    page = await console.page(ADMIN, browser, locale="zh-CN")
    uuid = await _place_call(console)
    row = page.locator(f"tr[data-uuid='{uuid}']")
    await row.locator("text=已接通").wait_for(timeout=TIMEOUT)
    text = await page.locator("body").inner_text()
    attributes = ["title", "hx-confirm", "hx-prompt", "data-confirm", "aria-label", "data-done"]
    attributes += ["data-open", "data-lost", "data-label"]
    titles = await page.eval_on_selector_all(
        ", ".join(f"[{a}]" for a in attributes),
        f"els => els.map(e => {attributes!r}.map(a => e.getAttribute(a) || '').join(' '))",
    )
    leftover = _english(text + " " + " ".join(titles), allowed={"Switchyard", "English", "UTC"})
    # Values, not words of the page: the replica id names a host; usernames.
    owner = await row.locator("td").nth(6).inner_text()
    leftover -= set(re.findall(r"[A-Za-z]{3,}", owner)) | {"boss"}
    assert not leftover, leftover

    # On a phone the table is a list of cards, each value labelled.
    await page.set_viewport_size({"width": 390, "height": 844})
    assert not await page.locator("table.cards thead").is_visible()
    state = row.locator("td[data-label='状态']")
    assert await state.is_visible() and await state.inner_text() == "已接通"


def _english(text: str, allowed: set[str]) -> set[str]:
    return {w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in allowed}


async def test_a_call_ending_while_the_stream_is_down_is_gone_after_reconnect(
    browser: Any, console: Console
) -> None:
    """The tab's consumer is lost (as when NATS restarts) and the call ends
    meanwhile: no event will ever say so, yet after the stream reconnects the
    page has the right list."""
    page = await console.page(ADMIN, browser)
    uuid = await _place_call(console)
    row = page.locator(f"tr[data-uuid='{uuid}']")
    await row.locator("text=answered").wait_for(timeout=TIMEOUT)
    assert await page.locator("[data-live-state]").get_attribute("data-live-state") == "open"

    bus = console.served.app.state.runtime.bus
    stream = bus.subjects.events_stream
    consumers = await bus.js.consumers_info(stream)
    tabs = [c.name for c in consumers if not c.config.durable_name]
    assert len(tabs) == 1  # one stream per tab
    await bus.js.delete_consumer(stream, tabs[0])
    r = await console.served.api.delete(f"/api/channels/{uuid}")
    assert r.status_code == 200 and console.node.find(uuid) is None

    await row.wait_for(state="detached", timeout=TIMEOUT)
    await page.wait_for_selector("text=No calls.", timeout=TIMEOUT)
    await page.wait_for_selector("[data-live-state=open]", timeout=TIMEOUT)


async def test_an_admin_listens_in_from_an_extension_and_transfers(
    browser: Any, console: Console
) -> None:
    page = await console.page(ADMIN, browser)
    uuid = await _place_call(console)
    row = page.locator(f"tr[data-uuid='{uuid}']")
    await row.locator("text=answered").wait_for(timeout=TIMEOUT)

    page.once("dialog", lambda dialog: dialog.accept("1002"))
    await row.locator("button", has_text="Listen").click()
    # The supervisor's phone rings, answers and listens: a call of its own.
    spy = page.locator("tr", has=page.locator("td[data-label=Callee]", has_text="1002"))
    await spy.locator("text=answered").wait_for(timeout=TIMEOUT)

    def spying() -> list[str]:
        return [
            c.application_data
            for c in console.node.channels.values()
            if c.application == "eavesdrop"
        ]

    # The page shows the answer (CHANNEL_ANSWER); the leg runs eavesdrop just after.
    assert await eventually(spying) == [uuid]

    page.once("dialog", lambda dialog: dialog.accept("9999"))
    await row.locator("button", has_text="Transfer").click()
    logged = "SELECT action FROM operation_logs WHERE path LIKE $1 ORDER BY id"
    async with asyncio.timeout(10):
        while len(await console.db.fetch(logged, f"/console/calls/{uuid}/%")) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    assert [r["action"] for r in await console.db.fetch(logged, f"/console/calls/{uuid}/%")] == [
        "eavesdrop",
        "transfer",
    ]
    # FreeSWITCH routed the channel to the number; no route there, so it ends.
    await row.wait_for(state="detached", timeout=TIMEOUT)
    assert console.node.find(uuid) is None


async def test_an_open_stream_stops_when_its_session_is_logged_out(
    browser: Any, console: Console
) -> None:
    page = await console.page(ADMIN, browser)
    await page.wait_for_selector("[data-live-state=open]", timeout=TIMEOUT)
    other_tab = await page.context.new_page()
    await other_tab.goto(f"{console.url}/console/calls")
    await other_tab.click("text=Log out")
    await other_tab.wait_for_url(f"{console.url}/console/login")
    # The first tab's stream ends at its next check and cannot come back.
    await page.wait_for_selector("[data-live-state=lost]", timeout=TIMEOUT)
    uuid = await _place_call(console)
    await asyncio.sleep(2)
    assert await page.locator(f"tr[data-uuid='{uuid}']").count() == 0

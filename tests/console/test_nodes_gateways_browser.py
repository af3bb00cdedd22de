"""The nodes page and the gateways page, in a real browser against fssim."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import ADMIN, Console, wait_for_count


async def test_nodes_show_their_owner_and_esl_and_a_gateway_is_stopped_from_the_page(
    browser: Any, console: Console
) -> None:
    page = await console.page(ADMIN, browser)
    await page.click("nav >> text=Nodes")
    node = page.locator("#nodes tr[data-node=fs1]")
    assert await node.locator("td[data-label=ESL] .state").inner_text() == "connected"
    replica = console.served.app.state["call-control"]
    assert await node.locator("td[data-label='Owner replica']").inner_text() == replica.id
    assert await node.locator("td[data-label=Channels]").inner_text() == "0"

    await page.click("nav >> text=Gateways and trunks")
    gateway = page.locator("#gateways tr[data-gateway=example][data-node=fs1]")
    assert await gateway.locator("td[data-label=Registration]").inner_text() == "NOREG"

    # A failing registration shows, with when it changed (its sofia::gateway_state).
    console.node.set_gateway("example", "FAIL_WAIT")
    await gateway.locator("text=FAIL_WAIT").wait_for(timeout=15_000)
    changed = gateway.locator("[data-testid=changed] time")
    await changed.wait_for(timeout=15_000)
    assert await changed.get_attribute("datetime")
    page.once("dialog", lambda dialog: dialog.accept())
    await gateway.locator("button", has_text="Stop").click()
    await page.wait_for_selector("#flash:has-text('Done.')")
    # The page refreshes itself: the stopped gateway goes without a reload.
    await gateway.wait_for(state="detached", timeout=15_000)
    logged = "SELECT count(*) FROM operation_logs WHERE resource = 'gateways' AND operator = 'boss'"
    await wait_for_count(console.db, logged, count=1)

"""The route explain page: the candidates, with why each was taken or rejected."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tests.console.conftest import VIEWER, Console


async def test_route_explain_shows_the_rejected_candidates(browser: Any, console: Console) -> None:
    api = console.served.api
    routes = {}
    for name, prefix, max_length, off in [
        ("short", "1", 4, 0),
        ("long", "10", 11, 0),
        ("off", "100", 11, 1),
    ]:
        body = {"name": name, "prefix": prefix, "max_length": max_length, "context": "context-1"}
        r = await api.post(
            "/api/routes", json={**body, "dest_type": "FS_DEST_USER", "disabled": off}
        )
        assert r.status_code == 200, r.text
        routes[name] = r.json()["data"]["id"]

    # A viewer may explain: it changes nothing.
    page = await console.page(VIEWER, browser)
    await page.click("nav >> text=Route explain")
    await page.fill("input[name=destNumber]", "10086")
    await page.fill("input[name=callerNumber]", "2000")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_selector("#candidates")

    async def verdict(route_id: int) -> tuple[str, str]:
        row = page.locator(f"#candidates tr[data-route='{route_id}']")
        cells = row.locator("td")
        return await cells.nth(3).inner_text(), await cells.nth(4).inner_text()

    assert await page.locator("[data-testid=outcome]").inner_text() == "routed"
    assert await verdict(routes["long"]) == (
        "taken",
        "first by max_length, then longest prefix, then id",
    )
    assert await verdict(routes["short"]) == ("rejected", "max_length 4 < number length 5")
    assert await verdict(routes["off"]) == ("rejected", "disabled")
    assert await page.locator("#actions li").count() >= 1

    # In Chinese the engine's reasons are translated too.
    here = page.url.removeprefix(console.url)
    await page.goto(f"{console.url}/console/lang/zh_CN?next={quote(here, safe='')}")
    assert await verdict(routes["short"]) == ("未选中", "最大长度 4 小于号码长度 5")
    assert await verdict(routes["off"]) == ("未选中", "已停用")

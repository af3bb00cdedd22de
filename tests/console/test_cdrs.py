"""Call detail records: a call placed and hung up through the API is one row
per leg in /api/cdrs (filters, paging) and on the recent calls page."""

from __future__ import annotations

import asyncio
from typing import Any

from switchyard.fssim import Behaviour
from tests.console.conftest import VIEWER, Console


async def _records(console: Console, **query: str) -> dict[str, Any]:
    r = await console.served.api.get("/api/cdrs", params=query)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_a_hung_up_call_is_a_record_in_the_api_and_on_the_page(
    browser: Any, console: Console
) -> None:
    api = console.served.api
    body = {"destNumber": "1000", "cidNumber": "2000", "cidName": "Li"}
    answered = (await api.post("/api/channels", json=body)).json()["uuid"]
    await asyncio.sleep(1.1)  # a talk time of at least one second
    assert (await api.delete(f"/api/channels/{answered}")).status_code == 200
    console.node.register_user("1003", behaviour=Behaviour(mode="reject", cause="USER_BUSY"))
    missed = (await api.post("/api/channels", json={"destNumber": "1003"})).json()["uuid"]

    async with asyncio.timeout(15):
        while (await _records(console))["rowCount"] < 2:  # noqa: ASYNC110 - written by the consumer
            await asyncio.sleep(0.1)
    rows = {r["uuid"]: r for r in (await _records(console))["data"]}
    call = rows[answered]
    assert (call["caller_number"], call["destination"], call["node"]) == ("2000", "1000", "fs1")
    assert call["direction"] == "outbound" and call["answered_at"] and call["billsec"] >= 1
    assert call["hangup_cause"] == "NORMAL_CLEARING"
    assert rows[missed]["answered_at"] is None and rows[missed]["billsec"] == 0
    assert rows[missed]["hangup_cause"] == "USER_BUSY"

    only = await _records(console, answered="false")
    assert [r["uuid"] for r in only["data"]] == [missed]
    assert [r["uuid"] for r in (await _records(console, number="200"))["data"]] == [answered]
    paged = await _records(console, perPage="1", page="2")
    assert paged["rowCount"] == 2 and paged["pageCount"] == 2 and len(paged["data"]) == 1
    r = await api.get("/api/cdrs", params={"direction": "sideways"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "direction"
    r = await api.get("/api/cdrs", params={"searchField": "destination", "searchKey": "1\x00"})
    assert r.status_code == 400 and r.json()["data"]["field"] == "searchKey"

    # A recording the media service registered for the call is linked.
    media_id = await console.db.fetchval(
        "INSERT INTO media_files (type, name, channel_uuid, ext, mime)"
        " VALUES ('RECORD', 'r.wav', $1, 'wav', 'audio/wav') RETURNING id",
        answered,
    )
    page = await console.page(VIEWER, browser)
    await page.click("nav >> text=Recent calls")
    row = page.locator(f"#cdrs tr[data-uuid='{answered}']")
    assert await row.get_attribute("data-answered") == "yes"
    assert await row.locator("td[data-label=Caller]").inner_text() == "2000 Li"
    link = row.locator("a", has_text="Webhook deliveries")
    assert await link.get_attribute("href") == f"/console/deliveries?call={answered}"
    recording = row.locator("[data-testid=recording]")
    assert await recording.get_attribute("href") == f"/api/media_files/{media_id}.wav"
    await page.select_option("select[name=answered]", "false")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_selector(f"#cdrs tr[data-uuid='{missed}']")
    assert await page.locator("#cdrs tbody tr").count() == 1

"""media's /metrics: TTS vendor calls and cache hits move with real requests."""

from __future__ import annotations

import httpx

from switchyard.shared.testing import metric, scrape


async def test_tts_calls_and_cache_hits_are_counted(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    assert metric(before, "switchyard_tts_vendor_calls_total", vendor="baidu") == 0
    body = {"input": "计数一下", "voice": "3"}
    assert (await client.post("/api/baidu/tts", json=body)).status_code == 200
    assert (await client.post("/api/baidu/tts", json=body)).status_code == 200
    assert (await client.post("/api/baidu/tts", json={**body, "voice": "x/y"})).status_code == 400
    after = await scrape(client)
    calls = "switchyard_tts_vendor_calls_total"
    assert metric(after, calls, vendor="baidu", outcome="ok") == 1
    assert metric(after, calls, vendor="ali") == 0
    requests = "switchyard_tts_requests_total"
    assert metric(after, requests, vendor="baidu", cache="miss") == 1
    assert metric(after, requests, vendor="baidu", cache="hit") == 1
    # The HTTP layer counted all three by route template, the 400 among them.
    http = "switchyard_http_requests_total"
    assert metric(after, http, route="/api/baidu/tts", method="POST", status="200") == 2
    assert metric(after, http, route="/api/baidu/tts", status="400") == 1
    # Neither a token nor a text reaches a label.
    text = (await client.get("/metrics")).text
    assert client.headers["X-XTRA-AUTH-ID"] not in text and "计数" not in text

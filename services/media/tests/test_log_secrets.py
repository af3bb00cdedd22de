"""media's logs: one JSON object per line, and no vendor key, vendor token or
API token in any of them, whatever the vendors answer.

``switchyard run media`` as a real process at DEBUG against the fake vendors:
each vendor's token flow, a vendor error, tokens revoked (expiry: fetched
again), a cached answer, a bad request.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from switchyard.shared.embedded import free_port
from switchyard.shared.settings import Settings
from switchyard.shared.testing import start_run, stop_all, wait_ready

from .conftest import media_settings
from .fake_vendors import ALI_SECRET, BAIDU_SK, HW_PASSWORD, Vendors


@pytest.mark.timeout(120)
async def test_no_vendor_secret_reaches_a_log_record(
    settings: Settings, tmp_path: Path, vendors: Vendors, api_token: str
) -> None:
    s = media_settings(settings, tmp_path, vendors.base, log_format="json", log_level="DEBUG")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "media.log"
    proc = start_run("media", port, s.to_env(), log)
    issued: set[str] = set()
    try:
        await wait_ready(url)
        async with httpx.AsyncClient(
            base_url=url, headers={"X-XTRA-AUTH-ID": api_token}, timeout=20
        ) as c:
            for engine in ("baidu", "ali", "huawei"):
                r = await c.post(f"/api/{engine}/tts", json={"input": f"你好 {engine}"})
                assert r.status_code == 200, r.text
            assert (await c.post("/api/baidu/tts", json={"input": "ERR:503 x"})).status_code == 502
            issued |= vendors.tokens
            vendors.revoke()  # as expiry would: each vendor's token is fetched again
            for engine in ("baidu", "ali", "huawei"):
                r = await c.post(f"/api/{engine}/tts", json={"input": f"再见 {engine}"})
                assert r.status_code == 200, r.text
            issued |= vendors.tokens
            calls = sum(len(t) for t in vendors.texts.values())
            r = await c.post("/api/baidu/tts", json={"input": "你好 baidu"})  # cached
            assert r.status_code == 200 and sum(len(t) for t in vendors.texts.values()) == calls
            assert (await c.post("/api/ali/tts", json={"voice": "x/y"})).status_code == 400
    finally:
        stop_all([proc])

    hidden = {
        "Baidu secret key": BAIDU_SK,
        "Ali secret": ALI_SECRET,
        "Huawei password": HW_PASSWORD,
    }
    hidden |= {f"vendor token {t}": t for t in issued}
    hidden["API token"] = api_token
    hidden["xml_curl secret (the media URL key's root)"] = settings.xml_curl_secret
    assert len(issued) >= 6
    lines = log.read_text().splitlines()
    assert lines
    for line in lines:
        record = json.loads(line)
        assert isinstance(record, dict) and {"ts", "level", "logger", "msg"} <= set(record)
        for what, value in hidden.items():
            assert value not in line, f"media logged the {what}: {line}"

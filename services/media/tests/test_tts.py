"""TTS against fake Baidu, Ali and Huawei servers that answer as documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from switchyard.media.service import service
from switchyard.shared.bus import Bus, BusError
from switchyard.shared.fsvalues import SOUND
from switchyard.shared.messages import TtsReply, TtsRequest
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import serving

from .conftest import media_settings
from .fake_vendors import Vendors

Client = httpx.AsyncClient
TEXT = "你好,欢迎致电烟台小樱桃网络科技有限公司"


@pytest.mark.parametrize("engine", ["baidu", "ali", "huawei"])
async def test_tts_stores_a_playable_file_and_answers_the_spec_object(
    client: Client, vendors: Vendors, engine: str
) -> None:
    r = await client.post(
        f"/api/{engine}/tts",
        content=msgspec.json.encode({"engine": engine, "input": TEXT}),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    item = r.json()
    assert (item["type"], item["name"], item["description"]) == ("TTS", TEXT, TEXT)
    assert item["rel_path"].startswith(f"{engine}-tts-") and item["ext"] == "mp3"
    assert item["mime"] == "audio/mp3" and SOUND.ok(item["abs_path"])
    audio = (await client.get(f"/api/media_files/{item['id']}.mp3")).content
    assert len(audio) == item["file_size"] > 0
    assert vendors.texts[engine] == [TEXT]


async def test_the_same_request_answers_the_cached_file_without_a_vendor_call(
    client: Client, vendors: Vendors
) -> None:
    body = {"input": TEXT, "format": "wav", "sample_rate": 8000, "voice": "4"}
    first = (await client.post("/api/baidu/tts", json=body)).json()
    again = (await client.post("/api/baidu/tts", json=body)).json()
    assert again == first
    # Baidu's voices are numbers: one sent as a number (4, 4.0) is its digits.
    for voice in (4, 4.0):
        assert (await client.post("/api/baidu/tts", json={**body, "voice": voice})).json() == first
    assert vendors.texts["baidu"] == [TEXT] and vendors.token_fetches["baidu"] == 1
    # Another voice is another file.
    other = (await client.post("/api/baidu/tts", json={**body, "voice": "5"})).json()
    assert other["id"] != first["id"] and len(vendors.texts["baidu"]) == 2
    # Baidu's 8 kHz wav is its raw pcm, wrapped: a real WAV with real facts.
    assert (first["sample_rate"], first["channels"]) == (8000, 1)
    assert first["duration"] == 100 * len(TEXT)


@pytest.mark.parametrize("engine", ["baidu", "ali", "huawei"])
async def test_an_expired_token_is_fetched_again_once(
    client: Client, vendors: Vendors, engine: str
) -> None:
    assert (await client.post(f"/api/{engine}/tts", json={"input": "一"})).status_code == 200
    assert (await client.post(f"/api/{engine}/tts", json={"input": "二"})).status_code == 200
    assert vendors.token_fetches[engine] == 1  # cached between requests
    vendors.revoke()  # as if it expired at the vendor
    r = await client.post(f"/api/{engine}/tts", json={"input": "三"})
    assert r.status_code == 200, r.text
    assert vendors.token_fetches[engine] == 2


@pytest.mark.parametrize(
    ("engine", "text", "status", "code"),
    [
        ("baidu", "ERR:513 x", 400, "513"),
        ("baidu", "ERR:16 x", 429, "16"),
        ("baidu", "ERR:503 x", 502, "503"),
        ("ali", "ERR:40000005 x", 429, "40000005"),
        ("ali", "ERR:40000003 x", 400, "40000003"),
        ("huawei", "ERR:1 x", 400, "SIS.0032"),
    ],
)
async def test_vendor_errors_name_the_vendors_code_and_message(
    client: Client, engine: str, text: str, status: int, code: str
) -> None:
    r = await client.post(f"/api/{engine}/tts", json={"input": text})
    assert r.status_code == status, r.text
    body = r.json()
    assert body["data"]["vendor"] == engine and body["data"]["vendor_code"] == code
    assert body["message"].startswith(f"{engine} error {code}: ")
    assert (await client.get("/api/media_files", params={"type": "TTS"})).json()["rowCount"] == 0


async def test_bad_credentials_are_a_clear_502(
    settings: Settings, tmp_path: Path, vendors: Vendors, api_token: str
) -> None:
    s = media_settings(settings, tmp_path, vendors.base)
    s = msgspec.structs.replace(s, baidu_api_key="wrong")
    async with serving(create_app(s, [service]), headers={"X-XTRA-AUTH-ID": api_token}) as c:
        r = await c.post("/api/baidu/tts", json={"input": TEXT})
        assert r.status_code == 502
        assert r.json()["message"] == "baidu error invalid_client: unknown client id"


async def test_a_vendor_without_credentials_is_503_naming_the_settings(
    settings: Settings, tmp_path: Path, api_token: str
) -> None:
    s = msgspec.structs.replace(settings, media_dir=str(tmp_path / "media"))
    async with serving(create_app(s, [service]), headers={"X-XTRA-AUTH-ID": api_token}) as c:
        r = await c.post("/api/ali/tts", json={"input": TEXT})
        assert r.status_code == 503
        assert r.json()["data"]["missing"] == [
            "SWITCHYARD_ALI_ACCESS_KEY_ID",
            "SWITCHYARD_ALI_ACCESS_KEY_SECRET",
            "SWITCHYARD_ALI_APPKEY",
        ]


async def test_bad_input_is_a_400_naming_the_field(client: Client) -> None:
    for body, field in (
        ({"input": ""}, "input"),
        ({"input": "x", "format": "ogg"}, "format"),
        ({"input": "x", "speed": 99}, "speed"),
        ({"input": "x", "engine": "ali"}, "engine"),
        ({"input": "x", "voice": "a b"}, "voice"),
        ({"input": "x", "voice": 4.5}, "voice"),
    ):
        r = await client.post("/api/baidu/tts", json=body)
        assert r.status_code == 400 and r.json()["data"]["field"] == field, (body, r.text)


async def test_text_over_the_vendors_limit_is_split_at_sentences_and_joined(
    client: Client, vendors: Vendors
) -> None:
    sentence = "这是一个用于测试的句子，它有一些字。"  # 18 characters
    text = sentence * 40  # 720: Ali takes 300 a request
    r = await client.post(
        "/api/ali/tts", json={"input": text, "format": "wav", "sample_rate": 8000}
    )
    assert r.status_code == 200, r.text
    sent = vendors.texts["ali"]
    assert len(sent) == 3 and "".join(sent) == text
    assert all(len(p) <= 300 and p.endswith("。") for p in sent)
    # One WAV as long as all of the text (the fake speaks 100 ms a character).
    assert r.json()["duration"] == 100 * len(text)


async def test_other_services_ask_over_the_bus(client: Client, bus: Bus, vendors: Vendors) -> None:
    req = TtsRequest(engine="huawei", text=TEXT)
    reply = await bus.request(bus.subjects.tts_request, req, TtsReply)
    assert SOUND.ok(reply.path) and reply.mime == "audio/wav" and not reply.cached
    assert Path(reply.path).stat().st_size > 0  # noqa: ASYNC240
    again = await bus.request(bus.subjects.tts_request, req, TtsReply)
    assert again.cached and again.id == reply.id
    with pytest.raises(BusError) as err:
        await bus.request(bus.subjects.tts_request, TtsRequest(engine="x", text="y"), TtsReply)
    assert err.value.code == "invalid"


def _unused(x: Any) -> None: ...

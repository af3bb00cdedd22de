"""mod_cti's ``GET /tts?text=`` over real HTTP, as FreeSWITCH fetches it.

The media service runs under granian on a real port, with the fake Baidu,
Ali and Huawei servers behind it. The fetch is what mod_http_cache sends:
a bare GET with no token (``User-Agent: freeswitch-http-cache/1.0``), the
text raw UTF-8 in the request line as the spec writes it. Served only to an
allowed address or with a signature: never an open TTS proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest_asyncio
from granian.constants import Interfaces
from granian.server.embed import Server

from switchyard.media.service import service
from switchyard.shared import media_location
from switchyard.shared.embedded import free_port
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings

from .conftest import media_settings
from .fake_vendors import Vendors, pcm_for

TEXT = "这个测试是放音文字转语音测试"
Serve = Callable[..., contextlib.AbstractAsyncContextManager[str]]


@pytest_asyncio.fixture
async def serve(settings: Settings, tmp_path: Path, vendors: Vendors) -> Serve:
    @contextlib.asynccontextmanager
    async def run(**extra: Any) -> AsyncIterator[str]:
        logging.getLogger("_granian").setLevel(logging.WARNING)
        port = free_port()
        app = create_app(media_settings(settings, tmp_path, vendors.base, **extra), [service])
        server = Server(
            app, address="127.0.0.1", port=port, interface=Interfaces.ASGI, log_enabled=False
        )
        task = asyncio.create_task(server.serve())
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient() as c, asyncio.timeout(30):
                while True:
                    with contextlib.suppress(httpx.HTTPError):
                        if (await c.get(f"{base}/readyz")).status_code == 200:
                            break
                    await asyncio.sleep(0.02)
            yield base
        finally:
            server.stop()
            async with asyncio.timeout(10):
                await task

    return run


async def fs_fetch(base: str, target: bytes, headers: bytes = b"") -> tuple[int, bytes, bytes]:
    """One GET as mod_http_cache sends it (Host, User-Agent, Accept), raw request
    line bytes: status, headers, body."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"GET " + target + b" HTTP/1.1\r\nHost: " + f"{host}:{port}".encode()
        + b"\r\nUser-Agent: freeswitch-http-cache/1.0\r\nAccept: */*\r\n" + headers
        + b"Connection: close\r\n\r\n"
    )  # fmt: skip
    await writer.drain()
    response = await reader.read()
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), head, body


def is_wav_of(body: bytes, text: str) -> bool:
    """An 8 kHz mono 16-bit WAV holding the fake vendor's audio for ``text``."""
    pcm = pcm_for(text, 8000)
    data = body.find(b"data")
    return (
        body[:4] == b"RIFF"
        and body[8:16] == b"WAVEfmt "
        and int.from_bytes(body[22:24], "little") == 1
        and int.from_bytes(body[24:28], "little") == 8000
        and int.from_bytes(body[data + 4 : data + 8], "little") == len(pcm)
        and body[data + 8 :] == pcm
    )


async def test_an_allowed_node_plays_the_spec_url_as_written(
    serve: Serve, vendors: Vendors
) -> None:
    async with serve(tts_http_allow="127.0.0.1") as base:
        # The spec's URL: raw UTF-8 text, no engine (the first configured: Baidu).
        status, head, body = await fs_fetch(base, b"/tts?text=" + TEXT.encode())
        assert status == 200, body
        assert b"content-type: audio/x-wav" in head.lower()
        assert b"cache-control: max-age=86400" in head.lower()
        assert is_wav_of(body, TEXT)
        assert vendors.texts["baidu"] == [TEXT]
        # Percent-encoded, another engine: Ali's audio; the same text again is the cache.
        quoted = httpx.URL("/tts", params={"text": TEXT, "engine": "ali"}).raw_path
        status, _, body = await fs_fetch(base, quoted)
        assert status == 200 and is_wav_of(body, TEXT)
        status, _, again = await fs_fetch(base, quoted)
        assert (status, again) == (200, body)
        assert vendors.texts["ali"] == [TEXT]
        # Bad input names the field; an unknown engine too.
        status, _, body = await fs_fetch(base, b"/tts?text=")
        assert status == 400 and msgspec.json.decode(body)["data"]["field"] == "text"
        status, _, body = await fs_fetch(base, b"/tts?text=hi&engine=nope")
        assert status == 400 and msgspec.json.decode(body)["data"]["field"] == "engine"


async def test_nobody_else_gets_a_tts_proxy(serve: Serve, vendors: Vendors) -> None:
    async with serve(tts_http_allow="10.0.0.0/8", trusted_proxies="127.0.0.1") as base:
        status, _, body = await fs_fetch(base, b"/tts?text=" + TEXT.encode())
        assert status == 403
        assert msgspec.json.decode(body)["data"] == {"field": "sig", "reason": "forbidden"}
        # Through a trusted proxy the client behind it counts, not the proxy...
        status, _, _ = await fs_fetch(base, b"/tts?text=hi", b"X-Forwarded-For: 203.0.113.9\r\n")
        assert status == 403
        # ...and an allowed one is served.
        status, _, body = await fs_fetch(base, b"/tts?text=hi", b"X-Forwarded-For: 10.1.2.3\r\n")
        assert status == 200 and is_wav_of(body, "hi")
        # A forged or another text's signature is refused as well.
        status, _, _ = await fs_fetch(base, b"/tts?text=hello&sig=" + b"0" * 32)
        assert status == 403
        # A signature that is not even ASCII is the same refusal, not a server error.
        status, _, _ = await fs_fetch(base, b"/tts?text=hello&sig=%C3%A9" + b"0" * 31)
        assert status == 403
    assert vendors.texts["baidu"] == ["hi"]  # only the allowed request cost a vendor call


async def test_a_signed_url_plays_from_anywhere(
    serve: Serve, vendors: Vendors, api_token: str
) -> None:
    secrets = {"media_url_secret": "s3cret", "media_url": "http://media.example:8081"}
    async with serve(**secrets) as base, httpx.AsyncClient(base_url=base) as api:
        r = await api.get(
            "/api/tts/url",
            params={"text": TEXT, "engine": "huawei"},
            headers={"X-XTRA-AUTH-ID": api_token},
        )
        assert r.status_code == 200, r.text
        url = httpx.URL(r.json()["data"]["url"])
        assert (url.host, url.port, url.path) == ("media.example", 8081, "/tts")
        # Signed for this text and engine only.
        status, _, body = await fs_fetch(base, url.raw_path)
        assert status == 200 and is_wav_of(body, TEXT)
        assert vendors.texts["huawei"] == [TEXT]
        other = url.copy_set_param("text", "something else").raw_path
        assert (await fs_fetch(base, other))[0] == 403
        # The signing endpoint itself wants a token.
        assert (await api.get("/api/tts/url", params={"text": "x"})).status_code == 401
    sig = dict(url.params)["sig"]
    key = media_location.url_key(msgspec.structs.replace(Settings(), media_url_secret="s3cret"))
    assert media_location.verify(key, media_location.tts_subject("huawei", "", TEXT), sig)
    # After the secret changes, a URL signed before keeps playing while the
    # previous secret is kept beside the new one, and no longer once it is dropped.
    rotated = {**secrets, "media_url_secret": "n3w", "media_url_previous_secret": "s3cret"}
    async with serve(**rotated) as base:
        assert (await fs_fetch(base, url.raw_path))[0] == 200
    async with serve(**{**secrets, "media_url_secret": "n3w"}) as base:
        assert (await fs_fetch(base, url.raw_path))[0] == 403

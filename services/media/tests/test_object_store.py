"""Object-store mode: files in JetStream, FreeSWITCH fetching and uploading
them by signed mod_http_cache URL (shared/media_location.py, fetch_http.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import pytest_asyncio
from litestar import Litestar

from switchyard.media import files, object_storage
from switchyard.media.recordings import Watcher
from switchyard.media.service import service
from switchyard.shared import media_location
from switchyard.shared.fsvalues import PATH, SOUND
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import serving

from .conftest import media_settings
from .fake_vendors import Vendors
from .test_files import make_wav, stored_files, upload

MEDIA_URL = "http://media.example:8081"


@pytest_asyncio.fixture
async def app(settings: Settings, tmp_path: Path, vendors: Vendors) -> Litestar:
    own = media_settings(
        settings,
        tmp_path,
        vendors.base,
        media_store="nats",
        media_url=MEDIA_URL,
        media_url_secret="test-media-url-secret",
    )
    return create_app(own, [service])


@pytest_asyncio.fixture
async def client(app: Litestar, api_token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as c:
        yield c


@pytest_asyncio.fixture
async def freeswitch(app: Litestar, client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """What mod_http_cache is: HTTP with no token and no cookie."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=MEDIA_URL) as c:
        yield c


def fetch_path(abs_path: str) -> str:
    """The HTTP path mod_http_cache requests for an http_cache:// URL."""
    assert abs_path.startswith(f"http_cache://{MEDIA_URL}/fs/media/")
    return abs_path.removeprefix(f"http_cache://{MEDIA_URL}")


async def test_an_upload_is_stored_in_jetstream_and_plays_by_signed_url(
    client: httpx.AsyncClient, freeswitch: httpx.AsyncClient, tmp_path: Path
) -> None:
    # Three chunks and a bit: ranges cross chunk boundaries.
    audio = make_wav(12.5, 16000)
    assert len(audio) > 3 * 128 * 1024
    [item] = await upload(client, "welcome.wav", audio)
    url = item["abs_path"]
    assert SOUND.ok(url) and not PATH.ok(url)
    assert item["dir_path"] == url.rpartition("/")[0]
    assert stored_files(tmp_path) == []  # nothing on this host's disk
    assert (item["duration"], item["sample_rate"]) == ("12500", "16000")

    r = await client.get(f"/api/media_files/{item['id']}.wav")
    assert r.status_code == 200 and r.content == audio
    span = (128 * 1024 - 10, 2 * 128 * 1024 + 10)
    r = await client.get(
        f"/api/media_files/{item['id']}.wav", headers={"Range": f"bytes={span[0]}-{span[1]}"}
    )
    assert r.status_code == 206 and r.content == audio[span[0] : span[1] + 1]

    r = await freeswitch.get(fetch_path(url))
    assert r.status_code == 200, r.text
    assert r.content == audio and r.headers["content-type"].startswith("audio/wav")
    assert r.headers["cache-control"] == "max-age=86400"
    r = await freeswitch.get(fetch_path(url), headers={"Range": "bytes=-100"})
    assert r.status_code == 206 and r.content == audio[-100:]
    etag = r.headers["etag"]
    r = await freeswitch.get(fetch_path(url), headers={"If-None-Match": etag})
    assert r.status_code == 304

    # The same file through the authenticated API only: no token, no answer.
    assert (await freeswitch.get(f"/api/media_files/{item['id']}.wav")).status_code == 401

    assert (await client.delete(f"/api/media_files/{item['id']}")).status_code == 200
    assert (await freeswitch.get(fetch_path(url))).status_code == 404


async def test_a_url_opens_only_the_file_it_was_signed_for(
    client: httpx.AsyncClient, freeswitch: httpx.AsyncClient
) -> None:
    [a] = await upload(client, "a.wav", make_wav(0.5))
    [b] = await upload(client, "b.wav", make_wav(0.7))
    sig_a, _, key_a = fetch_path(a["abs_path"]).removeprefix("/fs/media/").partition("/")
    key_b = fetch_path(b["abs_path"]).removeprefix("/fs/media/").partition("/")[2]
    wrong = "0" * media_location.SIG_CHARS
    for path in (
        f"/fs/media/{sig_a}/{key_b}",  # a's signature, b's name
        f"/fs/media/{wrong}/{key_a}",
        f"/fs/media/{sig_a[:-1]}/{key_a}",
        f"/fs/media/{sig_a}/recordings/{key_a.partition('/')[2]}",  # another area
        f"/fs/media/{sig_a}/upload/..%2F..%2Fetc%2Fpasswd",
        f"/fs/media/{sig_a}/nowhere/x.wav",
    ):
        r = await freeswitch.get(path)
        assert r.status_code == 404, (path, r.status_code)
    # Uploads through the fetch URL are for recordings only.
    r = await freeswitch.put(fetch_path(a["abs_path"]), content=b"RIFF")
    assert r.status_code == 405


async def test_a_recording_uploaded_by_mod_http_cache_becomes_a_record_file(
    app: Litestar, client: httpx.AsyncClient, freeswitch: httpx.AsyncClient
) -> None:
    settings: Settings = app.state["media"].settings
    # What call-control hands uuid_record in this mode.
    target = media_location.recording_target(settings, "rec-7.wav")
    assert SOUND.ok(target)
    audio = make_wav(2.0)
    r = await freeswitch.put(fetch_path(target), content=audio)
    assert r.status_code == 201, r.text
    media = app.state["media"]
    watcher = Watcher(media.runtime, media.storage)
    event: dict[str, Any] = {"Record-File-Path": target, "Unique-ID": "chan-7"}
    await watcher.register(event)
    [item] = (await client.get("/api/media_files", params={"uuid": "chan-7"})).json()["data"]
    assert (item["type"], item["abs_path"], item["duration"]) == ("RECORD", target, 2000)
    assert item["file_size"] == len(audio)
    r = await client.get(f"/api/media_files/{item['id']}.wav")
    assert r.content == audio

    # A recording URL with a forged signature is neither accepted nor registered.
    forged = target.replace(fetch_path(target).split("/")[3], "f" * media_location.SIG_CHARS)
    assert (await freeswitch.put(fetch_path(forged), content=audio)).status_code == 404
    # A signature that is not even ASCII is the same 404, not a server error.
    odd = fetch_path(target).replace(fetch_path(target).split("/")[3], "%C3%A9" * 16)
    assert (await freeswitch.get(odd)).status_code == 404
    await watcher.register({"Record-File-Path": forged, "Unique-ID": "chan-8"})
    page = (await client.get("/api/media_files", params={"uuid": "chan-8"})).json()
    assert page["rowCount"] == 0


async def test_a_stored_recording_cannot_be_replaced_through_its_url(
    app: Litestar, freeswitch: httpx.AsyncClient
) -> None:
    """A recording's URL travels in CDRs, pushes and webhooks (record_filename),
    and it is the URL mod_http_cache PUTs to: whoever reads it must not be able
    to swap the recording for other audio (issue 15, security)."""
    settings: Settings = app.state["media"].settings
    target = media_location.recording_target(settings, "rec-11.wav")
    audio = make_wav(1.0)
    assert (await freeswitch.put(fetch_path(target), content=audio)).status_code == 201
    r = await freeswitch.put(fetch_path(target), content=make_wav(0.5))
    assert r.status_code == 409, r.text
    assert "recordings/rec-11.wav" in r.text
    assert (await freeswitch.get(fetch_path(target))).content == audio


async def test_a_secret_change_re_signs_stored_urls_and_the_old_ones_open_while_overlapping(
    app: Litestar, client: httpx.AsyncClient, api_token: str
) -> None:
    [item] = await upload(client, "prompt.wav", make_wav(0.5))
    old_url = item["abs_path"]
    settings: Settings = app.state["media"].settings
    media = app.state["media"]
    # A recording keeps the path FreeSWITCH was told (its identity).
    target = media_location.recording_target(settings, "rec-9.wav")
    await media.storage.put("recordings/rec-9.wav", make_wav(0.3))
    await Watcher(media.runtime, media.storage).register(
        {"Record-File-Path": target, "Unique-ID": "chan-9"}
    )

    rotated = msgspec.structs.replace(
        settings,
        media_url_secret="the-new-secret",
        media_url_previous_secret=settings.media_url_secret,
    )
    second = create_app(rotated, [service])
    async with serving(second, headers={"X-XTRA-AUTH-ID": api_token}) as c:
        fs = httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url=MEDIA_URL)
        new_url = (await c.get(f"/api/media_files/{item['id']}")).json()["abs_path"]
        assert new_url != old_url and SOUND.ok(new_url)
        assert new_url == media_location.fetch_url(rotated, fetch_path(old_url).split("/", 4)[4])
        # Both open while the previous secret is set: configuration that
        # copied the old URL keeps playing.
        assert (await fs.get(fetch_path(new_url))).status_code == 200
        assert (await fs.get(fetch_path(old_url))).status_code == 200
        [rec] = (await c.get("/api/media_files", params={"uuid": "chan-9"})).json()["data"]
        assert rec["abs_path"] == target

    done = msgspec.structs.replace(rotated, media_url_previous_secret="")
    third = create_app(done, [service])
    async with serving(third, headers={"X-XTRA-AUTH-ID": api_token}):
        fs = httpx.AsyncClient(transport=httpx.ASGITransport(app=third), base_url=MEDIA_URL)
        assert (await fs.get(fetch_path(new_url))).status_code == 200
        assert (await fs.get(fetch_path(old_url))).status_code == 404


class CountingJs:
    """The JetStream context, counting the chunk fetches (stream-gets) made through it."""

    def __init__(self, js: Any) -> None:
        self._js = js
        self.gets: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._js, name)

    async def get_msg(self, stream: str, **kwargs: Any) -> Any:
        msg = await self._js.get_msg(stream, **kwargs)
        self.gets.append(msg.seq)
        return msg


async def test_a_range_near_the_end_reads_only_the_chunks_that_hold_it(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    storage = app.state["media"].storage
    chunk = object_storage.CHUNK
    # Two uploads written at the same time: their chunks interleave on the
    # stream, so the index has a run per chunk.
    audio = make_wav(20.0, 16000)  # about 5 chunks
    other = make_wav(20.0, 8000)
    a, b = await storage.begin("upload"), await storage.begin("upload")
    for i in range(0, len(audio), chunk):
        await a.write(audio[i : i + chunk])
        await b.write(other[i : i + chunk])
    await a.commit("upload/range-a.wav")
    await b.commit("upload/range-b.wav")
    chunks = -(-len(audio) // chunk)
    assert chunks >= 5

    counting = CountingJs(storage.js)
    storage.js = counting
    # Within the last chunk: one fetch.
    start, end = len(audio) - 1000, len(audio) - 10
    got = b"".join([c async for c in storage.read("upload/range-a.wav", start, end)])
    assert got == audio[start:end]
    assert len(counting.gets) == 1
    # Across the boundary of the last two chunks, over HTTP: two fetches.
    counting.gets.clear()
    row = await storage_row(app, "upload/range-a.wav", audio)
    start = (chunks - 1) * chunk - 100
    r = await client.get(
        f"/api/media_files/{row}.wav", headers={"Range": f"bytes={start}-{start + 199}"}
    )
    assert r.status_code == 206 and r.content == audio[start : start + 200]
    assert len(counting.gets) == 2
    # The whole of the other file is still every one of its chunks, in order.
    counting.gets.clear()
    got = b"".join([c async for c in storage.read("upload/range-b.wav", 0, len(other))])
    assert got == other and len(counting.gets) == -(-len(other) // chunk)


async def storage_row(app: Litestar, key: str, audio: bytes) -> int:
    """A media_files row for a file written straight to storage."""
    media = app.state["media"]
    row = await files.insert(
        media.runtime.pool,
        files.NewFile(
            type="UPLOAD",
            name=key,
            ext="wav",
            mime="audio/wav",
            file_size=len(audio),
            abs_path=media.storage.abs_path(key),
            dir_path=media.storage.dir_path(key),
            rel_path=key.partition("/")[2],
            storage_key=key,
        ),
    )
    assert row is not None
    media_id: int = row["id"]
    return media_id


def test_object_mode_refuses_to_start_without_a_url_or_a_key(settings: Settings) -> None:
    nats_mode = msgspec.structs.replace(settings, media_store="nats", xml_curl_secret="")
    with pytest.raises(media_location.MediaLocationError, match="SWITCHYARD_MEDIA_URL"):
        media_location.check(nats_mode)
    with pytest.raises(media_location.MediaLocationError, match="SECRET"):
        media_location.check(msgspec.structs.replace(nats_mode, media_url=MEDIA_URL))
    derived = msgspec.structs.replace(nats_mode, media_url=MEDIA_URL, xml_curl_secret="x")
    media_location.check(derived)
    # The derived key is not the xml_curl secret itself.
    assert media_location.url_key(derived) not in (None, b"x")

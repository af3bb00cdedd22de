"""Media files over HTTP: upload, list, get, update, delete, download."""

from __future__ import annotations

import io
import re
import wave
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from switchyard.media.service import service
from switchyard.shared.fsvalues import PATH, SOUND
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import serving

Client = httpx.AsyncClient
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def make_wav(seconds: float = 1.5, rate: int = 8000, channels: int = 1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        size = int(seconds * rate) * channels * 2
        w.writeframes((bytes(range(256)) * (size // 256 + 1))[:size])
    return out.getvalue()


async def upload(client: Client, name: str, data: bytes, mime: str = "audio/wav") -> Any:
    r = await client.post("/api/upload", files={"file": (name, data, mime)})
    assert r.status_code == 200, r.text
    return r.json()


def stored_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "media").rglob("*") if p.is_file()]


async def test_an_uploaded_wav_is_listed_read_and_downloaded_byte_for_byte(
    client: Client, tmp_path: Path
) -> None:
    audio = make_wav(1.5, 8000)
    [item] = await upload(client, "greeting 你好.wav", audio)
    # The spec's upload answer: every value a string.
    assert all(isinstance(v, str) for v in item.values())
    assert item["type"] == "UPLOAD" and item["name"] == "greeting 你好.wav"
    assert item["original_file_name"] == "greeting 你好.wav"
    assert re.fullmatch(r"upload-\d{14}-[0-9a-f-]{36}\.wav", item["rel_path"])
    assert item["abs_path"] == f"{item['dir_path']}/{item['rel_path']}"
    assert PATH.ok(item["abs_path"]) and SOUND.ok(item["abs_path"])
    assert Path(item["abs_path"]).read_bytes() == audio  # noqa: ASYNC240
    assert (item["mime"], item["ext"], item["file_size"]) == ("audio/wav", "wav", str(len(audio)))
    assert (item["duration"], item["sample_rate"], item["channels"], item["bit_rate"]) == (
        "1500",
        "8000",
        "1",
        "128000",
    )

    one = (await client.get(f"/api/media_files/{item['id']}")).json()
    assert one["id"] == int(item["id"]) and one["duration"] == 1500 and one["deleted_at"] == ""
    page = (await client.get("/api/media_files", params={"type": "UPLOAD"})).json()
    assert page["rowCount"] == 1 and page["data"][0]["id"] == one["id"]
    assert (await client.get("/api/media_files", params={"types": "TTS,SYSTEM"})).json()[
        "rowCount"
    ] == 0

    r = await client.get(f"/api/media_files/{item['id']}.wav")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("audio/wav")
    assert r.content == audio
    assert (await client.get(f"/api/media_files/{item['id']}.mp3")).status_code == 404


async def test_range_and_etag(client: Client) -> None:
    audio = make_wav(1.0)
    [item] = await upload(client, "a.wav", audio)
    url = f"/api/media_files/{item['id']}.wav"
    r = await client.get(url, headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes 100-199/{len(audio)}"
    assert r.content == audio[100:200]
    r = await client.get(url, headers={"Range": "bytes=-10"})
    assert r.status_code == 206 and r.content == audio[-10:]
    r = await client.get(url, headers={"Range": "bytes=100-"})
    assert r.status_code == 206 and r.content == audio[100:]
    r = await client.get(url, headers={"Range": f"bytes={len(audio)}-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(audio)}"

    etag = (await client.get(url)).headers["etag"]
    r = await client.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    assert (await client.get(url, headers={"If-None-Match": '"other"'})).status_code == 200
    # A Range with a stale If-Range gets the whole file.
    r = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert r.status_code == 200 and r.content == audio


async def test_the_kind_comes_from_the_content_not_the_name(client: Client, tmp_path: Path) -> None:
    [item] = await upload(client, "x.wav", PNG, "audio/wav")
    assert (item["ext"], item["mime"]) == ("png", "image/png")
    assert item["rel_path"].endswith(".png") and item["name"] == "x.wav"
    r = await client.post(
        "/api/upload", files={"file": ("song.mp3", b"\x00\x01\x02garbage" * 50, "audio/mpeg")}
    )
    assert r.status_code == 400
    assert r.json()["data"]["field"] == "file"
    assert len(stored_files(tmp_path)) == 1  # only the PNG


async def test_several_files_in_one_upload(client: Client) -> None:
    r = await client.post(
        "/api/upload",
        files=[
            ("file", ("a.wav", make_wav(0.5), "audio/wav")),
            ("file", ("b.png", PNG, "image/png")),
        ],
    )
    assert [i["ext"] for i in r.json()] == ["wav", "png"]


async def test_names_and_ids_never_reach_outside_the_storage_root(
    client: Client, tmp_path: Path, db: Any
) -> None:
    [item] = await upload(client, "../../../../etc/passwd.wav", make_wav(0.2))
    assert item["name"] == "../../../../etc/passwd.wav"  # metadata only
    assert Path(item["abs_path"]).parent == tmp_path / "media" / "upload"
    for path in (
        "/api/media_files/..%2F..%2Fetc%2Fpasswd",
        "/api/media_files/1.wav%2F..%2F..",
        "/api/media_files/-1.wav",
        "/api/media_files/1..wav",
    ):
        assert (await client.get(path)).status_code == 404, path
    # A row that names a key outside the root (written behind the API's back)
    # is neither served nor deleted.
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    media_id = await db.fetchval(
        "INSERT INTO media_files (name, ext, mime, storage_key) "
        "VALUES ('x', 'txt', 'text/plain', 'upload/../../secret.txt') RETURNING id"
    )
    assert (await client.get(f"/api/media_files/{media_id}.txt")).status_code == 404
    assert (await client.delete(f"/api/media_files/{media_id}")).status_code == 200
    assert secret.read_text() == "top secret"


async def test_update_and_delete(client: Client, tmp_path: Path) -> None:
    [item] = await upload(client, "a.wav", make_wav(0.2))
    r = await client.put(
        f"/api/media_files/{item['id']}",
        json={"id": item["id"], "name": "test.bat", "description": "UPLOAD", "type": "UPLOAD"},
    )
    assert r.json() == {"code": 200, "message": "success", "data": item["id"]}
    assert (await client.get(f"/api/media_files/{item['id']}")).json()["name"] == "test.bat"
    assert (
        await client.put(f"/api/media_files/{item['id']}", json={"type": "NOPE"})
    ).status_code == 400
    assert (await client.put("/api/media_files/999999", json={"name": "x"})).status_code == 404

    r = await client.delete(f"/api/media_files/{item['id']}")
    assert r.json() == {"code": 200, "message": "success", "data": item["id"]}
    assert not Path(item["abs_path"]).exists()  # noqa: ASYNC240
    assert (await client.get(f"/api/media_files/{item['id']}")).status_code == 404
    assert (await client.delete(f"/api/media_files/{item['id']}")).status_code == 404


async def test_the_session_cookie_loads_and_uploads_media(client: Client, api_token: str) -> None:
    [item] = await upload(client, "a.wav", make_wav(0.2))
    cookies = {"freeswitch_xtra_session_id": api_token}
    async with httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver", cookies=cookies
    ) as browser:
        r = await browser.get(f"/api/media_files/{item['id']}.wav")
        assert r.status_code == 200
        r = await browser.post(
            "/api/upload",
            files={"file": ("b.png", PNG, "image/png")},
            headers={"Origin": "http://testserver"},
        )
        assert r.status_code == 200, r.text
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as anon:
        assert (await anon.get(f"/api/media_files/{item['id']}.wav")).status_code == 401


@pytest.mark.parametrize("chunked", [False, True])
async def test_an_oversize_upload_is_413_and_leaves_nothing(
    settings: Settings, tmp_path: Path, api_token: str, chunked: bool
) -> None:
    s = msgspec.structs.replace(
        settings, media_dir=str(tmp_path / "media"), media_max_upload=50_000
    )
    app = create_app(s, [service])
    async with serving(app, headers={"X-XTRA-AUTH-ID": api_token}) as client:
        audio = make_wav(5.0)  # 80 kB
        boundary = "b0undary"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
                f"Content-Type: audio/wav\r\n\r\n"
            ).encode()
            + audio
            + f"\r\n--{boundary}--\r\n".encode()
        )

        async def pieces() -> Any:
            for i in range(0, len(body), 8192):
                yield body[i : i + 8192]

        r = await client.post(
            "/api/upload",
            content=pieces() if chunked else body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert r.status_code == 413
        assert r.json()["data"]["limit"] == 50_000
        assert "SWITCHYARD_MEDIA_MAX_UPLOAD" in r.json()["message"]
        assert stored_files(tmp_path) == []
        assert (await client.get("/api/media_files")).json()["rowCount"] == 0


async def test_scripts_list_is_a_bare_array_of_script_files(client: Client) -> None:
    assert (await client.get("/api/media_files/scripts_list")).json() == []
    [script] = await upload(client, "ivr.lua", b"-- a script\nsession:answer()\n", "text/plain")
    await upload(client, "a.wav", make_wav(0.2))
    assert (await client.get("/api/media_files/scripts_list")).json() == []
    r = await client.put(f"/api/media_files/{script['id']}", json={"type": "SCRIPT"})
    assert r.status_code == 200, r.text
    [item] = (await client.get("/api/media_files/scripts_list")).json()
    assert (item["id"], item["type"], item["ext"]) == (int(script["id"]), "SCRIPT", "lua")

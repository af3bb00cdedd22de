"""Phrases (``x-xui/phrase``): stored sounds, TTS and silences rendered into
one file, downloaded as .wav and .mp3 (docs/media.md)."""

from __future__ import annotations

import io
import math
import shutil
import struct
import wave
from pathlib import Path

import anyio
import httpx
import pytest

from switchyard.media.audio import mp3_info

from .test_files import make_wav, stored_files, upload

Client = httpx.AsyncClient
RATE = 16000

needs_sox = pytest.mark.skipif(
    shutil.which("sox") is None,
    reason="needs sox with MP3 (Debian sox and libsox-fmt-mp3; .ci/run installs them)",
)


def tone(seconds: float, rate: int, hz: float = 440.0) -> bytes:
    """A sine tone WAV: real audio an MP3 encoder has something to do with."""
    n = int(seconds * rate)
    samples = (int(12000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(n))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return out.getvalue()


def frames_of(data: bytes) -> tuple[wave._wave_params, bytes]:
    with wave.open(io.BytesIO(data)) as w:
        return w.getparams(), w.readframes(w.getnframes())


async def test_a_phrase_of_files_at_its_rate_is_their_audio_back_to_back(
    client: Client, tmp_path: Path
) -> None:
    first, second = make_wav(0.5, RATE), tone(0.75, RATE)
    [a] = await upload(client, "a.wav", first)
    [b] = await upload(client, "b.wav", second)
    r = await client.post(
        "/api/media_files",
        json={
            "name": "welcome",
            "description": "greeting",
            "phrase": [{"media_id": a["id"]}, {"silence_ms": 250}, {"media_id": b["id"]}],
        },
    )
    assert r.status_code == 200, r.text
    item = r.json()
    assert (item["mime"], item["ext"], item["type"]) == ("x-xui/phrase", "wav", "SYSTEM")
    assert (item["duration"], item["sample_rate"], item["channels"]) == (1500, RATE, 1)
    stored = anyio.Path(item["abs_path"])
    assert item["abs_path"].endswith(".wav") and await stored.is_file()
    assert '"silence_ms":250' in item["meta"]

    r = await client.get(f"/api/media_files/{item['id']}.wav")
    assert r.status_code == 200 and r.headers["content-type"].startswith("audio/wav")
    params, pcm = frames_of(r.content)
    assert (params.framerate, params.nchannels, params.sampwidth) == (RATE, 1, 2)
    gap = bytes(RATE // 4 * 2)
    assert pcm == frames_of(first)[1] + gap + frames_of(second)[1]
    assert r.content == await stored.read_bytes()  # what FreeSWITCH plays
    # Listed with the files, found by its type.
    page = (await client.get("/api/media_files", params={"type": "SYSTEM"})).json()
    assert [x["id"] for x in page["data"]] == [item["id"]]


@needs_sox
async def test_a_phrase_resamples_its_parts_speaks_text_and_downloads_as_mp3(
    client: Client, tmp_path: Path
) -> None:
    narrow = tone(1.0, 8000)  # resampled to 16 kHz
    [a] = await upload(client, "8k.wav", narrow)
    spoken = "欢迎致电"  # the fake Baidu speaks 0.1 s per character
    r = await client.post(
        "/api/media_files",
        json={
            "name": "mixed",
            "phrase": [{"media_id": a["id"]}, {"text": spoken, "engine": "baidu"}],
        },
    )
    assert r.status_code == 200, r.text
    item = r.json()
    assert item["duration"] == 1000 + 100 * len(spoken)
    params, pcm = frames_of((await client.get(f"/api/media_files/{item['id']}.wav")).content)
    assert params.framerate == RATE and params.nframes == RATE * 14 // 10
    # The tone survived the resampling: loud where it was, silent where TTS spoke.
    head = struct.unpack(f"<{RATE}h", pcm[: RATE * 2])
    assert max(head) > 10000
    assert pcm[RATE * 2 + 64 :] == bytes(len(pcm) - RATE * 2 - 64)

    r = await client.get(f"/api/media_files/{item['id']}.mp3")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("audio/mpeg")
    info = mp3_info(r.content[:4096], len(r.content))
    assert (info.sample_rate, info.channels, info.bit_rate) == (RATE, 1, 64000)
    assert abs(info.duration_ms - 1400) < 150
    # Encoded once, then served as stored: the same validator again.
    again = await client.get(f"/api/media_files/{item['id']}.mp3")
    assert again.content == r.content and again.headers["etag"] == r.headers["etag"]
    ranged = await client.get(f"/api/media_files/{item['id']}.mp3", headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.content == r.content[:10]

    # Deleting the phrase removes both renderings.
    before = {p.name for p in stored_files(tmp_path)}
    assert {p for p in before if p.startswith("phrase-")} == {
        Path(item["abs_path"]).name,
        Path(item["abs_path"]).with_suffix(".mp3").name,
    }
    assert (await client.delete(f"/api/media_files/{item['id']}")).status_code == 200
    assert not [p for p in stored_files(tmp_path) if p.name.startswith("phrase-")]


async def test_a_bad_phrase_is_refused_naming_the_part_and_nothing_is_kept(
    client: Client, tmp_path: Path
) -> None:
    [wav] = await upload(client, "a.wav", make_wav(0.2, RATE))
    [png] = await upload(client, "x.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")
    before = stored_files(tmp_path)
    cases = [
        ({"phrase": [{"media_id": wav["id"]}]}, "name"),
        ({"name": "x"}, "phrase"),
        ({"name": "x", "phrase": []}, "phrase"),
        ({"name": "x", "phrase": [{"media_id": wav["id"], "silence_ms": 5}]}, "phrase[0]"),
        ({"name": "x", "phrase": [{"silence_ms": 5}, {"media_id": 999999}]}, "phrase[1].media_id"),
        ({"name": "x", "phrase": [{"media_id": png["id"]}]}, "phrase[0].media_id"),
        # Past a bigint: the lookup failed in the driver, a 500.
        ({"name": "x", "phrase": [{"media_id": 2**63}]}, "phrase[0].media_id"),
        ({"name": "x", "phrase": [{"silence_ms": 20000}]}, "phrase[0].silence_ms"),
        ({"name": "x", "phrase": [{"text": "hi", "engine": "nobody"}]}, "engine"),
        ({"name": "x", "type": "NOPE", "phrase": [{"silence_ms": 5}]}, "type"),
    ]
    for body, field in cases:
        r = await client.post("/api/media_files", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["data"]["field"] == field, (body, r.text)
    assert stored_files(tmp_path) == before


async def test_a_phrase_macro_of_freeswitch_does_not_download(client: Client) -> None:
    # XUI's own phrases are FreeSWITCH macros, played by FreeSWITCH only.
    app_state = client.app_state  # type: ignore[attr-defined]
    pool = app_state["media"].runtime.pool
    media_id = await pool.fetchval(
        """INSERT INTO media_files (type, name, ext, mime, abs_path)
           VALUES ('SYSTEM', 'welcome', 'wav', 'x-xui/phrase', 'phrase:welcome@xui')
           RETURNING id"""
    )
    r = await client.get(f"/api/media_files/{media_id}.mp3")
    assert r.status_code == 404 and "phrase:welcome@xui" in r.json()["message"]

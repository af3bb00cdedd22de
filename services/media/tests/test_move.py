"""``switchyard media-move``: files uploaded in folder mode play from the
object store after the move, and back (move.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

import anyio.to_thread
import httpx
import msgspec
import pytest

from switchyard.media.move import cmd_media_move
from switchyard.media.service import service
from switchyard.shared import media_location
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import serving

from .conftest import media_settings
from .fake_vendors import Vendors
from .test_files import make_wav, stored_files, upload

MEDIA_URL = "http://media.example:8081"


async def _move(settings: Settings, capsys: pytest.CaptureFixture[str]) -> str:
    # The command runs its own event loop, as from a shell.
    await anyio.to_thread.run_sync(cmd_media_move, settings, argparse.Namespace())
    return capsys.readouterr().out


async def test_files_move_from_the_folder_to_the_object_store_and_back(
    settings: Settings,
    tmp_path: Path,
    vendors: Vendors,
    api_token: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    local = media_settings(settings, tmp_path, vendors.base)
    nats = msgspec.structs.replace(
        local, media_store="nats", media_url=MEDIA_URL, media_url_secret="move-secret"
    )
    auth = {"X-XTRA-AUTH-ID": api_token}
    audio, other = make_wav(13.0, 16000), make_wav(0.4)  # several chunks, one chunk
    async with serving(create_app(local, [service]), headers=auth) as c:
        [big] = await upload(c, "big.wav", audio)
        [small] = await upload(c, "small.wav", other)
        assert big["abs_path"].startswith(str(tmp_path))

    assert "2 copied, 0 already there, 2 rows re-pointed, 0 in neither" in await _move(nats, capsys)
    # Again: nothing left to do.
    assert "0 copied, 2 already there, 0 rows re-pointed" in await _move(nats, capsys)

    app = create_app(nats, [service])
    async with serving(app, headers=auth) as c:
        row = (await c.get(f"/api/media_files/{big['id']}")).json()
        assert row["abs_path"] == media_location.fetch_url(nats, f"upload/{big['rel_path']}")
        # The source is kept until the operator removes it; then what answers
        # is the object store.
        assert len(stored_files(tmp_path)) == 2
        for path in stored_files(tmp_path):
            await anyio.Path(path).unlink()
        assert (await c.get(f"/api/media_files/{big['id']}.wav")).content == audio
        fs = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=MEDIA_URL)
        r = await fs.get(row["abs_path"].removeprefix(f"http_cache://{MEDIA_URL}"))
        assert r.status_code == 200 and r.content == audio

    # And back to the folder.
    assert "2 copied, 0 already there, 2 rows re-pointed" in await _move(local, capsys)
    async with serving(create_app(local, [service]), headers=auth) as c:
        row = (await c.get(f"/api/media_files/{small['id']}")).json()
        assert row["abs_path"] == str(tmp_path / "media" / "upload" / small["rel_path"])
        assert await anyio.Path(row["abs_path"]).read_bytes() == other

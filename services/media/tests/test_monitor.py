"""coocenter's GET /coocenter-api/monitor/${filePath}: a registered recording, nothing else."""

from __future__ import annotations

from pathlib import Path

import httpx

from switchyard.media.recordings import Watcher
from switchyard.media.state import Media
from switchyard.shared.media_location import recording_target

from .test_files import make_wav


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


async def test_a_recording_is_downloaded_by_the_path_it_was_recorded_to(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    media: Media = client.app_state["media"]  # type: ignore[attr-defined]
    path = recording_target(media.settings, "call-1.wav")
    audio = make_wav(0.5)
    _write(Path(path), audio)  # FreeSWITCH records into the media folder
    # What the RECORD_STOP consumer does when FreeSWITCH closes the file.
    await Watcher(media.runtime, media.storage).register(
        {"Record-File-Path": path, "Unique-ID": "5f0e4c2a-0000-4000-8000-000000000001"}
    )
    r = await client.get(f"/coocenter-api/monitor{path}")
    assert r.status_code == 200, r.text
    assert r.content == audio and r.headers["content-type"].startswith("audio/")
    r = await client.get(f"/coocenter-api/monitor{path}", headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.content == audio[:10]
    # Only registered recordings: any other path is a 404, never a file read.
    # A NUL (%00), which Postgres text cannot hold, is no path either.
    for other in ("/etc/passwd", f"{Path(path).parent}/../../x.wav", f"{path}x", f"{path}%00"):
        r = await client.get(f"/coocenter-api/monitor{other}")
        assert r.status_code == 404
        assert r.json()["status"] == "error"

"""Phrases (``x-xui/phrase`` media files): several sounds played as one.

A phrase is a list of parts (a stored media file, a TTS text, a silence),
rendered once, when it is made, into one 16 kHz mono 16-bit WAV in storage,
so FreeSWITCH plays its ``abs_path`` like any file and the download is that
file. The MP3 download is encoded from it on first request and kept beside
it (same name, ``.mp3``). Converting (another rate, MP3 in or out) is sox's
work (Debian ``sox`` and ``libsox-fmt-mp3``); a WAV part already at the
phrase's format needs no tool (docs/media.md).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import anyio

from switchyard.media.audio import parse_wav, wav_bytes
from switchyard.media.storage import Storage

MIME = "x-xui/phrase"
RATE = 16000
PREFIX = "phrase"
# What a phrase may hold: enough for a long greeting, not a way to copy recordings.
MAX_PARTS = 50
MAX_SILENCE_MS = 10_000
MAX_DURATION_MS = 10 * 60 * 1000
MP3_KBPS = "64"


class NoTool(RuntimeError):
    """sox is not installed where the media service runs."""

    def __init__(self) -> None:
        super().__init__(
            "converting audio for phrases needs sox on the media service's host "
            "(Debian packages sox and libsox-fmt-mp3)"
        )


class Unreadable(ValueError):
    """A part's audio sox could not read."""


def is_phrase_key(key: str) -> bool:
    return key.startswith(f"upload/{PREFIX}-") and key.endswith(".wav")


def mp3_key(key: str) -> str:
    """Where a phrase's MP3 rendering is kept."""
    return key.removesuffix(".wav") + ".mp3"


def silence(ms: int) -> bytes:
    return bytes(RATE * ms // 1000 * 2)


async def _read(storage: Storage, key: str) -> bytes:
    stat = await storage.stat(key)
    if stat is None:
        raise Unreadable("the file is gone from storage")
    return b"".join([chunk async for chunk in storage.read(key, 0, stat.size)])


async def _sox(args: list[str], data: bytes, in_ext: str) -> bytes:
    """sox reading ``data`` (an ``in_ext`` file) and writing to stdout."""
    sox = shutil.which("sox")
    if sox is None:
        raise NoTool()
    with tempfile.TemporaryDirectory(prefix="sy-phrase-") as tmp:
        source = Path(tmp) / f"in.{in_ext}"
        await anyio.Path(source).write_bytes(data)
        done = await anyio.run_process([sox, "-V1", str(source), *args, "-"], check=False)
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        raise Unreadable(said[-1] if said else f"sox exited {done.returncode}")
    return done.stdout


async def pcm(storage: Storage, key: str, ext: str) -> bytes:
    """A stored audio file as the phrase's PCM (16 kHz, mono, 16-bit little-endian)."""
    data = await _read(storage, key)
    wav = parse_wav(data[:4096], len(data)) if ext == "wav" else None
    if wav is not None and (wav.channels, wav.sample_rate, wav.bits) == (1, RATE, 16):
        return data[wav.data_offset : wav.data_offset + wav.data_size]
    raw = ["-t", "raw", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer", "-L"]
    return await _sox(raw, data, ext)


def as_wav(pieces: list[bytes]) -> bytes:
    return wav_bytes(b"".join(pieces), RATE)


async def mp3(storage: Storage, key: str) -> bytes:
    """The phrase's WAV encoded as MP3 (LAME through sox, constant bit rate)."""
    return await _sox(["-t", "mp3", "-C", MP3_KBPS], await _read(storage, key), "wav")

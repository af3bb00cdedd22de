"""Where media bytes live, behind one small interface.

Keys are ``<area>/<name>``: ``area`` one of the fixed folders (upload,
recordings), ``name`` a plain file name the service generated or
FreeSWITCH wrote. A key is checked before it touches a path, and the path it
becomes is checked again to be inside the root (symlinks resolved), so no
name, id or stored row can reach outside the storage root.

``LocalStorage`` is a folder FreeSWITCH reads: ``abs_path`` of a key is the
path FreeSWITCH plays as it is (docs/media.md).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anyio
import anyio.to_thread

from switchyard.shared.fsvalues import PATH

AREAS = ("upload", "recordings")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
CHUNK = 256 * 1024


class BadKey(ValueError):
    pass


def check_key(key: str) -> tuple[str, str]:
    area, sep, name = key.partition("/")
    if not sep or area not in AREAS or not _NAME.fullmatch(name) or ".." in name:
        raise BadKey(f"not a storage key: {key!r}")
    return area, name


@dataclass(frozen=True)
class Stat:
    size: int
    mtime_ns: int

    @property
    def etag(self) -> str:
        return f'"{self.size:x}-{self.mtime_ns:x}"'


class Upload(Protocol):
    """A file being written: ``write`` chunks, then ``commit`` to a key or ``abort``."""

    size: int

    async def write(self, chunk: bytes) -> None: ...
    async def head(self, n: int) -> bytes: ...
    async def commit(self, key: str) -> None: ...
    async def abort(self) -> None: ...


class Storage(Protocol):
    def abs_path(self, key: str) -> str: ...
    def dir_path(self, key: str) -> str: ...
    def key_of(self, abs_path: str) -> str | None: ...
    async def begin(self, area: str) -> Upload: ...
    async def put(self, key: str, data: bytes) -> None: ...
    async def stat(self, key: str) -> Stat | None: ...
    def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]: ...
    async def delete(self, key: str) -> None: ...


async def put_via_upload(storage: Storage, key: str, data: bytes) -> None:
    """``data`` written to ``key`` through one upload, aborted if it fails."""
    upload = await storage.begin(check_key(key)[0])
    try:
        await upload.write(data)
    except BaseException:
        await upload.abort()
        raise
    await upload.commit(key)


class _LocalUpload:
    def __init__(self, storage: LocalStorage, tmp: Path, file: anyio.AsyncFile[bytes]) -> None:
        self._storage = storage
        self._tmp = tmp
        self._file = file
        self._head = b""
        self.size = 0

    async def write(self, chunk: bytes) -> None:
        if len(self._head) < 4096:
            self._head += chunk[: 4096 - len(self._head)]
        self.size += len(chunk)
        await self._file.write(chunk)

    async def head(self, n: int) -> bytes:
        return self._head[:n]

    async def commit(self, key: str) -> None:
        target = self._storage.path(key)
        await self._file.aclose()
        await anyio.to_thread.run_sync(os.replace, self._tmp, target)

    async def abort(self) -> None:
        await self._file.aclose()
        await anyio.to_thread.run_sync(lambda: self._tmp.unlink(missing_ok=True))


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        for area in AREAS:
            (self.root / area).mkdir(parents=True, exist_ok=True)
        probe = self.abs_path("upload/upload-20200101000000-x.wav")
        if not PATH.ok(probe):
            # FreeSWITCH would be handed a path it must not play (shared/fsvalues.py).
            raise ValueError(
                f"media folder {self.root} is not a path FreeSWITCH may play: {PATH.reason}"
            )

    def path(self, key: str) -> Path:
        area, name = check_key(key)
        path = self.root / area / name
        real = path.resolve()
        if real.parent != self.root / area:
            raise BadKey(f"{key!r} leaves the storage root")
        return path

    def abs_path(self, key: str) -> str:
        return str(self.path(key))

    def dir_path(self, key: str) -> str:
        return str(self.path(key).parent)

    def key_of(self, abs_path: str) -> str | None:
        """The key of a path FreeSWITCH wrote (a recording), if it is in storage."""
        path = Path(abs_path)
        if path.parent.parent != self.root:
            return None
        key = f"{path.parent.name}/{path.name}"
        try:
            self.path(key)
        except BadKey:
            return None
        return key

    async def begin(self, area: str) -> Upload:
        if area not in AREAS:
            raise BadKey(f"no storage area {area!r}")
        # A dot file beside its final place: the rename that commits it is atomic.
        tmp_path = self.root / area / f".part-{uuid.uuid4().hex}"
        file = await anyio.open_file(tmp_path, "wb")
        return _LocalUpload(self, tmp_path, file)

    async def put(self, key: str, data: bytes) -> None:
        await put_via_upload(self, key, data)

    async def stat(self, key: str) -> Stat | None:
        path = self.path(key)
        try:
            st = await anyio.to_thread.run_sync(path.stat)
        except FileNotFoundError:
            return None
        return Stat(st.st_size, st.st_mtime_ns)

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive), a chunk at a time."""
        async with await anyio.open_file(self.path(key), "rb") as f:
            await f.seek(start)
            left = end - start
            while left > 0:
                chunk = await f.read(min(CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

    async def delete(self, key: str) -> None:
        path = self.path(key)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

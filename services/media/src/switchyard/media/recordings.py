"""Recordings become ``RECORD`` media files when FreeSWITCH stops them.

call-control relays every node's RECORD_STOP into the events stream; a
durable consumer here registers each file once (unique by path), tied to
the channel's uuid. A file inside the storage root (FreeSWITCH writing into
the media folder, as the default recordings folder does when media_dir is
FreeSWITCH's storage folder) is downloadable and its audio facts read;
one elsewhere is listed with its path only.
"""

from __future__ import annotations

import asyncio
import logging
import posixpath

from switchyard.media import files
from switchyard.media.audio import AudioInfo, audio_info
from switchyard.media.sniff import MIME_BY_EXT
from switchyard.media.storage import Storage
from switchyard.shared.event_consumer import consume_events
from switchyard.shared.fsvalues import PATH
from switchyard.shared.runtime import Runtime
from switchyard.shared.tasks import cancel_and_wait

log = logging.getLogger(__name__)

DURABLE = "media-recordings"


class Watcher:
    def __init__(self, runtime: Runtime, storage: Storage) -> None:
        self.runtime = runtime
        self.storage = storage
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="media:recordings")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)

    async def _run(self) -> None:
        bus = self.runtime.bus

        async def one(_subject: str, event: dict[str, object]) -> None:
            await self.register(event)

        await consume_events(
            bus,
            bus.subjects.events_named("RECORD_STOP"),
            DURABLE,
            one,
            metrics=self.runtime.metrics,
        )

    async def register(self, event: dict[str, object]) -> None:
        path = str(event.get("Record-File-Path", ""))
        channel = str(event.get("Unique-ID", ""))
        # Our own signed URL (object-store mode: mod_http_cache uploaded it) or
        # a plain path FreeSWITCH wrote.
        key = self.storage.key_of(path)
        if key is None and (not PATH.ok(path) or not path.startswith("/")):
            log.warning("RECORD_STOP for %s names no usable path; not registered", channel)
            return
        name = posixpath.basename(path)
        ext = name.rpartition(".")[2].lower() if "." in name else ""
        size, audio = 0, AudioInfo()
        if key is not None and (stat := await self.storage.stat(key)) is not None:
            size = stat.size
            head = b"".join([c async for c in self.storage.read(key, 0, 4096)])
            audio = audio_info(ext, head, size)
        await files.insert(
            self.runtime.pool,
            files.NewFile(
                type="RECORD",
                name=name,
                description="RECORD",
                channel_uuid=channel,
                ext=ext,
                mime=MIME_BY_EXT.get(ext, "application/octet-stream"),
                file_size=size,
                abs_path=path,
                dir_path=posixpath.dirname(path),
                rel_path=name,
                storage_key=key,
                original_file_name=name,
                audio=audio,
            ),
        )

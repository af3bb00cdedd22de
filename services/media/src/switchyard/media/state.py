"""What the media service holds while it runs, opened and closed by its lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import httpx
from litestar.di import NamedDependency

from switchyard.media import recordings
from switchyard.media.object_storage import ObjectStorage
from switchyard.media.resign import resign
from switchyard.media.storage import LocalStorage, Storage
from switchyard.media.tts.engine import Tts
from switchyard.shared import media_location
from switchyard.shared.http import coocenter
from switchyard.shared.runtime import Runtime
from switchyard.shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Media:
    runtime: Runtime
    storage: Storage
    tts: Tts

    @property
    def settings(self) -> Settings:
        return self.runtime.settings


# The running service's Media, provided to handlers (service.py).
MediaDep: TypeAlias = NamedDependency[Media]


def media_dir(settings: Settings) -> Path:
    return media_location.media_root(settings)


async def open_storage(runtime: Runtime) -> Storage:
    settings = runtime.settings
    media_location.check(settings)
    if settings.media_store == "nats":
        bucket = runtime.subjects.media_bucket
        log.info("media files in the JetStream object store %s", bucket)
        return await ObjectStorage.open(runtime.bus.js, bucket, settings)
    storage = LocalStorage(media_dir(settings))
    log.info("media files in %s", storage.root)
    return storage


@asynccontextmanager
async def media_lifespan(runtime: Runtime) -> AsyncIterator[Media]:
    coocenter.warn_if_open(runtime.settings, "call recordings can be downloaded by path")
    async with AsyncExitStack() as stack:
        storage = await open_storage(runtime)
        if isinstance(storage, ObjectStorage) and (changed := await resign(runtime.pool, storage)):
            log.info("%d media URLs re-signed under the current key", changed)
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=30))
        tts = Tts(runtime.settings, runtime.pool, storage, http, runtime.metrics)
        media = Media(runtime, storage, tts)
        tts_sub = await runtime.bus.serve(
            runtime.subjects.tts_request,
            tts.request_type,
            tts.serve_request,
            queue=runtime.subjects.media_queue,
        )
        stack.push_async_callback(tts_sub.unsubscribe)
        watcher = recordings.Watcher(runtime, storage)
        await watcher.start()
        stack.push_async_callback(watcher.stop)
        yield media

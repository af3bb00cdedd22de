"""``switchyard media-move``: the media files of the other store copied into
the one ``SWITCHYARD_MEDIA_STORE`` names, and their rows pointed at it.

Run with the settings of the mode being moved to (``nats``: the bucket, the
URL and its secret; ``local``: the folder), before the media service starts
in that mode. Every row with a stored file is visited in id order: the
bytes are streamed across unless the target already holds the key (so a
run that stopped half-way is simply run again), then ``abs_path`` and
``dir_path`` become the target's. Recordings keep the path FreeSWITCH was
told, as on a re-sign (resign.py): it is their identity; they download by
id. Nothing is deleted from the source: remove it once the new mode plays.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import asyncpg
import msgspec

from switchyard.media import phrases
from switchyard.media.object_storage import ObjectStorage
from switchyard.media.storage import LocalStorage, Storage, check_key
from switchyard.shared import media_location
from switchyard.shared.bus import Bus
from switchyard.shared.settings import Settings
from switchyard.shared.subjects import Subjects

BATCH = 500


class Moved(msgspec.Struct, kw_only=True):
    copied: int = 0  # files whose bytes were copied
    present: int = 0  # already in the target
    missing: int = 0  # in neither store: the row is left as it is
    repointed: int = 0  # rows whose abs_path changed


async def _copy(source: Storage, target: Storage, key: str) -> bool | None:
    """True: copied; False: the target has it; None: the source has not."""
    if await target.stat(key) is not None:
        return False
    stat = await source.stat(key)
    if stat is None:
        return None
    upload = await target.begin(check_key(key)[0])
    try:
        async for chunk in source.read(key, 0, stat.size):
            await upload.write(chunk)
    except BaseException:
        await upload.abort()
        raise
    await upload.commit(key)
    return True


async def move(pool: asyncpg.Pool, source: Storage, target: Storage) -> Moved:
    done = Moved()
    last = 0
    while True:
        rows = await pool.fetch(
            """SELECT id, type, storage_key, abs_path FROM media_files
               WHERE id > $1 AND storage_key IS NOT NULL ORDER BY id LIMIT $2""",
            last,
            BATCH,
        )
        if not rows:
            return done
        last = rows[-1]["id"]
        for row in rows:
            key: str = row["storage_key"]
            copied = await _copy(source, target, key)
            if copied is None:
                done.missing += 1
                continue
            if copied:
                done.copied += 1
            else:
                done.present += 1
            if phrases.is_phrase_key(key):
                await _copy(source, target, phrases.mp3_key(key))  # an MP3 made on demand
            path = target.abs_path(key)
            if row["type"] != "RECORD" and path != row["abs_path"]:
                await pool.execute(
                    """UPDATE media_files SET abs_path = $2, dir_path = $3, updated_at = now()
                       WHERE id = $1""",
                    row["id"],
                    path,
                    target.dir_path(key),
                )
                done.repointed += 1


async def run(settings: Settings, database_url: str) -> Moved:
    media_location.check(settings)
    if not settings.nats_url:
        raise media_location.MediaLocationError(
            "set SWITCHYARD_NATS_URL: the object store is on both sides of a move"
        )
    bus = await Bus.connect(settings.nats_url, Subjects(settings.nats_namespace))
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        bucket = bus.subjects.media_bucket
        local = LocalStorage(media_location.media_root(settings))
        if settings.media_store == "nats":
            return await move(pool, local, await ObjectStorage.open(bus.js, bucket, settings))
        return await move(pool, ObjectStorage(bus.js, bucket, settings), local)
    finally:
        await pool.close()
        await bus.close()


def register(sub: Any) -> None:
    """Entry point of the ``switchyard.commands`` group."""
    p: argparse.ArgumentParser = sub.add_parser(
        "media-move",
        help="copy media files from the other store into SWITCHYARD_MEDIA_STORE's "
        "and point their rows at it",
    )
    p.set_defaults(func=cmd_media_move)


def cmd_media_move(settings: Settings, args: argparse.Namespace) -> None:
    # The admin commands' database: SWITCHYARD_DATABASE_URL, else `up`'s embedded one.
    from switchyard.shared.cli import _database

    with _database(settings) as url:
        try:
            done = asyncio.run(run(settings, url))
        except (media_location.MediaLocationError, ValueError) as exc:
            sys.exit(f"switchyard media-move: {exc}")
    print(
        f"into {settings.media_store}: {done.copied} copied, {done.present} already there, "
        f"{done.repointed} rows re-pointed, {done.missing} in neither store"
    )
    if done.missing:
        sys.exit(1)

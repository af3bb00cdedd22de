"""Stored media URLs re-signed under the current key, at start.

In the object store a file's ``abs_path`` is a signed mod_http_cache URL
(shared/media_location.py). After SWITCHYARD_MEDIA_URL_SECRET (or
SWITCHYARD_MEDIA_URL) changes, every replica's start brings the rows up to
date: ``abs_path`` and ``dir_path`` become what storage answers for the key
now, so the API hands out URLs that open, and config-api's routes by media
id follow (a change of ``abs_path`` bumps config_version). Recordings keep
the path FreeSWITCH was told: it is their identity (unique, and what
coocenter's pushes name), and they download by id. Only rows already
holding a URL change: a row of the folder mode is not rewritten into a URL
for bytes that were never moved.
"""

from __future__ import annotations

import asyncpg

from switchyard.media.storage import BadKey, Storage

BATCH = 1000


async def resign(pool: asyncpg.Pool, storage: Storage) -> int:
    """How many rows were re-signed."""
    last, changed = 0, 0
    while True:
        rows = await pool.fetch(
            """SELECT id, storage_key, abs_path FROM media_files
               WHERE id > $1 AND storage_key IS NOT NULL AND type <> 'RECORD'
                 AND starts_with(abs_path, 'http_cache://')
               ORDER BY id LIMIT $2""",
            last,
            BATCH,
        )
        if not rows:
            return changed
        last = rows[-1]["id"]
        ids, paths, dirs = [], [], []
        for row in rows:
            try:
                path = storage.abs_path(row["storage_key"])
            except BadKey:
                continue
            if path != row["abs_path"]:
                ids.append(row["id"])
                paths.append(path)
                dirs.append(storage.dir_path(row["storage_key"]))
        if ids:
            await pool.execute(
                """UPDATE media_files m SET abs_path = u.path, dir_path = u.dir,
                          updated_at = now()
                   FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, path, dir)
                   WHERE m.id = u.id""",
                ids,
                paths,
                dirs,
            )
            changed += len(ids)

"""Media ids in mod_cti's ``uuid_broadcast``: ``<uuid> <media id> [leg]``.

Besides a local file and an ``http://`` file, the file of ``uuid_broadcast``
may be the id of a media file (an upload, a TTS file, a recording): it
becomes the ``abs_path`` the media service answers for it (docs/media.md),
a path under the media folder or, in object-store mode, its signed
``http_cache://`` URL. Read from the media service's table (call-control
only reads it); the result is then checked like any file the client names.
"""

from __future__ import annotations

import asyncpg

from switchyard.call_control.cli_rules import CliRefused

# Longer is not an id but a file name made of digits.
MAX_ID_DIGITS = 18


def media_id(word: str) -> int | None:
    """The media id ``word`` names (all digits), or None."""
    if word.isascii() and word.isdigit() and len(word) <= MAX_ID_DIGITS:
        return int(word)
    return None


async def expand_media_id(pool: asyncpg.Pool | None, args: str) -> str:
    """``uuid_broadcast``'s arguments with a media id as its file replaced by the file."""
    words = args.split()
    if len(words) < 2 or (file_id := media_id(words[1])) is None:
        return args
    if pool is None:
        raise CliRefused("media ids need the database")
    path = await pool.fetchval("SELECT abs_path FROM media_files WHERE id = $1", file_id)
    if not path:
        raise CliRefused(f"no media file {file_id}")
    words[1] = path
    return " ".join(words)

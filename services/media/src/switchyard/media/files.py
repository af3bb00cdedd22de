"""The ``media_files`` table (plain SQL) and the spec's media object."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import msgspec

from switchyard.media.audio import AudioInfo

TYPES = (
    "SYSTEM",
    "UPLOAD",
    "RECORD",
    "SCRIPT",
    "DATABASE",
    "ASR",
    "VOICEMAIL",
    "TTS",
    "PDF",
    "FAX",
    "CONFERENCE",
    "AUTORECORD",
    "FIFO",
    "BLOCK",
    "AUDIO",
    "VIDEO",
)
COLUMNS = (
    "id, type, name, description, channel_uuid, ext, mime, file_size, abs_path, dir_path, "
    "rel_path, storage_key, original_file_name, file_name, thumb_path, geo_position, meta, "
    "processing_flag, duration, sample_rate, channels, bit_rate, user_id, created_at, updated_at"
)
SORTABLE = ("id", "name", "type", "file_size", "duration", "created_at", "updated_at")
SEARCHABLE = ("name", "description", "original_file_name", "channel_uuid", "type")


class MediaFile(msgspec.Struct, kw_only=True):
    """The spec's media object (``GET /api/media_files/$id``)."""

    id: int
    type: str
    name: str
    description: str
    channel_uuid: str
    ext: str
    mime: str
    file_size: int
    abs_path: str
    dir_path: str
    rel_path: str
    original_file_name: str
    file_name: str
    thumb_path: str
    geo_position: str
    meta: str
    processing_flag: int
    duration: int
    sample_rate: int
    channels: int
    bit_rate: int
    user_id: int
    created_at: str
    updated_at: str
    deleted_at: str = ""


def _stamp(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def render(row: Mapping[str, Any]) -> MediaFile:
    values = {k: v for k, v in row.items() if k != "storage_key"}
    values["created_at"] = _stamp(row["created_at"])
    values["updated_at"] = _stamp(row["updated_at"])
    return msgspec.convert(values, MediaFile)


def as_strings(media: MediaFile) -> dict[str, str]:
    """The upload answer's shape: every value a string, as the spec's example
    (XUI read them through FreeSWITCH's database handle)."""
    return {k: str(v) for k, v in msgspec.structs.asdict(media).items()}


class NewFile(msgspec.Struct, kw_only=True):
    type: str
    name: str
    description: str = ""
    channel_uuid: str = ""
    ext: str
    mime: str
    file_size: int
    abs_path: str
    dir_path: str
    rel_path: str
    storage_key: str | None
    original_file_name: str = ""
    audio: AudioInfo = AudioInfo()
    user_id: int = 0
    tts_key: str | None = None
    meta: str = ""


async def insert(conn: asyncpg.Pool | asyncpg.Connection, f: NewFile) -> asyncpg.Record | None:
    """The new row, or None when a unique key (recording path, TTS key) exists."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"""INSERT INTO media_files (type, name, description, channel_uuid, ext, mime,
               file_size, abs_path, dir_path, rel_path, storage_key, original_file_name,
               duration, sample_rate, channels, bit_rate, user_id, tts_key, meta)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                   $17, $18, $19)
           ON CONFLICT DO NOTHING
           RETURNING {COLUMNS}""",  # noqa: S608 - COLUMNS is a constant
        f.type,
        f.name,
        f.description,
        f.channel_uuid,
        f.ext,
        f.mime,
        f.file_size,
        f.abs_path,
        f.dir_path,
        f.rel_path,
        f.storage_key,
        f.original_file_name,
        f.audio.duration_ms,
        f.audio.sample_rate,
        f.audio.channels,
        f.audio.bit_rate,
        f.user_id,
        f.tts_key,
        f.meta,
    )
    return row


async def _one(pool: asyncpg.Pool, where: str, arg: object) -> asyncpg.Record | None:
    """The newest row matching ``where`` (a constant condition on ``$1``)."""
    row: asyncpg.Record | None = await pool.fetchrow(
        f"SELECT {COLUMNS} FROM media_files WHERE {where} ORDER BY id DESC LIMIT 1",  # noqa: S608
        arg,
    )
    return row


async def get(pool: asyncpg.Pool, media_id: int) -> asyncpg.Record | None:
    return await _one(pool, "id = $1", media_id)


async def by_uuid(pool: asyncpg.Pool, channel_uuid: str) -> asyncpg.Record | None:
    return await _one(pool, "channel_uuid = $1", channel_uuid)


async def by_tts_key(pool: asyncpg.Pool, key: str) -> asyncpg.Record | None:
    return await _one(pool, "tts_key = $1", key)


async def recording_at(pool: asyncpg.Pool, path: str) -> asyncpg.Record | None:
    """The recording FreeSWITCH wrote at ``path`` (its abs_path, as pushed in
    coocenter's cdr ``recordfile`` / cc_cdr ``filePath``)."""
    return await _one(pool, "type = 'RECORD' AND abs_path = $1", path)


def filters(query: Mapping[str, Any]) -> tuple[list[str], list[Any]]:
    """The spec's ``uuid``, ``type`` and ``types`` filters (plus XUI's ``name``)."""
    where: list[str] = []
    args: list[Any] = []
    if uuid := query.get("uuid"):
        args.append(str(uuid))
        where.append(f"channel_uuid = ${len(args)}")
    if kind := query.get("type"):
        args.append(str(kind))
        where.append(f"type = ${len(args)}")
    if kinds := query.get("types"):
        args.append([k.strip() for k in str(kinds).split(",") if k.strip()])
        where.append(f"type = ANY(${len(args)}::text[])")
    if name := query.get("name"):
        args.append(str(name))
        where.append(f"name = ${len(args)}")
    return where, args


UPDATABLE = ("name", "description", "type", "channel_uuid", "meta")


async def update(pool: asyncpg.Pool, media_id: int, values: Mapping[str, str]) -> bool:
    names: Sequence[str] = [k for k in UPDATABLE if k in values]
    sets = ", ".join(f"{k} = ${i + 2}" for i, k in enumerate(names))
    status: str = await pool.execute(
        f"UPDATE media_files SET {sets}, updated_at = now() WHERE id = $1",  # noqa: S608
        media_id,
        *[values[k] for k in names],
    )
    return status != "UPDATE 0"


async def delete(pool: asyncpg.Pool, media_id: int) -> str | bool | None:
    """The deleted row's storage key (None: not in storage); False: no such row."""
    row = await pool.fetchrow(
        "DELETE FROM media_files WHERE id = $1 RETURNING storage_key", media_id
    )
    if row is None:
        return False
    key: str | None = row["storage_key"]
    return key

"""``/api/media_files``: list, get, update, delete and download.

``GET /api/media_files/{id}`` answers the object and ``…/{id}.{ext}`` the
file: one path parameter serves both (Litestar cannot tell ``1`` from
``1.wav`` by two routes at one position). Anything that is not a number,
optionally with an extension, is a 404 before storage is asked.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, put
from litestar.params import FromPath
from litestar.response import Stream

from switchyard.media import files, phrases, phrases_http
from switchyard.media.download import file_response
from switchyard.media.state import MediaDep
from switchyard.media.storage import BadKey
from switchyard.shared.http.body import read_body
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.envelope import ListPage, Ok
from switchyard.shared.http.errors import ApiError, bad_request, not_found
from switchyard.shared.http.openapi import Schema, doc, given, struct_body
from switchyard.shared.http.paging import fetch_page, parse_paging

log = logging.getLogger(__name__)

_REF = re.compile(r"([0-9]{1,18})(?:\.([A-Za-z0-9]{1,8}))?")


def _ref(ref: str) -> tuple[int, str | None]:
    m = _REF.fullmatch(ref)
    if m is None:
        raise not_found()
    return int(m.group(1)), m.group(2)


@get("/api/media_files")
async def list_media(
    request: Request[Any, Any, Any], runtime: AppRuntime
) -> ListPage[files.MediaFile]:
    query = dict(request.query_params)
    paging = parse_paging(query, sortable=files.SORTABLE, searchable=files.SEARCHABLE)
    where, args = files.filters(query)
    page = await fetch_page(
        runtime.pool,
        select=f"SELECT {files.COLUMNS} FROM media_files",  # noqa: S608
        where=where,
        args=args,
        paging=paging,
    )
    return ListPage(page.page, page.pageCount, page.rowCount, [files.render(r) for r in page.data])


@get("/api/media_files/scripts_list")
async def scripts_list(runtime: AppRuntime) -> list[files.MediaFile]:
    """The SCRIPT files, unpaged, as a bare array (XUI's form; CP's script
    picker for FS_DEST_SCRIPT reads it). Not in the spec; observed in clients."""
    rows = await runtime.pool.fetch(
        f"SELECT {files.COLUMNS} FROM media_files WHERE type = 'SCRIPT' ORDER BY id"  # noqa: S608
    )
    return [files.render(r) for r in rows]


@get("/api/media_files/uuid/{channel_uuid:str}")
async def media_by_uuid(channel_uuid: FromPath[str], runtime: AppRuntime) -> files.MediaFile:
    row = await files.by_uuid(runtime.pool, channel_uuid)
    if row is None:
        raise not_found()
    return files.render(row)


@get("/api/media_files/{ref:str}")
async def media_or_file(
    ref: FromPath[str], request: Request[Any, Any, Any], runtime: AppRuntime, media: MediaDep
) -> Response[Any] | Stream | files.MediaFile:
    media_id, ext = _ref(ref)
    row = await files.get(runtime.pool, media_id)
    if row is None:
        raise not_found()
    if ext is None:
        return files.render(row)
    headers = {k.lower(): v for k, v in request.headers.items()}
    if row["mime"] == phrases.MIME and ext.lower() in ("wav", "mp3"):
        return await phrases_http.download(row, ext.lower(), headers, media)
    key = row["storage_key"]
    if key is None or ext.lower() != row["ext"].lower():
        raise not_found()
    try:
        stat = await media.storage.stat(key)
    except BadKey:
        log.warning("media file %s has a storage key outside the storage root", media_id)
        raise not_found() from None
    if stat is None:
        raise ApiError(404, "the file is gone from storage", {"reason": "file_missing"})
    return file_response(media.storage, key, stat, row["mime"], headers)


class MediaUpdate(msgspec.Struct, kw_only=True):
    id: str | None = None
    name: str | None = None
    description: str | None = None
    type: str | None = None
    channel_uuid: str | None = None
    meta: str | None = None


_TEXT: Schema = {"anyOf": [phrases_http.TEXT_1024, {"type": "number"}, {"type": "null"}]}
MEDIA_UPDATE: Schema = struct_body(
    MediaUpdate,
    title="MediaFileUpdate",
    fields={
        "id": {
            "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}],
            "description": "ignored: the path names the file",
        },
        "name": _TEXT,
        "description": _TEXT,
        "meta": _TEXT,
        "type": {"anyOf": [{"type": "string", "enum": list(files.TYPES)}, {"type": "null"}]},
        "channel_uuid": {
            "anyOf": [
                {"type": "string", "pattern": "^[^\\x00]*$"},
                {"type": "number"},
                {"type": "null"},
            ]
        },
    },
    # Under allOf beside the properties, as config-api's updates (a generated
    # client types an object with its own anyOf as Any).
    extra={"allOf": [{"anyOf": [given(name) for name in files.UPDATABLE]}]},
)


@put(
    "/api/media_files/{ref:str}",
    oplog_resource="media_files",
    opt=doc(body=MEDIA_UPDATE, body_required=True),
)
async def update_media(
    ref: FromPath[str], request: Request[Any, Any, Any], runtime: AppRuntime
) -> Ok:
    media_id, ext = _ref(ref)
    if ext is not None:
        raise not_found()
    body = await read_body(request, MediaUpdate)
    values = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not None and k != "id"}
    if not values:
        raise bad_request("body", f"names none of {list(files.UPDATABLE)}")
    if "type" in values and values["type"] not in files.TYPES:
        raise bad_request("type", f"must be one of {list(files.TYPES)}")
    for field in ("name", "description", "meta"):
        if len(values.get(field, "")) > 1024:
            raise bad_request(field, "longer than 1024 characters")
    if not await files.update(runtime.pool, media_id, values):
        raise not_found()
    return Ok(data=str(media_id))


@delete("/api/media_files/{ref:str}", status_code=200, oplog_resource="media_files")
async def delete_media(ref: FromPath[str], runtime: AppRuntime, media: MediaDep) -> Ok:
    media_id, ext = _ref(ref)
    if ext is not None:
        raise not_found()
    key = await files.delete(runtime.pool, media_id)
    if key is False:
        raise not_found()
    if isinstance(key, str):
        try:
            await media.storage.delete(key)
            if phrases.is_phrase_key(key):
                await media.storage.delete(phrases.mp3_key(key))
        except BadKey:
            log.warning("media file %s had a storage key outside the storage root", media_id)
    return Ok(data=str(media_id))


route_handlers = [
    list_media,
    scripts_list,
    media_by_uuid,
    media_or_file,
    update_media,
    delete_media,
]

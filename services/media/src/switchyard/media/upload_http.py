"""``POST /api/upload``: multipart ``file`` parts (repeatable), streamed to storage.

Each part is written to storage as it arrives (never held in memory), its
kind sniffed from its first bytes once they are in, and committed under a
generated name ``upload-<YYYYmmddHHMMSS>-<uuid>.<ext>``; the client's file
name is kept as metadata only. Past ``SWITCHYARD_MEDIA_MAX_UPLOAD`` bytes
(the whole request) the answer is a 413 and every file of the request is
removed; rows are written only once every part is stored.
"""

from __future__ import annotations

import logging
from typing import Any

import multipart  # type: ignore[import-untyped]  # no stubs; a Litestar dependency
from litestar import Request, Response, post

from switchyard.media import files
from switchyard.media.audio import audio_info
from switchyard.media.sniff import sniff
from switchyard.media.state import MediaDep
from switchyard.media.storage import Upload
from switchyard.media.upload_names import stored_name
from switchyard.shared.http.auth import principal_of
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.errors import ApiError, bad_request
from switchyard.shared.http.openapi import Schema, doc, of_type

log = logging.getLogger(__name__)


def _too_large(limit: int) -> ApiError:
    reason = f"larger than the upload limit of {limit} bytes (SWITCHYARD_MEDIA_MAX_UPLOAD)"
    return ApiError(413, f"file: {reason}", {"field": "file", "reason": reason, "limit": limit})


class _Part:
    def __init__(self, upload: Upload, filename: str) -> None:
        self.upload = upload
        self.filename = filename
        self.key = ""
        self.new: files.NewFile | None = None


# The form: one or more ``file`` parts (other parts are ignored).
UPLOAD_FORM: Schema = {
    "type": "object",
    "title": "UploadForm",
    "required": ["file"],
    "properties": {
        "file": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "format": "binary"},
            "description": "each a file part with a file name: audio (WAV, MP3, Ogg, FLAC, "
            "M4A), video (MP4, WebM), an image (PNG, JPEG, GIF, TIFF), a PDF or UTF-8 text, "
            "judged by its content; SWITCHYARD_MEDIA_MAX_UPLOAD bytes in all",
        }
    },
}
# Every value of the stored object as a string (files.as_strings).
UPLOADED: Schema = {
    "type": "array",
    "items": {
        "type": "object",
        "required": [name for name in of_type(files.MediaFile)["properties"]],
        "properties": {name: {"type": "string"} for name in of_type(files.MediaFile)["properties"]},
    },
}


@post(
    "/api/upload",
    request_max_body_size=None,
    status_code=200,
    oplog_resource="media_files",
    opt=doc(body=UPLOAD_FORM, body_type="multipart/form-data", reply=UPLOADED),
)
async def upload(
    request: Request[Any, Any, Any], runtime: AppRuntime, media: MediaDep
) -> Response[list[dict[str, str]]]:
    limit = runtime.settings.media_max_upload
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise _too_large(limit)  # before a byte is read
    content_type, options = multipart.parse_options_header(request.headers.get("content-type", ""))
    if content_type != "multipart/form-data" or not options.get("boundary"):
        raise bad_request("file", "send the file as multipart/form-data, field 'file'")
    parts: list[_Part] = []
    current: _Part | None = None
    received = 0
    storage = media.storage
    try:
        with multipart.PushMultipartParser(options["boundary"], max_header_count=16) as parser:
            async for chunk in request.stream():
                received += len(chunk)
                if received > limit:
                    raise _too_large(limit)
                for event in parser.parse(chunk):
                    if isinstance(event, multipart.MultipartSegment):
                        if event.name == "file" and event.filename is not None:
                            current = _Part(await storage.begin("upload"), event.filename)
                            parts.append(current)
                    elif event is None:
                        if current is not None:
                            await _finish(current, media)
                        current = None
                    elif current is not None:
                        await current.upload.write(event)
            # The end of input: the parser checks the closing boundary arrived.
            for _ in parser.parse(b""):
                pass
        if not parts:
            raise bad_request("file", "no 'file' part in the form")
        user_id = getattr(principal_of(request), "user_id", None) or 0
        async with runtime.pool.acquire() as conn, conn.transaction():
            rows = []
            for part in parts:
                assert part.new is not None
                part.new.user_id = user_id
                row = await files.insert(conn, part.new)
                assert row is not None
                rows.append(files.as_strings(files.render(row)))
    except multipart.MultipartError as exc:
        await _discard(parts, media)
        raise bad_request("file", f"malformed multipart body: {exc}") from None
    except BaseException:
        await _discard(parts, media)
        raise
    return Response(rows)


async def _finish(part: _Part, media: MediaDep) -> None:
    head = await part.upload.head(4096)
    kind = sniff(head, part.filename)
    if kind is None:
        raise bad_request(
            "file",
            f"{part.filename!r} is not a kind of file the media service stores "
            "(audio, video, image, PDF, fax TIFF or text), judged by its content",
        )
    name = stored_name("upload", kind.ext)
    key = f"upload/{name}"
    await part.upload.commit(key)
    part.key = key
    storage = media.storage
    part.new = files.NewFile(
        type="UPLOAD",
        name=part.filename,
        description="UPLOAD",
        ext=kind.ext,
        mime=kind.mime,
        file_size=part.upload.size,
        abs_path=storage.abs_path(key),
        dir_path=storage.dir_path(key),
        rel_path=name,
        storage_key=key,
        original_file_name=part.filename,
        audio=audio_info(kind.ext, head, part.upload.size),
    )


async def _discard(parts: list[_Part], media: MediaDep) -> None:
    for part in parts:
        try:
            if part.key:
                await media.storage.delete(part.key)
            else:
                await part.upload.abort()
        except Exception:
            log.exception("could not remove an unfinished upload")


route_handlers = [upload]

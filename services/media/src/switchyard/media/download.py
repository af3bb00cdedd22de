"""A stored file as an HTTP answer: streamed, one byte range, ETag.

The body is read a chunk at a time while it is sent, so a 1 GB recording
never sits in memory. Multiple ranges (multipart/byteranges) are not
served: such a request gets the whole file (200), as RFC 9110 allows.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Response
from litestar.response import Stream
from litestar.response.base import ASGIResponse

from switchyard.media.storage import Stat, Storage


class FileStream(Stream):
    """A Stream whose own media type wins: Litestar's Stream lets the handler's
    default (JSON, for a handler that also answers objects) override it."""

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> ASGIResponse:
        kwargs["media_type"] = None
        return super().to_asgi_response(*args, **kwargs)


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _range(header: str, size: int) -> tuple[int, int] | bool | None:
    """(start, end exclusive) of a single range; None: serve it all; False: 416."""
    m = _RANGE.fullmatch(header.strip())
    if m is None:
        return None  # several ranges, or a unit we do not know: the whole file
    first, last = m.group(1), m.group(2)
    if not first:
        if not last or int(last) == 0:
            return False
        return max(0, size - int(last)), size  # the last N bytes
    start = int(first)
    if start >= size:
        return False
    end = min(size, int(last) + 1) if last else size
    if end <= start:
        return False
    return start, end


def _matches(if_none_match: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def file_response(
    storage: Storage,
    key: str,
    stat: Stat,
    mime: str,
    headers: dict[str, str],
    *,
    download_name: str = "",
    cache_control: str = "private, no-cache",
) -> Response[bytes] | Stream:
    """``headers``: the request's (lower-case names)."""
    etag = stat.etag
    common = {"ETag": etag, "Accept-Ranges": "bytes", "Cache-Control": cache_control}
    if download_name:
        common["Content-Disposition"] = f'inline; filename="{download_name}"'
    if (inm := headers.get("if-none-match")) and _matches(inm, etag):
        return Response(b"", status_code=304, headers=common)
    start, end, status = 0, stat.size, 200
    ranged = headers.get("range")
    # If-Range with another validator: the client's copy is stale, send it all.
    if ranged and headers.get("if-range", etag) == etag:
        span = _range(ranged, stat.size)
        if span is False:
            return Response(
                b"",
                status_code=416,
                headers={**common, "Content-Range": f"bytes */{stat.size}"},
            )
        if span is not None and span is not True:
            start, end = span
            status = 206
            common["Content-Range"] = f"bytes {start}-{end - 1}/{stat.size}"
    common["Content-Length"] = str(end - start)
    return FileStream(
        lambda: storage.read(key, start, end),
        status_code=status,
        media_type=mime,
        headers=common,
    )

"""coocenter's ``GET /coocenter-api/monitor/${filePath}``: a call's recording.

``filePath`` is what its pushes name (cdr ``recordfile``, cc_cdr
``filePath``): the path FreeSWITCH recorded to, which the media service
registered as a ``RECORD`` file (recordings.py). Only registered
recordings are served, from storage, with ranges; any other path is a 404,
so no path outside the media store can be read. Authentication: the WEBKEY
digest (shared/http/coocenter.py).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath
from litestar.response import Stream

from switchyard.media import files
from switchyard.media.download import file_response
from switchyard.media.state import MediaDep
from switchyard.media.storage import BadKey
from switchyard.shared.http import coocenter
from switchyard.shared.http.coocenter import Refused
from switchyard.shared.http.deps import AppRuntime


@get(
    "/coocenter-api/monitor/{file_path:path}",
    guards=[coocenter.guard],
    opt=coocenter.OPT,
    exception_handlers=coocenter.EXCEPTION_HANDLERS,
)
async def monitor(
    file_path: FromPath[str], request: Request[Any, Any, Any], runtime: AppRuntime, media: MediaDep
) -> Response[Any] | Stream:
    # The path parameter keeps its leading slash: /coocenter-api/monitor//fs/r.wav
    # and /coocenter-api/monitor/fs/r.wav both name /fs/r.wav.
    path = "/" + file_path.lstrip("/")
    # A NUL (%00) names no file, and Postgres text cannot hold one (a 500 otherwise).
    row = None if "\x00" in path else await files.recording_at(runtime.pool, path)
    if row is None or row["storage_key"] is None:
        raise Refused(404, "filePath: no such recording")
    try:
        stat = await media.storage.stat(row["storage_key"])
    except BadKey:
        stat = None
    if stat is None:
        raise Refused(404, "filePath: the recording is gone from storage")
    headers = {k.lower(): v for k, v in request.headers.items()}
    return file_response(
        media.storage, row["storage_key"], stat, row["mime"], headers, download_name=row["name"]
    )


route_handlers = [monitor]

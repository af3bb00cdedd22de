"""``/fs/media/<sig>/<area>/<name>``: the URLs FreeSWITCH plays and records
through mod_http_cache (``http_cache://…``, shared/media_location.py).

FreeSWITCH has no API token; the signature in the path is the credential:
an HMAC of ``<area>/<name>`` under SWITCHYARD_MEDIA_URL_SECRET (else a key
derived from the xml_curl secret; during a rotation also the previous
secret), compared in constant time. A wrong or
missing signature is a 404 like a missing file, so the endpoint says
nothing about which names exist. With no key configured nothing is served.

GET serves the stored file with Range and ETag; the body of a key
never changes (names are generated, never reused), so mod_http_cache may
keep it a day. PUT is how mod_http_cache uploads a recording when it closes
the file: accepted for ``recordings/`` only, and once per name. The URL is
also the recording's identity (``record_filename`` in CDRs, pushes and
webhooks), so whoever reads it must not be able to replace the audio.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, put
from litestar.params import FromPath
from litestar.response import Stream

from switchyard.media.download import file_response
from switchyard.media.sniff import MIME_BY_EXT
from switchyard.media.state import MediaDep
from switchyard.media.storage import BadKey, check_key
from switchyard.shared import media_location
from switchyard.shared.http.errors import ApiError, not_found

# FreeSWITCH proves itself with the signature and only fetches: no operation log row.
OPT = {"exclude_from_auth": True, "oplog": False}
PATH = media_location.FETCH_PREFIX + "/{sig:str}/{area:str}/{name:str}"
# mod_http_cache honours max-age only.
CACHE = "max-age=86400"


def _key(media: MediaDep, sig: str, area: str, name: str) -> str:
    key = f"{area}/{name}"
    try:
        check_key(key)
    except BadKey:
        raise not_found() from None
    if not media_location.verify_url(media.settings, key, sig):
        raise not_found()
    return key


@get(PATH, opt=OPT)
async def fetch(
    sig: FromPath[str],
    area: FromPath[str],
    name: FromPath[str],
    request: Request[Any, Any, Any],
    media: MediaDep,
) -> Response[Any] | Stream:
    key = _key(media, sig, area, name)
    stat = await media.storage.stat(key)
    if stat is None:
        raise not_found()
    mime = MIME_BY_EXT.get(name.rpartition(".")[2].lower(), "application/octet-stream")
    headers = {k.lower(): v for k, v in request.headers.items()}
    return file_response(media.storage, key, stat, mime, headers, cache_control=CACHE)


@put(PATH, opt=OPT, request_max_body_size=None, status_code=201)
async def upload_recording(
    sig: FromPath[str],
    area: FromPath[str],
    name: FromPath[str],
    request: Request[Any, Any, Any],
    media: MediaDep,
) -> Response[bytes]:
    key = _key(media, sig, area, name)
    if area != "recordings":
        raise ApiError(405, "only recordings are uploaded here")
    if await media.storage.stat(key) is not None:
        raise ApiError(409, f"{key} is already stored; a recording is written once")
    limit = media.settings.media_max_upload
    upload = await media.storage.begin(area)
    try:
        async for chunk in request.stream():
            await upload.write(chunk)
            if upload.size > limit:
                raise ApiError(413, f"larger than SWITCHYARD_MEDIA_MAX_UPLOAD ({limit} bytes)")
    except BaseException:
        await upload.abort()
        raise
    await upload.commit(key)
    return Response(b"", status_code=201)


route_handlers = [fetch, upload_recording]

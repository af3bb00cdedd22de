"""``POST /api/{baidu,ali,huawei}/tts``: the spec's TTS paths.

The path names the vendor (a body ``engine`` naming another is a 400).
Answers the stored media object; a repeated request answers the cached file.
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
from litestar import Request, post

from switchyard.media import files
from switchyard.media.state import MediaDep
from switchyard.media.tts.engine import BadTts, Unconfigured
from switchyard.media.tts.vendor import VendorError
from switchyard.shared.http.body import read_body
from switchyard.shared.http.errors import ApiError, bad_request
from switchyard.shared.messages import TtsRequest


class TtsBody(msgspec.Struct, kw_only=True):
    engine: str = ""
    input: str = ""
    voice: str = ""
    speed: int | None = None
    pitch: int | None = None
    volume: int | None = None
    format: str = "mp3"  # the spec's example answers an mp3
    sample_rate: int = 16000


async def _tts(engine: str, request: Request[Any, Any, Any], media: MediaDep) -> files.MediaFile:
    body = await read_body(request, TtsBody)
    if body.engine and body.engine != engine:
        raise bad_request("engine", f"this path is {engine}'s TTS")
    req = TtsRequest(
        engine=engine,
        text=body.input,
        voice=body.voice,
        speed=body.speed,
        pitch=body.pitch,
        volume=body.volume,
        format=body.format,
        sample_rate=body.sample_rate,
    )
    try:
        result = await media.tts.synthesize(req)
    except BadTts as exc:
        raise bad_request(exc.field, exc.reason) from None
    except Unconfigured as exc:
        raise ApiError(503, str(exc), {"reason": "unconfigured", "missing": exc.missing}) from None
    except VendorError as exc:
        raise ApiError(
            exc.status,
            str(exc),
            {"vendor": exc.vendor, "vendor_code": exc.code, "vendor_message": exc.message},
        ) from None
    except httpx.HTTPError as exc:
        raise ApiError(
            502, f"{engine} unreachable: {type(exc).__name__}", {"vendor": engine}
        ) from None
    return files.render(result.row)


@post("/api/baidu/tts", status_code=200, oplog_resource="media_files")
async def baidu_tts(request: Request[Any, Any, Any], media: MediaDep) -> files.MediaFile:
    return await _tts("baidu", request, media)


@post("/api/ali/tts", status_code=200, oplog_resource="media_files")
async def ali_tts(request: Request[Any, Any, Any], media: MediaDep) -> files.MediaFile:
    return await _tts("ali", request, media)


@post("/api/huawei/tts", status_code=200, oplog_resource="media_files")
async def huawei_tts(request: Request[Any, Any, Any], media: MediaDep) -> files.MediaFile:
    return await _tts("huawei", request, media)


route_handlers = [baidu_tts, ali_tts, huawei_tts]

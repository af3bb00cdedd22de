"""TTS over HTTP: the XSwitch spec's ``POST /api/{baidu,ali,huawei}/tts`` and
mod_cti's ``GET /tts?text=&engine=``.

The POST path names the vendor (a body ``engine`` naming another is a 400)
and answers the stored media object; a repeated request answers the cached
file. ``GET /tts`` answers the audio itself (8 kHz WAV) so that a
``playback:file_string://http://…/tts?text=…`` prompt plays: FreeSWITCH
fetches it with no token, so it is served only to the addresses of
SWITCHYARD_TTS_HTTP_ALLOW or with a signature (``sig``, an HMAC of engine,
voice and text under the media URL key); never to anyone who asks, since
every new text is a paid vendor call (docs/media.md, docs/security.md).
``GET /api/tts/url`` (a token) hands out such a signed URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import httpx
import msgspec
from litestar import Request, Response, get, post
from litestar.response import Stream

from switchyard.media import files
from switchyard.media.download import file_response
from switchyard.media.state import MediaDep
from switchyard.media.tts.ali import Ali
from switchyard.media.tts.baidu import Baidu
from switchyard.media.tts.engine import MAX_TEXT, BadTts, Result, Unconfigured
from switchyard.media.tts.huawei import Huawei
from switchyard.media.tts.vendor import TokenVendor, VendorError
from switchyard.shared import media_location
from switchyard.shared.http.body import read_body
from switchyard.shared.http.envelope import Ok
from switchyard.shared.http.errors import ApiError, bad_request
from switchyard.shared.http.openapi import Schema, digits, doc, struct_body, whole
from switchyard.shared.http.peer import address_in, client_ip, parse_networks
from switchyard.shared.ingress import INTERNAL
from switchyard.shared.messages import TtsRequest

# FreeSWITCH fetches /tts with no token: the allowlist or the signature is the
# credential, and its fetches are not in the operation log (like /fs/media).
# The nodes reach the service directly; behind the Ingress every stranger would
# arrive from the controller's address, which an allowlist of the pod network admits.
FS_FETCH = {"exclude_from_auth": True, "oplog": False, INTERNAL: True}
# A text's audio never changes: mod_http_cache may keep it.
CACHE = "max-age=86400"
# Stock FreeSWITCH's mime table maps audio/x-wav (not audio/wav) to .wav, and
# the URL has no extension: this is how it knows the file format.
WAV_MIME = "audio/x-wav"


class TtsBody(msgspec.Struct, kw_only=True):
    engine: str = ""
    input: str = ""
    # A voice named by a whole number (27, 27.0) is its digits; a fraction names none.
    voice: str | int = ""
    speed: int | None = None
    pitch: int | None = None
    volume: int | None = None
    format: str = "mp3"  # the spec's example answers an mp3
    sample_rate: int = 16000


# --- the bodies in the OpenAPI document (what Tts.params and the vendor check) ---------

# A TTS text: not blank, no control characters but tab and newline (tts/engine.py).
_SPOKEN = "[^\\x00-\\x08\\x0b-\\x1f\\x7f]"
SPOKEN_TEXT: Schema = {
    "type": "string",
    "maxLength": MAX_TEXT,
    "pattern": f"^{_SPOKEN}*[^\\x00-\\x08\\x0b-\\x1f\\x7f\\s]{_SPOKEN}*$",
}
VOICE: Schema = {
    "anyOf": [
        {"type": "string", "pattern": "^[A-Za-z0-9_-]{0,64}$"},
        # A whole number is taken as its text (up to 64 characters, a sign).
        {"type": "integer", "minimum": -(10**63 - 1), "maximum": 10**64 - 1},
    ],
    "description": "the vendor's voice id (letters, digits, _ -); empty: the vendor's default",
}


def _between(low: int, high: int) -> Schema:
    """A whole number from ``low`` to ``high`` (either sign), or its text; null is not given."""
    if low >= 0:
        return {"anyOf": [*whole(low, high)["anyOf"], {"type": "null"}]}
    below = digits(1, -low)["pattern"].removeprefix("^")
    return {
        "anyOf": [
            {"type": "integer", "minimum": low, "maximum": high},
            digits(0, high),
            {"type": "string", "pattern": f"^-{below}", "description": "a negative number's text"},
            {"type": "null"},
        ]
    }


def tts_body(engine: str, vendor: type[TokenVendor]) -> Schema:
    speed, pitch, volume = vendor.RANGES
    return struct_body(
        TtsBody,
        required=["input"],
        fields={
            "engine": {"type": "string", "enum": ["", engine], "description": "this path's"},
            "input": {
                "anyOf": [SPOKEN_TEXT, {"type": "number"}],
                "description": f"the text to speak, split where {engine} takes less at once",
            },
            "voice": VOICE,
            "speed": _between(*speed),
            "pitch": _between(*pitch),
            "volume": _between(*volume),
            "format": {"type": "string", "enum": ["mp3", "wav"]},
            "sample_rate": {
                "anyOf": [
                    {"type": "integer", "enum": [8000, 16000]},
                    {"type": "string", "enum": ["8000", "16000"]},
                ]
            },
        },
    )


async def _synthesize(media: MediaDep, req: TtsRequest, text_field: str = "input") -> Result:
    """The engine's result, or the API error that says why not."""
    try:
        return await media.tts.synthesize(req)
    except BadTts as exc:
        field = text_field if exc.field == "input" else exc.field
        raise bad_request(field, exc.reason) from None
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
            502, f"{req.engine} unreachable: {type(exc).__name__}", {"vendor": req.engine}
        ) from None


async def _tts(engine: str, request: Request[Any, Any, Any], media: MediaDep) -> files.MediaFile:
    body = await read_body(request, TtsBody)
    if body.engine and body.engine != engine:
        raise bad_request("engine", f"this path is {engine}'s TTS")
    req = TtsRequest(
        engine=engine,
        text=body.input,
        voice=str(body.voice),
        speed=body.speed,
        pitch=body.pitch,
        volume=body.volume,
        format=body.format,
        sample_rate=body.sample_rate,
    )
    return files.render((await _synthesize(media, req)).row)


# What a vendor's refusal becomes (tts/vendor.py), in the OpenAPI document.
VENDOR = {
    "402": "The TTS vendor's account cannot pay for it",
    "429": "The TTS vendor's rate limit",
    "502": "The TTS vendor failed or could not be reached",
}


@post(
    "/api/baidu/tts",
    status_code=200,
    oplog_resource="media_files",
    opt=doc(body=tts_body("baidu", Baidu), statuses=VENDOR),
)
async def baidu_tts(request: Request[Any, Any, Any], media: MediaDep) -> files.MediaFile:
    return await _tts("baidu", request, media)


@post(
    "/api/ali/tts",
    status_code=200,
    oplog_resource="media_files",
    opt=doc(body=tts_body("ali", Ali), statuses=VENDOR),
)
async def ali_tts(request: Request[Any, Any, Any], media: MediaDep) -> files.MediaFile:
    return await _tts("ali", request, media)


@post(
    "/api/huawei/tts",
    status_code=200,
    oplog_resource="media_files",
    opt=doc(body=tts_body("huawei", Huawei), statuses=VENDOR),
)
async def huawei_tts(request: Request[Any, Any, Any], media: MediaDep) -> files.MediaFile:
    return await _tts("huawei", request, media)


def _engine(media: MediaDep, asked: str) -> str:
    """The engine asked for, else the first configured one (Baidu, Ali, Huawei)."""
    if asked:
        return asked
    for name, vendor in media.tts.vendors.items():
        if not vendor.missing():
            return name
    raise ApiError(503, "no TTS vendor is configured", {"reason": "unconfigured"})


def _query(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The query as FreeSWITCH sends it: the spec writes the text as raw UTF-8
    in the URL, which the framework would read as Latin-1; %XX escapes are
    UTF-8 too and ``+`` is a blank."""
    raw: bytes = request.scope.get("query_string", b"")
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise bad_request("text", "is not UTF-8") from None


def _may_fetch(
    request: Request[Any, Any, Any], media: MediaDep, q: dict[str, str], subject: str
) -> bool:
    sig = q.get("sig", "")
    if sig:
        # Under the current media URL key, or the previous one while a rotation overlaps.
        return media_location.verify_url(media.settings, subject, sig)
    allow = parse_networks(media.settings.tts_http_allow, media_location.TTS_ALLOW)
    return bool(allow) and address_in(client_ip(request.scope), allow)


@get(media_location.TTS_PATH, opt={**FS_FETCH, **doc(statuses=VENDOR)})
async def tts_audio(request: Request[Any, Any, Any], media: MediaDep) -> Response[Any] | Stream:
    """mod_cti's ``http://…/tts?text=…[&engine=][&voice=]``: the audio, 8 kHz WAV."""
    q = _query(request)
    text, voice = q.get("text", ""), q.get("voice", "")
    # Checked before anything else: an unsigned stranger learns nothing, costs nothing.
    subject = media_location.tts_subject(q.get("engine", ""), voice, text)
    if not _may_fetch(request, media, q, subject):
        raise ApiError(
            403,
            f"GET /tts: a valid sig, or a client address in {media_location.TTS_ALLOW}",
            {"field": "sig", "reason": "forbidden"},
        )
    req = TtsRequest(
        engine=_engine(media, q.get("engine", "")),
        text=text,
        voice=voice,
        format="wav",
        sample_rate=8000,
    )
    row = (await _synthesize(media, req, text_field="text")).row
    stat = await media.storage.stat(row["storage_key"])
    if stat is None:  # deleted between the two reads
        raise ApiError(503, "the TTS file went away; ask again", {"reason": "retry"})
    headers = {k.lower(): v for k, v in request.headers.items()}
    return file_response(
        media.storage, row["storage_key"], stat, WAV_MIME, headers, cache_control=CACHE
    )


@get(
    "/api/tts/url",
    opt=doc(
        query=[
            {
                "name": "text",
                "in": "query",
                "required": True,
                "description": "the text the URL speaks (the engine's rules apply when played)",
                "schema": {"type": "string", "minLength": 1},
            },
            {
                "name": "engine",
                "in": "query",
                "required": False,
                "description": "the TTS engine; empty: the first configured",
                "schema": {"type": "string"},
            },
            {
                "name": "voice",
                "in": "query",
                "required": False,
                "description": "the vendor's voice id",
                "schema": {"type": "string"},
            },
        ],
        reply={
            "type": "object",
            "required": ["code", "message", "data"],
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "data": {
                    "type": "object",
                    "required": ["url"],
                    "properties": {
                        "url": {"type": "string", "description": "a signed GET /tts URL"}
                    },
                },
            },
        },
    ),
)
async def tts_url(request: Request[Any, Any, Any], media: MediaDep) -> Ok:
    """A signed ``GET /tts`` URL for a text, playable from anywhere FreeSWITCH runs."""
    q = _query(request)
    text = q.get("text", "")
    if not text:
        raise bad_request("text", "is required")
    try:
        url = media_location.tts_url(media.settings, text, q.get("engine", ""), q.get("voice", ""))
    except media_location.MediaLocationError as exc:
        raise ApiError(503, str(exc), {"reason": "unconfigured"}) from None
    return Ok(data={"url": url})


route_handlers = [baidu_tts, ali_tts, huawei_tts, tts_audio, tts_url]

"""``POST /api/media_files``: a phrase made of stored files, TTS texts and
silences, and the ``.wav``/``.mp3`` download of a phrase (phrases.py).

The spec says only that ``x-xui/phrase`` files download as .wav and .mp3;
this is how a phrase comes to exist in Switchyard (docs/media.md). The body::

    {"name": "welcome", "description": "", "type": "SYSTEM",
     "phrase": [{"media_id": 12}, {"silence_ms": 300},
                {"text": "欢迎致电", "engine": "baidu", "voice": ""}]}
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.response import Stream

from switchyard.media import files, phrases
from switchyard.media.audio import audio_info
from switchyard.media.download import file_response
from switchyard.media.state import MediaDep
from switchyard.media.tts_http import SPOKEN_TEXT, VENDOR, VOICE, _engine, _synthesize
from switchyard.media.upload_names import stored_name
from switchyard.shared.http.auth import principal_of
from switchyard.shared.http.body import read_body
from switchyard.shared.http.errors import ApiError, bad_request
from switchyard.shared.http.ids import MAX_ID
from switchyard.shared.http.openapi import Schema, digits, doc, given, struct_body, whole
from switchyard.shared.messages import TtsRequest

log = logging.getLogger(__name__)


class Part(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One of ``media_id`` (a stored WAV or MP3), ``text`` (TTS) or ``silence_ms``."""

    media_id: int | None = None
    text: str | None = None
    engine: str = ""
    voice: str | int = ""  # a whole number is its digits (tts_http.TtsBody)
    silence_ms: int | None = None


class PhraseBody(msgspec.Struct, kw_only=True):
    name: str = ""
    description: str = ""
    type: str = "SYSTEM"  # XUI's phrases are system files
    phrase: list[Part] | None = None


# --- the body in the OpenAPI document (what _check and the TTS engine hold it to) -------

_NOT_NUL = "[^\\x00]"
TEXT_1024: Schema = {"type": "string", "maxLength": 1024, "pattern": f"^{_NOT_NUL}*$"}


PART_BODY: Schema = struct_body(
    Part,
    description="One of media_id (a stored WAV or MP3), text (spoken by a TTS engine) "
    "or silence_ms; no other keys.",
    fields={
        "media_id": {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                digits(0, MAX_ID),
                {"type": "null"},
            ],
            "description": "a stored WAV or MP3 file's id",
        },
        "text": {
            "anyOf": [SPOKEN_TEXT, {"type": "number"}, {"type": "null"}],
            "description": "spoken by the engine (no control characters but tab and newline)",
        },
        "engine": {
            "type": "string",
            "enum": ["", "baidu", "ali", "huawei"],
            "description": "the TTS engine; empty: the first configured (Baidu, Ali, Huawei)",
        },
        "voice": VOICE,
        "silence_ms": {
            "anyOf": [whole(1, phrases.MAX_SILENCE_MS), {"type": "null"}],
            "description": "milliseconds of silence",
        },
    },
    # Exactly one of the three, as if/then (a generated client keeps one plain object).
    extra={
        "if": given("media_id"),
        "then": {"not": {"anyOf": [given("text"), given("silence_ms")]}},
        "else": {
            "if": given("text"),
            "then": {"not": given("silence_ms")},
            "else": given("silence_ms"),
        },
    },
)
PHRASE_BODY: Schema = struct_body(
    PhraseBody,
    title="PhraseCreate",
    required=["name", "phrase"],
    fields={
        "name": {
            "anyOf": [
                {
                    "type": "string",
                    "maxLength": 1024,
                    "pattern": f"^{_NOT_NUL}*[^\\x00\\s]{_NOT_NUL}*$",
                },
                {"type": "number"},
            ],
            "description": "not blank, up to 1024 characters",
        },
        "description": {"anyOf": [TEXT_1024, {"type": "number"}]},
        "type": {"type": "string", "enum": list(files.TYPES)},
        "phrase": {
            "type": "array",
            "minItems": 1,
            "maxItems": phrases.MAX_PARTS,
            "items": PART_BODY,
            "description": "played in order; 10 minutes at most",
        },
    },
)


def _check(body: PhraseBody) -> list[Part]:
    if not body.name.strip() or len(body.name) > 1024:
        raise bad_request("name", "is required (at most 1024 characters)")
    if len(body.description) > 1024:
        raise bad_request("description", "longer than 1024 characters")
    if body.type not in files.TYPES:
        raise bad_request("type", f"must be one of {list(files.TYPES)}")
    parts = body.phrase or []
    if not 0 < len(parts) <= phrases.MAX_PARTS:
        raise bad_request("phrase", f"must list 1 to {phrases.MAX_PARTS} parts")
    for i, part in enumerate(parts):
        given = [k for k in ("media_id", "text", "silence_ms") if getattr(part, k) is not None]
        if len(given) != 1:
            raise bad_request(f"phrase[{i}]", "must have one of media_id, text or silence_ms")
        if part.media_id is not None and not 0 <= part.media_id <= MAX_ID:
            # Past a bigint the driver refused the lookup: that was a 500.
            raise bad_request(f"phrase[{i}].media_id", "must be a media file id")
        if part.silence_ms is not None and not 0 < part.silence_ms <= phrases.MAX_SILENCE_MS:
            raise bad_request(f"phrase[{i}].silence_ms", "must be 1 to 10000")
    return parts


async def _piece(i: int, part: Part, media: MediaDep) -> tuple[bytes, int]:
    """The part's PCM and its length in milliseconds."""
    field = f"phrase[{i}]"
    if part.silence_ms is not None:
        return phrases.silence(part.silence_ms), part.silence_ms
    if part.text is not None:
        req = TtsRequest(
            engine=_engine(media, part.engine),
            text=part.text,
            voice=str(part.voice),
            format="wav",
            sample_rate=phrases.RATE,
        )
        row = (await _synthesize(media, req, text_field=f"{field}.text")).row
        field += ".text"
    else:
        found = await files.get(media.runtime.pool, part.media_id or 0)
        if found is None:
            raise bad_request(f"{field}.media_id", f"no media file {part.media_id}")
        row = found
        field += ".media_id"
        if row["storage_key"] is None or row["ext"] not in ("wav", "mp3"):
            raise bad_request(field, "must be a stored WAV or MP3 file")
    if row["duration"] > phrases.MAX_DURATION_MS:
        raise bad_request(field, "longer than a phrase may be (10 minutes)")
    try:
        pcm = await phrases.pcm(media.storage, row["storage_key"], row["ext"])
    except phrases.Unreadable as exc:
        raise bad_request(field, f"its audio cannot be read: {exc}") from None
    return pcm, len(pcm) * 1000 // (phrases.RATE * 2)


@post(
    "/api/media_files",
    status_code=200,
    oplog_resource="media_files",
    opt=doc(body=PHRASE_BODY, statuses={k: "A text part: " + v for k, v in VENDOR.items()}),
)
async def create_phrase(request: Request[Any, Any, Any], media: MediaDep) -> files.MediaFile:
    body = await read_body(request, PhraseBody)
    pieces, total = [], 0
    try:
        for i, part in enumerate(_check(body)):
            pcm, ms = await _piece(i, part, media)
            total += ms
            if total > phrases.MAX_DURATION_MS:
                raise bad_request("phrase", "longer than a phrase may be (10 minutes)")
            pieces.append(pcm)
    except phrases.NoTool as exc:
        raise ApiError(503, str(exc), {"reason": "no_sox"}) from None
    audio = phrases.as_wav(pieces)
    name = stored_name(phrases.PREFIX, "wav")
    key = f"upload/{name}"
    storage = media.storage
    await storage.put(key, audio)
    new = files.NewFile(
        type=body.type,
        name=body.name,
        description=body.description,
        ext="wav",
        mime=phrases.MIME,
        file_size=len(audio),
        abs_path=storage.abs_path(key),
        dir_path=storage.dir_path(key),
        rel_path=name,
        storage_key=key,
        audio=audio_info("wav", audio[:4096], len(audio)),
        user_id=getattr(principal_of(request), "user_id", None) or 0,
        meta=msgspec.json.encode(body.phrase).decode(),
    )
    try:
        row = await files.insert(media.runtime.pool, new)
    except BaseException:
        await storage.delete(key)
        raise
    assert row is not None  # no unique key applies to a new phrase
    return files.render(row)


async def download(
    row: Any, ext: str, headers: dict[str, str], media: MediaDep
) -> Response[Any] | Stream:
    """A phrase as ``.wav`` (its rendering) or ``.mp3`` (encoded once, then kept)."""
    key: str | None = row["storage_key"]
    if key is None:
        # XUI's own phrases are FreeSWITCH macros (phrase:welcome@xui): no file here.
        raise ApiError(
            404,
            f"{row['abs_path']} is a FreeSWITCH phrase macro; only FreeSWITCH renders it",
            {"reason": "phrase_macro"},
        )
    storage = media.storage
    mime = "audio/wav"
    if ext == "mp3":
        mime, wav_key, key = "audio/mpeg", key, phrases.mp3_key(key)
        if await storage.stat(key) is None:
            try:
                await storage.put(key, await phrases.mp3(storage, wav_key))
            except phrases.NoTool as exc:
                raise ApiError(503, str(exc), {"reason": "no_sox"}) from None
            except phrases.Unreadable as exc:
                log.warning("phrase %s: no MP3: %s", row["id"], exc)
                raise ApiError(500, "the phrase could not be encoded as MP3") from None
    stat = await storage.stat(key)
    if stat is None:
        raise ApiError(404, "the file is gone from storage", {"reason": "file_missing"})
    return file_response(storage, key, stat, mime, headers)


route_handlers = [create_phrase]

"""Text to a stored TTS media file: cache first, else the vendor.

The cache key is the engine, voice, every parameter and the text: the same
request answers the stored file without a vendor call. Text over the
vendor's per-request limit is split at sentence ends (then commas) and the
pieces' audio joined into one file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass

import asyncpg
import httpx

from switchyard.media import files
from switchyard.media.audio import audio_info, join
from switchyard.media.storage import Storage
from switchyard.media.tts.ali import Ali
from switchyard.media.tts.baidu import Baidu
from switchyard.media.tts.huawei import Huawei
from switchyard.media.tts.metrics import TtsMetrics
from switchyard.media.tts.vendor import Params, Vendor, VendorError, split_text
from switchyard.media.upload_names import stored_name
from switchyard.shared.bus import BusError
from switchyard.shared.messages import TtsReply, TtsRequest
from switchyard.shared.metrics import Metrics
from switchyard.shared.settings import Settings

log = logging.getLogger(__name__)

MAX_TEXT = 5000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MIME = {"mp3": "audio/mp3", "wav": "audio/wav"}


class BadTts(ValueError):
    """A request the engine refuses: ``field`` names what."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Unconfigured(Exception):
    def __init__(self, vendor: str, missing: list[str]) -> None:
        super().__init__(f"{vendor} TTS is not configured: set {', '.join(missing)}")
        self.missing = missing


@dataclass(frozen=True)
class Result:
    row: asyncpg.Record
    cached: bool


class Tts:
    request_type = TtsRequest

    def __init__(
        self,
        settings: Settings,
        pool: asyncpg.Pool,
        storage: Storage,
        http: httpx.AsyncClient,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = (metrics or Metrics()).bundle(TtsMetrics)
        self.pool = pool
        self.storage = storage
        self.vendors: dict[str, Vendor] = {
            v.name: v for v in (Baidu(settings, http), Ali(settings, http), Huawei(settings, http))
        }
        self.vendor_calls = 0

    def params(self, req: TtsRequest) -> tuple[Vendor, Params]:
        vendor = self.vendors.get(req.engine)
        if vendor is None:
            raise BadTts("engine", f"must be one of {sorted(self.vendors)}")
        text = req.text
        if not text.strip():
            raise BadTts("input", "is empty")
        if len(text) > MAX_TEXT:
            raise BadTts("input", f"longer than {MAX_TEXT} characters")
        if _CONTROL.search(text):
            raise BadTts("input", "holds control characters")
        if req.format not in MIME:
            raise BadTts("format", "must be wav or mp3")
        if req.sample_rate not in (8000, 16000):
            raise BadTts("sample_rate", "must be 8000 or 16000")
        if len(req.voice) > 64 or not re.fullmatch(r"[A-Za-z0-9_-]*", req.voice):
            raise BadTts("voice", "must be a vendor voice id (letters, digits, _ -)")
        params = Params(req.voice, req.speed, req.pitch, req.volume, req.format, req.sample_rate)
        try:
            vendor.check(params)
        except ValueError as exc:
            field, _, reason = str(exc).partition(": ")
            raise BadTts(field, reason) from None
        if missing := vendor.missing():
            raise Unconfigured(vendor.name, missing)
        return vendor, params

    async def synthesize(self, req: TtsRequest) -> Result:
        vendor, params = self.params(req)
        result = await self._synthesize(vendor, params, req)
        self.metrics.requests.labels(vendor.name, "hit" if result.cached else "miss").inc()
        return result

    async def _synthesize(self, vendor: Vendor, params: Params, req: TtsRequest) -> Result:
        key = hashlib.sha256(
            json.dumps(
                [
                    req.engine,
                    params.voice,
                    params.speed,
                    params.pitch,
                    params.volume,
                    params.format,
                    params.sample_rate,
                    req.text,
                ]
            ).encode()
        ).hexdigest()
        row = await files.by_tts_key(self.pool, key)
        if row is not None:
            if await self.storage.stat(row["storage_key"]) is not None:
                return Result(row, True)
            # The file went missing behind our back: make it again.
            await self.pool.execute("DELETE FROM media_files WHERE id = $1", row["id"])
        parts = []
        calls = self.metrics.vendor_calls
        for piece in split_text(req.text, vendor.fits):
            self.vendor_calls += 1
            try:
                parts.append(await vendor.synthesize(piece, params))
            except Exception:
                calls.labels(vendor.name, "error").inc()
                raise
            calls.labels(vendor.name, "ok").inc()
        audio = join(parts, params.format)
        name = stored_name(f"{vendor.name}-tts", params.format)
        storage_key = f"upload/{name}"
        await self.storage.put(storage_key, audio)
        new = files.NewFile(
            type="TTS",
            name=req.text[:1024],
            description=req.text[:1024],
            ext=params.format,
            mime=MIME[params.format],
            file_size=len(audio),
            abs_path=self.storage.abs_path(storage_key),
            dir_path=self.storage.dir_path(storage_key),
            rel_path=name,
            storage_key=storage_key,
            audio=audio_info(params.format, audio[:4096], len(audio)),
            tts_key=key,
        )
        row = await files.insert(self.pool, new)
        if row is None:
            # The same request finished first elsewhere: keep that one.
            await self.storage.delete(storage_key)
            row = await files.by_tts_key(self.pool, key)
            assert row is not None
            return Result(row, True)
        return Result(row, False)

    async def serve_request(self, req: TtsRequest) -> TtsReply:
        try:
            result = await self.synthesize(req)
        except BadTts as exc:
            raise BusError("invalid", str(exc)) from None
        except Unconfigured as exc:
            raise BusError("unconfigured", str(exc)) from None
        except VendorError as exc:
            raise BusError("vendor", str(exc)) from None
        except httpx.HTTPError as exc:
            raise BusError("vendor", f"{req.engine} unreachable: {type(exc).__name__}") from None
        row = result.row
        return TtsReply(id=row["id"], path=row["abs_path"], mime=row["mime"], cached=result.cached)

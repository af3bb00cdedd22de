"""What every TTS vendor client shares: the parameters, errors, token cache,
and how long text is split."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import httpx

from switchyard.shared.settings import Settings


@dataclass(frozen=True)
class Params:
    voice: str
    speed: int | None
    pitch: int | None
    volume: int | None
    format: str  # wav | mp3
    sample_rate: int  # 8000 | 16000

    def options(self, speed: str, pitch: str, volume: str) -> dict[str, int]:
        """The set ones of speed, pitch and volume, under the vendor's names."""
        given = ((speed, self.speed), (pitch, self.pitch), (volume, self.volume))
        return {key: value for key, value in given if value is not None}


class VendorError(Exception):
    """The vendor refused or failed: ``status`` is the HTTP status we answer."""

    def __init__(self, vendor: str, code: str, message: str, status: int) -> None:
        super().__init__(f"{vendor} error {code}: {message}")
        self.vendor = vendor
        self.code = code
        self.message = message
        self.status = status


class TokenExpired(Exception):
    """The vendor said the token is invalid or expired: fetch one, retry once."""


class Vendor(Protocol):
    name: str

    def missing(self) -> list[str]:
        """The unset settings (SWITCHYARD_* names) the vendor needs."""
        ...

    def fits(self, text: str) -> bool:
        """Whether ``text`` is within the vendor's limit for one request."""
        ...

    def check(self, params: Params) -> None:
        """ValueError naming the parameter when the vendor cannot take it."""
        ...

    async def synthesize(self, text: str, params: Params) -> bytes:
        """Audio in ``params.format``; VendorError on the vendor's refusal."""
        ...


class TokenCache:
    """A vendor token, kept until shortly before it expires.

    ``fetch`` returns the token and its expiry (Unix seconds). One fetch at a
    time: concurrent callers wait for it instead of each asking the vendor.
    """

    def __init__(self, fetch: Callable[[], Awaitable[tuple[str, float]]]) -> None:
        self._fetch = fetch
        self._token = ""
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def get(self) -> str:
        if self._token and time.time() < self._refresh_at:
            return self._token
        async with self._lock:
            if self._token and time.time() < self._refresh_at:
                return self._token
            token, expires = await self._fetch()
            self.fetches += 1
            lifetime = max(0.0, expires - time.time())
            # Shortly before: a tenth of its life, at most five minutes.
            self._refresh_at = expires - min(300.0, lifetime / 10)
            self._token = token
            return token

    def invalidate(self, token: str) -> None:
        if self._token == token:
            self._token = ""


class TokenVendor:
    """A vendor client that fetches a token (``_token``) and caches it.

    ``REQUIRED`` names the settings the vendor needs: (SWITCHYARD_* name,
    ``Settings`` attribute); ``LIMIT`` the characters one request may carry
    (a vendor that counts otherwise overrides ``fits``); ``RANGES`` what
    speed, pitch and volume may be, each (low, high).
    """

    name: str
    REQUIRED: tuple[tuple[str, str], ...] = ()
    LIMIT: int
    RANGES: tuple[tuple[int, int], tuple[int, int], tuple[int, int]]

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self.tokens = TokenCache(self._token)

    def missing(self) -> list[str]:
        return [env for env, attr in self.REQUIRED if not getattr(self.settings, attr)]

    def fits(self, text: str) -> bool:
        return len(text) <= self.LIMIT

    def check(self, params: Params) -> None:
        speed, pitch, volume = self.RANGES
        check_range("speed", params.speed, *speed)
        check_range("pitch", params.pitch, *pitch)
        check_range("volume", params.volume, *volume)

    async def _token(self) -> tuple[str, float]:
        raise NotImplementedError


def json_object(r: httpx.Response) -> dict[str, object]:
    """The response's JSON object body; ``{}`` when it is not one."""
    try:
        body = r.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def audio_or_error(
    r: httpx.Response,
    vendor: str,
    *,
    code_key: str,
    message_key: str,
    expired: int,
    statuses: dict[int, int],
) -> bytes:
    """An ``audio/*`` answer's body; else the JSON error's ``code_key`` as
    TokenExpired (``expired``) or a VendorError (our status from ``statuses``)."""
    if r.headers.get("content-type", "").startswith("audio"):
        return r.content
    answer = json_object(r)
    code = answer.get(code_key)
    if code == expired:
        raise TokenExpired
    raise VendorError(
        vendor,
        str(code if code is not None else r.status_code),
        str(answer.get(message_key, r.text[:200])),
        statuses.get(code if isinstance(code, int) else -1, 502),
    )


async def with_token(cache: TokenCache, call: Callable[[str], Awaitable[bytes]]) -> bytes:
    """``call`` with the cached token; once more with a fresh one if it expired."""
    token = await cache.get()
    try:
        return await call(token)
    except TokenExpired:
        cache.invalidate(token)
    return await call(await cache.get())


def check_range(name: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise ValueError(f"{name}: must be {low} to {high} for this engine")


_SENTENCE = re.compile(r"(?<=[。！？!?；;…\n])|(?<=\.\s)")
_CLAUSE = re.compile(r"(?<=[，,、：:])")


def split_text(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Pieces that each ``fit``, cut at sentence ends, else at commas, else
    (a run with neither) at the longest piece that fits."""
    pieces: list[str] = []
    for sentence in _pack(_SENTENCE.split(text), fits):
        if fits(sentence):
            pieces.append(sentence)
            continue
        for clause in _pack(_CLAUSE.split(sentence), fits):
            while not fits(clause):
                cut = _longest_fit(clause, fits)
                pieces.append(clause[:cut])
                clause = clause[cut:]
            pieces.append(clause)
    return [p for p in pieces if p.strip()]


def _pack(parts: list[str], fits: Callable[[str], bool]) -> list[str]:
    """Neighbouring parts joined while the joined text still fits."""
    out: list[str] = []
    for part in parts:
        if out and fits(out[-1] + part):
            out[-1] += part
        else:
            out.append(part)
    return out


def _longest_fit(text: str, fits: Callable[[str], bool]) -> int:
    low, high = 1, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if fits(text[:mid]):
            low = mid
        else:
            high = mid - 1
    return low

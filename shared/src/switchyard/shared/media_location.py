"""Where FreeSWITCH finds media files and writes recordings: one answer for
call-control (which tells FreeSWITCH where to record) and media (which
stores and serves the files), from the same settings (docs/media.md).

- ``media_store=local``: the media folder is FreeSWITCH's own folder;
  recordings go to ``<media dir>/recordings/<name>``.
- ``media_store=nats``: FreeSWITCH is elsewhere; it plays and records
  through mod_http_cache at ``http_cache://<media_url>/fs/media/<sig>/<key>``,
  ``sig`` an HMAC of the storage key. FreeSWITCH sends no API token, so the
  URL itself is the credential: it opens one file (the key is signed), names
  are generated and never reused, and deleting the file ends the URL.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path
from urllib.parse import urlencode

from switchyard.shared.fsvalues import SOUND
from switchyard.shared.http.peer import parse_networks
from switchyard.shared.settings import Settings

STORES = ("local", "nats")
FETCH_PREFIX = "/fs/media"
TTS_PATH = "/tts"
TTS_ALLOW = "SWITCHYARD_TTS_HTTP_ALLOW"
_BASE = re.compile(r"https?://[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})(?::[0-9]{1,5})?")
# 128 bits of HMAC-SHA256, hex: short enough for a file path FreeSWITCH logs.
SIG_CHARS = 32


class MediaLocationError(ValueError):
    pass


def media_root(settings: Settings) -> Path:
    """The local media folder, absolute (FreeSWITCH is handed paths under it)."""
    root = Path(settings.media_dir) if settings.media_dir else settings.data_dir / "media"
    return root.resolve()


def url_key(settings: Settings) -> bytes | None:
    """The HMAC key of media URLs, or None when nothing may be signed."""
    if settings.media_url_secret:
        return settings.media_url_secret.encode()
    if settings.xml_curl_secret:
        # A key of its own, so a media URL never reveals anything usable at /fs/xml.
        return hmac.new(
            settings.xml_curl_secret.encode(), b"switchyard media url", hashlib.sha256
        ).digest()
    return None


def url_keys(settings: Settings) -> tuple[bytes, ...]:
    """The keys a URL may be signed under: the current one, and while a
    rotation overlaps, SWITCHYARD_MEDIA_URL_PREVIOUS_SECRET (URLs stored in
    configuration before the change keep playing). New URLs use the first."""
    key = url_key(settings)
    if key is None:
        return ()
    previous = settings.media_url_previous_secret.encode()
    return (key, previous) if previous and previous != key else (key,)


def verify_url(settings: Settings, subject: str, sig: str) -> bool:
    """``sig`` signs ``subject`` under the current or the previous key."""
    return any(verify(key, subject, sig) for key in url_keys(settings))


def sign(key: bytes, storage_key: str) -> str:
    return hmac.new(key, storage_key.encode(), hashlib.sha256).hexdigest()[:SIG_CHARS]


def verify(key: bytes | None, storage_key: str, sig: str) -> bool:
    # compare_digest raises on a non-ASCII str: such a sig is simply wrong.
    return key is not None and sig.isascii() and hmac.compare_digest(sign(key, storage_key), sig)


def check(settings: Settings) -> None:
    """Refuse settings that would hand FreeSWITCH nothing it can use, at start."""
    if settings.media_store not in STORES:
        raise MediaLocationError(f"SWITCHYARD_MEDIA_STORE must be one of {', '.join(STORES)}")
    if settings.media_store == "nats":
        if not _BASE.fullmatch(settings.media_url):
            raise MediaLocationError(
                "SWITCHYARD_MEDIA_URL must be the media service's base URL as FreeSWITCH "
                "reaches it (http(s)://host[:port], no path) when SWITCHYARD_MEDIA_STORE=nats"
            )
        if url_key(settings) is None:
            raise MediaLocationError(
                "SWITCHYARD_MEDIA_STORE=nats needs SWITCHYARD_MEDIA_URL_SECRET (or "
                "SWITCHYARD_XML_CURL_SECRET) to sign the URLs FreeSWITCH fetches"
            )
    parse_networks(settings.tts_http_allow, TTS_ALLOW)  # a bad entry stops the start


def tts_subject(engine: str, voice: str, text: str) -> str:
    """What a /tts signature covers: one engine, voice and text (engine and voice
    cannot hold a newline and the text comes last, so the fields cannot run together)."""
    return f"tts\n{engine}\n{voice}\n{text}"


def tts_url(settings: Settings, text: str, engine: str = "", voice: str = "") -> str:
    """A signed ``GET /tts`` URL FreeSWITCH may play from anywhere (``media_url``)."""
    key = url_key(settings)
    if key is None or not _BASE.fullmatch(settings.media_url):
        raise MediaLocationError(
            "signed /tts URLs need SWITCHYARD_MEDIA_URL and a media URL secret"
        )
    query = {"text": text, "engine": engine, "voice": voice}
    query = {k: v for k, v in query.items() if v}
    query["sig"] = sign(key, tts_subject(engine, voice, text))
    return f"{settings.media_url}{TTS_PATH}?{urlencode(query)}"


def fetch_url(settings: Settings, storage_key: str) -> str:
    """The mod_http_cache URL of a stored file (``<area>/<name>``)."""
    key = url_key(settings)
    if key is None:
        raise MediaLocationError("no media URL secret: set SWITCHYARD_MEDIA_URL_SECRET")
    url = f"http_cache://{settings.media_url}{FETCH_PREFIX}/{sign(key, storage_key)}/{storage_key}"
    SOUND.check("media url", url)
    return url


def recording_target(settings: Settings, name: str) -> str:
    """Where FreeSWITCH writes the recording ``name`` (a plain file name)."""
    if settings.media_store == "nats":
        # mod_http_cache records locally, then PUTs the file here when it closes.
        return fetch_url(settings, f"recordings/{name}")
    return f"{media_root(settings)}/recordings/{name}"

"""Browser-facing defences: security headers on every response, and the
same-origin check for cookie-authenticated writes (CSRF).

Headers: set on every response the app sends (routed or not, errors
included) unless the handler set its own. The CSP allows only this origin's
scripts, so the docs UI (``/schema``, served from the package) works under it
and nothing else is loaded.

CSRF: a browser attaches the session cookie to any site's request, so a
POST/PUT/PATCH/DELETE authenticated by the cookie must come from a page of
this origin: its ``Origin`` (or, without one, its ``Referer``) must name the
host the request was sent to, or one of ``SWITCHYARD_ALLOWED_ORIGINS``.
Requests authenticated by a token header (``X-XTRA-AUTH-ID``,
``Authorization: Bearer``) cannot be forged by another site and are not
checked; neither are handlers that authenticate otherwise (``/fs/xml``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from switchyard.shared.http.errors import ApiError
from switchyard.shared.http.peer import request_host

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": CSP,
    "referrer-policy": "same-origin",
}

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Litestar ``before_send`` hook: runs for every response, 404s and errors too."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in SECURITY_HEADERS.items():
        if name not in headers:
            headers[name] = value


def _normal(netloc: str, scheme: str = "") -> str:
    """``Example.com:443`` -> ``example.com``: lower case, no default port."""
    netloc = netloc.strip().lower()
    for default in (":80", ":443") if not scheme else ((":80",) if scheme == "http" else (":443",)):
        if netloc.endswith(default):
            return netloc[: -len(default)]
    return netloc


@lru_cache(maxsize=8)
def _allowed(spec: str) -> frozenset[str]:
    origins = set()
    for item in spec.split(","):
        parts = urlsplit(item.strip())
        if parts.scheme and parts.netloc:
            origins.add(_normal(parts.netloc, parts.scheme))
    return frozenset(origins)


def cross_site_reason(scope: Scope, allowed_origins: str = "") -> str | None:
    """Why this request is not from a page of this origin, or None when it is."""
    headers: dict[bytes, bytes] = {}
    for key, value in scope.get("headers", ()):
        headers.setdefault(key.lower(), value)
    origin = headers.get(b"origin", b"").decode("latin-1").strip()
    source = "Origin"
    if not origin:
        origin = headers.get(b"referer", b"").decode("latin-1").strip()
        source = "Referer"
    if not origin:
        return "a cookie-authenticated write needs an Origin or Referer header of this site"
    parts = urlsplit(origin)
    if not parts.scheme or not parts.netloc:
        return f"{source} {origin[:100]!r} is not an origin"
    theirs = _normal(parts.netloc, parts.scheme)
    ours = _normal(request_host(scope))
    if theirs == ours or theirs in _allowed(allowed_origins):
        return None
    return f"{source} {parts.scheme}://{parts.netloc} is not this site ({ours or 'no Host'})"


def check_same_origin(scope: Scope, allowed_origins: str = "") -> None:
    if scope.get("method", "GET") not in UNSAFE_METHODS:
        return
    reason = cross_site_reason(scope, allowed_origins)
    if reason is not None:
        raise ApiError(403, f"cross-site request refused: {reason}", {"reason": reason})


def settings_value(scope: Scope, name: str) -> Any:
    runtime = getattr(scope["app"].state, "runtime", None)
    return getattr(getattr(runtime, "settings", None), name, "")

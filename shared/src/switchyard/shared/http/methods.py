"""``Allow`` tells the truth: every method a path declares, on a 405 and on OPTIONS.

A 405 carries the routing trie's ``Allow`` (errors.py keeps an exception's
headers). Litestar's own OPTIONS answer is built when a path's first handler
is registered and keeps that handler's methods when more handlers join the
path later (``GET /api/blacklists`` and ``POST /api/blacklists`` come from
separate handlers), so it would leave POST out; this hook rewrites it from
the app's merged routes.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope

_STATE_KEY = "allow_by_path"


def allow_by_path(app: Litestar) -> dict[str, str]:
    """Path template (``/api/blacklists/{item_id}``) -> ``Allow`` value."""
    allow: dict[str, str] | None = app.state.get(_STATE_KEY)
    if allow is None:  # routes are final once the app exists: built on first use
        allow = app.state[_STATE_KEY] = {
            route.path_format: ", ".join(sorted(route.methods))
            for route in app.routes
            if isinstance(route, HTTPRoute)
        }
    return allow


async def options_allow(message: Message, scope: Scope) -> None:
    """Litestar ``before_send`` hook: the OPTIONS answer lists every declared method."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    app: Any = scope.get("app")
    template = scope.get("path_template")
    if not isinstance(app, Litestar) or not template:
        return
    headers = MutableScopeHeaders.from_message(message)
    if "allow" in headers and (allow := allow_by_path(app).get(template)):
        headers["allow"] = allow

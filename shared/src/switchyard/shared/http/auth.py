"""Token authentication, as XSwitch clients send tokens.

Accepted, in this order: ``X-XTRA-AUTH-ID``, ``Authorization: Bearer``, the
``freeswitch_xtra_session_id`` cookie (CherryPBX loads media with plain
``fetch``/``<audio>`` and sends only the cookie). A handler that authenticates
otherwise (``/fs/xml`` by secret, ``/cli`` by key, ``/coocenter-api`` by
WEBKEY) sets ``opt={"exclude_from_auth": True}``. A write authenticated by
the cookie must come from this site (``security.check_same_origin``, CSRF).
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware

from switchyard.shared.accounts import Principal
from switchyard.shared.http.security import check_same_origin, settings_value
from switchyard.shared.runtime import Runtime

AUTH_HEADER = "x-xtra-auth-id"
SESSION_COOKIE = "freeswitch_xtra_session_id"
EXCLUDE_OPT = "exclude_from_auth"


def token_and_source(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[str | None, str]:
    """The token and where it came from: ``"header"`` or ``"cookie"``."""
    if token := connection.headers.get(AUTH_HEADER):
        return token.strip(), "header"
    scheme, _, credentials = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip(), "header"
    return connection.cookies.get(SESSION_COOKIE) or None, "cookie"


def token_from(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    return token_and_source(connection)[0]


class TokenAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token, source = token_and_source(connection)
        if not token:
            raise NotAuthorizedException("missing token")
        if source == "cookie":
            # Any site can make the browser send the cookie: a write must come
            # from a page of this origin (security.py).
            check_same_origin(connection.scope, settings_value(connection.scope, "allowed_origins"))
        runtime: Runtime = connection.app.state.runtime
        # Verified lately on this replica: no Postgres round trip (tokencache.py
        # says how a revocation still takes effect within seconds).
        principal = await runtime.tokens.verify(runtime.pool, token)
        if principal is None:
            raise NotAuthorizedException("invalid or expired token")
        return AuthenticationResult(user=principal, auth=token)


def auth_middleware() -> DefineMiddleware:
    return DefineMiddleware(
        TokenAuthMiddleware,
        exclude=["^/healthz$", "^/readyz$", "^/schema"],
        exclude_from_auth_key=EXCLUDE_OPT,
    )


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    user = connection.scope.get("user")
    return user if isinstance(user, Principal) else None

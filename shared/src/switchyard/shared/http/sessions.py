"""Login sessions: ``POST /api/sessions`` and ``DELETE /api/sessions``.

The login answer is not wrapped in an envelope and carries the fields
CherryPBX reads (../shared/reference/xswitch-clients-observed.md section 2);
the token is also set as the ``freeswitch_xtra_session_id`` cookie, as
XSwitch does, so browser clients that send only cookies keep working.

Logins are rate limited per username and per client IP (``limits``; 429
with Retry-After past the limit, even for the right password) and every
attempt is in the operation log: ``login``, ``login_failed`` (the username
tried and the client IP, never the password) and ``login_limited`` (once
per block).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import msgspec
from litestar import Request, Response, delete, post
from litestar.datastructures import Cookie

from switchyard.shared.accounts import User, check_login, issue_token, revoke_token
from switchyard.shared.http.auth import EXCLUDE_OPT, SESSION_COOKIE, principal_of
from switchyard.shared.http.body import read_body
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.errors import ApiError, bad_request
from switchyard.shared.http.openapi import Schema, doc
from switchyard.shared.http.oplog import record
from switchyard.shared.http.peer import client_ip, is_https
from switchyard.shared.messages import TokenRevoked
from switchyard.shared.runtime import Runtime

log = logging.getLogger(__name__)

# A username tried is logged up to this length.
MAX_LOGGED_USERNAME = 200


class Login(msgspec.Struct):
    username: str = ""
    password: str = ""
    # XUI's older form posts `login` instead of `username`.
    login: str = ""


class SystemRoles(msgspec.Struct):
    senior_roles_str: str
    roles_str: str


class LoginReply(msgspec.Struct):
    code: int
    token: str
    user_id: int
    super_admin: int
    extn: str
    name: str
    expires: int  # unix seconds
    currentAuthority: str
    system_roles: SystemRoles


class LogoutReply(msgspec.Struct):
    code: int = 200
    text: str = "OK"


# What the login reads, for the OpenAPI document: a username (or XUI's
# `login`) and a password, neither empty; numbers are taken as their text.
_NAME: Schema = {"anyOf": [{"type": "string", "pattern": "^[^\\x00]+$"}, {"type": "number"}]}
_PASSWORD: Schema = {"anyOf": [{"type": "string", "minLength": 1}, {"type": "number"}]}
LOGIN_BODY: Schema = {
    "type": "object",
    "properties": {
        "username": {"type": ["string", "number"]},
        "login": {"type": ["string", "number"]},
        "password": _PASSWORD,
    },
    "required": ["password"],
    "anyOf": [
        {"required": ["username"], "properties": {"username": _NAME}},
        {"required": ["login"], "properties": {"login": _NAME}},
    ],
}


@post(
    "/api/sessions",
    opt={
        EXCLUDE_OPT: True,
        "oplog": False,
        **doc(
            body=LOGIN_BODY,
            statuses={
                "429": "Too many failed logins for this username or address: see Retry-After"
            },
        ),
    },
    status_code=200,
)
async def login(request: Request[Any, Any, Any], runtime: AppRuntime) -> Response[LoginReply]:
    body = await read_body(request, Login)
    user, token, expires = await start_session(
        request, runtime, body.username or body.login, body.password
    )
    authority = "admin" if user.is_super else "user"
    reply = LoginReply(
        code=200,
        token=token,
        user_id=user.id,
        super_admin=int(user.is_super),
        extn=user.extn,
        name=user.name or user.username,
        expires=int(expires.timestamp()),
        currentAuthority=authority,
        system_roles=SystemRoles(senior_roles_str=authority, roles_str=authority),
    )
    return Response(reply, cookies=[session_cookie(request, token, runtime.settings.session_ttl)])


async def start_session(
    request: Request[Any, Any, Any], runtime: Runtime, username: str, password: str
) -> tuple[User, str, datetime]:
    """Check a login (limits, operation log) and issue its session token; the
    API's login and the console's share it. Raises ApiError (400/401/429)."""
    if not username:
        raise bad_request("username", "is required")
    if not password:
        raise bad_request("password", "is required")
    limiter = runtime.login_limiter
    ip = client_ip(request.scope)
    limited = limiter.begin(username, ip)
    if limited is not None:
        if limited.first:
            log.warning(
                "login for %r from %s refused for %s s: too many failed logins per %s",
                username[:MAX_LOGGED_USERNAME],
                ip,
                limited.retry_after,
                limited.limit,
            )
            await _log_login(runtime, request, username, ip, 429, "login_limited", limited.limit)
        what = "for this user" if limited.limit == "user" else "from this address"
        raise ApiError(
            429,
            f"too many failed logins {what}; try again in {limited.retry_after} s",
            {"reason": "too_many_failed_logins", "retry_after": limited.retry_after},
            headers={"Retry-After": str(limited.retry_after)},
        )
    user = await check_login(runtime.pool, username, password)
    if user is None:
        await _log_login(runtime, request, username, ip, 401, "login_failed")
        raise ApiError(401, "wrong username or password")
    limiter.succeeded(username, ip)
    await _log_login(runtime, request, user.username, ip, 200, "login")
    ttl = timedelta(seconds=runtime.settings.session_ttl)
    _, token, expires = await issue_token(
        runtime.pool, kind="session", name=f"login:{user.username}", user_id=user.id, ttl=ttl
    )
    assert expires is not None
    return user, token, expires


@delete("/api/sessions", status_code=200, opt={"oplog": False})
async def logout(request: Request[Any, Any, Any], runtime: AppRuntime) -> Response[LogoutReply]:
    await end_session(request, runtime)
    return Response(LogoutReply(), cookies=[session_cookie(request, "", 0)])


async def end_session(request: Request[Any, Any, Any], runtime: Runtime) -> None:
    """Revoke the caller's login session (a machine token is left alone)."""
    principal = principal_of(request)
    if principal is not None and principal.kind == "session":
        await revoke_token(runtime.pool, principal.token_id)
        await announce_revoked(runtime, principal.token_id)


async def announce_revoked(runtime: Runtime, token_id: int) -> None:
    """Drop the token from this replica's cache and tell every other one."""
    runtime.tokens.forget(token_id)
    try:
        await runtime.bus.publish(runtime.subjects.token_revoked, TokenRevoked(token_id))
    except Exception:
        # The revocation is committed; replicas that miss the notice stop
        # trusting the token when its cache entry ages out (token_cache_ttl).
        log.warning("could not announce a revoked token over NATS", exc_info=True)


def session_cookie(request: Request[Any, Any, Any], token: str, max_age: int) -> Cookie:
    """HttpOnly, SameSite=Lax, and Secure when the request came over TLS (directly
    or, per X-Forwarded-Proto, through a trusted proxy)."""
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request.scope),
        max_age=max_age,
    )


async def _log_login(
    runtime: Runtime,
    request: Request[Any, Any, Any],
    username: str,
    ip: str,
    status: int,
    action: str,
    limit: str = "",
) -> None:
    """An operation-log row for a login: the username tried, never the password."""
    username = username[:MAX_LOGGED_USERNAME]
    detail: dict[str, Any] = {"username": username}
    if limit:
        detail["limit"] = limit
    await record(
        runtime.oplog,
        operator=username,
        ip=ip,
        resource="sessions",
        action=action,
        method=request.method,
        path=request.url.path,
        status=status,
        detail=detail,
    )


route_handlers = [login, logout]

"""Login sessions: ``POST /api/sessions`` and ``DELETE /api/sessions``.

The login answer is not wrapped in an envelope and carries the fields
CherryPBX reads (../shared/reference/xswitch-clients-observed.md section 2);
the token is also set as the ``freeswitch_xtra_session_id`` cookie, as
XSwitch does, so browser clients that send only cookies keep working.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from litestar import Request, Response, delete, post
from litestar.datastructures import Cookie

from switchyard.shared.accounts import check_login, issue_token, revoke_token
from switchyard.shared.http.auth import EXCLUDE_OPT, SESSION_COOKIE, principal_of
from switchyard.shared.http.body import read_body
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.errors import ApiError, bad_request


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


@post("/api/sessions", opt={EXCLUDE_OPT: True, "oplog": False}, status_code=200)
async def login(request: Request[Any, Any, Any], runtime: AppRuntime) -> Response[LoginReply]:
    body = await read_body(request, Login)
    username = body.username or body.login
    if not username:
        raise bad_request("username", "is required")
    if not body.password:
        raise bad_request("password", "is required")
    user = await check_login(runtime.pool, username, body.password)
    if user is None:
        raise ApiError(401, "wrong username or password")
    ttl = timedelta(seconds=runtime.settings.session_ttl)
    _, token, expires = await issue_token(
        runtime.pool, kind="session", name=f"login:{user.username}", user_id=user.id, ttl=ttl
    )
    assert expires is not None
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
    cookie = Cookie(
        key=SESSION_COOKIE,
        value=token,
        path="/",
        httponly=True,
        samesite="lax",
        max_age=runtime.settings.session_ttl,
    )
    return Response(reply, cookies=[cookie])


@delete("/api/sessions", status_code=200, opt={"oplog": False})
async def logout(request: Request[Any, Any, Any], runtime: AppRuntime) -> Response[LogoutReply]:
    principal = principal_of(request)
    if principal is not None and principal.kind == "session":
        await revoke_token(runtime.pool, principal.token_id)
    return Response(LogoutReply(), cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0)])


route_handlers = [login, logout]

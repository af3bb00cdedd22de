"""The console's shell, served by every service like ``/api/sessions``: the
login form, logout, the language switch and the vendored assets.

Login is the API's login (``sessions.start_session``: the same users, limits
and operation-log rows) and sets the same session cookie; the pages then
authenticate by that cookie through the API's middleware, so a page's POST
passes the same CSRF check as an API write (docs/security.md). The login
form itself is checked for the same origin too: a foreign page must not log
a browser in under the attacker's account.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from switchyard.shared.console.i18n import LANG_COOKIE, LANGUAGES, N_
from switchyard.shared.console.pages import LOGIN_REDIRECT, PREFIX, SHELL, _local_target, render
from switchyard.shared.http.auth import EXCLUDE_OPT
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.errors import ApiError, not_found
from switchyard.shared.http.security import check_same_origin, settings_value
from switchyard.shared.http.sessions import end_session, session_cookie, start_session

# The vendored files (assets/README.md: versions, hashes, licences) and ours.
ASSETS = {
    "htmx.min.js": "text/javascript; charset=utf-8",
    "htmx-ext-sse.js": "text/javascript; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "LICENSE.htmx": "text/plain; charset=utf-8",
    "LICENSE.htmx-ext-sse": "text/plain; charset=utf-8",
}
_PUBLIC = {EXCLUDE_OPT: True, "oplog": False}
_A_YEAR = 365 * 24 * 3600


@cache
def asset(name: str) -> bytes:
    return (files(SHELL) / "assets" / name).read_bytes()


@get(f"{PREFIX}/static/{{name:str}}", include_in_schema=False, sync_to_thread=False, opt=_PUBLIC)
def static(name: FromPath[str]) -> Response[bytes]:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise not_found()
    return Response(
        asset(name), media_type=media_type, headers={"Cache-Control": "public, max-age=3600"}
    )


@get(PREFIX, include_in_schema=False, opt={"oplog": False}, exception_handlers=LOGIN_REDIRECT)
async def home() -> Redirect:
    return Redirect(f"{PREFIX}/calls", status_code=303)


@get(f"{PREFIX}/login", include_in_schema=False, opt=_PUBLIC)
async def login_form(request: Request[Any, Any, Any], next: FromQuery[str] = "") -> Template:
    return render(request, f"{SHELL}:login.html", {"next": _local_target(next), "error": ""})


class LoginForm(msgspec.Struct):
    username: str = ""
    password: str = ""
    next: str = ""


@post(f"{PREFIX}/login", include_in_schema=False, opt=_PUBLIC, status_code=303)
async def login(
    request: Request[Any, Any, Any],
    runtime: AppRuntime,
    data: URLEncodedBody[LoginForm],
) -> Response[Any]:
    target = _local_target(data.next)
    check_same_origin(request.scope, settings_value(request.scope, "allowed_origins"))
    try:
        _, token, _ = await start_session(request, runtime, data.username, data.password)
    except ApiError as exc:
        reasons = {
            400: N_("Enter your username and password."),
            401: N_("Wrong username or password."),
            429: N_("Too many failed logins: try again later."),
        }
        page = render(
            request,
            f"{SHELL}:login.html",
            {"next": target, "error": reasons.get(exc.status, N_("Login failed."))},
            status_code=exc.status,
        )
        page.headers.update(exc.headers)
        return page
    return Redirect(
        target,
        status_code=303,
        cookies=[session_cookie(request, token, runtime.settings.session_ttl)],
    )


@post(f"{PREFIX}/logout", include_in_schema=False, status_code=303, opt={"oplog": False})
async def logout(request: Request[Any, Any, Any], runtime: AppRuntime) -> Redirect:
    await end_session(request, runtime)
    return Redirect(f"{PREFIX}/login", status_code=303, cookies=[session_cookie(request, "", 0)])


@get(f"{PREFIX}/lang/{{lang:str}}", include_in_schema=False, opt=_PUBLIC)
async def switch_language(
    request: Request[Any, Any, Any],
    lang: FromPath[str],
    next: FromQuery[str] = "",
) -> Redirect:
    if lang not in LANGUAGES:
        raise not_found()
    cookie = Cookie(key=LANG_COOKIE, value=lang, path="/", max_age=_A_YEAR, samesite="lax")
    return Redirect(_local_target(next), status_code=303, cookies=[cookie])


route_handlers = [static, home, login_form, login, logout, switch_language]

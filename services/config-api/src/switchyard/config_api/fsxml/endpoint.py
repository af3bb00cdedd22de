"""``POST /fs/xml``: the one URL FreeSWITCH's mod_xml_curl is pointed at.

Answered from memory only (the compiled configuration of live.py): the
fetch is synchronous inside FreeSWITCH, on the path of every call and
registration. Sections: dialplan (the routing engine), directory,
configuration (``sofia.conf``, ``ivr.conf``, ``acl.conf``); anything else
gets FreeSWITCH's not-found document, so it falls back to its static files.

Authentication: the session/token middleware is skipped
(``exclude_from_auth``); FreeSWITCH proves itself with the shared secret
SWITCHYARD_XML_CURL_SECRET in the URL (``/fs/xml?secret=…`` or
``/fs/xml/<secret>``), compared in constant time. With no secret set the
endpoint relies on network policy (docs/routing.md). The secret is never
logged; neither are the documents (they carry SIP passwords).
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from switchyard.config_api.framework.tx import STATE_KEY
from switchyard.config_api.live import Live
from switchyard.config_api.routing.request import dialplan_request, parse_form
from switchyard.config_api.routing.xmldoc import NOT_FOUND, dialplan_document
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.errors import ApiError

XML = "text/xml"
OPT = {"exclude_from_auth": True}


def live_of(request: Request[Any, Any, Any]) -> Live:
    live = getattr(request.app.state.get(STATE_KEY), "live", None)
    if not isinstance(live, Live):
        raise ApiError(503, "configuration not loaded yet")
    return live


def answer(live: Live, form: dict[str, str]) -> str:
    """The document for one fetch (pure, from memory)."""
    section = form.get("section", "")
    compiled = live.current
    if section == "dialplan":
        req = dialplan_request(form)
        decision = compiled.router.lookup(
            req.context, req.dest_number, req.caller_number, datetime.now(UTC)
        )
        return dialplan_document(decision)
    if section == "directory":
        return compiled.fs.directory(form) or NOT_FOUND
    if section == "configuration":
        name = form.get("key_value", "")
        if name == "sofia.conf":
            return compiled.fs.sofia(form) or NOT_FOUND
        if name == "ivr.conf":
            return compiled.fs.ivr(form) or NOT_FOUND
        if name == "acl.conf":
            return compiled.fs.acl(form)
    return NOT_FOUND


def _authorised(expected: str, given: str) -> bool:
    if not expected:
        return True  # network policy (docs/routing.md)
    return hmac.compare_digest(expected.encode(), given.encode())


async def _serve(
    request: Request[Any, Any, Any], runtime: AppRuntime, secret: str
) -> Response[str]:
    if not _authorised(runtime.settings.xml_curl_secret, secret):
        # Any non-200 makes FreeSWITCH fall back to its static files.
        return Response("forbidden\n", status_code=403, media_type="text/plain")
    if request.method == "GET":
        # mod_xml_curl with method other than post sends the form as a query string.
        form = {k: v for k, v in request.query_params.items() if k != "secret"}
    else:
        form = parse_form(await request.body())
    return Response(answer(live_of(request), form), media_type=XML)


@post("/fs/xml", opt=OPT, status_code=200, include_in_schema=False)
async def xml_curl(request: Request[Any, Any, Any], runtime: AppRuntime) -> Response[str]:
    return await _serve(request, runtime, request.query_params.get("secret", ""))


@post("/fs/xml/{secret:str}", opt=OPT, status_code=200, include_in_schema=False)
async def xml_curl_path(
    secret: FromPath[str], request: Request[Any, Any, Any], runtime: AppRuntime
) -> Response[str]:
    return await _serve(request, runtime, secret)


# mod_xml_curl's `method` param other than post: the same fetch as a GET with
# the form appended to the URL (after `&` when the URL already has a `?`).
@get("/fs/xml", opt=OPT, include_in_schema=False)
async def xml_curl_get(request: Request[Any, Any, Any], runtime: AppRuntime) -> Response[str]:
    return await _serve(request, runtime, request.query_params.get("secret", ""))


@get("/fs/xml/{secret:str}", opt=OPT, include_in_schema=False)
async def xml_curl_path_get(
    secret: FromPath[str], request: Request[Any, Any, Any], runtime: AppRuntime
) -> Response[str]:
    return await _serve(request, runtime, secret)


def route_handlers() -> list[HTTPRouteHandler]:
    return [xml_curl, xml_curl_path, xml_curl_get, xml_curl_path_get]

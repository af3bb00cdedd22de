"""``POST /fs/xml``: the one URL FreeSWITCH's mod_xml_curl is pointed at.

Answered from memory only (the compiled configuration of live.py): the
fetch is synchronous inside FreeSWITCH, on the path of every call and
registration. Sections: dialplan (the routing engine), directory,
configuration (``sofia.conf``, ``ivr.conf``, ``acl.conf``); anything else
gets FreeSWITCH's not-found document, so it falls back to its static files.

Authentication: the session/token middleware is skipped
(``exclude_from_auth``); FreeSWITCH proves itself with the shared secret
SWITCHYARD_XML_CURL_SECRET, either as HTTP basic auth the way mod_xml_curl
sends its binding's ``gateway-credentials`` (user ``freeswitch``, password
the secret) or in the URL (``/fs/xml?secret=…`` or ``/fs/xml/<secret>``),
compared in constant time. A fetch without any credential gets 401 (with a
basic challenge; mod_xml_curl sends basic auth up front anyway), a wrong
one 403. With no secret configured every fetch is refused (403) and
config-api warns at start: no credential, no directory or configuration
answer (docs/routing.md). The secret is never logged; neither are the
documents (they carry SIP passwords).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
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
# FreeSWITCH authenticates itself (the secret) and only reads: no operation log row.
OPT = {"exclude_from_auth": True, "oplog": False}
# The user name of mod_xml_curl's ``gateway-credentials`` (``freeswitch:<secret>``).
XML_CURL_USER = "freeswitch"

log = logging.getLogger(__name__)


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


def basic_credentials(secret: str) -> str:
    """The ``gateway-credentials`` value a FreeSWITCH binding needs for ``secret``."""
    return f"{XML_CURL_USER}:{secret}"


def _basic(header: str) -> bytes | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return b""


def check(expected: str, authorization: str, url_secret: str) -> int | None:
    """None when the fetch proves the secret, else the status to answer (401/403).

    Basic auth is compared as the whole ``freeswitch:<secret>`` pair; both
    comparisons are constant-time. No secret configured refuses everything.
    """
    if not expected:
        return 403
    given_basic = _basic(authorization) if authorization else None
    if given_basic is None and not url_secret:
        return 401
    ok = False
    if given_basic is not None:
        ok = hmac.compare_digest(basic_credentials(expected).encode(), given_basic)
    if url_secret and not ok:
        ok = hmac.compare_digest(expected.encode(), url_secret.encode())
    return None if ok else 403


def warn_if_open(secret: str) -> None:
    """config-api's start-up warning when /fs/xml has no secret to check."""
    if not secret:
        log.warning(
            "SWITCHYARD_XML_CURL_SECRET is not set: /fs/xml refuses every fetch (403), "
            "so FreeSWITCH gets no dialplan, directory or configuration from Switchyard"
        )


async def _serve(
    request: Request[Any, Any, Any], runtime: AppRuntime, secret: str
) -> Response[str]:
    refused = check(
        runtime.settings.xml_curl_secret, request.headers.get("authorization", ""), secret
    )
    if refused is not None:
        # Any non-200 makes FreeSWITCH fall back to its static files.
        if refused == 401:
            return Response(
                "unauthorized\n",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": f'Basic realm="{XML_CURL_USER}"'},
            )
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

"""``POST /fs/xml``: the one URL FreeSWITCH's mod_xml_curl is pointed at.

Answered from memory only (the compiled configuration of live.py): the
fetch is synchronous inside FreeSWITCH, on the path of every call and
registration. Sections: dialplan (the routing engine), directory,
configuration (``sofia.conf``, ``ivr.conf``, ``acl.conf``, ``callcenter.conf``); anything else
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
from collections.abc import Mapping
from datetime import UTC, datetime

from litestar import asgi, route
from litestar.handlers import ASGIRouteHandler, HTTPRouteHandler
from litestar.params import FromPath
from litestar.types import ASGIApp, Receive, Scope, Send

from switchyard.config_api.fsxml.metrics import FsXmlMetrics
from switchyard.config_api.live import Live
from switchyard.config_api.routing.request import FormFields, dialplan_request, parse_form
from switchyard.config_api.routing.xmldoc import NOT_FOUND, dialplan_document
from switchyard.config_api.state import ConfigApiState
from switchyard.shared.http.body import check_json_depth, looks_like_json
from switchyard.shared.service import Slot

XML = "text/xml"
# FreeSWITCH authenticates itself (the secret) and only reads: no operation log row.
OPT = {"exclude_from_auth": True, "oplog": False}
# A fetch's form is a few KB (a dialplan fetch with every channel variable
# rarely passes 20); anything far larger is not FreeSWITCH.
MAX_BODY = 1024 * 1024
# The user name of mod_xml_curl's ``gateway-credentials`` (``freeswitch:<secret>``).
XML_CURL_USER = "freeswitch"

log = logging.getLogger(__name__)


def answer(live: Live, form: Mapping[str, str]) -> str:
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
        if name == "callcenter.conf":
            return compiled.fs.callcenter(form) or NOT_FOUND
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


def _first(query: str, name: str) -> str:
    """The first value of ``name`` in a query string, decoded ('' when absent)."""
    prefix = name + "="
    for part in query.split("&"):
        if part.startswith(prefix):
            return parse_form(part).get(name, "")
    return ""


async def _respond(
    send: Send, status: int, body: str, media_type: str, *extra: tuple[bytes, bytes]
) -> None:
    data = body.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", f"{media_type}; charset=utf-8".encode()),
                (b"content-length", str(len(data)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data, "more_body": False})


async def _serve(
    config: ConfigApiState, scope: Scope, receive: Receive, send: Send, url_secret: str | None
) -> None:
    """One fetch. ``url_secret``: from the path (``/fs/xml/<secret>``), else None."""
    method = scope.get("method", "GET")
    if method not in ("GET", "POST"):
        await _respond(send, 405, "method not allowed\n", "text/plain", (b"allow", b"GET, POST"))
        return
    query = scope.get("query_string", b"").decode("latin-1")
    if url_secret is None:
        url_secret = _first(query, "secret") if "secret=" in query else ""
    authorization = _header(scope, b"authorization")
    refused = check(config.runtime.settings.xml_curl_secret, authorization, url_secret)
    counted = config.runtime.metrics.bundle(FsXmlMetrics)
    if refused is not None:
        counted.count("none", "unauthorized" if refused == 401 else "forbidden")
        # Any non-200 makes FreeSWITCH fall back to its static files.
        if refused == 401:
            challenge = f'Basic realm="{XML_CURL_USER}"'.encode()
            await _respond(
                send, 401, "unauthorized\n", "text/plain", (b"www-authenticate", challenge)
            )
        else:
            await _respond(send, 403, "forbidden\n", "text/plain")
        return
    form: Mapping[str, str]
    if method == "GET":
        # mod_xml_curl with method other than post sends the form as a query string.
        fields = parse_form(query)
        fields.pop("secret", None)
        form = fields
    else:
        raw = await _body(receive)
        if raw is None:
            counted.count("none", "refused")
            await _respond(send, 413, "request body too large\n", "text/plain")
            return
        # The check every request body gets (body.py), should a fetch look like JSON.
        if raw and looks_like_json(raw, _header(scope, b"content-type")):
            check_json_depth(raw)
        form = FormFields(raw)
    document = answer(config.live, form)
    counted.count(form.get("section", ""), "not_found" if document is NOT_FOUND else "found")
    await _respond(send, 200, document, XML)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


async def _body(receive: Receive) -> bytes | None:
    """The whole request body; None past MAX_BODY."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def route_handlers(config: Slot[ConfigApiState]) -> list[ASGIRouteHandler | HTTPRouteHandler]:
    """The handlers of one app, bound to its config-api state (``config``)."""

    # A plain ASGI handler, not a Litestar HTTP handler: this runs on every
    # call and registration, and the HTTP handler machinery (signature model,
    # dependency injection, the Response object) cost as much as the fetch's
    # own work. The app's middleware still runs around it (tracing, the
    # operation log, which skips it, the security headers), and the body gets
    # body.py's checks. An ASGI handler takes no dependencies: it is built
    # around the app's slot instead, so a fetch reads the state it holds.
    @asgi("/fs/xml", opt=OPT, copy_scope=False)
    async def xml_curl(scope: Scope, receive: Receive, send: Send) -> None:
        await _serve(config.get(), scope, receive, send, None)

    # The secret in the path (older configurations): an HTTP handler, since
    # this Litestar's router cannot give an ASGI handler path parameters; it
    # hands the request on to the same ASGI code.
    @route(
        "/fs/xml/{secret:str}",
        http_method=["GET", "POST"],
        opt=OPT,
        status_code=200,
        include_in_schema=False,
    )
    async def xml_curl_path(secret: FromPath[str]) -> ASGIApp:
        async def fetch(scope: Scope, receive: Receive, send: Send) -> None:
            await _serve(config.get(), scope, receive, send, secret)

        return fetch

    return [xml_curl, xml_curl_path]

"""What every ``/coocenter-api/…`` handler shares: its WEBKEY check, its form and its bodies.

The handlers live where their work is done (call operations in call-control,
the blacklist in config-api); they skip the token middleware
(``exclude_from_auth``) and are guarded by coocenter's own rule
(shared/coocenter_auth.py): with ``SWITCHYARD_COOCENTER_WEBKEY`` set the
``Authorization`` header must be today's digest, else 401. Without it the
paths are open, as the spec says; each service serving them says so at start
(``warn_if_open``), since the generated Ingress routes them.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import ExceptionHandlersMap

from switchyard.shared.coocenter_auth import authorized, local_now
from switchyard.shared.fsvalues import Rule
from switchyard.shared.http.security import UNSAFE_METHODS, cross_site_reason
from switchyard.shared.runtime import Runtime
from switchyard.shared.settings import Settings

log = logging.getLogger(__name__)

OPT = {"exclude_from_auth": True, "oplog": False}
# Writes (login, pause, blacklist) land in the operation log like every write.
WRITE_OPT = {"exclude_from_auth": True, "oplog": True}


class Reply(msgspec.Struct, omit_defaults=True):
    status: str
    message: str | None = None
    data: Any = None


class Refused(Exception):
    """A coocenter request refused: answered ``{"status":"error","message":…}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    runtime: Runtime = connection.app.state.runtime
    # A browser sends Origin (or Referer) with every cross-site form post, and a
    # form post needs no preflight: without a WEBKEY, any page a LAN user opens
    # could dial out through click-number. The spec's clients (curl, servers)
    # send neither header, so a write that names a foreign site is refused.
    scope = connection.scope
    headers = connection.headers
    if (
        scope.get("method") in UNSAFE_METHODS
        and (headers.get("origin") or headers.get("referer"))
        and (reason := cross_site_reason(scope, runtime.settings.allowed_origins)) is not None
    ):
        raise Refused(403, f"cross-site request refused: {reason}")
    webkey = runtime.settings.coocenter_webkey
    if webkey and not authorized(
        webkey, connection.headers.get("authorization"), local_now(runtime.settings.timezone)
    ):
        raise Refused(401, "Authorization failed")


def warn_if_open(settings: Settings, what: str) -> None:
    """A service's start-up warning when its ``/coocenter-api`` paths need no credential;
    ``what`` says what anyone who reaches them may then do there."""
    if not settings.coocenter_webkey:
        log.warning(
            "SWITCHYARD_COOCENTER_WEBKEY is not set: /coocenter-api answers anyone who "
            "reaches this service, with no credential (%s); set it, or keep the paths "
            "from untrusted networks",
            what,
        )


def refused(_: Request[Any, Any, Any], exc: Refused) -> Response[Reply]:
    return Response(Reply("error", exc.message), status_code=exc.status)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {Refused: refused}


def success(message: str | None = None, data: Any = None) -> Reply:
    return Reply("success", message, data)


async def form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The form (or query) fields, names stripped: the spec's own examples send
    ``-d " src=808&dst=809"`` and ``dst=801& src=802``."""
    raw = (await request.body()).decode("utf-8", "replace")
    pairs = parse_qsl(request.scope.get("query_string", b"").decode("utf-8", "replace"))
    pairs += parse_qsl(raw.strip(), keep_blank_values=True)
    return {k.strip(): v.strip() for k, v in pairs}


# --- the form in the OpenAPI document -----------------------------------------------

FORM = "application/x-www-form-urlencoded"


def form_field(rule: Rule, description: str, *, optional: bool = False) -> dict[str, Any]:
    """A form field the handler holds to ``rule`` once ``form`` trimmed it;
    ``optional``: empty (or absent) is taken as not given."""
    return {
        "type": "string",
        "pattern": rf"^\s*(?:{rule.pattern.pattern}){'?' if optional else ''}\s*$",
        "description": f"{description}; {rule.reason} (blanks around it are trimmed)",
    }


def form_body(fields: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    """An operation's form (``doc(body=…, body_type=FORM)``): ``fields`` by name,
    ``required`` the ones it refuses to go without (empty counts as missing)."""
    return {
        "type": "object",
        "description": "Form fields (or the same in the query string), names and values "
        "trimmed; other fields are ignored.",
        "properties": fields,
        "required": required,
    }


def reply_schema(message: str | None, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """A success reply (``doc(reply=…)``): ``{"status":"success"}`` with the
    operation's ``message`` (its text, for the description) and ``data``."""
    props: dict[str, Any] = {"status": {"type": "string", "enum": ["success"]}}
    need = ["status"]
    if message is not None:
        props["message"] = {"type": "string", "description": message}
        need.append("message")
    if data is not None:
        props["data"] = data
        need.append("data")
    return {"type": "object", "required": need, "properties": props}


def strings(*names: str) -> dict[str, Any]:
    """An object of these string fields (a row of a coocenter list)."""
    return {
        "type": "object",
        "required": list(names),
        "properties": {name: {"type": "string"} for name in names},
    }


def required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name, "")
    if not value:
        raise Refused(400, f"{name}: is required")
    return value

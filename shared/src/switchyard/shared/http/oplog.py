"""The operation log: every successful write a principal makes lands in ``operation_logs``.

An ASGI middleware, so no handler can forget it: after a POST, PUT, PATCH or
DELETE that answered below 400 it records who (the authenticated
principal), from which IP (``peer.client_ip``), which resource and which
action (in batches, a few milliseconds later: ``oplog_writer.py``). A
handler can name its resource explicitly
(``opt={"oplog_resource": "gateways"}``) or opt out (``opt={"oplog": False}``,
e.g. login, which writes its own rows through ``record``, failures included).

Handlers that authenticate themselves (``exclude_from_auth``: FreeSWITCH's
``/fs/xml`` fetches, later ``/cli`` reads and ``/tts``) are machine traffic,
mostly reads sent as POST: they are not recorded unless they say
``opt={"oplog": True}``. Otherwise every fetch of a busy PBX would be a row
(issue 12: 24k rows in one minute of calls) and an insert on FreeSWITCH's
synchronous path.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from switchyard.shared.accounts import Principal
from switchyard.shared.http.auth import EXCLUDE_OPT
from switchyard.shared.http.oplog_writer import OplogWriter
from switchyard.shared.http.peer import client_ip
from switchyard.shared.http.status import StatusCapture

_ACTIONS = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}


def recorded(opt: dict[str, Any]) -> bool:
    """Whether a successful write through a handler with ``opt`` is logged."""
    wanted = opt.get("oplog")
    if wanted is not None:
        return bool(wanted)
    return not opt.get(EXCLUDE_OPT, False)


def resource_of(path: str) -> str:
    """``/api/routes/33/params`` -> ``routes``; ``/cli`` -> ``cli``."""
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] in ("api", "coocenter-api"):
        parts = parts[1:]
    return parts[0] if parts else "/"


async def record(
    writer: OplogWriter,
    *,
    operator: str,
    ip: str,
    resource: str,
    action: str,
    method: str,
    path: str,
    status: int,
    detail: Any,
) -> None:
    """One ``operation_logs`` row, through the app's writer (in a batch); a
    failed write is logged there, never raised: the change itself is
    committed and answered."""
    detail_json = msgspec.json.encode(detail).decode()
    now = dt.datetime.now(dt.UTC)
    await writer.add((operator, ip, resource, action, method, path, status, detail_json, now))


class OperationLogMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        method = scope.get("method", "GET")
        if method not in _ACTIONS:
            await next_app(scope, receive, send)
            return
        capture = StatusCapture(send)
        await next_app(scope, receive, capture)
        status = capture.status
        handler_opt: dict[str, Any] = {}
        route_handler = scope.get("route_handler")
        if route_handler is not None:
            handler_opt = route_handler.opt
        if status >= 400 or not recorded(handler_opt):
            return
        principal = scope.get("user")
        operator = principal.operator if isinstance(principal, Principal) else "anonymous"
        path = scope.get("path", "")
        await record(
            scope["app"].state.runtime.oplog,
            operator=operator,
            ip=client_ip(scope),
            resource=handler_opt.get("oplog_resource") or resource_of(path),
            action=handler_opt.get("oplog_action") or _ACTIONS[method],
            method=method,
            path=path,
            status=status,
            detail=scope.get("path_params") or {},
        )

"""Errors as XSwitch clients expect them: an HTTP status plus ``{code, message, data}``."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap

from switchyard.shared.bus import BusError

log = logging.getLogger(__name__)


class ErrorBody(msgspec.Struct):
    code: int
    message: str
    data: Any = msgspec.field(default_factory=dict)


class ApiError(Exception):
    """Raise from a handler to answer ``status`` with the XSwitch error body."""

    def __init__(
        self, status: int, message: str, data: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.data = {} if data is None else data
        self.headers = headers or {}


def bad_request(field: str, reason: str) -> ApiError:
    """400 naming the offending field and why, the one shape every validation error takes."""
    return ApiError(400, f"{field}: {reason}", {"field": field, "reason": reason})


def not_found(what: str = "not found") -> ApiError:
    return ApiError(404, what)


def conflict(field: str, reason: str) -> ApiError:
    return ApiError(409, f"{field}: {reason}", {"field": field, "reason": reason})


# Bus error codes that map to something more specific than "service unavailable".
_BUS_STATUS = {"not_found": 404, "invalid": 400, "conflict": 409}


def _respond(
    status: int, message: str, data: Any = None, headers: dict[str, str] | None = None
) -> Response[ErrorBody]:
    return Response(
        ErrorBody(status, message, {} if data is None else data),
        status_code=status,
        headers=headers,
    )


def _api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[ErrorBody]:
    return _respond(exc.status, exc.message, exc.data, exc.headers)


def _bus_error(_: Request[Any, Any, Any], exc: BusError) -> Response[ErrorBody]:
    status = _BUS_STATUS.get(exc.code, 503)
    return _respond(status, exc.message, {"reason": exc.code})


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[ErrorBody]:
    # Litestar's own parameter validation: name the parameter.
    extra = exc.extra if isinstance(exc.extra, list) else []
    if extra and isinstance(extra[0], dict):
        field = str(extra[0].get("key", "")) or "request"
        reason = str(extra[0].get("message", exc.detail))
        return _respond(400, f"{field}: {reason}", {"field": field, "reason": reason})
    return _respond(400, str(exc.detail))


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    if isinstance(exc, NotFoundException):
        return _respond(404, "not found")
    if isinstance(exc, NotAuthorizedException):
        return _respond(401, "unauthorized")
    # A 405's Allow (the routing trie's declared methods) and any other header
    # the exception carries reach the client.
    return _respond(exc.status_code, str(exc.detail), headers=exc.headers or None)


def database_down(exc: BaseException) -> bool:
    """Whether ``exc`` says Postgres is unreachable or going away (a restart, a
    fail-over) rather than that the request or the code is wrong."""
    if isinstance(
        exc, asyncpg.PostgresConnectionError | asyncpg.exceptions.OperatorInterventionError
    ):
        return True  # connection lost, "shutting down", "starting up", admin shutdown
    if isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc):
        return True  # the server went away under a transaction (its __aexit__ says so)
    if isinstance(exc, OSError):  # refused, reset or timed out (TimeoutError) while connecting
        tb = exc.__traceback__
        while tb is not None:
            if "asyncpg" in tb.tb_frame.f_code.co_filename:
                return True
            tb = tb.tb_next
    return False


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    if database_down(exc):
        # Retrying shortly may well work: 503 with the reason, as for a bus
        # failure, and never a 500 (which says the server is broken).
        log.warning(
            "database unavailable on %s %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
        )
        return _respond(
            503,
            "database unavailable, try again shortly",
            {"reason": "database_unavailable"},
            {"Retry-After": "1"},
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _respond(500, "internal error")


def _unstorable_text(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    # Text Postgres cannot store (U+0000) in a query, a path or a hand-read
    # body is the client's error wherever it surfaces (a login's username, a
    # search); handlers that name the field refuse it before this.
    reason = "text must not contain a NUL character (U+0000)"
    return _respond(400, f"request: {reason}", {"field": "request", "reason": reason})


exception_handlers: ExceptionHandlersMap = {
    asyncpg.CharacterNotInRepertoireError: _unstorable_text,
    asyncpg.UntranslatableCharacterError: _unstorable_text,
    ApiError: _api_error,
    BusError: _bus_error,
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _unexpected,
}

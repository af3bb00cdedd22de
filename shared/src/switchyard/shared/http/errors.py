"""Errors as XSwitch clients expect them: an HTTP status plus ``{code, message, data}``."""

from __future__ import annotations

import logging
from typing import Any

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
    return _respond(exc.status_code, str(exc.detail))


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _respond(500, "internal error")


exception_handlers: ExceptionHandlersMap = {
    ApiError: _api_error,
    BusError: _bus_error,
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _unexpected,
}

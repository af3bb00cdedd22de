"""One OpenTelemetry server span per HTTP request, and nothing more.

Replaces Litestar's OpenTelemetry plugin (the generic ASGI instrumentation),
which cost more than the rest of the app on FreeSWITCH's ``/fs/xml`` fetch:
four spans per request (the server span and one per ASGI message), a dozen
attributes collected from the scope, four metric instruments recorded
whether or not anything reads them, all on every call's synchronous path
(issue 12; the figures are in docs/benchmarks.md).

What is kept: a SERVER span per request, the parent taken from an incoming
W3C ``traceparent``, current while the handler runs (so the bus carries it
on to NATS requests), named by the route's template, never its path: a path
can hold a secret (``/fs/xml/<secret>``) and the query string is never
recorded. Sampling is the SDK's (``OTEL_TRACES_SAMPLER``); a request the
sampler drops costs a non-recording span. The request duration histogram is
recorded only when metrics are exported.
"""

from __future__ import annotations

import time
from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from opentelemetry import context, propagate, trace
from opentelemetry.metrics import Histogram
from opentelemetry.trace import SpanKind, Status, StatusCode

from switchyard.shared.http.status import StatusCapture
from switchyard.shared.telemetry import Telemetry


def _carrier(scope: Scope) -> dict[str, str] | None:
    """The trace-context headers of a request, when it has any (most have none)."""
    found: dict[str, str] | None = None
    for name, value in scope.get("headers", ()):
        if name in (b"traceparent", b"tracestate"):
            found = found or {}
            found[name.decode()] = value.decode("latin-1")
    return found


class TracingMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, telemetry: Telemetry, exclude: tuple[str, ...] = ()) -> None:
        self.tracer = telemetry.tracer_provider.get_tracer("switchyard.http")
        self.exclude = set(exclude)
        self.duration: Histogram | None = None
        if telemetry.metrics_exported:
            meter = telemetry.meter_provider.get_meter("switchyard.http")
            self.duration = meter.create_histogram(
                "http.server.request.duration", unit="s", description="HTTP request duration"
            )

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("path") in self.exclude:
            await next_app(scope, receive, send)
            return
        method = str(scope.get("method", "GET"))
        route = scope.get("path_template") or "unmatched"
        carrier = _carrier(scope)
        parent = propagate.extract(carrier) if carrier else None
        span = self.tracer.start_span(
            f"{method} {route}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "http.route": route},
        )
        capture = StatusCapture(send)
        token = context.attach(trace.set_span_in_context(span))
        started = time.perf_counter()
        try:
            await next_app(scope, receive, capture)
            status = capture.status
        except BaseException as exc:
            # An HTTPException (a 401 from auth) becomes its answer further out.
            status = getattr(exc, "status_code", 500)
            span.record_exception(exc)
            raise
        finally:
            context.detach(token)
            if span.is_recording():
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
            span.end()
            if self.duration is not None:
                attributes: dict[str, Any] = {
                    "http.request.method": method,
                    "http.route": route,
                    "http.response.status_code": status,
                }
                self.duration.record(time.perf_counter() - started, attributes)

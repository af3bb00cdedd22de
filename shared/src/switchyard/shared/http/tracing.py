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
sampler drops costs a non-recording span. With ``OTEL_SDK_DISABLED=true``
no span at all.

The same pass counts the request for Prometheus (``HttpMetrics``): by
method, route template and status, and its duration by method and route;
the labelled children are cached per key, so a request costs one dict
lookup and two increments.
"""

from __future__ import annotations

import time

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from opentelemetry import context, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter, Histogram

from switchyard.shared.http.status import StatusCapture
from switchyard.shared.metrics import Metrics, known
from switchyard.shared.telemetry import Telemetry

# Any other method (a client may send anything) is counted as "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetrics:
    """``switchyard_http_requests_total`` and ``switchyard_http_request_duration_seconds``."""

    def __init__(self, metrics: Metrics) -> None:
        self.requests = metrics.counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status code",
            ("method", "route", "status"),
        )
        self.duration = metrics.histogram(
            "http_request_duration_seconds",
            "Time from the request's arrival to its answer, by method and route template",
            ("method", "route"),
        )
        self._bound: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        pair = self._bound.get(key)
        if pair is None:
            pair = self._bound[key] = (
                self.requests.labels(method, route, str(status)),
                self.duration.labels(method, route),
            )
        pair[0].inc()
        pair[1].observe(seconds)


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

    def __init__(
        self, telemetry: Telemetry, metrics: Metrics, exclude: tuple[str, ...] = ()
    ) -> None:
        self.tracer = telemetry.tracer_provider.get_tracer("switchyard.http")
        self.tracing = telemetry.enabled
        self.exclude = set(exclude)
        self.metrics = HttpMetrics(metrics)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope.get("path") in self.exclude:
            await next_app(scope, receive, send)
            return
        method = known(str(scope.get("method", "GET")), METHODS)
        route = scope.get("path_template") or "unmatched"
        span = None
        token = None
        if self.tracing:
            carrier = _carrier(scope)
            parent = propagate.extract(carrier) if carrier else None
            span = self.tracer.start_span(
                f"{method} {route}",
                context=parent,
                kind=SpanKind.SERVER,
                attributes={"http.request.method": method, "http.route": route},
            )
            token = context.attach(trace.set_span_in_context(span))
        capture = StatusCapture(send)
        started = time.perf_counter()
        status = 500
        try:
            await next_app(scope, receive, capture)
            status = capture.status
        except BaseException as exc:
            # An HTTPException (a 401 from auth) becomes its answer further out.
            status = getattr(exc, "status_code", 500)
            if span is not None:
                span.record_exception(exc)
            raise
        finally:
            if token is not None:
                context.detach(token)
            if span is not None:
                if span.is_recording():
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                span.end()
            self.metrics.record(method, route, status, time.perf_counter() - started)

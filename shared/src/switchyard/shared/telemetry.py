"""OpenTelemetry and structured logs.

The tracer provider is built per app and handed to whoever traces (the
HTTP middleware, the bus), not installed globally; spans leave the process
only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set. Metrics are Prometheus,
served at ``/metrics`` (metrics.py says why not OTel's metrics SDK).

HTTP requests get one server span each from ``http/tracing.py``. The
standard variables apply: ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG``
(e.g. ``parentbased_traceidratio`` and ``0.1``: a tenth of requests
recorded) and ``OTEL_SDK_DISABLED=true``: no spans at all (the HTTP
middleware then only counts requests for ``/metrics``; docs/benchmarks.md
has what tracing costs on the hot paths).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from dataclasses import dataclass
from typing import Any

import msgspec
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


@dataclass(frozen=True)
class Telemetry:
    tracer_provider: TracerProvider
    # False with OTEL_SDK_DISABLED=true: no spans.
    enabled: bool = True

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()


def setup_telemetry(service_name: str) -> Telemetry:
    # service.instance.id tells the replicas of one service apart in a trace.
    instance = f"{socket.gethostname()}-{os.getpid()}"
    resource = Resource.create({"service.name": service_name, "service.instance.id": instance})
    tracer_provider = TracerProvider(resource=resource)
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        # Imported lazily: the exporter pulls in protobuf, needless without an endpoint.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    enabled = os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() != "true"
    return Telemetry(tracer_provider, enabled)


_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra= fields are kept. Written while a
    span is current (an HTTP request, a bus message, an ESL command), a
    record carries its ``trace_id`` and ``span_id`` (W3C hex), so a log line
    leads to its trace (docs/observability.md)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            out["trace_id"] = format(span.trace_id, "032x")
            out["span_id"] = format(span.span_id, "016x")
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return msgspec.json.encode(out, enc_hook=str).decode()


def granian_logging(fmt: str) -> dict[str, Any] | None:
    """granian's own logger (``_granian``: start, stop, worker deaths) as
    ``logging.config`` wants it, for ``fmt == "json"`` the same one-object
    lines as the app's; None keeps granian's text."""
    if fmt != "json":
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "json": {
                "formatter": "json",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "_granian": {"handlers": ["json"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["json"], "level": "INFO", "propagate": False},
        },
    }


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Secrets travel in URLs and headers: never let libraries log requests.
    for noisy in ("httpx", "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

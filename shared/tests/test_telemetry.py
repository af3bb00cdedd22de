from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from litestar.testing import AsyncTestClient

from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings
from switchyard.shared.testing import http_server


@pytest.fixture
def collector() -> Iterator[tuple[str, list[str]]]:
    """A stand-in OTLP/HTTP collector that records which signal paths were posted."""
    posted: list[str] = []
    with http_server(lambda path, _: posted.append(path)) as url:
        yield url, posted


async def test_spans_are_exported_when_an_otlp_endpoint_is_set(
    settings: Settings, collector: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, posted = collector
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    async with AsyncTestClient(create_app(settings, [])) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.delete("/api/sessions")).status_code == 401
    # Leaving the app flushes the providers.
    for _ in range(50):
        if "/v1/traces" in posted:
            break
        await asyncio.sleep(0.1)
    assert "/v1/traces" in posted


def test_a_json_log_record_carries_the_current_span() -> None:
    import json
    import logging

    from switchyard.shared.telemetry import JsonFormatter, setup_telemetry

    tracer = setup_telemetry("test").tracer_provider.get_tracer("test")
    formatter = JsonFormatter()

    def record() -> dict[str, str]:
        line = formatter.format(
            logging.LogRecord("x", logging.INFO, "", 0, "hello %s", ("you",), None)
        )
        assert "\n" not in line
        out: dict[str, str] = json.loads(line)
        return out

    assert "trace_id" not in record() and "span_id" not in record()
    with tracer.start_as_current_span("work") as span:
        got = record()
    ctx = span.get_span_context()
    assert got["msg"] == "hello you"
    assert got["trace_id"] == f"{ctx.trace_id:032x}" and got["span_id"] == f"{ctx.span_id:016x}"

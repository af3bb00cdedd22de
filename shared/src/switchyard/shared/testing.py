"""Test support: serve an app on the caller's own event loop.

Litestar's AsyncTestClient runs the app in a portal thread and blocks the
calling loop for each request, so anything else on that loop (a FreeSWITCH
simulator, a webhook receiver) cannot answer meanwhile. ``serving`` runs the
lifespan and every request on the current loop instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import signal
import subprocess
import sys
import threading
import time
import wave
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
from litestar import Litestar

T = TypeVar("T")


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def logged_warnings(logger: str) -> Iterator[list[str]]:
    """The messages of the warnings (and worse) ``logger`` logs meanwhile.

    Caught on that logger itself: the runner replaces the root logger's
    handlers when an app is made."""
    handler, log = _Warnings(), logging.getLogger(logger)
    log.addHandler(handler)
    try:
        yield handler.lines
    finally:
        log.removeHandler(handler)


@contextlib.asynccontextmanager
async def serving(app: Litestar, **client_kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Start ``app``'s lifespan, yield an httpx client bound to it, shut down on exit."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(message: dict[str, Any]) -> None:
        await outbox.put(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, receive, send))  # type: ignore[arg-type]

    async def step(kind: str) -> None:
        await inbox.put({"type": f"lifespan.{kind}"})
        message = await asyncio.wait_for(outbox.get(), 60)
        if message["type"] != f"lifespan.{kind}.complete":
            raise RuntimeError(f"lifespan {kind} failed: {message.get('message', message)}")

    await step("startup")
    try:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", **client_kwargs
        ) as client:
            yield client
    finally:
        await step("shutdown")
        await task


async def eventually(check: Callable[[], T | None], timeout: float = 10) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds.

    For conditions that live in another component (a simulator's channel
    table, a KV entry) and announce no event a test could wait on.
    """
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout:g}s")
        await asyncio.sleep(0.02)
    return result


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """GET ``/metrics`` and parse it: {(sample name, labels): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    r = await client.get("/metrics")
    assert r.status_code == 200, r.text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def metric(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """The sum of ``name``'s samples whose labels include ``labels`` (0 when none)."""
    want = set(labels.items())
    return sum(v for (n, got), v in samples.items() if n == name and want <= got)


@contextlib.contextmanager
def http_server(on_post: Callable[[str, bytes], None]) -> Iterator[str]:
    """A plain HTTP server on a thread that hands each POST's path and body to
    ``on_post`` and answers 200 (a stand-in OTLP/HTTP collector); yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            on_post(self.path, self.rfile.read(int(self.headers.get("Content-Length", 0))))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def start_run(service: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``switchyard run <service>`` as a process on ``port``, its output in ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "switchyard.shared.cli", "run", service, "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def wait_ready(url: str, timeout: float = 90) -> None:
    """Until ``url``'s /readyz answers 200 (a process starting on a loaded machine)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url + "/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never became ready")


def stop_all(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each (their lifespans end: logs and spans flushed), then wait; kill a straggler."""
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV of ``seconds`` (a quiet repeating sample), for uploads."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x01" * int(seconds * rate))
    return out.getvalue()

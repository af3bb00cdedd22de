"""A small HTTP/1.1 server that takes webhook deliveries: tests, the benchmark, `webhook-listen`.

Plain asyncio (keep-alive, Content-Length bodies), so it is quick enough
that a benchmark measures the relay and not the receiver, and real enough
that the relay talks to it as to any endpoint. ``answer`` decides each
response; every request is kept in ``received`` (unless ``keep`` is off).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

REASONS = {200: "OK", 204: "No Content", 410: "Gone", 429: "Too Many Requests", 500: "Error"}


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float = field(default_factory=time.time)


@dataclass
class Answer:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # Seconds to wait before answering: a slow endpoint, or (longer than the
    # sender's timeout) one that times out.
    delay: float = 0.0


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    """One HTTP/1.1 request off ``reader``: its request line, its headers
    (names lower-cased) and its ``content-length`` body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return lines[0], headers, body


class Receiver:
    def __init__(
        self,
        answer: Callable[[Received], Answer] | None = None,
        *,
        keep: bool = True,
        on_request: Callable[[Received], None] | None = None,
    ) -> None:
        self.answer = answer or (lambda _: Answer())
        self.keep = keep
        self.on_request = on_request
        self.received: list[Received] = []
        self.count = 0
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Event()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = await asyncio.start_server(self._serve, host, port, backlog=1024)
        sock = self._server.sockets[0].getsockname()
        return f"http://{sock[0]}:{sock[1]}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                self._server.close_clients()  # type: ignore[attr-defined]  # 3.13+
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Receiver:
        self.url = await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def wait_for(self, check: Callable[[list[Received]], bool], timeout: float = 20) -> None:
        async with asyncio.timeout(timeout):
            while not check(self.received):
                self._arrived.clear()
                await self._arrived.wait()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line, headers, body = await read_request(reader)
                path = request_line.split(" ")[1] if " " in request_line else "/"
                got = Received(path, headers, body)
                self.count += 1
                if self.keep:
                    self.received.append(got)
                if self.on_request is not None:
                    self.on_request(got)
                self._arrived.set()
                a = self.answer(got)
                if a.delay:
                    await asyncio.sleep(a.delay)
                extra = "".join(f"{k}: {v}\r\n" for k, v in a.headers.items())
                writer.write(
                    f"HTTP/1.1 {a.status} {REASONS.get(a.status, 'Status')}\r\n"
                    f"content-length: {len(a.body)}\r\n{extra}\r\n".encode()
                    + a.body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

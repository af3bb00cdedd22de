"""A small HTTP/1.1 client for deliveries: one POST, keep-alive, nothing else.

Why not httpx: its connection pool (httpcore 1.0) walks every connection
and every queued request on each request, asking each socket whether it
is readable; with the relay's hundreds of lanes over 100 connections that
was 70 % of the relay's time and held it near 50 deliveries/s
(docs/benchmarks.md). Deliveries need little: POST a body with
Content-Length, read the status, the headers and the body (Content-Length,
chunked, or to the close), reuse the connection. Redirects are not
followed (a 3xx is a failure for Standard Webhooks).

The address is the one the SSRF policy checked (urlpolicy.Target); the
name goes in ``Host`` and, over TLS, in SNI and certificate checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass

MAX_BODY = 1 << 20  # a longer answer is read no further and its connection closed
MAX_HEAD = 64 * 1024


class HttpError(Exception):
    """The request failed before a whole response arrived."""


@dataclass(slots=True)
class Response:
    status_code: int
    headers: dict[str, str]  # names lower-cased; a repeated name keeps its last value
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


Key = tuple[str, str, int, str]  # scheme, address, port, TLS name


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


# Seconds a kept connection may go unused before it is closed (when the next
# one is put back): a burst's connections need not stay open on both sides
# once it is over.
IDLE_FOR = 10.0


class Client:
    """At most ``max_connections`` open at once; idle ones are kept for reuse.

    Every connection a burst opened is kept (until IDLE_FOR unused), not only
    20 of them: a relay's lanes send in bursts, one per fetched batch, and
    closing the rest after each burst made about one request in six open a
    new connection at one subscription (issue 14)."""

    def __init__(
        self, timeout: float, max_connections: int = 100, max_idle: int | None = None
    ) -> None:
        self.timeout = timeout
        self.max_idle = max_connections if max_idle is None else max_idle
        self._slots = asyncio.Semaphore(max_connections)
        # Per address, the most recently used last: each with when it was put back.
        self._idle: dict[Key, list[tuple[_Conn, float]]] = {}
        self._tls: ssl.SSLContext | None = None

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for c, _ in conns:
                c.close()
        self._idle.clear()

    async def post(
        self,
        scheme: str,
        address: str,
        port: int,
        tls_name: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
    ) -> Response:
        """POST ``body`` to ``target`` (path and query) at ``address``; TimeoutError
        after ``timeout`` seconds in all, HttpError when the exchange fails."""
        key = (scheme, address, port, tls_name)
        head = [f"POST {target} HTTP/1.1\r\n"]
        head += [f"{k}: {v}\r\n" for k, v in headers.items()]
        head.append(f"content-length: {len(body)}\r\n\r\n")
        request = "".join(head).encode("latin-1") + body
        async with self._slots, asyncio.timeout(self.timeout):
            idle = self._idle.get(key)
            while idle:
                # A kept connection the server may have closed meanwhile: when it
                # fails before any answer, the request goes again on a new one
                # (an endpoint can get it twice; deliveries are at least once).
                conn, _ = idle.pop()
                try:
                    return await self._exchange(key, conn, request, fresh=False)
                except _Stale:
                    continue
            conn = await self._connect(key)
            return await self._exchange(key, conn, request, fresh=True)

    async def _connect(self, key: Key) -> _Conn:
        scheme, address, port, tls_name = key
        tls = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        try:
            reader, writer = await asyncio.open_connection(
                address,
                port,
                ssl=tls,
                server_hostname=tls_name if tls is not None else None,
                limit=MAX_HEAD,
            )
        except (OSError, ssl.SSLError) as exc:
            raise HttpError(f"connect: {exc}") from exc
        return _Conn(reader, writer)

    async def _exchange(self, key: Key, conn: _Conn, request: bytes, *, fresh: bool) -> Response:
        keep = False
        try:
            try:
                conn.writer.write(request)
                await conn.writer.drain()
                status_line = await conn.reader.readline()
            except (OSError, asyncio.IncompleteReadError) as exc:
                if not fresh:
                    raise _Stale from exc
                raise HttpError(f"send: {exc}") from exc
            if not status_line:
                if not fresh:
                    raise _Stale
                raise HttpError("connection closed before a response")
            response, keep = await _read_response(conn.reader, status_line)
            return response
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            # ValueError: a line over the limit, a length or chunk size that is no number.
            raise HttpError(f"receive: {type(exc).__name__}: {exc}") from exc
        finally:
            idle = self._idle.setdefault(key, [])
            if keep and len(idle) < self.max_idle:
                now = time.monotonic()
                idle.append((conn, now))
                while idle[0][1] < now - IDLE_FOR:  # the least recently used first
                    idle.pop(0)[0].close()
            else:
                conn.close()


class _Stale(Exception):
    pass


async def _read_response(reader: asyncio.StreamReader, status_line: bytes) -> tuple[Response, bool]:
    """The response after its status line; and whether the connection can be reused."""
    parts = status_line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HttpError(f"not an HTTP/1.x response: {status_line[:80]!r}")
    status = int(parts[1])
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n"):
            break
        if not line:
            raise HttpError("connection closed in the response head")
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    keep = parts[0] == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if status in (204, 304) or 100 <= status < 200:
        return Response(status, headers, b""), keep
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            if len(body) + size > MAX_BODY:
                return Response(status, headers, bytes(body)), False
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        return Response(status, headers, bytes(body)), keep
    if "content-length" in headers:
        length = int(headers["content-length"])
        if length > MAX_BODY:
            return Response(status, headers, await reader.readexactly(MAX_BODY)), False
        return Response(status, headers, await reader.readexactly(length)), keep
    # No length: the body runs to the close.
    return Response(status, headers, await reader.read(MAX_BODY)), False

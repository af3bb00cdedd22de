"""One inbound ESL connection: one reader task, replies matched FIFO, bgapi jobs by Job-UUID.

FreeSWITCH answers commands strictly in order and without an id, so each
command's future joins a FIFO before its bytes are written. A ``bgapi``
job's future is registered under a Job-UUID we choose *before* sending, so a
fast BACKGROUND_JOB can never beat its registration. When the socket dies,
every waiting future fails at once with ConnectionLost.

Back-pressure: when ``on_event`` returns an awaitable, the reader awaits it
before reading on. While it waits nothing more is read from the socket, so
TCP pushes back and FreeSWITCH queues (and, past its own limit, drops) the
events instead of this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable

from switchyard.call_control.esl.errors import (
    AuthFailed,
    CommandError,
    CommandTimeout,
    ConnectionLost,
)
from switchyard.call_control.esl.frames import EslEvent, Reply, parse_event, parse_headers

log = logging.getLogger("switchyard.call_control.esl")

_REPLY_TYPES = frozenset({"command/reply", "api/response"})
_EVENT_TYPES = frozenset({"text/event-plain", "text/event-json", "text/event-xml"})

# Called with each event; an awaitable it returns is awaited before reading on.
EventSink = Callable[[EslEvent], Awaitable[None] | None]


def _clean(text: str, what: str) -> str:
    # A CR or LF inside a command line would start a new ESL header or packet.
    if "\n" in text or "\r" in text:
        raise ValueError(f"{what} must not contain line breaks")
    return text


class EslConnection:
    """A connected, authenticated socket. Use :meth:`open`; events go to ``on_event``."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_event: EventSink,
        *,
        default_timeout: float = 30.0,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_event = on_event
        self.default_timeout = default_timeout
        self._pending: deque[asyncio.Future[Reply]] = deque()
        self._jobs: dict[str, asyncio.Future[EslEvent]] = {}
        self._greeting: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.disconnect_notice = ""
        self._reader_task = asyncio.create_task(self._read_loop())

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        password: str,
        on_event: EventSink,
        *,
        timeout: float = 5.0,
        default_timeout: float = 30.0,
    ) -> EslConnection:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        conn = cls(reader, writer, on_event, default_timeout=default_timeout)
        try:
            greeting = await asyncio.wait_for(asyncio.shield(conn._greeting), timeout)
            if greeting.headers.get("Content-Type") == "text/rude-rejection":
                raise AuthFailed(greeting.body.strip() or "access denied")
            reply = await conn.command(f"auth {_clean(password, 'password')}", timeout=timeout)
            if not reply.ok:
                raise AuthFailed(reply.text)
        except BaseException:
            conn.close()
            raise
        return conn

    @property
    def is_open(self) -> bool:
        return not self.closed.done()

    # --- reading ----------------------------------------------------------------------

    async def _read_loop(self) -> None:
        reason = "connection closed by FreeSWITCH"
        reader = self._reader
        try:
            while True:
                head = await reader.readuntil(b"\n\n")
                headers = parse_headers(head[:-2])
                length = headers.get("Content-Length")
                body = await reader.readexactly(int(length)) if length else b""
                ctype = headers.get("Content-Type", "")
                if ctype in _EVENT_TYPES:
                    event = parse_event(ctype, body)
                    if event is not None:
                        wait = self._dispatch(event)
                        if wait is not None and inspect.isawaitable(wait):
                            await wait  # the owner is full: stop reading until it has room
                elif ctype in _REPLY_TYPES:
                    reply = Reply(headers, body.decode("utf-8", "replace"))
                    if self._pending:
                        fut = self._pending.popleft()
                        if not fut.done():
                            fut.set_result(reply)
                    else:
                        log.warning("ESL reply with no command waiting: %s", reply.text[:80])
                elif ctype in ("auth/request", "text/rude-rejection"):
                    if not self._greeting.done():
                        self._greeting.set_result(Reply(headers, body.decode("utf-8", "replace")))
                elif ctype == "text/disconnect-notice":
                    self.disconnect_notice = body.decode("utf-8", "replace")
                    reason = "FreeSWITCH sent a disconnect notice"
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
            if not isinstance(exc, asyncio.IncompleteReadError):
                reason = f"connection lost: {exc}"
        except asyncio.LimitOverrunError:
            reason = "malformed frame from FreeSWITCH"
        except asyncio.CancelledError:
            reason = "connection closed"
        finally:
            self._fail_all(reason)

    def _dispatch(self, event: EslEvent) -> Awaitable[None] | None:
        if event.name == "BACKGROUND_JOB":
            fut = self._jobs.pop(event.get("Job-UUID"), None)
            if fut is not None and not fut.done():
                fut.set_result(event)
        return self._on_event(event)

    def _fail_all(self, reason: str) -> None:
        if not self.closed.done():
            self.closed.set_result(reason)
        error = ConnectionLost(reason)
        futures: list[asyncio.Future[object]] = [*self._pending, *self._jobs.values()]  # type: ignore[list-item]
        if not self._greeting.done():
            futures.append(self._greeting)  # type: ignore[arg-type]
        self._pending.clear()
        self._jobs.clear()
        for fut in futures:
            if not fut.done():
                fut.set_exception(error)
                fut.exception()  # a future nobody awaits any more must not warn
        with contextlib.suppress(Exception):
            self._writer.close()

    # --- commands ----------------------------------------------------------------------

    async def command(
        self,
        line: str,
        headers: dict[str, str] | None = None,
        body: str | None = None,
        *,
        timeout: float | None = None,
    ) -> Reply:
        """Send one packet and await its reply (FIFO)."""
        if self.closed.done():
            raise ConnectionLost(self.closed.result())
        parts = [_clean(line, "command")]
        payload = body.encode() if body is not None else b""
        for name, value in (headers or {}).items():
            parts.append(f"{_clean(name, 'header name')}: {_clean(value, 'header value')}")
        if body is not None:
            parts.append(f"Content-Length: {len(payload)}")
        data = ("\n".join(parts) + "\n\n").encode() + payload
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending.append(fut)
        self._writer.write(data)
        try:
            # shield: a timeout or cancellation must leave the future queued, so
            # its late reply is consumed by it and not by the next command.
            return await asyncio.wait_for(asyncio.shield(fut), timeout or self.default_timeout)
        except TimeoutError:
            raise CommandTimeout(f"no reply to {line.split(' ', 1)[0]!r} in time") from None

    async def api(self, cmd: str, *, timeout: float | None = None) -> str:
        """``api <cmd>``: the response body. This blocks the connection until FreeSWITCH answers."""
        return (await self.command(f"api {cmd}", timeout=timeout)).body

    async def bgapi(self, cmd: str, *, timeout: float | None = None) -> EslEvent:
        """``bgapi <cmd>``: the BACKGROUND_JOB event (its body is the command's output)."""
        job = str(uuid.uuid4())
        fut: asyncio.Future[EslEvent] = asyncio.get_running_loop().create_future()
        self._jobs[job] = fut  # before sending: the job may finish before the reply is read
        try:
            reply = await self.command(f"bgapi {cmd}", {"Job-UUID": job}, timeout=timeout)
            if not reply.ok:
                raise CommandError("bgapi", reply.text)
            return await asyncio.wait_for(asyncio.shield(fut), timeout or self.default_timeout)
        except TimeoutError:
            raise CommandTimeout(
                f"no BACKGROUND_JOB for {cmd.split(' ', 1)[0]!r} in time"
            ) from None
        finally:
            self._jobs.pop(job, None)

    def close(self, reason: str = "connection closed") -> None:
        self._reader_task.cancel()
        self._fail_all(reason)

    async def wait_closed(self) -> str:
        return await asyncio.shield(self.closed)

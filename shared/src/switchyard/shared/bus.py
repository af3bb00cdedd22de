"""NATS: one connection with reconnect, typed request/reply, streams and KV.

Replies always travel in a ``Reply`` envelope so that a failure on the far
side arrives as a typed ``BusError`` (code + message) instead of a bare
timeout; the request helper itself never waits longer than its timeout.
Trace context travels in the W3C ``traceparent`` header.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StreamConfig
from nats.js.kv import KeyValue
from opentelemetry import propagate, trace
from opentelemetry.context import Context

from switchyard.shared.subjects import Subjects

log = logging.getLogger(__name__)

# Requests one Bus.serve subscription handles at once.
SERVE_CONCURRENCY = 64

T = TypeVar("T")
M = TypeVar("M", bound=msgspec.Struct)


class ErrorBody(msgspec.Struct, frozen=True):
    code: str
    message: str


class Reply(msgspec.Struct, frozen=True, omit_defaults=True):
    """The envelope of every reply: exactly one of ``data`` or ``error``."""

    data: msgspec.Raw = msgspec.Raw(b"null")
    error: ErrorBody | None = None


class BusError(Exception):
    """A request that failed; ``code`` is stable and machine-readable.

    Codes used by the bus itself: ``no_responder`` (nobody serves the
    subject: a service or node owner is down), ``timeout`` (a responder was
    there but did not answer in time), ``bad_reply`` (undecodable answer),
    ``unavailable`` (not connected). Handlers add their own (``not_found``,
    ``invalid``, ``fs_error`` …).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


_encoder = msgspec.json.Encoder()
_reply_decoder = msgspec.json.Decoder(Reply)


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def trace_headers() -> dict[str, str]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def traceparent(span: trace.Span) -> str:
    """``span`` as a W3C ``traceparent`` value ('' when it records nothing):
    for messages that travel with their own headers (JetStream events)."""
    ctx = span.get_span_context()
    if not ctx.is_valid or not span.is_recording():
        return ""
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def trace_context(headers: dict[str, str] | None) -> Context | None:
    """The context a message's ``traceparent`` header names, else None."""
    if not headers or "traceparent" not in headers:
        return None
    return propagate.extract(headers)


async def _answer(handler: Callable[[Any], Awaitable[Any]], subject: str, request: Any) -> Any:
    """``handler``'s answer to ``request``; a failure as the BusError its
    requester gets (over NATS or in process: Bus.serve)."""
    try:
        return await handler(request)
    except BusError:
        raise
    except msgspec.ValidationError as exc:
        raise BusError("invalid", str(exc)) from None
    except msgspec.DecodeError as exc:
        raise BusError("invalid", f"malformed request: {exc}") from None
    except Exception as exc:
        log.exception("handler for %s failed", subject)
        raise BusError("internal", type(exc).__name__) from None


@dataclasses.dataclass(frozen=True)
class _Here:
    decoder: msgspec.json.Decoder[Any]
    handler: Callable[[Any], Awaitable[Any]]


class Served:
    """A subject a Bus serves: stop with ``unsubscribe`` or ``drain``."""

    def __init__(self, bus: Bus, subject: str, sub: Subscription, here: _Here | None) -> None:
        self.subject = subject
        self.subscription = sub
        self._bus, self._here = bus, here

    async def unsubscribe(self) -> None:
        self._bus._forget(self.subject, self._here)
        await self.subscription.unsubscribe()

    async def drain(self) -> None:
        self._bus._forget(self.subject, self._here)
        await self.subscription.drain()  # type: ignore[no-untyped-call]


class Bus:
    """A NATS connection plus the helpers every service uses."""

    def __init__(
        self,
        nc: NATS,
        subjects: Subjects,
        default_timeout: float = 5.0,
        tracer: trace.Tracer | None = None,
        replicas: int = 1,
    ) -> None:
        self.nc = nc
        # Of every stream and bucket created here (SWITCHYARD_JETSTREAM_REPLICAS).
        self.replicas = replicas
        self.tracer = tracer or trace.get_tracer("switchyard.bus")
        self.subjects = subjects
        self.default_timeout = default_timeout
        self.js: JetStreamContext = nc.jetstream()
        # Subjects this process serves with ``local=True``: its own requests
        # on them are answered in-process (see ``serve``).
        self._here: dict[str, _Here] = {}
        self._running_here: set[asyncio.Task[Any]] = set()

    @classmethod
    async def connect(
        cls,
        url: str,
        subjects: Subjects,
        *,
        name: str = "switchyard",
        timeout: float = 5.0,
        tracer: trace.Tracer | None = None,
        replicas: int = 1,
    ) -> Bus:
        async def on_error(exc: Exception) -> None:
            log.warning("nats error: %s", exc)

        nc: NATS

        async def on_disconnect() -> None:
            if not (nc.is_closed or nc.is_draining):
                log.warning("nats disconnected; reconnecting")

        async def on_reconnect() -> None:
            log.info("nats reconnected")

        nc = await nats.connect(
            servers=[u.strip() for u in url.split(",") if u.strip()],
            name=name,
            connect_timeout=2,
            allow_reconnect=True,
            max_reconnect_attempts=-1,  # a service outlives a NATS restart
            reconnect_time_wait=0.5,
            error_cb=on_error,
            disconnected_cb=on_disconnect,
            reconnected_cb=on_reconnect,
        )
        bus = cls(nc, subjects, timeout, tracer, replicas)
        try:
            await bus._check_jetstream()
        except BaseException:
            await nc.close()
            raise
        return bus

    async def _check_jetstream(self) -> None:
        # Streams and KV buckets need JetStream; without it every later call
        # fails with a bare "no responders" far from the cause.
        try:
            await self.js.account_info()
        except (nats.js.errors.ServiceUnavailableError, nats.errors.NoRespondersError):
            raise BusError(
                "no_jetstream",
                "JetStream must be enabled on SWITCHYARD_NATS_URL (nats-server -js)",
            ) from None

    async def close(self) -> None:
        if not self.nc.is_closed:
            try:
                await asyncio.wait_for(self.nc.drain(), timeout=2)
            except (TimeoutError, nats.errors.Error):
                await self.nc.close()

    @property
    def server_version(self) -> str:
        return str(self.nc._server_info.get("version", "unknown"))

    # --- request/reply ---------------------------------------------------------
    async def request(
        self,
        subject: str,
        payload: Any,
        reply_type: type[T],
        *,
        timeout: float | None = None,
    ) -> T:
        """Send ``payload`` and decode the answer as ``reply_type``; raise BusError."""
        wait = self.default_timeout if timeout is None else timeout
        here = self._here.get(subject)
        if here is not None:
            return await self._request_here(here, subject, payload, reply_type, wait)
        with self.tracer.start_as_current_span(f"request {subject}", kind=trace.SpanKind.CLIENT):
            try:
                msg = await self.nc.request(
                    subject, encode(payload), timeout=wait, headers=trace_headers()
                )
            except nats.errors.NoRespondersError:
                raise BusError("no_responder", f"nothing serves {subject}") from None
            except nats.errors.TimeoutError:
                raise BusError("timeout", f"no answer on {subject} within {wait:g}s") from None
            except (nats.errors.ConnectionClosedError, nats.errors.ConnectionReconnectingError):
                raise BusError("unavailable", "not connected to NATS") from None
        try:
            reply = _reply_decoder.decode(msg.data)
            if reply.error is not None:
                raise BusError(reply.error.code, reply.error.message)
            return msgspec.json.decode(reply.data, type=reply_type)
        except msgspec.DecodeError as exc:
            raise BusError("bad_reply", f"undecodable reply on {subject}: {exc}") from None

    async def _request_here(
        self, here: _Here, subject: str, payload: Any, reply_type: type[T], wait: float
    ) -> T:
        """``request`` of a subject this process serves, without the round
        trip through the NATS server: the payload and the answer still pass
        through their encodings, errors become the same BusErrors, and as
        over NATS the handler runs on when the requester stops waiting."""
        with self.tracer.start_as_current_span(f"request {subject}", kind=trace.SpanKind.CLIENT):
            try:
                request = here.decoder.decode(encode(payload))
            except msgspec.DecodeError as exc:  # ValidationError included
                raise BusError("invalid", str(exc)) from None
            task = asyncio.create_task(self._answer_here(here, subject, request))
            self._running_here.add(task)  # held until done (the loop keeps weak references)
            task.add_done_callback(self._answered_here)
            try:
                result = await asyncio.wait_for(asyncio.shield(task), wait)
            except TimeoutError:
                raise BusError("timeout", f"no answer on {subject} within {wait:g}s") from None
        try:
            return msgspec.json.decode(encode(result), type=reply_type)
        except msgspec.DecodeError as exc:
            raise BusError("bad_reply", f"undecodable reply on {subject}: {exc}") from None

    def _answered_here(self, task: asyncio.Task[Any]) -> None:
        self._running_here.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: an answer nobody waited for any more is dropped

    async def _answer_here(self, here: _Here, subject: str, request: Any) -> Any:
        with self.tracer.start_as_current_span(f"serve {subject}", kind=trace.SpanKind.SERVER):
            return await _answer(here.handler, subject, request)

    async def serve(
        self,
        subject: str,
        request_type: Any,  # a Struct type, or a union of tagged Structs
        handler: Callable[[Any], Awaitable[Any]],
        *,
        queue: str = "",
        concurrency: int = SERVE_CONCURRENCY,
        local: bool = False,
    ) -> Served:
        """Answer requests on ``subject``; exceptions become typed error replies.

        ``local``: this process's own requests on ``subject`` (an exact
        subject) are answered here, in-process, while it serves it, instead
        of through the NATS server and back, which may hand them to another
        member of ``queue``. For the call path's hops (an originate placed by
        the replica that owns a node, issue 12); a round trip through NATS
        costs a few hundred microseconds on a quiet machine, milliseconds on
        a busy one.

        Up to ``concurrency`` requests are handled at once. nats.py hands a
        subscription's messages to its callback one after the other, so a
        handler awaited there held every later request: a node owner served
        one originate at a time (each waits for FreeSWITCH's BACKGROUND_JOB),
        40 calls/s with 16 in flight where bare ESL did 390 (issue 12). Past
        the limit the subscription's reader waits, so requests queue in NATS
        rather than in memory."""
        decoder = msgspec.json.Decoder(request_type)
        slots = asyncio.Semaphore(concurrency)
        running: set[asyncio.Task[None]] = set()

        async def on_msg(msg: Msg) -> None:
            await slots.acquire()
            task = asyncio.create_task(answer(msg))
            running.add(task)  # held until done (the loop keeps only weak references)
            task.add_done_callback(done)

        def done(task: asyncio.Task[None]) -> None:
            running.discard(task)
            slots.release()

        async def answer(msg: Msg) -> None:
            ctx = propagate.extract(msg.headers or {})
            with self.tracer.start_as_current_span(
                f"serve {subject}", context=ctx, kind=trace.SpanKind.SERVER
            ):
                try:
                    result = await _answer(handler, subject, decoder.decode(msg.data))
                    body = encode(Reply(data=msgspec.Raw(encode(result))))
                except BusError as exc:
                    body = encode(Reply(error=ErrorBody(exc.code, exc.message)))
                except msgspec.ValidationError as exc:  # the request, as decoded
                    body = encode(Reply(error=ErrorBody("invalid", str(exc))))
                except msgspec.DecodeError as exc:
                    body = encode(Reply(error=ErrorBody("invalid", f"malformed request: {exc}")))
                except Exception as exc:  # the answer would not encode
                    log.exception("answer on %s failed", subject)
                    body = encode(Reply(error=ErrorBody("internal", type(exc).__name__)))
            if msg.reply:
                try:
                    await msg.respond(body)
                except nats.errors.Error as exc:  # the connection went meanwhile
                    log.warning("reply on %s lost: %s", subject, exc)

        sub = await self.nc.subscribe(subject, queue=queue, cb=on_msg)
        here = None
        if local:
            here = _Here(decoder, handler)
            self._here[subject] = here
        return Served(self, subject, sub, here)

    def _forget(self, subject: str, here: _Here | None) -> None:
        if here is not None and self._here.get(subject) is here:
            del self._here[subject]

    async def publish(self, subject: str, payload: Any) -> None:
        await self.nc.publish(subject, encode(payload), headers=trace_headers())

    async def subscribe(
        self,
        subject: str,
        message_type: type[M],
        handler: Callable[[M], Awaitable[None]],
        *,
        queue: str = "",
    ) -> Subscription:
        """Hand each message published on ``subject`` to ``handler`` as a
        ``message_type`` (a Struct of shared/messages.py).

        A message that does not decode is logged and dropped: a publisher of
        another version must not stop the subscriber, and no handler sees an
        untyped payload. An exception the handler lets out is logged; the
        subscription goes on.
        """
        decoder = msgspec.json.Decoder(message_type)

        async def on_msg(msg: Msg) -> None:
            try:
                message = decoder.decode(msg.data)
            except msgspec.DecodeError as exc:  # ValidationError included
                log.warning("ignoring a malformed message on %s: %s", msg.subject, exc)
                return
            try:
                await handler(message)
            except Exception:
                log.exception("handler for %s failed", msg.subject)

        return await self.nc.subscribe(subject, queue=queue, cb=on_msg)

    # --- JetStream -----------------------------------------------------------------
    async def ensure_stream(self, config: StreamConfig) -> None:
        """Create the stream, or bring an existing one to ``config``; idempotent.
        Its replicas are the bus's unless ``config`` names them: raising
        SWITCHYARD_JETSTREAM_REPLICAS raises an existing stream's at the next start."""
        if config.num_replicas is None:
            config = dataclasses.replace(config, num_replicas=self.replicas)
        try:
            await self.js.add_stream(config)
        except nats.js.errors.BadRequestError as exc:
            # 10058: a stream with this name exists with another config.
            if exc.err_code != 10058:
                raise
            await self.js.update_stream(config)

    async def ensure_kv(self, config: KeyValueConfig) -> KeyValue:
        """Open the bucket, creating it first when missing (with the bus's
        replicas, unless ``config`` names others); idempotent. An existing
        bucket keeps its replicas (deploy/k8s/README.md: raising them)."""
        if config.replicas == 1:
            config = dataclasses.replace(config, replicas=self.replicas)
        try:
            return await self.js.key_value(config.bucket)
        except nats.js.errors.BucketNotFoundError:
            pass
        try:
            return await self.js.create_key_value(config)
        except nats.js.errors.BadRequestError:
            # Another replica created it between our two calls.
            return await self.js.key_value(config.bucket)

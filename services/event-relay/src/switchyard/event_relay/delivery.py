"""Sending: one lane per subscription and call, retries, 410, the attempt log.

A lane (subscription, call) sends one delivery at a time, oldest first, so a
call's ``answered`` never reaches a subscription before its ``ringing``,
retries included: a failing head holds its lane (only that lane) until it
is delivered or parked as failed. Lanes run concurrently; each subscription
has its own connection pool, so a slow or dead endpoint holds its own lanes
and connections and nobody else's.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import datetime as dt
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import msgspec
from opentelemetry import trace

from switchyard.event_relay import coocenter, coocenter_pause, xswitch
from switchyard.event_relay.httpclient import Client, HttpError, Response
from switchyard.event_relay.metrics import EventRelayMetrics
from switchyard.event_relay.retry import next_delay, retry_after
from switchyard.event_relay.store import Attempt, AttemptWriter, Job
from switchyard.event_relay.subscriptions import Subscription
from switchyard.event_relay.urlpolicy import Policy, Refused
from switchyard.shared.bus import trace_context
from switchyard.shared.tasks import cancel_and_wait

log = logging.getLogger(__name__)

SNIPPET = 512  # characters of a response body kept in the attempt log
USER_AGENT = "Switchyard-Webhooks/1"

Emit = Callable[[str, dict[str, Any]], Awaitable[None]]


def render(job: Job, coo: coocenter.Context, pause: int = 0) -> bytes:
    """The body of a delivery: the event as received, mod_ai's event made from
    it, or a coocenter push made from it (``pause``: a cc_cdr's pauseTime)."""
    if job.kind.startswith(coocenter.KIND_PREFIX):
        push = job.kind.removeprefix(coocenter.KIND_PREFIX)
        return coocenter.render(push, msgspec.json.decode(job.payload), coo, pause=pause)
    if job.kind == "ai":
        made = xswitch.channel_state(msgspec.json.decode(job.payload))
        assert made is not None  # only such events get an "ai" delivery
        return xswitch.encode(made)
    return job.payload


class Sender:
    """One subscription's HTTP client: its own connections, never shared."""

    def __init__(self, timeout: float) -> None:
        self.client = Client(timeout, max_connections=100)

    async def post(
        self, policy: Policy, url: str, headers: dict[str, str], body: bytes
    ) -> Response:
        target = await policy.check(url)
        headers = {"host": target.host_header, **headers}
        return await self.client.post(
            target.scheme, target.address, target.port, target.host, target.path, headers, body
        )


class Dispatcher:
    def __init__(
        self,
        pool: asyncpg.Pool,
        subs: Callable[[], dict[int, Subscription]],
        policy: Policy,
        writer: AttemptWriter,
        emit: Emit,
        *,
        schedule: tuple[float, ...],
        timeout: float,
        disable_after: float,
        coo: coocenter.Context | None = None,
        metrics: EventRelayMetrics | None = None,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self.metrics = metrics
        self.tracer = tracer or trace.NoOpTracer()
        self.pool = pool
        self.coo = coo or coocenter.Context()
        self.subs = subs
        self.policy = policy
        self.writer = writer
        self.emit = emit
        self.schedule = schedule
        self.timeout = timeout
        self.disable_after = disable_after
        self.rng = random.Random()  # noqa: S311 - retry jitter, not a secret
        self.lanes: dict[tuple[int, str], list[Job]] = {}
        self._tasks: dict[tuple[int, str], asyncio.Task[None]] = {}
        self._senders: dict[int, Sender] = {}
        self._held: set[int] = set()  # delivery ids in some lane
        self._sending: set[tuple[int, str]] = set()  # lanes with a request in flight
        self._again: set[int] = set()  # delivery ids replayed while in flight
        self._draining = False
        self.delivered = 0

    def enqueue(self, jobs: list[Job]) -> None:
        for job in jobs:
            if job.id in self._held:
                self._replayed(job)  # adopted again while still here
                continue
            self._held.add(job.id)
            key = (job.webhook_id, job.lane)
            lane = self.lanes.setdefault(key, [])
            # In id order: a replayed or adopted delivery takes its old place
            # (a new one, the usual case, goes last).
            if lane and lane[-1].id > job.id:
                bisect.insort(lane, job, key=lambda j: j.id)
            else:
                lane.append(job)
            if key not in self._tasks and not self._draining:
                self._tasks[key] = asyncio.create_task(self._run(key, lane))

    def _replayed(self, job: Job) -> None:
        """A delivery replayed while this dispatcher still holds it: its retries
        start anew, now; one whose attempt is in flight is sent once more when
        that attempt ends (else the replay would be lost with it)."""
        key = (job.webhook_id, job.lane)
        lane = self.lanes.get(key, [])
        held = next((j for j in lane if j.id == job.id), None)
        if held is None:
            return
        held.attempts = 0
        if key in self._sending and lane[0] is held:
            self._again.add(held.id)
            return
        held.next_at = 0.0
        task = self._tasks.get(key)
        if task is not None and key not in self._sending and not self._draining:
            # Wake a lane asleep until its head's retry (never one mid-request).
            task.cancel()
            self._tasks[key] = asyncio.create_task(self._run(key, lane))

    @property
    def pending(self) -> int:
        return sum(len(lane) for lane in self.lanes.values())

    async def drain(self, timeout: float) -> None:
        """Start no attempt; let those in flight finish and be recorded (at most ``timeout``).

        A request cut off mid-flight may have reached the endpoint with its
        attempt never written: the next leader would send it again. What is
        not in flight stays pending in Postgres for the next leader.
        """
        self._draining = True
        await cancel_and_wait(*[t for k, t in self._tasks.items() if k not in self._sending])
        busy = [t for k, t in self._tasks.items() if k in self._sending]
        if busy:
            await asyncio.wait(busy, timeout=timeout)

    async def stop(self) -> None:
        await cancel_and_wait(*self._tasks.values())
        self._tasks.clear()
        self.lanes.clear()
        self._held.clear()
        for sender in self._senders.values():
            await sender.client.aclose()
        self._senders.clear()

    def webhooks(self) -> set[int]:
        """Subscriptions this dispatcher holds anything of: lanes, or a client's
        kept connections (which a deleted one must not keep open)."""
        return {k[0] for k in self.lanes} | set(self._senders)

    def forget(self, webhook_id: int) -> None:
        """A deleted subscription: its lanes stop (its rows went with it)."""
        for key in [k for k in self._tasks if k[0] == webhook_id]:
            self._tasks.pop(key).cancel()
            for job in self.lanes.pop(key, []):
                self._held.discard(job.id)
        sender = self._senders.pop(webhook_id, None)
        if sender is not None:
            asyncio.get_running_loop().create_task(sender.client.aclose())

    async def _run(self, key: tuple[int, str], lane: list[Job]) -> None:
        try:
            while lane and not self._draining:
                job = lane[0]
                wait = job.next_at - time.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue  # a replay may have put an older delivery first
                self._sending.add(key)
                try:
                    finished = await self._attempt(job)
                except Exception:
                    log.exception("delivery %d: unexpected failure; retrying in 5 s", job.id)
                    job.next_at = time.time() + 5
                    finished = False
                finally:
                    self._sending.discard(key)
                if job.id in self._again:  # replayed while in flight: once more
                    self._again.discard(job.id)
                    job.attempts, job.next_at, finished = 0, 0.0, False
                if finished:
                    lane.remove(job)
                    self._held.discard(job.id)
        finally:
            if self._tasks.get(key) is asyncio.current_task():
                del self._tasks[key]
                if not lane:
                    self.lanes.pop(key, None)

    def _span(self, job: Job) -> contextlib.AbstractContextManager[trace.Span]:
        """The POST's CLIENT span, in the trace of the event it delivers (the
        traceparent its JetStream message carried); none for an untraced one."""
        if not job.trace:
            return contextlib.nullcontext(trace.INVALID_SPAN)
        return self.tracer.start_as_current_span(
            "webhook POST",
            context=trace_context({"traceparent": job.trace}),
            kind=trace.SpanKind.CLIENT,
            attributes={
                "http.request.method": "POST",
                "switchyard.webhook.id": job.webhook_id,
                "switchyard.event": job.event_name,
            },
        )

    def _sender(self, webhook_id: int) -> Sender:
        sender = self._senders.get(webhook_id)
        if sender is None:
            sender = self._senders[webhook_id] = Sender(self.timeout)
        return sender

    async def _attempt(self, job: Job) -> bool:
        """One try; True when the delivery is finished (delivered or parked)."""
        sub = self.subs().get(job.webhook_id)
        now = dt.datetime.now(dt.UTC)
        if sub is None or not sub.enabled:
            job.attempts += 1
            reason = "subscription deleted" if sub is None else "subscription disabled"
            if sub is not None:
                self.writer.add(
                    Attempt(
                        job, now, 0, False, 0.0, "", reason, job.attempts, "failed", time.time()
                    )
                )
            if self.metrics is not None:
                self.metrics.failures.inc()
            return True
        pause = 0
        if job.kind == coocenter.KIND_PREFIX + "cc_cdr":
            # Sent once the after-call pause that follows the call is known.
            event = msgspec.json.decode(job.payload)
            known = await coocenter_pause.pause_seconds(self.pool, event, self.coo, time.time())
            if known is None:
                job.next_at = time.time() + 1.0
                return False
            pause = known
        body = render(job, self.coo, pause)
        headers = sub.signer.headers(job.message_id, int(time.time()), body)
        headers["content-type"] = "application/json"
        # The WEBKEY digest is also a day's credential for /coocenter-api: only
        # the operator's SWITCHYARD_COOCENTER_PUSH_URL gets it, never a coocenter
        # webhook any token holder can point anywhere.
        if job.kind.startswith(coocenter.KIND_PREFIX) and sub.system:
            headers.update(self.coo.headers())
        headers["user-agent"] = USER_AGENT
        status, response, error, asked = 0, "", "", None
        started = time.perf_counter()
        try:
            with self._span(job) as span:
                r = await self._sender(sub.id).post(self.policy, sub.url, headers, body)
                span.set_attribute("http.response.status_code", r.status_code)
            status = r.status_code
            response = r.text[:SNIPPET]
            asked = retry_after(r.headers.get("retry-after"))
        except Refused as exc:
            error = f"refused: {exc}"
        except TimeoutError:
            error = f"timed out after {self.timeout:g} s"
        except HttpError as exc:
            error = str(exc)[:SNIPPET] or type(exc).__name__
        latency = (time.perf_counter() - started) * 1000
        job.attempts += 1
        ok = 200 <= status < 300
        if ok:
            outcome = "delivered"
            self.delivered += 1
        elif status == 410:
            outcome = "failed"
        else:
            delay = next_delay(self.schedule, job.attempts, asked, self.rng)
            if delay is None:
                outcome = "failed"
            else:
                outcome = "pending"
                job.next_at = time.time() + delay
        if not error and not ok:
            error = f"HTTP {status}"
        if self.metrics is not None:
            self.metrics.attempt_duration.observe(latency / 1000)
            if ok:
                self.metrics.deliveries.inc()
            elif outcome == "pending":
                self.metrics.retries.inc()
            else:
                self.metrics.failures.inc()
        self.writer.add(
            Attempt(
                job, now, status, ok, latency, response, error, job.attempts, outcome, job.next_at
            )
        )
        if not ok or sub.failing_since is not None:  # else nothing changes
            await self._after(sub, job, ok, status, outcome)
        return outcome != "pending"

    async def _after(
        self, sub: Subscription, job: Job, ok: bool, status: int, outcome: str
    ) -> None:
        """What an attempt changes about its subscription: failing, recovered, disabled."""
        if ok:
            if sub.failing_since is not None:
                since = sub.failing_since
                sub.failing_since = None
                await self.pool.execute(
                    "UPDATE webhooks SET failing_since = NULL WHERE id = $1", sub.id
                )
                await self.emit(
                    "webhook.recovered", {"webhook_id": sub.id, "failing_since": str(since)}
                )
            return
        # Read once: another lane's success may clear sub.failing_since while
        # this one awaits below (the chaos run caught a TypeError here).
        marked = sub.failing_since
        if marked is None:
            sub.failing_since = marked = dt.datetime.now(dt.UTC)
            await self.pool.execute(
                "UPDATE webhooks SET failing_since = coalesce(failing_since, now()) WHERE id = $1",
                sub.id,
            )
        if outcome == "failed" and status != 410:
            await self.emit(
                "webhook.attempt.exhausted",
                {"webhook_id": sub.id, "message_id": job.message_id, "attempts": job.attempts},
            )
        failing_for = (dt.datetime.now(dt.UTC) - marked).total_seconds()
        if status == 410:
            await self.disable(sub, "the endpoint answered 410 Gone")
        elif failing_for > self.disable_after:
            await self.disable(sub, f"deliveries failing since {marked:%Y-%m-%d %H:%M:%S}")

    async def disable(self, sub: Subscription, reason: str) -> None:
        if not sub.enabled:
            return
        sub.enabled = False
        log.warning("webhook %d disabled: %s", sub.id, reason)
        await self.pool.execute(
            "UPDATE webhooks SET enabled = false, disabled_reason = $2, updated_at = now() "
            "WHERE id = $1",
            sub.id,
            reason,
        )
        await self.emit("webhook.disabled", {"webhook_id": sub.id, "reason": reason})

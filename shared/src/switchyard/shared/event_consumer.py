"""A durable consumer of FreeSWITCH events on the SY_FS_EVENTS stream.

What a service does with relayed events it must handle each once (media
registering recordings, call-control's after-call work): one durable pull
consumer per job, shared by every replica (each message reaches one), each
event acked once handled, and handed back (nak, 5 s) when handling failed so
it comes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

import msgspec
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, ConsumerInfo, DeliverPolicy

from switchyard.shared.bus import Bus
from switchyard.shared.metrics import JetStreamMetrics, Metrics

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, object]], Awaitable[None]]
_event = msgspec.json.Decoder(dict[str, object])


class HasConsumerInfo(Protocol):
    """A pull subscription, or the relay's own puller."""

    async def consumer_info(self) -> ConsumerInfo: ...


class Lag:
    """A pull consumer's ``switchyard_jetstream_consumer_pending``, kept from
    what each fetch brings (every message says how many wait behind it) and,
    while idle, asked of the server once a fetch timeout."""

    def __init__(self, metrics: Metrics | None, consumer: str) -> None:
        gauge = None if metrics is None else metrics.bundle(JetStreamMetrics).consumer_pending
        self.gauge = None if gauge is None else gauge.labels(consumer)

    def fetched(self, msgs: list[Msg]) -> None:
        if self.gauge is not None and msgs:
            self.gauge.set(msgs[-1].metadata.num_pending)

    async def idle(self, sub: HasConsumerInfo) -> None:
        if self.gauge is not None:
            with contextlib.suppress(nats.errors.Error, TimeoutError):
                self.gauge.set((await sub.consumer_info()).num_pending or 0)


async def consume_events(
    bus: Bus,
    subject: str,
    durable: str,
    handle: Handler,
    *,
    deliver_policy: DeliverPolicy = DeliverPolicy.ALL,
    metrics: Metrics | None = None,
) -> None:
    """Run until cancelled: ``handle(subject, event)`` for each event on ``subject``;
    with ``metrics``, the consumer's lag is kept under its durable name."""
    sub = await _subscribe(bus, subject, durable, deliver_policy)
    lag = Lag(metrics, durable)
    while True:
        try:
            msgs = await sub.fetch(64, timeout=1)
        except (nats.errors.TimeoutError, TimeoutError):
            await lag.idle(sub)
            continue
        except Exception:
            log.exception("%s: fetching events failed", durable)
            await asyncio.sleep(1)
            continue
        lag.fetched(msgs)
        for msg in msgs:
            try:
                await handle(msg.subject, _event.decode(msg.data))
            except Exception:
                log.exception("%s: handling an event failed; it will be redelivered", durable)
                with contextlib.suppress(Exception):
                    await msg.nak(delay=5)
                continue
            await msg.ack()


async def _subscribe(
    bus: Bus, subject: str, durable: str, deliver_policy: DeliverPolicy
) -> nats.js.JetStreamContext.PullSubscription:
    while True:
        try:
            return await bus.js.pull_subscribe(
                subject,
                durable=durable,
                stream=bus.subjects.events_stream,
                config=ConsumerConfig(
                    deliver_policy=deliver_policy, ack_policy=AckPolicy.EXPLICIT, ack_wait=30
                ),
            )
        except (nats.js.errors.NotFoundError, nats.errors.TimeoutError):
            # The stream is call-control's; it may not have made it yet.
            await asyncio.sleep(1)

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

import msgspec
import nats.errors
import nats.js.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from switchyard.shared.bus import Bus

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, object]], Awaitable[None]]
_event = msgspec.json.Decoder(dict[str, object])


async def consume_events(
    bus: Bus,
    subject: str,
    durable: str,
    handle: Handler,
    *,
    deliver_policy: DeliverPolicy = DeliverPolicy.ALL,
) -> None:
    """Run until cancelled: ``handle(subject, event)`` for each event on ``subject``."""
    sub = await _subscribe(bus, subject, durable, deliver_policy)
    while True:
        try:
            msgs = await sub.fetch(64, timeout=1)
        except (nats.errors.TimeoutError, TimeoutError):
            continue
        except Exception:
            log.exception("%s: fetching events failed", durable)
            await asyncio.sleep(1)
            continue
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

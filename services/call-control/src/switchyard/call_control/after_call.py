"""coocenter's after-call work (api.conf ``pausetime=yes``): an agent is put On Break
after each answered queue call, for at most ``SWITCHYARD_COOCENTER_PAUSE_SECONDS``
or until it is unpaused, and the pause's length is kept for ``cc_cdr.pauseTime``.

A durable consumer of every node's ``callcenter::info`` events (one replica
handles each event) starts a pause on ``bridge-agent-end``: a row in
``coocenter_pauses`` and ``callcenter_config agent set status <agent> 'On
Break'`` on that node. Any later ``agent-status-change`` of the agent to
something else (an unpause through the API or elsewhere, a logout) ends it
there. Each replica sweeps the rows whose time is up once a second, ends
them (``FOR UPDATE SKIP LOCKED``: each row once) and sets the agent
``Available``; so a pause ends on time even when the replica that began it
is gone.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from nats.js.api import DeliverPolicy

from switchyard.call_control.node_commands import ApiResult, CallcenterConfig
from switchyard.shared.bus import BusError
from switchyard.shared.event_consumer import consume_events
from switchyard.shared.runtime import Runtime
from switchyard.shared.tasks import cancel_and_wait

log = logging.getLogger(__name__)

DURABLE = "call-control-after-call"
SUBCLASS = "callcenter::info"
SWEEP_SECONDS = 1.0

_END = (
    "UPDATE coocenter_pauses SET ended_at = now(), ended_by = $3, "
    "seconds = GREATEST(0, round(extract(epoch FROM now() - started_at)))::int "
    "WHERE node = $1 AND agent = $2 AND ended_at IS NULL"
)
_DUE = (
    "UPDATE coocenter_pauses SET ended_at = now(), ended_by = 'timeout', "
    "seconds = GREATEST(0, round(extract(epoch FROM now() - started_at)))::int "
    "WHERE id IN (SELECT id FROM coocenter_pauses WHERE ended_at IS NULL AND due_at <= now() "
    "FOR UPDATE SKIP LOCKED) RETURNING node, agent"
)


class AfterCall:
    def __init__(self, runtime: Runtime, seconds: int) -> None:
        self.runtime = runtime
        self.pause = timedelta(seconds=max(seconds, 0))
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._consume(), name="call-control:after-call"),
            asyncio.create_task(self._sweep(), name="call-control:after-call-sweep"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            await cancel_and_wait(task)
        self._tasks = []

    # --- events ------------------------------------------------------------------------

    async def _consume(self) -> None:
        bus = self.runtime.bus

        async def one(subject: str, event: dict[str, object]) -> None:
            await self.handle(bus.subjects.node_of_event(subject), event)

        # Only calls from now on (DeliverPolicy.NEW): the stream's week of
        # history would pause agents for calls long over.
        await consume_events(
            bus,
            bus.subjects.events_subclass(SUBCLASS),
            DURABLE,
            one,
            deliver_policy=DeliverPolicy.NEW,
            metrics=self.runtime.metrics,
        )

    async def handle(self, node: str, event: dict[str, object]) -> None:
        action = str(event.get("CC-Action", ""))
        agent = str(event.get("CC-Agent", ""))
        if not agent:
            return
        pool = self.runtime.pool
        if action == "bridge-agent-end":
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(_END, node, agent, "next call")
                await conn.execute(
                    "INSERT INTO coocenter_pauses "
                    "(node, agent, call_uuid, member_uuid, due_at) "
                    "VALUES ($1, $2, $3, $4, now() + $5::interval)",
                    node,
                    agent,
                    str(event.get("CC-Member-Session-UUID", "")),
                    str(event.get("CC-Member-UUID", "")),
                    self.pause,
                )
            await self._status(node, agent, "On Break")
        elif action == "agent-status-change" and event.get("CC-Agent-Status") != "On Break":
            await pool.execute(_END, node, agent, "unpause")

    # --- the end of a pause -------------------------------------------------------------

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                for row in await self.runtime.pool.fetch(_DUE):
                    await self._status(row["node"], row["agent"], "Available")
            except Exception:
                log.exception("ending after-call pauses failed; trying again")

    async def _status(self, node: str, agent: str, status: str) -> None:
        bus = self.runtime.bus
        cmd = CallcenterConfig(("agent", "set", "status", agent, status))
        try:
            await bus.request(bus.subjects.node_command(node), cmd, ApiResult)
        except BusError as exc:
            log.warning("node %s: agent %s not set %s: %s", node, agent, status, exc)

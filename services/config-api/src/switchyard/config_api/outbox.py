"""Publishes queued config-changed notices after their transaction committed.

Writers insert a row into ``config_outbox`` inside their own transaction
and ``kick()`` this worker after the commit. The worker publishes each row
on ``sy.config.changed.<resource>``, waits for NATS to acknowledge the
batch (a flush round trip) and only then deletes it. While NATS is away the
rows stay and are retried every second, so a notice is never lost; a crash
between publish and delete may repeat one (at-least-once; ``ConfigChanged.seq``
is the outbox id for de-duplication). ``FOR UPDATE SKIP LOCKED`` lets replicas
drain side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import msgspec

from switchyard.shared.messages import ConfigChanged
from switchyard.shared.runtime import Runtime
from switchyard.shared.tasks import cancel_and_wait

log = logging.getLogger(__name__)

BATCH = 200
RETRY_SECONDS = 1.0
FLUSH_TIMEOUT = 2
_decoder = msgspec.json.Decoder(ConfigChanged)


class Outbox:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.published = 0

    def kick(self) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="config-outbox")

    async def stop(self) -> None:
        if self._task is None:
            return
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a
            # cancel that lands as the wait completes, and stop() would hang.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RETRY_SECONDS):
                    await self._wake.wait()
            self._wake.clear()
            try:
                while await self.drain_once():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # NATS away or Postgres hiccup: the rows stay; retry shortly.
                log.warning("config outbox: publish deferred (%s)", type(exc).__name__)

    async def drain_once(self) -> int:
        """Publish and remove up to one batch; how many went out."""
        bus = self.runtime.bus
        if not bus.nc.is_connected:
            return 0
        async with self.runtime.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, resource, payload::text AS payload FROM config_outbox "
                "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                BATCH,
            )
            if not rows:
                return 0
            for row in rows:
                try:
                    notice = _decoder.decode(row["payload"])
                except msgspec.DecodeError:
                    # Not a ConfigChanged (a row written behind Tx's back): no
                    # subscriber could read it, and retrying it would hold back
                    # every notice after it. Dropped with the batch.
                    log.warning("config outbox: row %s is no notice; dropped", row["id"])
                    continue
                await bus.publish(
                    self.runtime.subjects.config_changed(row["resource"]),
                    msgspec.structs.replace(notice, seq=row["id"]),
                )
            await bus.nc.flush(timeout=FLUSH_TIMEOUT)
            await conn.execute(
                "DELETE FROM config_outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows]
            )
        self.published += len(rows)
        return len(rows)

"""Channel locations (``uuid -> node`` in KV ``sy_channel_location``), written behind the events.

The owner of a node records where each channel lives on CHANNEL_CREATE and
forgets it on CHANNEL_DESTROY. Awaiting each KV write in the event handler
held every following event for a NATS round trip; ``LocationWriter`` takes
the writes without blocking (``put``/``delete``) and one task drains them:

- in batches: everything queued when the task wakes (up to ``max_batch``);
- coalesced per uuid: the last op queued for a uuid wins, so a put followed
  by a delete before the batch starts is just the delete;
- a batch's ops run concurrently, and a batch ends before the next starts.
  A uuid is in at most one batch at a time, so its ops reach the KV in the
  order they were queued.

NATS errors are logged and the op is dropped, as the awaited writes did
before: the next reconciliation (every ESL (re)connection) repairs the KV.
``stop`` flushes what is queued, within a bound, so a clean stop loses no
delete. ``written(uuid)`` waits until no op for that uuid is queued or in
flight: the owner's synchronous originate uses it so a command right after
the reply finds the new channel.
"""

from __future__ import annotations

import asyncio
import logging

import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue

from switchyard.shared.tasks import cancel_and_wait

log = logging.getLogger(__name__)

_DELETE = None  # the op value meaning "delete the key"


class LocationWriter:
    def __init__(self, kv: KeyValue, node: str, *, max_batch: int = 256) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.kv = kv
        self.node = node
        self.max_batch = max_batch
        # uuid -> value to put (the node's name), or _DELETE; insertion-ordered.
        self._pending: dict[str, bytes | None] = {}
        self._inflight: set[str] = set()
        self._wakeup = asyncio.Event()
        # Replaced after every batch; waiters re-check their condition when it fires.
        self._progress = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.written_ops = 0  # ops the KV took
        self.failed = 0  # ops dropped on a NATS error
        self.coalesced = 0  # ops replaced by a later op on the same uuid

    # --- queueing (never blocks) ---------------------------------------------------------

    def put(self, uuid: str) -> None:
        self._queue(uuid, self.node.encode())

    def delete(self, uuid: str) -> None:
        self._queue(uuid, _DELETE)

    def _queue(self, uuid: str, value: bytes | None) -> None:
        if uuid in self._pending:
            self.coalesced += 1  # not yet in a batch: the newer op replaces it
        self._pending[uuid] = value
        self._wakeup.set()

    @property
    def pending(self) -> int:
        """Ops queued or in flight."""
        return len(self._pending) + len(self._inflight)

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._drain(), name=f"locations:{self.node}"
            )

    async def stop(self, *, flush_timeout: float = 5.0) -> None:
        """Write what is queued (for at most ``flush_timeout`` seconds), then end."""
        if self._task is None:
            return
        try:
            async with asyncio.timeout(flush_timeout):
                await self.flush()
        except TimeoutError:
            log.warning(
                "node %s: %d channel-location write(s) not done at stop", self.node, self.pending
            )
        await cancel_and_wait(self._task)
        self._task = None

    async def flush(self) -> None:
        """Wait until every op queued so far is done (written or dropped on an error)."""
        while self._pending or self._inflight:
            await self._progress.wait()

    async def written(self, uuid: str) -> None:
        """Wait until no op for ``uuid`` is queued or in flight."""
        while uuid in self._pending or uuid in self._inflight:
            await self._progress.wait()

    # --- the writer task ------------------------------------------------------------------

    async def _drain(self) -> None:
        while True:
            while not self._pending:
                self._wakeup.clear()
                await self._wakeup.wait()
            batch: list[tuple[str, bytes | None]] = []
            for uuid in self._pending:
                batch.append((uuid, self._pending[uuid]))
                if len(batch) >= self.max_batch:
                    break
            for uuid, _ in batch:
                del self._pending[uuid]
            self._inflight = {uuid for uuid, _ in batch}
            try:
                await asyncio.gather(*(self._write(uuid, value) for uuid, value in batch))
            finally:
                self._inflight = set()
                progress, self._progress = self._progress, asyncio.Event()
                progress.set()

    async def _write(self, uuid: str, value: bytes | None) -> None:
        try:
            if value is _DELETE:
                await self.kv.delete(uuid)
            else:
                await self.kv.put(uuid, value)
            self.written_ops += 1
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            self.failed += 1
            # Logged at warning only now and then: an outage fails every write.
            level = logging.WARNING if self.failed % 100 == 1 else logging.DEBUG
            what = "delete" if value is _DELETE else "put"
            log.log(
                level,
                "node %s: channel-location %s of %s failed (%s; %d failed so far)",
                self.node,
                what,
                uuid,
                type(exc).__name__,
                self.failed,
            )
        except Exception:
            # Not expected (a key the KV refuses?): dropped, the writer goes on.
            self.failed += 1
            log.exception("node %s: channel-location write of %s failed", self.node, uuid)

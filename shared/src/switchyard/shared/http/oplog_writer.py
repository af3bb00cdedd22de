"""Operation-log rows written a few milliseconds after their request, in batches.

The row of a write is inserted after its response has gone out
(``OperationLogMiddleware``), but inserted at once it ran exactly when a
client that sends one request after another sends the next: an originate in
sequence paid about 0.7 ms of the previous one's insert (docs/benchmarks.md,
issue 12). Rows now wait ``DELAY`` and go in one statement with whatever
else came meanwhile, so under load a batch costs one round trip instead of
one per write.

The request still waits for its own row (``add`` returns once it is in):
the row is as durable as when each was inserted alone (a process gone
before the insert loses it, as it did between reply and insert), and
whoever sees the request finished (a test over ASGI, the app's shutdown)
finds the row written. A failed insert is logged, never raised: the change
itself is committed and answered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import asyncpg

log = logging.getLogger(__name__)

DELAY = 0.005  # seconds a row waits for others; a sequence's next request is past its start by then
MAX_BATCH = 500

# operator, ip, resource, action, method, path, status, detail (JSON text), created_at
Row = tuple[str, str, str, str, str, str, int, str, dt.datetime]

_INSERT = """
INSERT INTO operation_logs
    (operator, ip, resource, action, method, path, status, detail, created_at)
SELECT o, i, r, a, m, p, s, d::jsonb, c
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::int[], $8::text[], $9::timestamptz[]) AS t(o, i, r, a, m, p, s, d, c)
"""


class OplogWriter:
    def __init__(self, pool: asyncpg.Pool, delay: float = DELAY) -> None:
        self.pool = pool
        self.delay = delay
        self._rows: list[Row] = []
        self._done: asyncio.Future[None] | None = None  # the pending batch's
        self._timer: asyncio.TimerHandle | None = None
        self._writing: set[asyncio.Task[None]] = set()

    async def add(self, row: Row) -> None:
        """Queue ``row``; return once its batch is written (or failed, logged)."""
        loop = asyncio.get_running_loop()
        if self._done is None:
            self._done = loop.create_future()
            self._timer = loop.call_later(self.delay, self._flush)
        self._rows.append(row)
        done = self._done
        if len(self._rows) >= MAX_BATCH:
            self._flush()
        # Shielded: a request cancelled now (its client went away) leaves
        # its row, and the batch's other rows, to be written all the same.
        await asyncio.shield(done)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        rows, self._rows = self._rows, []
        done, self._done = self._done, None
        if not rows or done is None:
            return
        task = asyncio.get_running_loop().create_task(self._write(rows, done))
        self._writing.add(task)  # held until done (the loop keeps weak references)
        task.add_done_callback(self._writing.discard)

    async def _write(self, rows: list[Row], done: asyncio.Future[None]) -> None:
        try:
            await self.pool.execute(_INSERT, *(list(column) for column in zip(*rows, strict=True)))
        except Exception:
            log.exception("operation log: %d row(s) not written", len(rows))
        finally:
            if not done.done():
                done.set_result(None)

    async def close(self) -> None:
        """Write what is queued and wait for the batches in flight."""
        self._flush()
        if self._writing:
            await asyncio.wait(set(self._writing))

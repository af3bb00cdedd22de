"""Operation-log rows go in batches, each request's row in before it returns."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import asyncpg

from switchyard.shared.http.oplog_writer import OplogWriter, Row


class CountingPool:
    """The real pool, counting the statements the writer sends."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.statements = 0

    async def execute(self, *args: Any) -> str:
        self.statements += 1
        result: str = await self.pool.execute(*args)
        return result


def _row(i: int) -> Row:
    now = dt.datetime.now(dt.UTC)
    return ("alice", "10.0.0.1", "routes", "create", "POST", f"/api/routes/{i}", 200, "{}", now)


async def test_rows_that_come_together_are_one_insert_and_each_is_in_when_add_returns(
    db: asyncpg.Pool,
) -> None:
    pool = CountingPool(db)
    writer = OplogWriter(pool)  # type: ignore[arg-type]

    async def write(i: int) -> int:
        await writer.add(_row(i))
        # Its own row is readable as soon as its add returned.
        return int(await db.fetchval("SELECT count(*) FROM operation_logs WHERE path = $1",
                                     f"/api/routes/{i}"))  # fmt: skip

    seen = await asyncio.gather(*(write(i) for i in range(20)))
    assert seen == [1] * 20
    assert pool.statements == 1
    rows = await db.fetch("SELECT operator, path, status, detail FROM operation_logs ORDER BY id")
    assert [r["path"] for r in rows] == [f"/api/routes/{i}" for i in range(20)]
    assert {(r["operator"], r["status"], r["detail"]) for r in rows} == {("alice", 200, "{}")}


async def test_close_writes_what_is_queued(db: asyncpg.Pool) -> None:
    writer = OplogWriter(db, delay=60)  # only close would write it
    pending = asyncio.create_task(writer.add(_row(1)))
    await asyncio.sleep(0)
    await writer.close()
    await pending
    assert await db.fetchval("SELECT count(*) FROM operation_logs") == 1


async def test_a_failed_insert_is_logged_and_the_request_goes_on(db: asyncpg.Pool) -> None:
    writer = OplogWriter(db)
    bad = ("alice", "", "routes", "create", "POST", "/x", 200, "not json", dt.datetime.now(dt.UTC))
    await writer.add(bad)  # no exception: the change it logs was committed and answered
    assert await db.fetchval("SELECT count(*) FROM operation_logs") == 0

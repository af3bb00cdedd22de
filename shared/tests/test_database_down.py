"""Postgres unreachable or restarting is a 503 with a reason, never a 500.

Found by the chaos run (`./sy chaos`, restart-postgres): every request
during the restart -- the token lookup, the write itself -- answered
``500 internal error``, which tells a client the server is broken rather
than to try again.
"""

from __future__ import annotations

import asyncpg
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from switchyard.shared.embedded import free_port
from switchyard.shared.http.errors import exception_handlers


@get("/refused")
async def refused() -> None:
    # Nothing listens there: the connect fails inside asyncpg, as the pool's
    # reconnects do while Postgres is down.
    await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres", timeout=5)


@get("/shutting-down")
async def shutting_down() -> None:
    raise asyncpg.exceptions.CannotConnectNowError("the database system is shutting down")


@get("/closed-under-a-transaction")
async def closed_under_a_transaction() -> None:
    # What a transaction's exit raises when a fast shutdown closed its connection
    # mid-query (seen by the chaos run on a config write).
    raise asyncpg.InterfaceError(
        "cannot call Transaction.__aexit__(): the underlying connection is closed"
    )


@get("/misused")
async def misused() -> None:
    raise asyncpg.InterfaceError("cannot perform operation: another operation is in progress")


@get("/broken")
async def broken() -> None:
    raise OSError("not the database: a real bug")


app = Litestar(
    [refused, shutting_down, closed_under_a_transaction, misused, broken],
    exception_handlers=exception_handlers,
)


async def test_database_unreachable_is_503_with_a_reason() -> None:
    async with AsyncTestClient(app) as client:
        for path in ("/refused", "/shutting-down", "/closed-under-a-transaction"):
            r = await client.get(path)
            assert r.status_code == 503, (path, r.text)
            assert r.json()["data"] == {"reason": "database_unavailable"}
            assert r.json()["message"]
            assert r.headers["retry-after"] == "1"


async def test_other_failures_stay_500_without_internals() -> None:
    async with AsyncTestClient(app) as client:
        for path in ("/broken", "/misused"):
            r = await client.get(path)
            assert r.status_code == 500, path
            assert r.json() == {"code": 500, "message": "internal error", "data": {}}

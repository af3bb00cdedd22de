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


@get("/broken")
async def broken() -> None:
    raise OSError("not the database: a real bug")


app = Litestar([refused, shutting_down, broken], exception_handlers=exception_handlers)


async def test_database_unreachable_is_503_with_a_reason() -> None:
    async with AsyncTestClient(app) as client:
        for path in ("/refused", "/shutting-down"):
            r = await client.get(path)
            assert r.status_code == 503, (path, r.text)
            assert r.json()["data"] == {"reason": "database_unavailable"}
            assert r.json()["message"]
            assert r.headers["retry-after"] == "1"


async def test_other_failures_stay_500_without_internals() -> None:
    async with AsyncTestClient(app) as client:
        r = await client.get("/broken")
        assert r.status_code == 500
        assert r.json() == {"code": 500, "message": "internal error", "data": {}}

"""Fixtures of the foundation tests, and the tiny service they drive:: one paged, writable resource.

It exercises what every real resource will use (lenient bodies, the list
envelope, pagination, 404s, the operation log) without depending on any
real service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest_asyncio
from litestar import Request, delete, get, post
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

from switchyard.shared.http.body import read_body
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.envelope import Created, ListPage, Ok
from switchyard.shared.http.errors import not_found
from switchyard.shared.http.paging import fetch_page, parse_paging
from switchyard.shared.runner import create_app
from switchyard.shared.service import Service
from switchyard.shared.settings import Settings

DDL = """CREATE TABLE IF NOT EXISTS things (
    id bigserial PRIMARY KEY, name text NOT NULL, max_length integer NOT NULL DEFAULT 12,
    dest_uuid text NOT NULL DEFAULT '', disabled boolean NOT NULL DEFAULT false)"""


class NewThing(msgspec.Struct):
    name: str
    max_length: int = 12
    dest_uuid: str = ""
    disabled: bool = False


@get("/api/things")
async def list_things(request: Request[Any, Any, Any], runtime: AppRuntime) -> ListPage[Any]:
    paging = parse_paging(
        request.query_params, sortable=["id", "name", "max_length"], searchable=["name"]
    )
    return await fetch_page(
        runtime.pool, select="SELECT id, name, max_length FROM things", paging=paging
    )


@get("/api/things/{thing_id:int}")
async def get_thing(thing_id: FromPath[int], runtime: AppRuntime) -> dict[str, Any]:
    row = await runtime.pool.fetchrow("SELECT * FROM things WHERE id = $1", thing_id)
    if row is None:
        raise not_found()
    return dict(row)


@post("/api/things", status_code=200)
async def create_thing(request: Request[Any, Any, Any], runtime: AppRuntime) -> Created:
    body = await read_body(request, NewThing)
    new_id = await runtime.pool.fetchval(
        "INSERT INTO things (name, max_length, dest_uuid, disabled) "
        "VALUES ($1, $2, $3, $4) RETURNING id",
        body.name,
        body.max_length,
        body.dest_uuid,
        body.disabled,
    )
    return Created(data=new_id)


@delete("/api/things/{thing_id:int}", status_code=200)
async def delete_thing(thing_id: FromPath[int], runtime: AppRuntime) -> Ok:
    if await runtime.pool.execute("DELETE FROM things WHERE id = $1", thing_id) == "DELETE 0":
        raise not_found()
    return Ok()


probe = Service(name="probe", route_handlers=[list_things, get_thing, create_thing, delete_thing])


@pytest_asyncio.fixture
async def client(settings: Settings, db: asyncpg.Pool) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """The probe service served by the real runner, on this test's database and namespace."""
    await db.execute(DDL)
    app = create_app(settings, [probe])
    async with AsyncTestClient(app) as c:
        yield c

"""The shared HTTP stack as an attacker meets it: the real runner (login,
docs UI, auth, body decoding, headers) with a small probe service, on this
test's database and NATS namespace, reached through Litestar's test client
(peer ``testclient``, host ``testserver.local``).

The probe stands in for every service's handlers: it reads bodies the three
ways services do (``read_body``, Litestar's ``data``, ``request.json()``)
and writes a row, so a forged write shows up as a row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import msgspec
import pytest_asyncio
from litestar import Request, get, post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient

from switchyard.shared.http.auth import EXCLUDE_OPT
from switchyard.shared.http.body import read_body
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.envelope import Created, ListPage, Ok
from switchyard.shared.runner import create_app
from switchyard.shared.service import Service
from switchyard.shared.settings import Settings

Client = AsyncTestClient  # type: ignore[type-arg]
OpenClient = Callable[..., Awaitable[Client]]

DDL = "CREATE TABLE IF NOT EXISTS notes (id bigserial PRIMARY KEY, text text NOT NULL)"


class Note(msgspec.Struct):
    text: str
    tags: Any = None


@get("/api/notes")
async def list_notes(runtime: AppRuntime) -> ListPage[Any]:
    rows = await runtime.pool.fetch("SELECT id, text FROM notes ORDER BY id")
    return ListPage(1, 1, len(rows), [dict(r) for r in rows])


@post("/api/notes", status_code=200)
async def create_note(request: Request[Any, Any, Any], runtime: AppRuntime) -> Created:
    note = await read_body(request, Note)
    return Created(
        await runtime.pool.fetchval("INSERT INTO notes (text) VALUES ($1) RETURNING id", note.text)
    )


@post("/api/probe/data", status_code=200)
async def data_probe(data: JSONBody[dict[str, Any]]) -> Ok:
    return Ok()


@post("/api/probe/struct", status_code=200)
async def struct_probe(data: JSONBody[Note]) -> Ok:
    return Ok()


@post("/api/probe/json", status_code=200)
async def json_probe(request: Request[Any, Any, Any]) -> Ok:
    await request.json()
    return Ok()


@post("/probe/own-auth", status_code=200, opt={EXCLUDE_OPT: True, "oplog": False})
async def own_auth_probe() -> Ok:
    """Stands in for /fs/xml, /cli: authenticated by the handler itself, not by the cookie."""
    return Ok()


probe = Service(
    name="probe",
    route_handlers=[list_notes, create_note, data_probe, struct_probe, json_probe, own_auth_probe],
)


@pytest_asyncio.fixture
async def open_http(settings: Settings, db: asyncpg.Pool) -> AsyncIterator[OpenClient]:
    """``await open_http(base_url=…, **settings_changes)``: a client on a fresh app."""
    await db.execute(DDL)
    clients: list[Client] = []

    async def open_(base_url: str = "http://testserver.local", **changes: Any) -> Client:
        app = create_app(msgspec.structs.replace(settings, **changes), [probe])
        client = AsyncTestClient(app, base_url=base_url, timeout=10)
        await client.__aenter__()
        clients.append(client)
        return client

    yield open_
    for client in reversed(clients):
        await client.__aexit__(None, None, None)


@pytest_asyncio.fixture
async def http(open_http: OpenClient) -> Client:
    return await open_http()

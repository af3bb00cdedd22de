"""config-api served by the real runner on this test's database and NATS namespace."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from switchyard.config_api.service import service
from switchyard.shared.bus import Bus
from switchyard.shared.runner import create_app
from switchyard.shared.settings import Settings


class Api:
    """An authenticated client with the spec's curl calls as one-liners."""

    def __init__(self, client: AsyncTestClient, token: str) -> None:  # type: ignore[type-arg]
        self.client = client
        self.headers = {"X-XTRA-AUTH-ID": token}

    async def call(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        content = None if body is None else msgspec.json.encode(body)
        headers = dict(self.headers)
        # The spec's curl examples post JSON with curl's default form content type
        # as often as with application/json; the API must take both.
        headers["Content-Type"] = kw.pop("content_type", "application/json")
        return await self.client.request(method, path, content=content, headers=headers, **kw)

    async def get(self, path: str, **kw: Any) -> Any:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return await self.call("POST", path, body, **kw)

    async def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return await self.call("PUT", path, body, **kw)

    async def delete(self, path: str, body: Any = None, **kw: Any) -> Any:
        return await self.call("DELETE", path, body, **kw)

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        r = await self.call(method, path, body)
        assert r.status_code == 200, (method, path, r.status_code, r.text)
        return r.json()

    async def create(self, path: str, body: Any) -> Any:
        return (await self.ok("POST", path, body))["data"]


@pytest_asyncio.fixture
async def api(settings: Settings, api_token: str) -> AsyncIterator[Api]:
    app = create_app(settings, [service])
    async with AsyncTestClient(app, timeout=10) as client:
        yield Api(client, api_token)


class Notices:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    async def next(self, timeout: float = 5.0) -> tuple[str, dict[str, Any]]:
        return await asyncio.wait_for(self.queue.get(), timeout)


@pytest_asyncio.fixture
async def notices(bus: Bus) -> AsyncIterator[Notices]:
    """Every sy.config.changed.* notice of this test's namespace."""
    seen = Notices()

    async def on_msg(msg: Any) -> None:
        seen.queue.put_nowait((msg.subject, msgspec.json.decode(msg.data)))

    sub = await bus.nc.subscribe(bus.subjects.config_changed_all, cb=on_msg)
    await bus.nc.flush()
    yield seen
    await sub.unsubscribe()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

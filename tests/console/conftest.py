"""The console's browser tests: Playwright drives the system's Chromium
(Debian's ``chromium``; Playwright's own browser download is not used)
against the real app on a real port, with real Postgres, NATS and fssim.

Without a Chromium on the PATH (or ``SWITCHYARD_CHROMIUM``) the browser
tests skip, naming what is missing; ``.ci/run`` installs it. A browser test
names ``browser`` before ``console``, so it skips before the stack starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from switchyard.call_control.service import service as call_control
from switchyard.config_api.service import service as config_api
from switchyard.fssim import Behaviour, Node
from switchyard.shared import accounts
from switchyard.shared.service import Service
from switchyard.shared.settings import Settings
from tests.conftest import Served, served_stack

ADMIN = ("boss", "boss-password-1")
VIEWER = ("watcher", "watcher-password-1")


def chromium() -> str:
    for candidate in (os.environ.get("SWITCHYARD_CHROMIUM", ""), "chromium", "chromium-browser"):
        if candidate and (found := shutil.which(candidate)):
            return found
    pytest.skip(
        "browser test: no Chromium found (apt-get install -y chromium, or SWITCHYARD_CHROMIUM)"
    )


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Any]:
    path = chromium()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("browser test: the playwright package is not installed (uv sync)")
    async with async_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        b = await p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        try:
            yield b
        finally:
            await b.close()


@dataclass
class Console:
    served: Served
    db: asyncpg.Pool
    # The tabs' browser contexts, closed before the stack stops: a live-calls
    # tab holds its event stream open, and the server waits for it to end.
    contexts: list[Any] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.served.base_url

    @property
    def node(self) -> Node:
        return self.served.node

    async def page(self, user: tuple[str, str], browser: Any, locale: str = "en-GB") -> Any:
        """A new browser tab logged in as ``user`` through the login form."""
        context = await browser.new_context(
            locale=locale, timezone_id="Asia/Shanghai", viewport={"width": 1200, "height": 800}
        )
        self.contexts.append(context)
        page = await context.new_page()
        await page.goto(f"{self.url}/console/calls")
        await page.fill("input[name=username]", user[0])
        await page.fill("input[name=password]", user[1])
        await page.click("form[action='/console/login'] button[type=submit]")
        await page.wait_for_url(f"{self.url}/console/calls")
        return page


@pytest.fixture
def console_services() -> list[Service]:
    """What the console test stack serves (a test module may override it)."""
    return [config_api, call_control]


@pytest.fixture
def console_settings(settings: Settings) -> Settings:
    return settings


@pytest_asyncio.fixture
async def console(
    console_settings: Settings,
    console_services: list[Service],
    api_token: str,
    db: asyncpg.Pool,
) -> AsyncIterator[Console]:
    """The services whose pages the console has, with one fssim node."""
    async with db.acquire() as conn:
        await accounts.create_user(conn, ADMIN[0], ADMIN[1], is_super=True)
        await accounts.create_user(conn, VIEWER[0], VIEWER[1])

    def setup(node: Node) -> None:
        node.register_user("1000", behaviour=Behaviour(ring_seconds=1.5))
        node.register_user("1002")  # a supervisor's phone

    async with served_stack(
        console_settings, api_token, console_services, node_setup=setup
    ) as served:
        console = Console(served, db)
        try:
            yield console
        finally:
            # The browser fixture outlives this one (tests name it first, to
            # skip before the stack starts): its tabs must go before the server.
            for context in console.contexts:
                with contextlib.suppress(Exception):
                    await context.close()


async def wait_for_count(db: asyncpg.Pool, sql: str, *args: Any, count: int) -> None:
    """Until ``sql`` (a count) reaches ``count``: an operation-log row is
    written as the answer goes out, so it may trail what the page shows."""
    async with asyncio.timeout(10):
        while await db.fetchval(sql, *args) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert await db.fetchval(sql, *args) == count

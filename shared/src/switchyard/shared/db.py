"""Postgres: the asyncpg pool and the migration runner.

Migrations are the plain SQL files of ``migrations/`` applied in file-name
order, each in its own transaction, under a session advisory lock so that
replicas starting together apply each file exactly once. A file already
applied whose text has since changed is an error: history is append-only.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from importlib import resources

import asyncpg

log = logging.getLogger(__name__)

# Arbitrary but fixed: every replica must contend for the same lock.
_MIGRATION_LOCK = 0x5357_4D49_4752  # "SWMIGR"


@dataclass(frozen=True)
class Migration:
    version: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(RuntimeError):
    pass


def load_migrations() -> list[Migration]:
    folder = resources.files("switchyard.shared") / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [Migration(f.name.removesuffix(".sql"), f.read_text("utf-8")) for f in files]


async def migrate(dsn: str) -> list[str]:
    """Apply pending migrations; return the versions applied by this call."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            return await _apply(conn, load_migrations())
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    finally:
        await conn.close()


async def pending(dsn: str) -> list[str]:
    """Versions this code knows that the database has not applied yet."""
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        table = await conn.fetchval("SELECT to_regclass('schema_migrations')")
        done = (
            {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            if table is not None
            else set()
        )
    finally:
        await conn.close()
    return [m.version for m in load_migrations() if m.version not in done]


async def _apply(conn: asyncpg.Connection, migrations: list[Migration]) -> list[str]:
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               version text PRIMARY KEY,
               checksum text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )
    done = {
        r["version"]: r["checksum"]
        for r in await conn.fetch("SELECT version, checksum FROM schema_migrations")
    }
    applied: list[str] = []
    for m in migrations:
        if m.version in done:
            if done[m.version] != m.checksum:
                raise MigrationError(
                    f"migration {m.version} was edited after it was applied; add a new file instead"
                )
            continue
        async with conn.transaction():
            await conn.execute(m.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)",
                m.version,
                m.checksum,
            )
        log.info("applied migration %s", m.version)
        applied.append(m.version)
    return applied


async def _keep_session(conn: asyncpg.Connection) -> None:
    """The pool's reset: nothing beyond what asyncpg always does on release
    (roll back an open transaction, drop listeners).

    asyncpg's default also sends ``pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL`` on every release: a second round trip for every
    pooled query, as much as the query itself for a one-row read (issue 12,
    docs/benchmarks.md). Nothing here leaves session state on a pooled
    connection: advisory locks, LISTEN and SET live on connections of their
    own (``migrate``, event-relay's leader), and must stay there.
    """


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, command_timeout=30, reset=_keep_session
    )
    assert pool is not None
    return pool


def redact_dsn(dsn: str) -> str:
    """The DSN with its password replaced, for logs."""
    scheme, sep, rest = dsn.partition("://")
    if not sep or "@" not in rest:
        return dsn
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else dsn

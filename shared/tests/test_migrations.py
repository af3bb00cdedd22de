from __future__ import annotations

import asyncio

import asyncpg
import pytest

from switchyard.shared.db import MigrationError, load_migrations, migrate

SCHEMA = """SELECT table_name, column_name, data_type, is_nullable, column_default
              FROM information_schema.columns WHERE table_schema = 'public'
             ORDER BY table_name, column_name"""


async def _schema(url: str) -> list[tuple[object, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(SCHEMA)]
    finally:
        await conn.close()


async def test_migrations_apply_once_and_again_change_nothing(empty_database_url: str) -> None:
    first = await migrate(empty_database_url)
    assert first == [m.version for m in load_migrations()]
    schema = await _schema(empty_database_url)
    assert any(row[0] == "api_tokens" for row in schema)

    assert await migrate(empty_database_url) == []
    assert await _schema(empty_database_url) == schema


async def test_replicas_migrating_together_apply_each_file_once(empty_database_url: str) -> None:
    results = await asyncio.gather(*(migrate(empty_database_url) for _ in range(4)))
    applied = [v for r in results for v in r]
    assert sorted(applied) == [m.version for m in load_migrations()]


async def test_an_edited_migration_is_refused(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("UPDATE schema_migrations SET checksum = 'edited'")
    finally:
        await conn.close()
    with pytest.raises(MigrationError, match="edited after it was applied"):
        await migrate(database_url)

"""``switchyard check``: stored configuration values that break their rule.

config-api refuses an unsafe value at input (framework/rules.py); rows
stored before a rule existed, or written behind the API's back, are still
in the tables. This command runs the same declarations (``Col.rule`` and
``Resource.vet``) over every stored row and prints each violation as
``<table> <id> <field>: <reason>``; it exits 1 when there is any. The
routing engine and the document builders skip such values at run time; the
command tells the operator which rows to fix.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import asyncpg

from switchyard.config_api.framework.rules import problems
from switchyard.config_api.framework.spec import Resource
from switchyard.config_api.resources import (
    contexts,
    dods,
    extensions,
    func_codes,
    gateways,
    hotlines,
    ivrs,
    number_translation,
    routes,
    time_rules,
    trunks,
)
from switchyard.shared.fsvalues import Applications, fs_applications
from switchyard.shared.settings import Settings

# Every declaration that carries a rule (tests/test_value_rules.py checks
# that none is left out).
RESOURCES: tuple[Resource, ...] = (
    extensions.EXTENSIONS,
    contexts.CONTEXTS,
    gateways.GATEWAYS,
    gateways.PARAMS.res,
    gateways.VARIABLES.res,
    ivrs.IVRS,
    ivrs.ACTIONS.res,
    routes.ROUTES,
    routes.PARAMS.res,
    time_rules.RULES,
    trunks.TRUNKS,
    dods.DODS,
    hotlines.HOTLINES,
    func_codes.FUNC_CODES,
    number_translation.NTS.res,
)


class Violation(NamedTuple):
    table: str
    id: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.table} {self.id} {self.field}: {self.reason}"


async def _rows(conn: asyncpg.Connection, table: str) -> AsyncIterator[dict[str, Any]]:
    query = f"SELECT * FROM {table} ORDER BY id"  # noqa: S608 - a declared table
    async for row in conn.cursor(query, prefetch=500):
        yield dict(row)


async def violations(conn: asyncpg.Connection, apps: Applications) -> list[Violation]:
    """Every stored value of every declared resource that breaks its rule."""
    found: list[Violation] = []
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        for resource in RESOURCES:
            async for row in _rows(conn, resource.table):
                for p in problems(resource, row, apps):
                    found.append(Violation(resource.table, row["id"], p.field, p.reason))
    return found


def register(sub: Any) -> None:
    """Entry point of the ``switchyard.commands`` group."""
    p: argparse.ArgumentParser = sub.add_parser(
        "check", help="list stored configuration values that break their FreeSWITCH rule"
    )
    p.set_defaults(func=cmd_check)


def cmd_check(settings: Settings, args: argparse.Namespace) -> None:
    # The admin commands' database: SWITCHYARD_DATABASE_URL, else `up`'s embedded one.
    from switchyard.shared.cli import _database

    try:
        apps = fs_applications(settings.fs_applications)
    except ValueError as exc:
        sys.exit(f"switchyard: SWITCHYARD_FS_APPLICATIONS: {exc}")

    async def run(url: str) -> list[Violation]:
        conn = await asyncpg.connect(url)
        try:
            return await violations(conn, apps)
        finally:
            await conn.close()

    with _database(settings) as url:
        try:
            found = asyncio.run(run(url))
        except asyncpg.UndefinedTableError as exc:
            sys.exit(f"switchyard: {exc}: run `switchyard migrate` first")
    for v in found:
        print(v)
    if found:
        print(f"{len(found)} stored value(s) break their rule", file=sys.stderr)
        sys.exit(1)
    print("every stored value passes its rule")

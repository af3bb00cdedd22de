"""A reload after a write reads and compiles only the routes it changed,
and answers exactly as a full load of the same moment would."""

# ruff: noqa: S608 - the statements interpolate this test's own integer ids

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import asyncpg

from switchyard.config_api import loader
from switchyard.config_api.fsxml.documents import FsIndex
from switchyard.config_api.live import build
from switchyard.config_api.routing.engine import Router

NOON = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
NUMBERS = ["1000", "10001", "2000", "20001234", "3000", "555", "5550", "9"]
CONTEXTS = ("ctx-a", "ctx-b", "ctx-c")


async def load(url: str, previous: loader.Loaded | None = None) -> loader.Loaded:
    """A full load as at start, or a reload after ``previous`` as live.py does one."""
    if previous is None:
        return await asyncio.to_thread(
            loader.load_blocking, url, domain="example.net", timezone="UTC"
        )
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    try:
        rows = await loader.load_since(pool, previous)
    finally:
        await pool.close()
    return loader.assemble(rows, domain="example.net", timezone="UTC", previous=previous)


def answers(router: Router) -> list[Any]:
    out = []
    for context in CONTEXTS:
        for number in NUMBERS:
            d = router.lookup(context, number, "100", NOON, explain=True)
            out.append((context, number, d.outcome, d.route_id, d.actions, d.time_rule_id))
    return out


def same(incremental: Router, full: Router) -> None:
    assert sorted(incremental.snapshot.routes, key=lambda r: r.id) == list(full.snapshot.routes)
    assert answers(incremental) == answers(full)
    assert sorted(incremental.tables) == sorted(full.tables)
    assert sorted(incremental.routes) == sorted(full.routes)
    assert sorted(map(repr, incremental.problems)) == sorted(map(repr, full.problems))


def same_fs(incremental: FsIndex, full: FsIndex) -> None:
    """The directory, gateways, menus, ACL and queues FreeSWITCH is served."""
    for name in ("users", "gateways", "menus", "denied", "queues", "contexts"):
        assert getattr(incremental, name) == getattr(full, name), name


async def route(conn: asyncpg.Connection, name: str, context: str, prefix: str, **kw: Any) -> int:
    cols = {"name": name, "context": context, "prefix": prefix, "max_length": 12,
            "dest_type": "FS_DEST_IP", "body": "10.0.0.1", **kw}  # fmt: skip
    names = ", ".join(cols)
    marks = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    return int(
        await conn.fetchval(
            f"INSERT INTO routes ({names}) VALUES ({marks}) RETURNING id",
            *cols.values(),
        )
    )


async def test_incremental_reloads_equal_full_loads(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.executemany(
            "INSERT INTO contexts (name, key) VALUES ($1, $1)", [(c,) for c in CONTEXTS]
        )
        ids = [await route(conn, f"r{i}", CONTEXTS[i % 3], str(1000 * (i + 1))) for i in range(6)]
        full0 = await load(database_url)
        compiled = build(full0)
        same(compiled.router, build(full0).router)

        steps: list[tuple[str, set[int]]] = [
            # a new route (its id: the next), one edited in place, one moved
            # to another context
            ("INSERT", set()),
            (f"UPDATE routes SET body = '10.0.0.9', max_length = 14 WHERE id = {ids[0]}", {ids[0]}),
            (f"UPDATE routes SET context = 'ctx-c', prefix = '555' WHERE id = {ids[1]}", {ids[1]}),
            # a param (and one the rules refuse), a time rule, a bad time rule
            (
                f"INSERT INTO route_params (route_id, k, v) VALUES ({ids[2]}, 'set', 'a=1'), "
                f"({ids[2]}, 'system', 'rm -rf /')",
                {ids[2]},
            ),
            (
                "INSERT INTO route_time_recurrences (route_id, time_recurrence, dest_type, body) "
                f"VALUES ({ids[3]}, '20260101T000000|PT24H|daily', 'FS_DEST_IP', '10.0.0.7'), "
                f"({ids[4]}, 'not a rule', 'FS_DEST_IP', '10.0.0.8')",
                {ids[3], ids[4]},
            ),
            # a deleted route, and the last routes of a context gone
            (f"DELETE FROM routes WHERE id = {ids[5]}", {ids[5]}),
            ("DELETE FROM routes WHERE context = 'ctx-a'", {ids[0], ids[3]}),
            # what a compiled route depends on beside its row: compiled in full
            ("INSERT INTO number_translations (name) VALUES ('nt')", set()),
        ]
        for sql, wrote in steps:
            if sql == "INSERT":
                wrote = {await route(conn, "new", "ctx-b", "9", max_length=1)}
            else:
                await conn.execute(sql)
            loaded = await load(database_url, previous=compiled.loaded)
            # Read incrementally: at least what the step wrote (more when a
            # transaction elsewhere on the server holds the horizon back).
            assert loaded.changed is not None and wrote <= loaded.changed, sql
            compiled = build(loaded, previous=compiled)
            same(compiled.router, build(await load(database_url)).router)

        # What did not change is not compiled again: the other routes, and
        # with only routes written, nothing of the other tables.
        # (One reload first: the last step's table is behind its horizon.)
        compiled = build(await load(database_url, previous=compiled.loaded), previous=compiled)
        await route(conn, "one more", "ctx-b", "4")
        loaded = await load(database_url, previous=compiled.loaded)
        assert loaded.changed is not None and not loaded.changed <= set(compiled.router.routes)
        again = build(loaded, previous=compiled)
        kept = [i for i in again.router.routes if i not in loaded.changed]
        assert all(again.router.routes[i] is compiled.router.routes[i] for i in kept)
        assert again.fs is compiled.fs
        assert again.router.extensions is compiled.router.extensions
        same(again.router, build(await load(database_url)).router)
    finally:
        await conn.close()


async def test_other_tables_are_read_again_only_when_written(database_url: str) -> None:
    """A write to a table beside the routes (an extension, a gateway's param,
    an ACL rule) is served by the next reload as a full load would serve it;
    a TRUNCATE of a route table makes it a full load."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("INSERT INTO contexts (name, key) VALUES ('ctx-a', 'ctx-a')")
        await route(conn, "r", "ctx-a", "100")
        gw = await conn.fetchval(
            "INSERT INTO gateways (name, realm) VALUES ('gw1', 'sip.example.net') RETURNING id"
        )
        compiled = build(await load(database_url))
        steps = [
            ("INSERT INTO extensions (extn, name, password, context) "
             "VALUES ('1001', 'Ann', 'pw-1001-x', 'ctx-a')", {"extensions"}),
            (f"INSERT INTO gateway_params (gateway_id, k, v) VALUES ({gw}, 'ping', '30')",
             {"gw_params"}),
            ("INSERT INTO iptables_rules (target_ip) VALUES ('203.0.113.9')", {"denied"}),
            ("UPDATE extensions SET disabled = 1 WHERE extn = '1001'", {"extensions"}),
        ]  # fmt: skip
        for sql, reread in steps:
            await conn.execute(sql)
            previous = compiled.loaded
            assert previous is not None
            loaded = await load(database_url, previous=previous)
            assert loaded.changed is not None, sql
            # The tables not written are the previous load's rows, not read again.
            # (More may be read again while a transaction elsewhere on the
            # server holds the horizon back.)
            kept = {n for n, rows in loaded.tables.items() if rows is previous.tables[n]}
            assert kept and not kept & reread, sql
            compiled = build(loaded, previous=compiled)
            full = build(await load(database_url))
            same(compiled.router, full.router)
            same_fs(compiled.fs, full.fs)
        assert "1001" not in compiled.fs.users
        assert compiled.fs.denied == full.fs.denied and compiled.fs.denied

        await conn.execute("TRUNCATE route_params")
        loaded = await load(database_url, previous=compiled.loaded)
        assert loaded.changed is None  # read in full
    finally:
        await conn.close()


async def test_a_write_in_flight_when_a_load_reads_is_read_by_the_next(database_url: str) -> None:
    """The horizon is the oldest transaction still open at the load: a write
    committed after the load, by a transaction that began before it, is
    not skipped."""
    conn, slow = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        await conn.execute("INSERT INTO contexts (name, key) VALUES ('ctx-a', 'ctx-a')")
        tx = slow.transaction()
        await tx.start()
        await route(slow, "late", "ctx-a", "777")  # written, not yet committed
        first = await load(database_url)
        await route(conn, "early", "ctx-a", "888")  # committed after the load began
        await tx.commit()
        second = await load(database_url, previous=first)
        assert {r.name for r in second.snapshot.routes} == {"late", "early"}
    finally:
        await conn.close()
        await slow.close()

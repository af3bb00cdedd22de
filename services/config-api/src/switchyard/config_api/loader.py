"""Postgres rows → the routing ``Snapshot`` and the ``FsConfig`` FreeSWITCH's
other fetches are answered from, with the configuration version they hold.

Everything is read in one REPEATABLE READ transaction, so the rows and
``config_version`` describe the same moment: a replica that compiled
version N has every write that was acknowledged before N was committed.
The conversions are the ones docs/routing.md lists ("For the loader").
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from switchyard.config_api.framework.spec import is_id
from switchyard.config_api.fsxml.model import (
    CcMember,
    CcQueue,
    DirUser,
    FsConfig,
    GatewayConf,
    GatewayVar,
    IvrEntry,
    IvrMenu,
)
from switchyard.config_api.routing.idmap import IdMap
from switchyard.config_api.routing.model import (
    Blacklist,
    Context,
    Dod,
    Extension,
    FuncCode,
    Gateway,
    Hotline,
    Ivr,
    NumberTranslation,
    Queue,
    Route,
    RouteParam,
    Snapshot,
    TimeRule,
    Trunk,
    TrunkGroup,
)

# Strategies that ring every trunk of a group at once; the rest try them in turn.
_PARALLEL = frozenset({"ALL", "SIMUL", "PARALLEL"})


class Loaded(msgspec.Struct, frozen=True):
    version: int
    snapshot: Snapshot
    fs: FsConfig
    # The xmin of the snapshot read (an xid8): the next load reads the
    # routes changed by transactions at or past it (0105_route_changes.sql).
    horizon: int = 0
    # Read incrementally: the ids of the routes changed since the previous
    # load (deleted ones included); None when every route was read.
    changed: frozenset[int] | None = None
    # Of those, the routes there are now (the others were deleted).
    fresh: tuple[Route, ...] = ()
    # Every route by id: the next incremental load patches it (routing/idmap.py).
    by_id: IdMap[Route] = msgspec.field(default_factory=IdMap)
    # The rows of every other table, by query: the next incremental load
    # keeps those of the tables no transaction wrote since (0106_table_changes.sql).
    tables: dict[str, list[asyncpg.Record]] = msgspec.field(default_factory=dict)


async def current_version(pool: asyncpg.Pool) -> int:
    """The committed configuration version: one indexed single-row read."""
    value = await pool.fetchval("SELECT version FROM config_version WHERE id")
    return int(value or 0)


@dataclass(frozen=True)
class Rows:
    """Every row the configuration is made of, read at one moment; when
    ``changed`` is set, of the routes only those (and their params and time
    rules) changed since the previous load."""

    version: int
    tables: dict[str, list[asyncpg.Record]]
    horizon: int = 0
    changed: frozenset[int] | None = None
    # Read incrementally: the other tables' queries read again (the rest
    # are the previous load's rows).
    reread: frozenset[str] = frozenset()


_QUERIES = {
    "routes": "SELECT * FROM routes ORDER BY id",
    "params": "SELECT * FROM route_params ORDER BY id",
    "rules": "SELECT * FROM route_time_recurrences ORDER BY id",
    "contexts": "SELECT id, key, name, hotline_enabled FROM contexts ORDER BY id",
    "blacklists": "SELECT * FROM blacklists ORDER BY id",
    "numbers": "SELECT blacklist_id, v FROM blacklist_numbers WHERE disabled = 0 ORDER BY id",
    "hotlines": "SELECT id, line_number, numbers FROM hotlines ORDER BY id",
    "dods": "SELECT id, extn, line_number, type, ref_id FROM dods ORDER BY id",
    "func_codes": "SELECT id, func_code, func_type, disabled FROM func_codes",
    "gateways": "SELECT * FROM gateways ORDER BY id",
    "gw_params": "SELECT gateway_id, k, v FROM gateway_params WHERE disabled = 0 ORDER BY id",
    "gw_vars": "SELECT gateway_id, k, v, direction FROM gateway_variables "
    "WHERE disabled = 0 ORDER BY id",
    "extensions": "SELECT * FROM extensions ORDER BY id",
    "ivrs": "SELECT * FROM ivrs ORDER BY id",
    "ivr_actions": "SELECT * FROM ivr_actions ORDER BY id",
    "trunks": "SELECT id, name, remote_addr, enabled FROM trunks ORDER BY id",
    "groups": "SELECT id, name, strategy, params FROM trunk_groups ORDER BY id",
    "nts": "SELECT id, name, type FROM number_translations ORDER BY id",
    "nt_numbers": "SELECT table_id, original_number, nts_number "
    "FROM number_translation_numbers ORDER BY id",
    "denied": "SELECT DISTINCT target_ip FROM iptables_rules ORDER BY target_ip",
    "queues": "SELECT * FROM callcenter_queues WHERE disabled = 0 ORDER BY id",
    "queue_members": "SELECT queue_id, extn, penalty, position FROM callcenter_queue_members "
    "WHERE disabled = 0 ORDER BY position, id",
}


# The table each query reads, as table_changes names it.
_SOURCES = {
    "routes": "routes",
    "params": "route_params",
    "rules": "route_time_recurrences",
    "numbers": "blacklist_numbers",
    "gw_params": "gateway_params",
    "gw_vars": "gateway_variables",
    "ivr_actions": "ivr_actions",
    "groups": "trunk_groups",
    "nts": "number_translations",
    "nt_numbers": "number_translation_numbers",
    "denied": "iptables_rules",
    "queues": "callcenter_queues",
    "queue_members": "callcenter_queue_members",
}

# The tables a route is made of: read in part when loading incrementally.
_ROUTE_QUERIES = {
    "routes": "SELECT * FROM routes WHERE id = ANY($1::bigint[]) ORDER BY id",
    "params": "SELECT * FROM route_params WHERE route_id = ANY($1::bigint[]) ORDER BY id",
    "rules": "SELECT * FROM route_time_recurrences WHERE route_id = ANY($1::bigint[]) ORDER BY id",
}
_ROUTE_TABLES = frozenset(_SOURCES[name] for name in _ROUTE_QUERIES)


async def fetch(
    conn: asyncpg.Connection,
    since: int = 0,
    kept: Mapping[str, list[asyncpg.Record]] | None = None,
) -> Rows:
    """Every row; or with ``since`` (a previous load's horizon) and ``kept``
    (its rows of the other tables) the routes changed since, and the other
    tables written since: the rest are ``kept``'s."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        head = await conn.fetchrow(
            "SELECT version, pg_snapshot_xmin(pg_current_snapshot()) AS horizon "
            "FROM config_version WHERE id"
        )
        version, horizon = int(head["version"] or 0), int(head["horizon"])
        written: set[str] = set()
        if since and kept is not None:
            found = await conn.fetch(
                "SELECT DISTINCT tbl FROM table_changes WHERE xid >= $1::xid8", since
            )
            written = {r["tbl"] for r in found}
        # A route table in table_changes was truncated: every route changed.
        if not since or kept is None or written & _ROUTE_TABLES:
            tables = {name: await conn.fetch(sql) for name, sql in _QUERIES.items()}
            return Rows(version, tables, horizon)
        found = await conn.fetch(
            "SELECT DISTINCT route_id FROM route_changes WHERE xid >= $1::xid8", since
        )
        changed = frozenset(r["route_id"] for r in found)
        tables = {}
        reread = set()
        for name, sql in _QUERIES.items():
            if name in _ROUTE_QUERIES:
                tables[name] = await conn.fetch(_ROUTE_QUERIES[name], list(changed))
            elif name in kept and _SOURCES.get(name, name) not in written:
                tables[name] = kept[name]
            else:
                tables[name] = await conn.fetch(sql)
                reread.add(name)
        return Rows(version, tables, horizon, changed, frozenset(reread))


async def load(pool: asyncpg.Pool, *, domain: str, timezone: str) -> Loaded:
    async with pool.acquire() as conn:
        rows = await fetch(conn)
    return assemble(rows, domain=domain, timezone=timezone)


async def load_since(pool: asyncpg.Pool, previous: Loaded) -> Rows:
    """What changed since ``previous``, read on the caller's loop: the rows
    are few, and a pooled connection saves opening one per reload."""
    async with pool.acquire() as conn:
        return await fetch(conn, previous.horizon, previous.tables)


def load_blocking(dsn: str, *, domain: str, timezone: str) -> Loaded:
    """``load`` for a worker thread: its own event loop and connection (a
    reload reads what changed with ``load_since``, on the caller's loop).

    Decoding 100k route rows and building their objects takes about a
    second of CPU; done on the service's loop it would stall every request
    meanwhile, /fs/xml (the call-setup path) included.
    """

    async def read() -> Rows:
        conn = await asyncpg.connect(dsn)
        try:
            return await fetch(conn)
        finally:
            await conn.close()

    return assemble(asyncio.run(read()), domain=domain, timezone=timezone)


def assemble(rows: Rows, *, domain: str, timezone: str, previous: Loaded | None = None) -> Loaded:
    """The configuration of ``rows``; read incrementally (``rows.changed``),
    the routes are ``previous``'s with the changed ones replaced, and when no
    other table was read again the rest is ``previous``'s, objects and all
    (the compiler then keeps what it built from them: live.build)."""
    t = rows.tables
    params_by = _group(t["params"], "route_id")
    rules_by = _group(t["rules"], "route_id")
    fresh = tuple(
        _route(r, params_by.get(r["id"], []), rules_by.get(r["id"], [])) for r in t["routes"]
    )
    by_id = _routes(fresh, rows.changed, previous)
    if rows.changed is not None and previous is not None and not rows.reread:
        # The routes as a view of the map, not a 100k-long tuple per write:
        # only a full compile walks them.
        snapshot = msgspec.structs.replace(previous.snapshot, routes=by_id.values())
        fs = previous.fs
    else:
        snapshot, fs = _rest(t, tuple(by_id.values()), domain=domain, timezone=timezone)
    return Loaded(
        version=rows.version,
        snapshot=snapshot,
        horizon=rows.horizon,
        changed=rows.changed,
        fresh=fresh if rows.changed is not None else (),
        by_id=by_id,
        tables={n: r for n, r in t.items() if n not in _ROUTE_QUERIES},
        fs=fs,
    )


def _rest(
    t: Mapping[str, list[asyncpg.Record]],
    routes: tuple[Route, ...],
    *,
    domain: str,
    timezone: str,
) -> tuple[Snapshot, FsConfig]:
    """The snapshot of ``routes`` and the other tables' rows ``t``, and the
    FreeSWITCH configuration of those rows."""
    contexts = t["contexts"]
    blacklists, numbers, hotlines, dods = t["blacklists"], t["numbers"], t["hotlines"], t["dods"]
    func_codes, gateways, gw_params, gw_vars = (
        t["func_codes"],
        t["gateways"],
        t["gw_params"],
        t["gw_vars"],
    )
    extensions, ivrs, ivr_actions = t["extensions"], t["ivrs"], t["ivr_actions"]
    trunks, groups, nts, nt_numbers = t["trunks"], t["groups"], t["nts"], t["nt_numbers"]
    denied = t["denied"]
    # .get: rows assembled by hand (tests) may predate the call-center tables.
    queues = _queues(t.get("queues", []), t.get("queue_members", []))
    numbers_by = _group(numbers, "blacklist_id")
    snapshot = Snapshot(
        timezone=timezone,
        domain=domain,
        routes=routes,
        contexts=tuple(
            Context(key=c["key"], name=c["name"], hotline_enabled=bool(c["hotline_enabled"]))
            for c in contexts
        ),
        blacklists=tuple(
            Blacklist(
                id=b["id"],
                name=b["name"],
                list_type=b["list_type"],
                limit_user_type=b["limit_user_type"],
                numbers=tuple(n["v"] for n in numbers_by.get(b["id"], [])),
            )
            for b in blacklists
        ),
        hotlines=tuple(Hotline(h["id"], h["line_number"], h["numbers"]) for h in hotlines),
        dods=tuple(
            Dod(d["id"], d["extn"], d["line_number"], d["type"], str(d["ref_id"])) for d in dods
        ),
        func_codes=tuple(
            FuncCode(f["id"], f["func_code"], f["func_type"], bool(f["disabled"]))
            for f in func_codes
        ),
        gateways=tuple(
            Gateway(g["id"], g["name"], bool(g["disabled"]), g["dnc"], g["sdnc"]) for g in gateways
        ),
        extensions=tuple(
            Extension(
                id=e["id"],
                extn=e["extn"],
                context=e["context"],
                domain=e["domain"],
                call_authority=e["call_authority"],
                disabled=bool(e["disabled"]),
            )
            for e in extensions
        ),
        ivrs=tuple(Ivr(i["id"], i["name"]) for i in ivrs),
        # A disabled trunk is left out: a route to it hangs up NO_ROUTE_DESTINATION.
        trunks=tuple(Trunk(t["id"], t["name"], t["remote_addr"]) for t in trunks if t["enabled"]),
        trunk_groups=tuple(
            TrunkGroup(
                id=g["id"],
                name=g["name"],
                trunk_ids=_member_ids(g["params"]),
                sequential=(g["strategy"] or "").upper() not in _PARALLEL,
            )
            for g in groups
        ),
        number_translations=_translations(nts, nt_numbers),
        queues=tuple(Queue(q.id, q.name) for q in queues),
    )
    fs = _fs_config(domain, contexts, extensions, gateways, gw_params, gw_vars, ivrs, ivr_actions)
    fs = msgspec.structs.replace(fs, denied=tuple(r["target_ip"] for r in denied), queues=queues)
    return snapshot, fs


def _queues(rows: list[asyncpg.Record], members: list[asyncpg.Record]) -> tuple[CcQueue, ...]:
    by = _group(members, "queue_id")
    return tuple(
        CcQueue(
            id=q["id"],
            name=q["name"],
            strategy=q["strategy"],
            moh_sound=q["moh_sound"],
            max_wait_time=q["max_wait_time"],
            max_wait_time_with_no_agent=q["max_wait_time_with_no_agent"],
            max_wait_time_with_no_agent_time_reached=q["max_wait_time_with_no_agent_time_reached"],
            agent_timeout=q["agent_timeout"],
            members=tuple(
                CcMember(m["extn"], m["penalty"], m["position"]) for m in by.get(q["id"], [])
            ),
        )
        for q in rows
    )


def _routes(
    read: tuple[Route, ...], changed: frozenset[int] | None, previous: Loaded | None
) -> IdMap[Route]:
    """Every route by id: those read, or with ``changed`` (an incremental
    load) ``previous``'s with the changed ones replaced or gone. (Their
    order does not matter: a context's table sorts its own.)"""
    if changed is None:
        return IdMap((r.id, r) for r in read)
    if previous is None:
        raise ValueError("an incremental load needs the previous one")
    return previous.by_id.patched(changed, ((r.id, r) for r in read))


def _group(rows: Iterable[asyncpg.Record], key: str) -> dict[Any, list[asyncpg.Record]]:
    out: dict[Any, list[asyncpg.Record]] = {}
    for row in rows:
        out.setdefault(row[key], []).append(row)
    return out


def _route(r: Mapping[str, Any], params: list[Any], rules: list[Any]) -> Route:
    blacklist = (r["blacklist"] or "").strip()
    bill: Decimal = r["bill_rate"]
    return Route(
        id=r["id"],
        name=r["name"],
        dest_type=r["dest_type"],
        context=r["context"],
        prefix=r["prefix"],
        max_length=r["max_length"],
        dest_uuid=r["dest_uuid"],
        body=r["body"],
        disabled=bool(r["disabled"]),
        auto_record=bool(r["auto_record"]),
        proxy_media=bool(r["proxy_media"]),
        media_codec=r["media_codec"],
        cid_number=r["cid_number"],
        route_type=r["route_type"],
        # 0 is the column's default, "no rate": not worth a channel variable.
        bill_rate=str(bill) if bill else "",
        dnc=r["dnc"],
        sdnc=r["sdnc"],
        blacklist=int(blacklist) if is_id(blacklist) else None,
        params=tuple(
            RouteParam(p["id"], p["k"], p["v"], bool(p["disabled"]), p["o"]) for p in params
        ),
        time_rules=tuple(
            TimeRule(t["id"], t["time_recurrence"], t["dest_type"], t["dest_uuid"], t["body"])
            for t in rules
        ),
    )


def _member_ids(params: str) -> tuple[int, ...]:
    """Trunk group members, when the group's ``params`` JSON lists them
    (``{"trunk_ids": [1, 2]}`` or ``{"trunks": [...]}``); the schema has no
    membership table yet."""
    try:
        data = json.loads(params) if params else None
    except ValueError:
        return ()
    if not isinstance(data, dict):
        return ()
    ids = data.get("trunk_ids", data.get("trunks"))
    if not isinstance(ids, list):
        return ()
    return tuple(int(i) for i in ids if isinstance(i, int | str) and is_id(str(i)))


def _translations(
    tables: list[asyncpg.Record], numbers: list[asyncpg.Record]
) -> tuple[NumberTranslation, ...]:
    by = _group(numbers, "table_id")
    return tuple(
        NumberTranslation(
            id=t["id"],
            name=t["name"],
            type=t["type"],
            numbers=tuple((n["original_number"], n["nts_number"]) for n in by.get(t["id"], [])),
        )
        for t in tables
    )


def _fs_config(
    domain: str,
    contexts: list[asyncpg.Record],
    extensions: list[asyncpg.Record],
    gateways: list[asyncpg.Record],
    gw_params: list[asyncpg.Record],
    gw_vars: list[asyncpg.Record],
    ivrs: list[asyncpg.Record],
    ivr_actions: list[asyncpg.Record],
) -> FsConfig:
    params_by = _group(gw_params, "gateway_id")
    vars_by = _group(gw_vars, "gateway_id")
    actions_by = _group(ivr_actions, "ivr_menu_id")
    return FsConfig(
        domain=domain,
        users=tuple(
            DirUser(
                id=e["id"],
                extn=e["extn"],
                password=e["password"],
                context=e["context"],
                domain=e["domain"],
                name=e["name"],
                cid_name=e["cid_name"],
                cid_number=e["cid_number"],
                disabled=bool(e["disabled"]),
            )
            for e in extensions
        ),
        gateways=tuple(
            GatewayConf(
                id=g["id"],
                name=g["name"],
                realm=g["realm"],
                username=g["username"],
                password=g["password"],
                profile=g["profile_id"],
                register=g["register"],
                disabled=bool(g["disabled"]),
                params=tuple((p["k"], p["v"]) for p in params_by.get(g["id"], [])),
                variables=tuple(
                    GatewayVar(v["k"], v["v"], v["direction"]) for v in vars_by.get(g["id"], [])
                ),
            )
            for g in gateways
        ),
        ivrs=tuple(_menu(i, actions_by.get(i["id"], [])) for i in ivrs),
        context_keys=tuple((c["id"], c["key"]) for c in contexts),
    )


_MENU_FIELDS = tuple(f for f in IvrMenu.__struct_fields__ if f not in ("id", "name", "entries"))


def _menu(row: Mapping[str, Any], actions: list[asyncpg.Record]) -> IvrMenu:
    return IvrMenu(
        id=row["id"],
        name=row["name"],
        entries=tuple(
            IvrEntry(
                id=a["id"],
                digits=a["digits"],
                action=a["action"],
                match_prefix=bool(a["match_prefix"]),
                args=a["args"],
                body=a["body"],
            )
            for a in actions
        ),
        **{f: row[f] for f in _MENU_FIELDS},
    )

"""The routing configuration the config-api benchmarks write straight into
Postgres, and the dialplan fetch they send at it."""

from __future__ import annotations

import random
from pathlib import Path
from urllib.parse import quote

import asyncpg

# FreeSWITCH's captured dialplan fetch (about 200 fields).
DIALPLAN_SAMPLE = (
    Path(__file__).parents[1]
    / "services/config-api/tests/routing/data/dialplan-request-loopback.form"
)


async def gateway_and_contexts(conn: asyncpg.Connection, contexts: int) -> int:
    """Gateway ``gw`` (realm example.net) and contexts ``ctx0``..; the gateway's id."""
    gw: int = await conn.fetchval(
        "INSERT INTO gateways (name, realm) VALUES ('gw', 'example.net') RETURNING id"
    )
    await conn.executemany(
        "INSERT INTO contexts (name, key) VALUES ($1, $1)",
        [(f"ctx{c}",) for c in range(contexts)],
    )
    return gw


async def numbered_routes(
    conn: asyncpg.Connection, routes: int, contexts: int, gw: int, rng: random.Random
) -> list[int]:
    """Route ``r<i>`` with prefix ``i`` in context ``ctx<i % contexts>`` to the
    gateway, its max_length drawn from ``rng``; the table analysed; the ids."""
    lengths = [rng.choice((8, 11, 12, 16)) for _ in range(routes)]
    # Prefixes are unique (i itself), so (context, prefix, max_length) is too.
    await conn.copy_records_to_table(
        "routes",
        columns=["name", "prefix", "max_length", "context", "dest_type", "dest_uuid", "body"],
        records=[
            (f"r{i}", str(i), n, f"ctx{i % contexts}", "FS_DEST_GATEWAY", str(gw), "gw")
            for i, n in enumerate(lengths)
        ],
    )
    await conn.execute("ANALYZE routes")
    return [r["id"] for r in await conn.fetch("SELECT id FROM routes")]


async def announce_routes(conn: asyncpg.Connection) -> None:
    """A routes notice left in the outbox, as a write through the API leaves
    one (shared/messages.ConfigChanged)."""
    await conn.execute(
        "INSERT INTO config_outbox (resource, payload) VALUES ('routes', $1::jsonb)",
        '{"resource": "routes", "action": "create", "ids": []}',
    )


def dialplan_form(template: str, context: str, number: str) -> str:
    """The captured dialplan fetch ``template`` for a call to ``number`` in ``context``."""
    out = []
    for part in template.strip().split("&"):
        key, _, _ = part.partition("=")
        if key in ("Caller-Context", "Hunt-Context"):
            part = f"{key}={quote(context)}"
        elif key in ("Caller-Destination-Number", "Hunt-Destination-Number"):
            part = f"{key}={quote(number)}"
        out.append(part)
    return "&".join(out)

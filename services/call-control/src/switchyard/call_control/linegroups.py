"""mod_cti's ``linegroup/<group>/<number>`` dial strings, through config-api's trunk groups.

A trunk group (table ``trunk_groups``, its trunk ids in ``params``) is tried
trunk by trunk in its order: ``sofia/external/<number>@<remote_addr>|…``
(``|``: the next only when the previous failed), enabled trunks only, the
way call-control dials a trunk elsewhere (trunks_http.py). The result is
checked like any dial string when the originate line is (cti_originate.py).
"""

from __future__ import annotations

import re

import asyncpg

from switchyard.call_control.cli_rules import CliRefused
from switchyard.call_control.trunks_http import members
from switchyard.shared.fsvalues import PEER

_LINEGROUP = re.compile(r"linegroup/([^/\s{}\[\]()',|]{1,128})/([0-9A-Za-z*#+._-]{1,64})")
PROFILE = "external"


async def expand_linegroups(pool: asyncpg.Pool | None, args: str) -> str:
    """``args`` with every ``linegroup/<group>/<number>`` replaced by its trunks."""
    found = {m[1] for m in _LINEGROUP.finditer(args)}
    if not found:
        return args
    if pool is None:
        raise CliRefused("linegroup/ needs the database")
    async with pool.acquire() as conn:
        groups = {
            r["name"]: r["params"]
            for r in await conn.fetch(
                "SELECT name, params FROM trunk_groups WHERE name = ANY($1::text[])", list(found)
            )
        }
        trunks = {
            r["id"]: r["remote_addr"]
            for r in await conn.fetch("SELECT id, remote_addr FROM trunks WHERE enabled")
        }
    dials: dict[str, list[str]] = {}
    for name in found:
        if name not in groups:
            raise CliRefused(f"linegroup {name!r}: no such trunk group")
        addrs = [trunks[i] for i in members(groups[name]) if i in trunks]
        # A stored address the rules refuse is skipped, never dialled.
        addrs = [a.removeprefix("sips:").removeprefix("sip:") for a in addrs if PEER.ok(a)]
        if not addrs:
            raise CliRefused(f"linegroup {name!r}: no enabled trunk")
        dials[name] = addrs

    def one(m: re.Match[str]) -> str:
        return "|".join(f"sofia/{PROFILE}/{m[2]}@{a}" for a in dials[m[1]])

    return _LINEGROUP.sub(one, args)

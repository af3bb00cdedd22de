"""Configuration changes FreeSWITCH must hear about, turned into commands.

Most configuration reaches FreeSWITCH through mod_xml_curl on the next call
and needs no command. What FreeSWITCH caches or loads once does: the ACL
(IP blacklist), the XML cache (directory, IVR menus), mod_callcenter's
queues, agents and tiers (``sync_callcenter``), and the gateways,
which are reconciled against the configured rows: a disabled gateway is
killed, a changed one restarted, a new one started, on the profile
config-api's sofia.conf puts it on (``shared.sofia_profiles``). Gateways the
table does not know (static XML on a real FreeSWITCH) are never touched; so
a gateway row that was deleted stays loaded until the node restarts or an
operator kills it (PUT /api/gateways/control). Each replica does this for
the nodes it owns.

No change needs ``sofia profile <p> rescan``: the profiles' own settings
are constants of config-api (no table, no notice), and gateways are applied
one by one with ``killgw``/``startgw``, which reads that gateway's entry of
sofia.conf; a rescan would only add gateways, never change or remove a
loaded one.

Notices are fire-and-forget, so a node can miss some (its ESL connection was
down, or no replica owned it). Each time an owner (re)connects to a node it
re-applies what they could have said: ``reloadxml``, ``reloadacl`` and the
gateway reconciliation (``resync``). A gateway row *changed* while nobody
listened is not restarted by it (nothing tells which rows changed); a
disabled, enabled or new one is handled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from switchyard.call_control.agent import NodeAgent
from switchyard.call_control.sofia import parse_sofia_status
from switchyard.shared.callcenter import agent_name, queue_name
from switchyard.shared.fsvalues import NAME, UnsafeValue, callcenter_config_args
from switchyard.shared.messages import ConfigChanged
from switchyard.shared.sofia_profiles import gateway_profile

log = logging.getLogger(__name__)


# resource -> plain API commands to run on every owned node
COMMANDS: dict[str, tuple[str, ...]] = {
    "iptables": ("reloadacl",),
    "extensions": ("reloadxml",),
    "ivrs": ("reloadxml",),
    "contexts": ("reloadxml",),
}
# What a node that may have missed notices is told again.
RESYNC = ("reloadxml", "reloadacl")


async def sync_gateways(agent: NodeAgent, pool: asyncpg.Pool, changed: set[str]) -> list[str]:
    """Bring the node's loaded gateways in line with the table; return the commands run."""
    status = parse_sofia_status(await agent.client.api("sofia status"))
    rows = await pool.fetch("SELECT name, profile_id, disabled FROM gateways")
    # A name FreeSWITCH would read as more than one argument (stored before
    # config-api refused such names) is left alone, and the others still run.
    for r in rows:
        if not NAME.ok(r["name"]):
            log.warning("node %s: gateway %r skipped: name %s", agent.name, r["name"], NAME.reason)
    rows = [r for r in rows if NAME.ok(r["name"])]
    wanted = {r["name"]: r["profile_id"] for r in rows if not r["disabled"]}
    disabled = {r["name"] for r in rows if r["disabled"]}
    loaded = {g.name: g.profile for g in status.gateways}
    run: list[str] = []
    for name, profile in loaded.items():
        if name in disabled or name in changed:
            run.append(f"sofia profile {profile} killgw {name}")
    for name, profile_id in wanted.items():
        if name not in loaded or name in changed:
            target = gateway_profile(profile_id)
            if target in status.profiles:
                run.append(f"sofia profile {target} startgw {name}")
            else:
                # sofia.conf lists the gateway under that profile only.
                log.warning("node %s: no profile %s to start gateway %s", agent.name, target, name)
    for command in run:
        log.info("node %s: %s", agent.name, command)
        await agent.client.api(command)
    return run


async def sync_callcenter(agent: NodeAgent, pool: asyncpg.Pool) -> list[str]:
    """mod_callcenter reads callcenter.conf (config-api's queues) when it loads,
    not on each call: after a change every queue is reloaded, every member's
    agent and the tiers read again, and tiers of our queues the table no
    longer has are deleted. Returns the commands run."""
    queues = await pool.fetch("SELECT id, name FROM callcenter_queues WHERE disabled = 0")
    members = await pool.fetch(
        "SELECT queue_id, extn FROM callcenter_queue_members WHERE disabled = 0"
    )
    names = {q["id"]: queue_name(q["name"]) for q in queues}
    wanted = {
        (names[m["queue_id"]], agent_name(m["extn"])) for m in members if m["queue_id"] in names
    }
    lines = [("queue", "reload", q) for q in names.values()]
    lines += [("agent", "reload", a) for a in sorted({a for _, a in wanted})]
    lines.append(("tier", "reload", "all"))
    run: list[str] = []
    for words in lines:
        run.append(await _callcenter(agent, words))
    for queue in names.values():
        args = callcenter_config_args("queue", ("queue", "list", "tiers", queue))
        listed = await agent.client.api(f"callcenter_config {args}")
        for row in listed.splitlines()[1:]:
            cols = row.split("|")
            if len(cols) >= 2 and (queue, cols[1]) not in wanted and cols[0] == queue:
                run.append(await _callcenter(agent, ("tier", "del", queue, cols[1])))
    return run


async def _callcenter(agent: NodeAgent, words: tuple[str, ...]) -> str:
    try:
        line = f"callcenter_config {callcenter_config_args('callcenter', words)}"
    except UnsafeValue as exc:
        # A row stored before the rules (a name FreeSWITCH would misread).
        log.warning("node %s: %s skipped: %s", agent.name, " ".join(words), exc.reason)
        return ""
    await agent.client.api(line)
    return line


async def resync(agent: NodeAgent, pool: asyncpg.Pool | None) -> None:
    """Re-apply what notices missed while nobody listened could have said."""
    for command in RESYNC:
        await agent.client.api(command)
    if pool is not None:
        await sync_callcenter(agent, pool)
        run = await sync_gateways(agent, pool, set())
        log.info("node %s: configuration re-applied (%d gateway command(s))", agent.name, len(run))


# config-api serves an acknowledged write through /fs/xml within a second
# (docs/routing.md): mod_callcenter is told to reload after that, once for a
# burst of notices.
CALLCENTER_DELAY = 1.0


def subscriber(
    agents: Callable[[], list[NodeAgent]], pool: asyncpg.Pool
) -> Callable[[ConfigChanged], Awaitable[None]]:
    pending: dict[str, asyncio.Task[None]] = {}

    async def callcenter_later(agent: NodeAgent) -> None:
        await asyncio.sleep(CALLCENTER_DELAY)
        pending.pop(agent.name, None)
        try:
            await sync_callcenter(agent, pool)
        except Exception:
            log.exception("node %s: reloading mod_callcenter failed", agent.name)

    async def on_notice(notice: ConfigChanged) -> None:
        for agent in agents():
            if not agent.client.connected or not agent.owns():
                continue
            try:
                for command in COMMANDS.get(notice.resource, ()):
                    await agent.client.api(command)
                if notice.resource == "gateways":
                    changed = await _gateway_names(pool, notice)
                    await sync_gateways(agent, pool, changed)
                if notice.resource == "callcenter_queues" and agent.name not in pending:
                    pending[agent.name] = asyncio.create_task(callcenter_later(agent))
            except Exception:
                log.exception("node %s: applying %s change failed", agent.name, notice.resource)

    return on_notice


async def _gateway_names(pool: asyncpg.Pool, notice: ConfigChanged) -> set[str]:
    if notice.resource != "gateways" or notice.action != "update":
        return set()
    ids = [int(i) for i in notice.ids if str(i).isdigit()]
    rows = await pool.fetch("SELECT name FROM gateways WHERE id = ANY($1::bigint[])", ids)
    return {r["name"] for r in rows}

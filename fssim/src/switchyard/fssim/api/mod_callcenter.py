"""mod_callcenter's API: ``callcenter_config`` and ``callcenter_break``, with 1.10.12's
replies byte for byte (freeswitch-observed part b, section 1).

Arguments split on blanks, single quotes group words (``'On Break'``).
Lists are pipe-separated: a header row, the rows, ``+OK``; no rows is
``+OK`` alone. Status and state values are matched without case and stored
as given (an agent set ``available`` is never offered calls).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from switchyard.fssim import callcenter
from switchyard.fssim.argv import atoi, separate
from switchyard.fssim.callcenter import (
    AGENT_STATES,
    AGENT_STATUSES,
    AGENT_TYPES,
    OFFERABLE,
    TIER_STATES,
    Agent,
    CallCenter,
    Member,
    Queue,
    Tier,
    matching,
)
from switchyard.fssim.executor import Executor

INVALID = "-ERR Invalid!\n"
AGENT_NOT_FOUND = "-ERR Agent not found!\n"
_SYNTAX_LINES = (
    "agent add [name] [type]",
    "agent del [name]",
    "agent reload [name]",
    "agent set status [agent_name] [status]",
    "agent set state [agent_name] [state]",
    "agent set contact [agent_name] [contact]",
    "agent set ready_time [agent_name] [wait till epoch]",
    "agent set reject_delay_time [agent_name] [wait second]",
    "agent set busy_delay_time [agent_name] [wait second]",
    "agent set no_answer_delay_time [agent_name] [wait second]",
    "agent get status [agent_name]",
    "agent get state [agent_name]",
    "agent get uuid [agent_name]",
    "agent list [[agent_name]]",
    "tier add [queue_name] [agent_name] [level] [position]",
    "tier set state [queue_name] [agent_name] [state]",
    "tier set level [queue_name] [agent_name] [level]",
    "tier set position [queue_name] [agent_name] [position]",
    "tier del [queue_name] [agent_name]",
    "tier reload [queue_name]",
    "tier list",
    "queue load [queue_name]",
    "queue unload [queue_name]",
    "queue reload [queue_name]",
    "queue list",
    "queue list agents [queue_name] [status] [state]",
    "queue list members [queue_name]",
    "queue list tiers [queue_name]",
    "queue count",
    "queue count agents [queue_name] [status] [state]",
    "queue count members [queue_name]",
    "queue count tiers [queue_name]",
)
USAGE = (
    "-USAGE: \ncallcenter_config <target> <args>,\n"
    + "".join(f"\tcallcenter_config {line} | \n" for line in _SYNTAX_LINES[:-1])
    + f"\tcallcenter_config {_SYNTAX_LINES[-1]}\n"
)
_INT_KEYS = (
    "max_no_answer",
    "wrap_up_time",
    "ready_time",
    "reject_delay_time",
    "busy_delay_time",
    "no_answer_delay_time",
)


def _table(header: str, rows: list[str]) -> str:
    if not rows:
        return "+OK\n"
    return header + "\n" + "".join(r + "\n" for r in rows) + "+OK\n"


async def callcenter_config(ex: Executor, args: str) -> str:
    cc = callcenter.of(ex)
    await cc.ensure_loaded()
    w = separate(args)
    if not w:
        return USAGE
    target, rest = w[0], w[1:]
    if target == "agent":
        return await _agent(cc, rest)
    if target == "tier":
        return await _tier(cc, rest)
    if target == "queue":
        return await _queue(cc, rest)
    return INVALID


async def _agent(cc: CallCenter, w: list[str]) -> str:
    action = w[0] if w else ""
    if action == "add":
        if len(w) < 3:
            return INVALID
        if w[1] in cc.agents:
            return "-ERR Agent already exist!\n"
        if matching(w[2], AGENT_TYPES) is None:
            return "-ERR Agent type invalid!\n"
        cc.agents[w[1]] = Agent(w[1], type=w[2])
        cc.fire(None, "cc_agent_add", 1044, [("CC-Agent", w[1]), ("CC-Agent-Type", w[2])],
                action="agent-add", action_after=True)  # fmt: skip
        return "+OK\n"
    if action == "del":
        if len(w) < 2:
            return INVALID
        cc.agents.pop(w[1], None)
        cc.tiers[:] = [t for t in cc.tiers if t.agent != w[1]]
        return "+OK\n"
    if action == "reload":
        if len(w) < 2:
            return INVALID
        await cc.reload("agents", lambda a: a.get("name") == w[1])
        return "+OK\n"
    if action == "set":
        if len(w) < 4:
            return INVALID
        return _agent_set(cc, w[1], w[2], w[3])
    if action == "get":
        if len(w) < 3:
            return INVALID
        return _agent_get(cc, w[1], w[2])
    if action == "list":
        agents = [a for a in cc.agents.values() if len(w) < 2 or a.name == w[1]]
        return _table(Agent.HEADER, [a.row() for a in agents])
    return INVALID


def _agent_set(cc: CallCenter, key: str, name: str, value: str) -> str:
    agent = cc.agents.get(name)
    if agent is None:
        return AGENT_NOT_FOUND
    if key == "status":
        if matching(value, AGENT_STATUSES) is None:
            return "-ERR Invalid Agent Status!\n"
        cc.set_status(agent, value)
    elif key == "state":
        if matching(value, AGENT_STATES) is None:
            return "-ERR Invalid Agent State!\n"
        cc.set_state(agent, value)
    elif key == "state_if_waiting":
        if agent.state != "Waiting" or agent.status not in OFFERABLE:
            return AGENT_NOT_FOUND
        if matching(value, AGENT_STATES) is None:
            return "-ERR Invalid Agent State!\n"
        cc.set_state(agent, value)
    elif key == "contact":
        cc.set_contact(agent, value)
    elif key == "type":
        if matching(value, AGENT_TYPES) is None:
            return "-ERR Invalid Agent Type!\n"
        agent.type = value
    elif key == "uuid":
        agent.uuid = value
    elif key in _INT_KEYS:
        setattr(agent, key, atoi(value))
    else:
        return "-ERR Invalid Agent Update KEY!\n"
    return "+OK\n"


def _agent_get(cc: CallCenter, key: str, name: str) -> str:
    agent = cc.agents.get(name)
    if agent is None:
        return AGENT_NOT_FOUND
    values = {"status": agent.status, "state": agent.state, "uuid": agent.uuid}
    if key not in values:
        return "-ERR Invalid Agent Update KEY!\n"
    value = values[key]
    header = {"status": "CC-Agent-Status", "state": "CC-Agent-State", "uuid": "CC-Agent-UUID"}[key]
    cc.fire(None, "cc_agent_get", 1450, [("CC-Agent", name), (header, value)],
            action=f"agent-{key}-get")  # fmt: skip
    return value  # no newline; empty becomes the core's "-ERR no reply"


async def _tier(cc: CallCenter, w: list[str]) -> str:
    action = w[0] if w else ""
    if action == "add":
        if len(w) < 3:
            return INVALID
        queue, name = w[1], w[2]
        if queue not in cc.queues and not await cc.load_queue(queue):
            return "-ERR Queue not found!\n"
        if name not in cc.agents:
            return AGENT_NOT_FOUND
        if cc.tier(queue, name) is not None:
            return "-ERR Tier already exist!\n"
        level = atoi(w[3]) if len(w) > 3 else 1
        position = atoi(w[4]) if len(w) > 4 else 1
        cc.tiers.append(Tier(queue, name, "Ready", level, position))
        return "+OK\n"
    if action == "set":
        if len(w) < 5:
            return INVALID
        key, queue, name, value = w[1], w[2], w[3], w[4]
        if key not in ("state", "level", "position"):
            return "-ERR Invalid Tier Update KEY!\n"
        if key == "state" and matching(value, TIER_STATES) is None:
            return "-ERR Invalid Tier State!\n"
        tier = cc.tier(queue, name)
        if tier is None:
            return "-ERR Unknown Error!\n"
        if key == "state":
            tier.state = value
        else:
            setattr(tier, key, atoi(value))
        return "+OK\n"
    if action == "del":
        if len(w) < 3:
            return INVALID
        cc.tiers[:] = [t for t in cc.tiers if not (t.queue == w[1] and t.agent == w[2])]
        return "+OK\n"
    if action == "reload":
        if len(w) < 2:
            return INVALID
        await cc.reload("tiers", lambda t: w[1] == "all" or t.get("queue") == w[1])
        return "+OK\n"
    if action == "list":
        rows = sorted(cc.tiers, key=lambda t: (t.level, t.position))
        return _table(Tier.HEADER, [t.row() for t in rows])
    return INVALID


def _agents_of(cc: CallCenter, queue: str, w: list[str]) -> list[Agent]:
    """Agents with a tier in ``queue``, optionally of status ``w[0]`` and state ``w[1]``."""
    out = []
    for t in cc.tiers:
        agent = cc.agents.get(t.agent)
        if t.queue != queue or agent is None or agent in out:
            continue
        if w and agent.status != w[0]:
            continue
        if len(w) > 1 and agent.state != w[1]:
            continue
        out.append(agent)
    return out


def _members_of(cc: CallCenter, queue: str | None) -> list[Member]:
    return [m for m in cc.members if queue is None or m.queue == queue]


async def _queue(cc: CallCenter, w: list[str]) -> str:
    action = w[0] if w else ""
    if action in ("load", "reload"):
        if len(w) < 2:
            return INVALID
        if not await cc.load_queue(w[1]):
            return "-ERR Invalid Queue not found!\n"
        return "+OK\n"
    if action == "unload":
        if len(w) < 2:
            return INVALID
        cc.queues.pop(w[1], None)
        return "+OK\n"
    if action == "list":
        if len(w) == 1:
            return _table(Queue.HEADER, [q.row() for q in cc.queues.values()])
        sub, queue = w[1], w[2] if len(w) > 2 else None
        if sub == "agents" and queue is not None:
            return _table(Agent.HEADER, [a.row() for a in _agents_of(cc, queue, w[3:])])
        if sub == "members":
            return _table(Member.HEADER, [m.row() for m in _members_of(cc, queue)])
        if sub == "tiers" and queue is not None:
            return _table(Tier.HEADER, [t.row() for t in cc.tiers if t.queue == queue])
        return INVALID
    if action == "count":
        if len(w) == 1:
            return f"{len(cc.queues)}\n"
        sub, queue = w[1], w[2] if len(w) > 2 else ""
        if sub == "agents":
            return f"{len(_agents_of(cc, queue, w[3:]))}\n"
        if sub == "members":
            return f"{len(_members_of(cc, queue))}\n"
        if sub == "tiers":
            return f"{sum(1 for t in cc.tiers if t.queue == queue)}\n"
        return INVALID
    return INVALID


async def callcenter_break(ex: Executor, args: str) -> str:
    w = args.split()
    if len(w) < 2 or w[0] != "agent":
        return "-ERR Usage: callcenter_break agent <uuid>\n"
    ch = ex.core.find(w[1])
    if ch is None:
        return f"-ERR Session not found for uuid {w[1]}\n"
    ch.wake()
    return "+OK\n"


CALL_COMMANDS: dict[str, Callable[[Executor, str], Awaitable[str]]] = {
    "callcenter_config": callcenter_config,
    "callcenter_break": callcenter_break,
}

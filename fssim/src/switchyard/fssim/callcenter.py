"""mod_callcenter: queues, agents, tiers and members, the ``callcenter`` app's call flow.

As FreeSWITCH 1.10.12 behaves (freeswitch-observed part b, sections 1-5):
the configuration comes from ``callcenter.conf`` through mod_xml_curl (a
configuration fetch of the five basic fields; a queue not in memory is
fetched with the REQUEST_PARAMS set and ``CC-Queue``), and
``callcenter_config`` changes it at runtime (api/mod_callcenter.py answers
it from the state kept here). A member waits in its queue; agents are
offered in the queue's strategy order (tier level, then the strategy), an
agent's contact is originated with the ``cc_*`` variables, and when the
real agent channel behind it answers, the member leaves the app and is
bridged to it. Every step fires the CUSTOM ``callcenter::info`` event with
its headers in the observed order, and sets the observed channel variables.

fssim reads ``callcenter.conf`` at the first use of the module (an API
command or the app) rather than at start-up, so nodes that never use it
fetch nothing. Strategies: every strategy offers one agent at a time, in
tier level and position order (``longest-idle-agent`` by the end of the
agent's last call first, ``agent-with-least-talk-time`` by talk time,
``agent-with-fewest-calls`` by calls answered); ``ring-all`` and
``ring-progressively`` are not simulated as parallel rings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from switchyard.fssim.argv import atoi
from switchyard.fssim.channel import Channel
from switchyard.fssim.core import Core, new_uuid
from switchyard.fssim.event import Event
from switchyard.fssim.executor import Executor
from switchyard.fssim.media import play_file
from switchyard.fssim.originate import dial

log = logging.getLogger("switchyard.fssim.callcenter")

CONF = "callcenter.conf"
FILE = "mod_callcenter.c"
SUBCLASS = "callcenter::info"
SYSTEM = "single_box"
AGENT_STATUSES = ("Logged Out", "Available", "Available (On Demand)", "On Break")
AGENT_STATES = ("Idle", "Waiting", "Receiving", "In a queue call")
TIER_STATES = ("Unknown", "No Answer", "Ready", "Offering", "Active Inbound", "Standby")
AGENT_TYPES = ("callback", "uuid-standby")
OFFERABLE = ("Available", "Available (On Demand)")
# The member loop's pass and the bridge watcher's poll (outbound_agent_thread_run: 100 ms).
TICK = 0.1
# How long a loopback contact's B leg may take to bridge on to the real agent.
LOOPBACK_BRIDGE_WAIT = 5.0


def _bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in ("true", "yes", "on", "1", "enabled", "active", "allow")


def _flag(on: bool) -> str:
    return "true" if on else "false"


def _now() -> int:
    return int(time.time())


@dataclass
class Queue:
    name: str
    strategy: str = "longest-idle-agent"
    moh_sound: str = ""
    time_base_score: str = "queue"
    tier_rules_apply: bool = False
    tier_rule_wait_second: int = 0
    tier_rule_wait_multiply_level: bool = False
    tier_rule_no_agent_no_wait: bool = True
    discard_abandoned_after: int = 60
    abandoned_resume_allowed: bool = False
    max_wait_time: int = 0
    max_wait_time_with_no_agent: int = 0
    max_wait_time_with_no_agent_time_reached: int = 5
    record_template: str = ""
    calls_answered: int = 0
    calls_abandoned: int = 0
    ring_progressively_delay: int = 0
    skip_agents_with_external_calls: bool = True
    agent_no_answer_status: str = "On Break"
    last_agent_exist: float = field(default_factory=time.time)

    HEADER = (
        "name|strategy|moh_sound|time_base_score|tier_rules_apply|tier_rule_wait_second|"
        "tier_rule_wait_multiply_level|tier_rule_no_agent_no_wait|discard_abandoned_after|"
        "abandoned_resume_allowed|max_wait_time|max_wait_time_with_no_agent|"
        "max_wait_time_with_no_agent_time_reached|record_template|calls_answered|"
        "calls_abandoned|ring_progressively_delay|skip_agents_with_external_calls|"
        "agent_no_answer_status"
    )

    def row(self) -> str:
        return "|".join(
            str(v)
            for v in (
                self.name,
                self.strategy,
                self.moh_sound,
                self.time_base_score,
                _flag(self.tier_rules_apply),
                self.tier_rule_wait_second,
                _flag(self.tier_rule_wait_multiply_level),
                _flag(self.tier_rule_no_agent_no_wait),
                self.discard_abandoned_after,
                _flag(self.abandoned_resume_allowed),
                self.max_wait_time,
                self.max_wait_time_with_no_agent,
                self.max_wait_time_with_no_agent_time_reached,
                self.record_template,
                self.calls_answered,
                self.calls_abandoned,
                self.ring_progressively_delay,
                _flag(self.skip_agents_with_external_calls),
                self.agent_no_answer_status,
            )
        )

    def configure(self, params: dict[str, str]) -> None:
        """queue_set_config: the params of ``<queue>``, defaults for the rest."""
        fresh = Queue(self.name)
        ints = {
            "tier-rule-wait-second": "tier_rule_wait_second",
            "discard-abandoned-after": "discard_abandoned_after",
            "max-wait-time": "max_wait_time",
            "max-wait-time-with-no-agent": "max_wait_time_with_no_agent",
            "max-wait-time-with-no-agent-time-reached": "max_wait_time_with_no_agent_time_reached",
            "ring-progressively-delay": "ring_progressively_delay",
        }
        bools = {
            "tier-rules-apply": "tier_rules_apply",
            "tier-rule-wait-multiply-level": "tier_rule_wait_multiply_level",
            "tier-rule-no-agent-no-wait": "tier_rule_no_agent_no_wait",
            "abandoned-resume-allowed": "abandoned_resume_allowed",
            "skip-agents-with-external-calls": "skip_agents_with_external_calls",
        }
        strings = {
            "strategy": "strategy",
            "moh-sound": "moh_sound",
            "time-base-score": "time_base_score",
            "record-template": "record_template",
            "agent-no-answer-status": "agent_no_answer_status",
        }
        for key, attr in ints.items():
            value = params.get(key)
            setattr(self, attr, atoi(value) if value is not None else getattr(fresh, attr))
        for key, attr in bools.items():
            setattr(self, attr, _bool(params.get(key), getattr(fresh, attr)))
        for key, attr in strings.items():
            setattr(self, attr, params.get(key) or getattr(fresh, attr))


@dataclass
class Agent:
    name: str
    type: str = "callback"
    contact: str = ""
    status: str = "Logged Out"
    state: str = "Waiting"
    uuid: str = ""
    max_no_answer: int = 0
    wrap_up_time: int = 0
    reject_delay_time: int = 0
    busy_delay_time: int = 0
    no_answer_delay_time: int = 0
    last_bridge_start: int = 0
    last_bridge_end: int = 0
    last_offered_call: int = 0
    last_status_change: int = 0
    no_answer_count: int = 0
    calls_answered: int = 0
    talk_time: int = 0
    ready_time: int = 0
    external_calls_count: int = 0

    HEADER = (
        "name|instance_id|uuid|type|contact|status|state|max_no_answer|wrap_up_time|"
        "reject_delay_time|busy_delay_time|no_answer_delay_time|last_bridge_start|"
        "last_bridge_end|last_offered_call|last_status_change|no_answer_count|calls_answered|"
        "talk_time|ready_time|external_calls_count"
    )

    def row(self) -> str:
        return "|".join(
            str(v)
            for v in (
                self.name,
                SYSTEM,
                self.uuid,
                self.type,
                self.contact,
                self.status,
                self.state,
                self.max_no_answer,
                self.wrap_up_time,
                self.reject_delay_time,
                self.busy_delay_time,
                self.no_answer_delay_time,
                self.last_bridge_start,
                self.last_bridge_end,
                self.last_offered_call,
                self.last_status_change,
                self.no_answer_count,
                self.calls_answered,
                self.talk_time,
                self.ready_time,
                self.external_calls_count,
            )
        )


@dataclass
class Tier:
    queue: str
    agent: str
    state: str = "Ready"
    level: int = 1
    position: int = 1

    HEADER = "queue|agent|state|level|position"

    def row(self) -> str:
        return f"{self.queue}|{self.agent}|{self.state}|{self.level}|{self.position}"


@dataclass
class Member:
    queue: str
    uuid: str
    session_uuid: str
    cid_number: str
    cid_name: str
    joined_epoch: int
    channel: Channel
    bridge_epoch: int = 0
    abandoned_epoch: int = 0
    serving_agent: str = ""
    serving_system: str = ""
    state: str = "Waiting"
    offering: asyncio.Task[None] | None = None
    answered: asyncio.Event = field(default_factory=asyncio.Event)

    HEADER = (
        "queue|instance_id|uuid|session_uuid|cid_number|cid_name|system_epoch|joined_epoch|"
        "rejoined_epoch|bridge_epoch|abandoned_epoch|base_score|skill_score|serving_agent|"
        "serving_system|state|score"
    )

    def row(self) -> str:
        score = max(_now() - self.joined_epoch, 0)
        return "|".join(
            str(v)
            for v in (
                self.queue,
                SYSTEM,
                self.uuid,
                self.session_uuid,
                self.cid_number,
                self.cid_name,
                self.joined_epoch,
                self.joined_epoch,
                0,
                self.bridge_epoch,
                self.abandoned_epoch,
                0,
                0,
                self.serving_agent,
                self.serving_system,
                self.state,
                score,
            )
        )


def matching(value: str, choices: tuple[str, ...]) -> str | None:
    """cc_*_str2*: the choice equal to ``value`` ignoring case (the value is stored as given)."""
    low = value.lower()
    return next((c for c in choices if c.lower() == low), None)


class CallCenter:
    """One node's mod_callcenter: its tables and the member and agent threads."""

    def __init__(self, ex: Executor) -> None:
        self.ex = ex
        self.node: Core = ex.core
        self.loaded = False
        self.queues: dict[str, Queue] = {}
        self.agents: dict[str, Agent] = {}
        self.tiers: list[Tier] = []
        self.members: list[Member] = []

    # --- configuration -------------------------------------------------------------

    async def ensure_loaded(self) -> None:
        if self.loaded:
            return
        self.loaded = True
        root = await self.fetch(None)
        if root is not None:
            self.apply(root, queues=True, agents=True, tiers=True)

    async def fetch(self, queue: str | None) -> ET.Element | None:
        """callcenter.conf through the bound XML (the five basic fields; with the
        REQUEST_PARAMS set and ``CC-Queue`` for one queue, as load_queue asks)."""
        binding = self.node.bound_xml()
        if binding is None:
            return None
        params = Event()
        if queue is not None:
            params = self.node.event("REQUEST_PARAMS", FILE, "load_queue", 724)
            params.add("CC-Queue", queue)
        document = await binding.fetch(
            "configuration", params, tag_name="configuration", key_name="name", key_value=CONF
        )
        if document is None:
            return None
        try:
            root = ET.fromstring(document)  # noqa: S314 - the operator's configuration server
        except ET.ParseError:
            return None
        for cfg in root.iter("configuration"):
            if cfg.get("name") == CONF:
                return cfg
        return None

    def apply(
        self,
        cfg: ET.Element,
        *,
        queues: bool = False,
        only_queue: str | None = None,
        agents: bool = False,
        tiers: bool = False,
    ) -> bool:
        """Load what the document holds; True when ``only_queue`` was found."""
        found = False
        for q in cfg.iterfind("queues/queue"):
            name = q.get("name") or ""
            if not name or (only_queue is not None and name != only_queue):
                continue
            if not queues and only_queue is None:
                continue
            found = True
            queue = self.queues.get(name) or Queue(name)
            queue.configure(
                {p.get("name") or "": p.get("value") or "" for p in q.iterfind("param")}
            )
            self.queues[name] = queue
        if agents:
            for a in cfg.iterfind("agents/agent"):
                self._load_agent(a)
        if tiers:
            for t in cfg.iterfind("tiers/tier"):
                self._load_tier(t)
        return found

    def _load_agent(self, a: ET.Element) -> None:
        name = a.get("name") or ""
        if not name:
            return
        agent = self.agents.get(name)
        if agent is None:
            kind = a.get("type") or "callback"
            if matching(kind, AGENT_TYPES) is None:
                return
            agent = self.agents[name] = Agent(name, type=kind)
            self.fire(None, "cc_agent_add", 1044, [("CC-Agent", name), ("CC-Agent-Type", kind)],
                      action="agent-add", action_after=True)  # fmt: skip
        # The XML's attributes overwrite the agent on every load (section 5).
        if (contact := a.get("contact")) is not None:
            self.set_contact(agent, contact)
        if (status := a.get("status")) is not None and matching(status, AGENT_STATUSES):
            self.set_status(agent, status)
        for attr, key in (
            ("max-no-answer", "max_no_answer"),
            ("wrap-up-time", "wrap_up_time"),
            ("reject-delay-time", "reject_delay_time"),
            ("busy-delay-time", "busy_delay_time"),
            ("no-answer-delay-time", "no_answer_delay_time"),
        ):
            if (value := a.get(attr)) is not None:
                setattr(agent, key, atoi(value))

    def _load_tier(self, t: ET.Element) -> None:
        # cc_tier_add: the queue and the agent must exist (see reload for the queue).
        queue, agent = t.get("queue") or "", t.get("agent") or ""
        if queue not in self.queues or agent not in self.agents:
            return
        tier = self.tier(queue, agent)
        if tier is None:
            tier = Tier(queue, agent)
            self.tiers.append(tier)
        tier.level = atoi(t.get("level")) if t.get("level") else 1
        tier.position = atoi(t.get("position")) if t.get("position") else 1

    async def reload(self, section: str, wanted: Callable[[ET.Element], bool]) -> None:
        """``agent reload`` / ``tier reload``: callcenter.conf again (the five basic
        fields), and its ``agents`` or ``tiers`` entries that ``wanted`` picks."""
        cfg = await self.fetch(None)
        if cfg is None:
            return
        load = self._load_agent if section == "agents" else self._load_tier
        for entry in cfg.iterfind(f"{section}/{section[:-1]}"):
            if not wanted(entry):
                continue
            queue = entry.get("queue") or ""
            if section == "tiers" and queue not in self.queues:
                await self.load_queue(queue)  # a tier's queue is fetched when missing
            load(entry)

    async def load_queue(self, name: str) -> bool:
        """load_queue: the queue from a fetch naming it; the document's agents are
        read again too (one agent-contact-change per agent with a contact,
        freeswitch-observed part b section 2)."""
        cfg = await self.fetch(name)
        return cfg is not None and self.apply(cfg, only_queue=name, agents=True)

    def tier(self, queue: str, agent: str) -> Tier | None:
        return next((t for t in self.tiers if t.queue == queue and t.agent == agent), None)

    # --- events --------------------------------------------------------------------

    def fire(
        self,
        ch: Channel | None,
        function: str,
        line: int,
        headers: list[tuple[str, str]],
        *,
        action: str,
        action_after: bool = False,
        after: int = 1,
    ) -> None:
        """A CUSTOM callcenter::info: the standard headers, the channel's data when
        there is a channel, then the CC-* headers with ``CC-Action`` after the
        first ``after`` of them (after all of them for agent-add)."""
        e = self.node.event("CUSTOM", FILE, function, line, subclass=SUBCLASS)
        if ch is not None:
            ch.add_basic_data(e, with_vars=True)
        cc = list(headers)
        cc.insert(len(cc) if action_after else after, ("CC-Action", action))
        for key, value in cc:
            e.add(key, value)
        self.node.fire(e)

    def set_status(self, agent: Agent, status: str) -> None:
        agent.status = status
        agent.last_status_change = _now()
        self.fire(None, "cc_agent_update", 1279, [("CC-Agent", agent.name),
                  ("CC-Agent-Status", status)], action="agent-status-change")  # fmt: skip

    def set_state(self, agent: Agent, state: str) -> None:
        agent.state = state
        self.fire(None, "cc_agent_update", 1318, [("CC-Agent", agent.name),
                  ("CC-Agent-State", state)], action="agent-state-change")  # fmt: skip

    def set_contact(self, agent: Agent, contact: str) -> None:
        agent.contact = contact
        self.fire(None, "cc_agent_update", 1346, [("CC-Agent", agent.name),
                  ("CC-Agent-Contact", contact)], action="agent-contact-change")  # fmt: skip

    def members_count(self, queue: str) -> None:
        count = sum(
            1 for m in self.members if m.queue == queue and m.state in ("Waiting", "Trying")
        )
        self.fire(None, "cc_queue_count", 1095, [("CC-Queue", queue), ("CC-Count", str(count)),
                  ("CC-Selection", "Single-Queue")], action="members-count")  # fmt: skip

    @staticmethod
    def _member_headers(m: Member) -> list[tuple[str, str]]:
        return [
            ("CC-Member-UUID", m.uuid),
            ("CC-Member-Session-UUID", m.session_uuid),
            ("CC-Member-CID-Name", m.cid_name),
            ("CC-Member-CID-Number", m.cid_number),
        ]

    # --- the callcenter app ------------------------------------------------------------

    async def join(self, ch: Channel, data: str) -> str:
        """callcenter_function: the member's side, until an agent takes the call or it leaves."""
        await self.ensure_loaded()
        name = data.strip().split()[0] if data.strip() else ""
        queue = self.queues.get(name)
        if queue is None and name and await self.load_queue(name):
            queue = self.queues.get(name)
        if queue is None:
            log.warning("Queue %s not found", name)
            return "_none_"
        p = ch.profile
        m = Member(
            queue=name,
            uuid=new_uuid(),
            session_uuid=ch.uuid,
            cid_number=p.caller_id_number,
            cid_name=p.caller_id_name,
            joined_epoch=_now(),
            channel=ch,
        )
        v = ch.variables
        v["cc_side"] = "member"
        v["cc_member_uuid"] = m.uuid
        v["cc_queue_joined_epoch"] = str(m.joined_epoch)
        v["cc_queue"] = name
        self.members.append(m)
        start = [("CC-Queue", name), *self._member_headers(m)]
        self.fire(ch, "callcenter_function", 3061, start, action="member-queue-start")
        self.members_count(name)
        music = asyncio.ensure_future(self._hold_music(ch, queue))
        reason = ""
        try:
            reason = await self._wait(m, queue)
        except asyncio.CancelledError:
            reason = "BREAK_OUT"  # the member hung up: its session task is cancelled
            raise
        finally:
            music.cancel()
            if reason:
                self._cancel(m, queue, reason)
        return "_none_"

    async def _hold_music(self, ch: Channel, queue: Queue) -> None:
        # The member's cc_moh_override wins over the queue's moh-sound.
        music = ch.variables.get("cc_moh_override") or queue.moh_sound
        if not music:
            return
        while ch.is_up and not ch.interrupted:
            if not (await play_file(self.node, ch, music, "none"))[0]:
                return

    async def _wait(self, m: Member, queue: Queue) -> str:
        """The member's wait: "" when an agent answered, else the cancel reason."""
        ch = m.channel
        while True:
            if not ch.is_up:
                return "BREAK_OUT"
            if m.answered.is_set():
                return ""
            now = time.time()
            if self._agents_exist(queue.name):
                queue.last_agent_exist = now
            waited = now - m.joined_epoch
            if queue.max_wait_time and waited >= queue.max_wait_time:
                return "TIMEOUT"
            if (
                queue.max_wait_time_with_no_agent
                and int(now - queue.last_agent_exist) >= queue.max_wait_time_with_no_agent
                and int(waited) >= queue.max_wait_time_with_no_agent_time_reached
            ):
                return "NO_AGENT_TIMEOUT"
            if m.offering is None or m.offering.done():
                agent = self._next_agent(queue)
                if agent is not None:
                    m.offering = asyncio.ensure_future(self._offer(m, queue, agent))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK):
                    await m.answered.wait()

    def _cancel(self, m: Member, queue: Queue, reason: str) -> None:
        """member-queue-end, Cancel form: the member left without an agent."""
        ch = m.channel
        now = _now()
        ch.variables["cc_queue_canceled_epoch"] = str(now)
        ch.variables["cc_cause"] = "cancel"
        ch.variables["cc_cancel_reason"] = reason
        if m.offering is not None and not m.offering.done():
            m.offering.cancel()
        if reason == "BREAK_OUT":
            m.state, m.session_uuid, m.abandoned_epoch = "Abandoned", "", now
            queue.calls_abandoned += 1
            self.node.spawn(self._discard(m, queue.discard_abandoned_after))
        elif m in self.members:
            self.members.remove(m)
        self.fire(ch, "callcenter_function", 3216,
                  [("CC-Queue", m.queue), ("CC-Member-Leaving-Time", str(now)),
                   ("CC-Member-Joined-Time", str(m.joined_epoch)), ("CC-Cause", "Cancel"),
                   ("CC-Cancel-Reason", reason), ("CC-Member-UUID", m.uuid),
                   ("CC-Member-Session-UUID", ch.uuid), ("CC-Member-CID-Name", m.cid_name),
                   ("CC-Member-CID-Number", m.cid_number)],
                  action="member-queue-end")  # fmt: skip
        self.members_count(m.queue)

    async def _discard(self, m: Member, after: int) -> None:
        await asyncio.sleep(after)
        if m in self.members:
            self.members.remove(m)

    # --- agents ------------------------------------------------------------------------

    def _offerable(self, agent: Agent, tier: Tier) -> bool:
        return (
            agent.status in OFFERABLE
            and agent.state == "Waiting"
            and agent.ready_time <= _now()
            and tier.state in ("Ready", "No Answer")
        )

    def _agents_exist(self, queue: str) -> bool:
        for t in self.tiers:
            agent = self.agents.get(t.agent)
            if t.queue == queue and agent is not None and agent.status in OFFERABLE:
                return True
        return False

    def _next_agent(self, queue: Queue) -> Agent | None:
        busy = {m.serving_agent for m in self.members if m.serving_agent}
        candidates = [
            (t, a)
            for t in self.tiers
            if t.queue == queue.name
            and (a := self.agents.get(t.agent)) is not None
            and a.name not in busy
            and self._offerable(a, t)
        ]
        if not candidates:
            return None

        def key(pair: tuple[Tier, Agent]) -> tuple[int, int, int]:
            t, a = pair
            by = {
                "longest-idle-agent": a.last_bridge_end,
                "agent-with-least-talk-time": a.talk_time,
                "agent-with-fewest-calls": a.calls_answered,
            }.get(queue.strategy, 0)
            return (t.level, by, t.position)

        return min(candidates, key=key)[1]

    async def _offer(self, m: Member, queue: Queue, agent: Agent) -> None:
        """outbound_agent_thread_run: ring the agent, bridge on answer, report the end."""
        member = m.channel
        m.serving_agent = agent.name
        agent.last_offered_call = _now()
        self.set_state(agent, "Receiving")
        self.fire(None, "outbound_agent_thread_run", 1619,
                  [("CC-Queue", m.queue), ("CC-Agent", agent.name),
                   ("CC-Agent-Type", agent.type), ("CC-Agent-System", SYSTEM),
                   *self._member_headers(m),
                   *([("CC-Member-DNIS", member.profile.rdnis)] if member.profile.rdnis else [])],
                  action="agent-offering")  # fmt: skip
        called = _now()
        cc_vars = {
            "cc_queue": m.queue,
            "cc_queue_joined_epoch": str(m.joined_epoch),
            "cc_member_uuid": m.uuid,
            "cc_member_session_uuid": member.uuid,
            "cc_member_pre_answer_uuid": member.uuid,
            "cc_agent": agent.name,
            "cc_agent_type": agent.type,
            "cc_side": "agent",
            "loopback_bowout": "false",
            "loopback_bowout_on_execute": "false",
            "ignore_early_media": "true",
            "origination_caller_id_name": m.cid_name,
            "origination_caller_id_number": m.cid_number,
        }
        # cc_export_vars: the member's variables (comma-separated names) the agent
        # legs get too.
        for name in member.variables.get("cc_export_vars", "").split(","):
            if name.strip() and name.strip() in member.variables:
                cc_vars.setdefault(name.strip(), member.variables[name.strip()])
        legs: list[Channel] = []
        try:
            result = await dial(self.ex, agent.contact, extra_vars=cc_vars)
            if isinstance(result, str):
                self._failed(m, agent, result, called)
                return
            legs = [result] + ([result.partner] if result.partner is not None else [])
            for leg in legs:
                for key in ("cc_queue", "cc_member_uuid", "cc_member_session_uuid", "cc_agent",
                            "cc_agent_type", "cc_side"):  # fmt: skip
                    leg.variables.setdefault(key, cc_vars[key])
                leg.variables.pop("cc_member_pre_answer_uuid", None)
            real = await self._real_agent(result)
            if real is None:
                # A loopback contact that answered but never bridged on (section 3d).
                for leg in legs:
                    self.node.hangup(leg, "DESTINATION_OUT_OF_ORDER")
                self._failed(m, agent, "SUCCESS", called, no_answer=True)
                return
            if not member.is_up:
                for leg in legs:
                    self.node.hangup(leg, "ORIGINATOR_CANCEL")
                self._failed(m, agent, "ORIGINATOR_CANCEL", called)
                return
        except asyncio.CancelledError:
            # The member left while the agent rang: its legs got ORIGINATOR_CANCEL.
            self._failed(m, agent, "ORIGINATOR_CANCEL", called)
            raise
        await self._bridged(m, queue, agent, real, legs, called)

    def _offer_done(self, agent: Agent) -> None:
        """The end of outbound_agent_thread_run: an agent Available (On Demand) goes
        Idle (no call until its state is set Waiting again), any other Waiting."""
        on_demand = agent.status == "Available (On Demand)"
        self.set_state(agent, "Idle" if on_demand else "Waiting")

    async def _real_agent(self, leg: Channel) -> Channel | None:
        """The agent's own channel: the contact's leg, or for a loopback contact the
        channel its B leg bridges on to (waited for up to 5 s)."""
        b = leg.partner
        if b is None:
            return leg
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LOOPBACK_BRIDGE_WAIT
        while loop.time() < deadline and b.is_up:
            if b.peer is not None:
                return b.peer
            await asyncio.sleep(TICK / 5)
        return None

    def _failed(
        self, m: Member, agent: Agent, cause: str, called: int, *, no_answer: bool = False
    ) -> None:
        m.serving_agent = ""
        tier = self.tier(m.queue, agent.name)
        no_answer = no_answer or cause in ("NO_ANSWER", "ALLOTTED_TIMEOUT", "NO_USER_RESPONSE")
        if cause == "USER_BUSY":
            agent.ready_time = _now() + agent.busy_delay_time
        elif cause == "CALL_REJECTED":
            agent.ready_time = _now() + agent.reject_delay_time
        elif no_answer:
            agent.no_answer_count += 1
            agent.ready_time = _now() + agent.no_answer_delay_time
            if tier is not None:
                tier.state = "No Answer"
            if agent.max_no_answer and agent.no_answer_count >= agent.max_no_answer:
                status = self.queues[m.queue].agent_no_answer_status
                self.fire(None, "outbound_agent_thread_run", 1757,
                          [("CC-Agent", agent.name),
                           ("CC-Agent-No-Answer-Count", str(agent.no_answer_count)),
                           ("CC-Agent-No-Answer-Status", status),
                           ("CC-Member-UUID", m.uuid),
                           ("CC-Member-Session-UUID", m.session_uuid or m.channel.uuid)],
                          action="agent-max-no-answer")  # fmt: skip
                self.set_status(agent, status)
        self.fire(None, "outbound_agent_thread_run", 1790,
                  [("CC-Queue", m.queue), ("CC-Hangup-Cause", cause), ("CC-Agent", agent.name),
                   ("CC-Agent-System", SYSTEM), ("CC-Agent-Called-Time", str(called)),
                   ("CC-Agent-Aborted-Time", str(_now())), ("CC-Member-UUID", m.uuid),
                   ("CC-Member-Session-UUID", m.channel.uuid),
                   ("CC-Member-CID-Name", m.cid_name), ("CC-Member-CID-Number", m.cid_number),
                   ("CC-Member-Joined-Time", str(m.joined_epoch))],
                  action="bridge-agent-fail")  # fmt: skip
        self._offer_done(agent)

    async def _bridged(
        self,
        m: Member,
        queue: Queue,
        agent: Agent,
        real: Channel,
        legs: list[Channel],
        called: int,
    ) -> None:
        node, member = self.node, m.channel
        answered = _now()
        real.variables.update(
            {
                "cc_side": "agent",
                "cc_queue": m.queue,
                "cc_agent": agent.name,
                "cc_agent_type": agent.type,
                "cc_member_uuid": m.uuid,
                "cc_member_session_uuid": member.uuid,
                "cc_agent_bridged": "true",
            }
        )
        member.variables.update(
            {
                "cc_agent_uuid": real.uuid,
                "cc_agent_bridged": "true",
                "cc_agent": agent.name,
                "cc_queue_answered_epoch": str(answered),
                "cc_cause": "answered",
            }
        )
        m.state, m.bridge_epoch, m.serving_system = "Answered", answered, SYSTEM
        agent.uuid = real.uuid
        agent.calls_answered += 1
        agent.last_bridge_start = answered
        agent.no_answer_count = 0
        queue.calls_answered += 1
        tier = self.tier(m.queue, agent.name)
        if tier is not None:
            tier.state = "Active Inbound"
        timing = [
            ("CC-Agent-UUID", real.uuid),
            ("CC-Agent-Called-Time", str(called)),
            ("CC-Agent-Answered-Time", str(answered)),
        ]
        self.fire(real, "outbound_agent_thread_run", 1664,
                  [("CC-Queue", m.queue), ("CC-Agent", agent.name), ("CC-Agent-System", SYSTEM),
                   *timing, ("CC-Member-Joined-Time", str(m.joined_epoch)),
                   *self._member_headers(m)], action="bridge-agent-start")  # fmt: skip
        self.set_state(agent, "In a queue call")
        self.members_count(m.queue)
        # The member leaves its dialplan for the bridge (uuid_bridge: CF_TRANSFER).
        member.intercepted = True
        m.answered.set()
        await asyncio.sleep(0)  # the app's EXECUTE_COMPLETE first, as observed
        contact_legs = [leg for leg in legs if leg is not real]
        if contact_legs:
            if real.peer is not None:
                node.unbridge(real)
            for leg in contact_legs:
                node.hangup(leg, "NORMAL_CLEARING")
        if member.is_up and real.is_up:
            member.continue_after_bridge = real.continue_after_bridge = False
            node.bridge(member, real)
        ends = [asyncio.ensure_future(c.hungup.wait()) for c in (member, real)]
        try:
            await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in ends:
                w.cancel()
        await asyncio.sleep(TICK / 2)  # the 100 ms poll sees the end a little later
        ended = _now()
        member.variables["cc_queue_terminated_epoch"] = str(ended)
        agent.talk_time += ended - answered
        agent.last_bridge_end = ended
        agent.uuid = ""
        if tier is not None:
            tier.state = "Ready"
        self.fire(real, "outbound_agent_thread_run", 1885,
                  [("CC-Queue", m.queue), ("CC-Hangup-Cause", "SUCCESS"),
                   ("CC-Agent", agent.name), ("CC-Agent-System", SYSTEM),
                   ("CC-Agent-UUID", real.uuid), ("CC-Agent-Bridged", "true"), *timing[1:],
                   ("CC-Member-Joined-Time", str(m.joined_epoch)),
                   ("CC-Bridge-Terminated-Time", str(ended)), *self._member_headers(m)],
                  action="bridge-agent-end")  # fmt: skip
        self.fire(member, "outbound_agent_thread_run", 1910,
                  [("CC-Queue", m.queue), ("CC-Hangup-Cause", "SUCCESS"),
                   ("CC-Cause", "Terminated"), ("CC-Agent", agent.name),
                   ("CC-Agent-System", SYSTEM), *timing,
                   ("CC-Member-Leaving-Time", str(ended)),
                   ("CC-Member-Joined-Time", str(m.joined_epoch)), *self._member_headers(m)],
                  action="member-queue-end")  # fmt: skip
        if m in self.members:
            self.members.remove(m)
        agent.ready_time = ended + agent.wrap_up_time if agent.wrap_up_time else agent.ready_time
        self._offer_done(agent)


def of(ex: Executor) -> CallCenter:
    """The node's mod_callcenter (made on first use)."""
    found = ex.core.modules.get("mod_callcenter")
    if found is None:
        found = ex.core.modules["mod_callcenter"] = CallCenter(ex)
    return cast(CallCenter, found)

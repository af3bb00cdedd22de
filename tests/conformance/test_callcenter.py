"""mod_callcenter: ``callcenter_config``'s replies, callcenter.conf through mod_xml_curl,
and the ``callcenter`` app's call flows with their CUSTOM ``callcenter::info`` events
(freeswitch-observed part b, sections 1-5).

Simulator-only: a real FreeSWITCH reads callcenter.conf when mod_callcenter
loads, so these would need the module reloaded against the suite's listener.
The document served answers every fetch: a dialplan (``9630`` joins queue
630, ``9631`` is an agent contact whose loopback B leg bridges on to
``9196``, which answers and echoes) and ``callcenter.conf``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from switchyard.call_control.esl import EslClient, EslEvent
from tests.conformance.conftest import TIMEOUT, Target
from tests.conformance.test_ivr import Events as IvrEvents
from tests.conformance.test_xml_curl import DialplanServer, _form
from tests.conformance.xml_server import serving_document

pytestmark = pytest.mark.fssim_only

QUEUE = "630@default"


def document(queue_params: str = "", agents: str = "") -> str:
    agents = agents or (
        '<agent name="1000@default" type="callback" contact="loopback/9631/default"'
        ' max-no-answer="3" wrap-up-time="1"/>'
        '<agent name="1001@default" type="callback"'
        ' contact="[leg_timeout=10]loopback/9631/default"/>'
    )
    return (
        '<document type="freeswitch/xml">'
        '<section name="dialplan"><context name="default">'
        '<extension name="q"><condition field="destination_number" expression="^9630$">'
        f'<action application="answer"/><action application="callcenter" data="{QUEUE}"/>'
        "</condition></extension>"
        '<extension name="agent"><condition field="destination_number" expression="^9631$">'
        '<action application="bridge" data="loopback/9196/default"/>'
        "</condition></extension>"
        '<extension name="echo"><condition field="destination_number" expression="^9196$">'
        '<action application="answer"/><action application="echo"/>'
        "</condition></extension>"
        # A caller whose dialplan sets mod_callcenter's member variables.
        '<extension name="q2"><condition field="destination_number" expression="^9635$">'
        '<action application="set" data="cc_moh_override=silence_stream://300"/>'
        '<action application="set" data="cc_export_vars=ticket"/>'
        '<action application="set" data="ticket=T-42"/>'
        f'<action application="answer"/><action application="callcenter" data="{QUEUE}"/>'
        "</condition></extension>"
        # An agent who never answers.
        '<extension name="ring"><condition field="destination_number" expression="^9633$">'
        '<action application="ring_ready"/><action application="sleep" data="60000"/>'
        "</condition></extension>"
        "</context></section>"
        '<section name="configuration"><configuration name="callcenter.conf">'
        f'<queues><queue name="{QUEUE}"><param name="strategy" value="longest-idle-agent"/>'
        f"{queue_params}</queue></queues>"
        f"<agents>{agents}</agents>"
        f'<tiers><tier agent="1000@default" queue="{QUEUE}" level="1" position="1"/>'
        f'<tier agent="1001@default" queue="{QUEUE}" level="1" position="2"/></tiers>'
        "</configuration></section></document>"
    )


class Events(IvrEvents):
    """test_ivr's event collector, with callcenter::info helpers."""

    def cc(self) -> list[EslEvent]:
        return [e for e in self.items if e.subclass == "callcenter::info"]

    async def action(self, action: str, **headers: str) -> EslEvent:
        return await self.wait(
            lambda e: (
                e.subclass == "callcenter::info"
                and e.get("CC-Action") == action
                and all(e.get(k.replace("_", "-")) == v for k, v in headers.items())
            )
        )


@pytest_asyncio.fixture
async def server(target: Target) -> AsyncIterator[DialplanServer]:
    async with serving_document(target.sim, document()) as served:
        yield served


@pytest_asyncio.fixture
async def events(target: Target) -> AsyncIterator[Events]:
    got = Events()
    c = EslClient(
        target.host,
        target.port,
        target.password,
        on_event=got,
        events=("CHANNEL_EXECUTE_COMPLETE", "CHANNEL_BRIDGE", "CHANNEL_HANGUP"),
        subclasses=("callcenter::info",),
    )
    await c.start(wait=TIMEOUT)
    yield got
    await c.close()


def cc_headers(e: EslEvent) -> list[str]:
    return [k for k in e.headers if k.startswith("CC-")]


async def test_config_replies_byte_for_byte(server: DialplanServer, client: EslClient) -> None:
    api = client.api
    assert await api("callcenter_config agent add 1002@default callback") == "+OK\n"
    assert await api("callcenter_config agent add 1002@default callback") == (
        "-ERR Agent already exist!\n"
    )
    assert await api("callcenter_config agent add 1003@default bogus") == (
        "-ERR Agent type invalid!\n"
    )
    assert await api("callcenter_config agent set status 1002@default 'On Break'") == "+OK\n"
    assert await api("callcenter_config agent set status 1002@default On Break") == (
        "-ERR Invalid Agent Status!\n"
    )
    assert await api("callcenter_config agent set status nosuch@default Available") == (
        "-ERR Agent not found!\n"
    )
    assert await api("callcenter_config agent set state 1002@default Bogus") == (
        "-ERR Invalid Agent State!\n"
    )
    assert await api("callcenter_config agent set bogus 1002@default x") == (
        "-ERR Invalid Agent Update KEY!\n"
    )
    assert await api("callcenter_config agent get state 1002@default") == "Waiting"
    assert await api("callcenter_config agent get uuid 1002@default") == "-ERR no reply\n"
    assert await api("callcenter_config agent get contact 1002@default") == (
        "-ERR Invalid Agent Update KEY!\n"
    )
    assert await api("callcenter_config foo") == "-ERR Invalid!\n"
    assert await api("callcenter_config agent del") == "-ERR Invalid!\n"
    assert (await api("callcenter_config")).startswith("-USAGE: \ncallcenter_config <target>")
    assert len((await api("callcenter_config")).split("\n")) == 2 + 32 + 1
    # callcenter.conf's agents: a fresh row as observed.
    listed = await api("callcenter_config agent list 1000@default")
    assert listed == (
        "name|instance_id|uuid|type|contact|status|state|max_no_answer|wrap_up_time|"
        "reject_delay_time|busy_delay_time|no_answer_delay_time|last_bridge_start|"
        "last_bridge_end|last_offered_call|last_status_change|no_answer_count|calls_answered|"
        "talk_time|ready_time|external_calls_count\n"
        "1000@default|single_box||callback|loopback/9631/default|Logged Out|Waiting|3|1|"
        "0|0|0|0|0|0|0|0|0|0|0|0\n+OK\n"
    )
    assert await api("callcenter_config agent list nosuch") == "+OK\n"
    assert await api(f"callcenter_config tier add {QUEUE} 1002@default 2 3") == "+OK\n"
    assert await api(f"callcenter_config tier add {QUEUE} 1002@default 2 3") == (
        "-ERR Tier already exist!\n"
    )
    assert await api(f"callcenter_config tier add {QUEUE} nosuch@default") == (
        "-ERR Agent not found!\n"
    )
    assert await api(f"callcenter_config tier set state {QUEUE} 1002@default Bogus") == (
        "-ERR Invalid Tier State!\n"
    )
    assert await api(f"callcenter_config tier set level {QUEUE} nosuch@default 2") == (
        "-ERR Unknown Error!\n"
    )
    assert await api("callcenter_config tier list") == (
        "queue|agent|state|level|position\n"
        f"{QUEUE}|1000@default|Ready|1|1\n{QUEUE}|1001@default|Ready|1|2\n"
        f"{QUEUE}|1002@default|Ready|2|3\n+OK\n"
    )
    assert await api("callcenter_config queue count") == "1\n"
    assert await api(f"callcenter_config queue count agents {QUEUE}") == "3\n"
    assert await api(f"callcenter_config queue count members {QUEUE}") == "0\n"
    assert await api(f"callcenter_config queue list members {QUEUE}") == "+OK\n"
    assert await api(f"callcenter_config queue list bogus {QUEUE}") == "-ERR Invalid!\n"
    assert (await api("callcenter_config queue list")).split("\n")[1] == (
        f"{QUEUE}|longest-idle-agent||queue|false|0|false|true|60|false|0|0|5||0|0|0|true|On Break"
    )
    assert await api("callcenter_config queue load nosuch@default") == (
        "-ERR Invalid Queue not found!\n"
    )
    assert await api("callcenter_break agent") == "-ERR Usage: callcenter_break agent <uuid>\n"


async def test_callcenter_conf_is_fetched_with_the_five_basic_fields_then_per_queue(
    server: DialplanServer, client: EslClient
) -> None:
    await client.api("callcenter_config queue count")
    configs = [_form(r.body) for r in server.requests if b"section=configuration" in r.body]
    assert configs[0] == [
        ("hostname", "fssim"),
        ("section", "configuration"),
        ("tag_name", "configuration"),
        ("key_name", "name"),
        ("key_value", "callcenter.conf"),
    ]
    assert await client.api(f"callcenter_config queue reload {QUEUE}") == "+OK\n"
    form = dict(_form(server.requests[-1].body))
    assert form["Event-Name"] == "REQUEST_PARAMS"
    assert form["Event-Calling-Function"] == "load_queue"
    assert form["CC-Queue"] == QUEUE


async def test_an_agent_answers_the_queue_call_and_the_bridge_ends(
    server: DialplanServer, client: EslClient, events: Events
) -> None:
    assert await client.api("callcenter_config agent set status 1000@default Available") == (
        "+OK\n"
    )
    out = await client.api(
        "originate {origination_caller_id_number=5550001,origination_caller_id_name=Bob}"
        "loopback/9630/default &park"
    )
    assert out.startswith("+OK"), out
    start = await events.action("member-queue-start")
    member = start.get("CC-Member-Session-UUID")
    assert start.unique_id == member and start.get("variable_cc_side") == "member"
    assert cc_headers(start) == [
        "CC-Queue", "CC-Action", "CC-Member-UUID", "CC-Member-Session-UUID",
        "CC-Member-CID-Name", "CC-Member-CID-Number",
    ]  # fmt: skip
    assert (start.get("CC-Member-CID-Name"), start.get("CC-Member-CID-Number")) == (
        "Bob",
        "5550001",
    )
    offering = await events.action("agent-offering", CC_Agent="1000@default")
    assert cc_headers(offering) == [
        "CC-Queue", "CC-Action", "CC-Agent", "CC-Agent-Type", "CC-Agent-System",
        "CC-Member-UUID", "CC-Member-Session-UUID", "CC-Member-CID-Name",
        "CC-Member-CID-Number",
    ]  # fmt: skip
    bridged = await events.action("bridge-agent-start")
    agent_uuid = bridged.get("CC-Agent-UUID")
    assert bridged.unique_id == agent_uuid
    assert bridged.get("Channel-Name") == "loopback/9196-a"  # the real agent behind 9631
    assert bridged.get("variable_cc_agent_bridged") == "true"
    await events.wait(
        lambda e: (
            e.name == "CHANNEL_BRIDGE"
            and {e.unique_id, e.get("Other-Leg-Unique-ID")} == {member, agent_uuid}
        )
    )
    complete = next(
        e
        for e in events.items
        if e.name == "CHANNEL_EXECUTE_COMPLETE"
        and e.get("Application") == "callcenter"
        and e.unique_id == member
    )
    assert complete.get("Application-Response") == "_none_"
    answered = await client.api(f"uuid_getvar {member} cc_queue_answered_epoch")
    joined = await client.api(f"uuid_getvar {member} cc_queue_joined_epoch")
    assert answered.isdigit() and joined.isdigit() and int(answered) >= int(joined)
    assert await client.api(f"uuid_getvar {member} cc_cause") == "answered"
    assert await client.api(f"uuid_getvar {member} cc_agent") == "1000@default"
    states = [
        e.get("CC-Agent-State") for e in events.cc() if e.get("CC-Action") == "agent-state-change"
    ]
    assert states[-2:] == ["Receiving", "In a queue call"]
    assert "In a queue call" in await client.api("callcenter_config agent list 1000@default")

    await client.api(f"uuid_kill {member}")
    end = await events.action("member-queue-end", CC_Cause="Terminated")
    assert end.unique_id == member
    assert end.get("CC-Hangup-Cause") == "SUCCESS"
    assert end.get("variable_cc_queue_terminated_epoch").isdigit()
    assert cc_headers(end) == [
        "CC-Queue", "CC-Action", "CC-Hangup-Cause", "CC-Cause", "CC-Agent", "CC-Agent-System",
        "CC-Agent-UUID", "CC-Agent-Called-Time", "CC-Agent-Answered-Time",
        "CC-Member-Leaving-Time", "CC-Member-Joined-Time", "CC-Member-UUID",
        "CC-Member-Session-UUID", "CC-Member-CID-Name", "CC-Member-CID-Number",
    ]  # fmt: skip
    agent_end = next(e for e in events.cc() if e.get("CC-Action") == "bridge-agent-end")
    assert agent_end.get("CC-Agent-Bridged") == "true"
    await events.action("agent-state-change", CC_Agent="1000@default", CC_Agent_State="Waiting")
    row = (await client.api("callcenter_config agent list 1000@default")).split("\n")[1]
    assert row.split("|")[5:7] == ["Available", "Waiting"] and row.split("|")[17] == "1"


async def test_no_agent_logged_in_cancels_with_no_agent_timeout(
    server: DialplanServer, client: EslClient, events: Events
) -> None:
    server.document = document(
        '<param name="max-wait-time-with-no-agent" value="1"/>'
        '<param name="max-wait-time-with-no-agent-time-reached" value="1"/>'
    )
    out = await client.api(
        "originate {origination_caller_id_number=5550001,origination_caller_id_name=Bob}"
        "loopback/9630/default &park"
    )
    assert out.startswith("+OK"), out
    end = await events.action("member-queue-end")
    assert (end.get("CC-Cause"), end.get("CC-Cancel-Reason")) == ("Cancel", "NO_AGENT_TIMEOUT")
    assert end.get("variable_cc_cause") == "cancel"
    assert end.get("variable_cc_queue_canceled_epoch").isdigit()
    assert cc_headers(end) == [
        "CC-Queue", "CC-Action", "CC-Member-Leaving-Time", "CC-Member-Joined-Time", "CC-Cause",
        "CC-Cancel-Reason", "CC-Member-UUID", "CC-Member-Session-UUID", "CC-Member-CID-Name",
        "CC-Member-CID-Number",
    ]  # fmt: skip
    count = await events.action("members-count", CC_Count="0")
    assert cc_headers(count) == ["CC-Queue", "CC-Action", "CC-Count", "CC-Selection"]


async def test_a_caller_hanging_up_while_waiting_breaks_out(
    server: DialplanServer, client: EslClient, events: Events
) -> None:
    out = await client.api("originate loopback/9630/default &park")
    start = await events.action("member-queue-start")
    await client.api(f"uuid_kill {start.unique_id}")
    end = await events.action("member-queue-end")
    assert end.get("CC-Cancel-Reason") == "BREAK_OUT", out
    members = await client.api(f"callcenter_config queue list members {QUEUE}")
    assert "|Abandoned|" in members


RINGING_AGENT = (
    '<agent name="1000@default" type="callback" contact="[leg_timeout=1]loopback/9633/default"'
    ' max-no-answer="1"/>'
)


async def test_a_caller_leaving_while_the_agent_rings_cancels_the_agent_legs(
    server: DialplanServer, client: EslClient, events: Events
) -> None:
    server.document = document(agents=RINGING_AGENT.replace("leg_timeout=1", "leg_timeout=30"))
    await client.api("callcenter_config agent set status 1000@default Available")
    await client.api(
        "originate {origination_caller_id_number=5550001,origination_caller_id_name=Bob}"
        "loopback/9630/default &park"
    )
    offered = await events.action("agent-offering", CC_Agent="1000@default")
    await client.api(f"uuid_kill {offered.get('CC-Member-Session-UUID')}")
    end = await events.action("member-queue-end")
    assert end.get("CC-Cancel-Reason") == "BREAK_OUT"
    fail = await events.action("bridge-agent-fail")
    assert fail.get("CC-Hangup-Cause") == "ORIGINATOR_CANCEL"
    assert cc_headers(fail) == [
        "CC-Queue", "CC-Action", "CC-Hangup-Cause", "CC-Agent", "CC-Agent-System",
        "CC-Agent-Called-Time", "CC-Agent-Aborted-Time", "CC-Member-UUID",
        "CC-Member-Session-UUID", "CC-Member-CID-Name", "CC-Member-CID-Number",
        "CC-Member-Joined-Time",
    ]  # fmt: skip
    await events.action("agent-state-change", CC_Agent="1000@default", CC_Agent_State="Waiting")
    # The tier stays Ready (freeswitch-observed part b, 3b).
    assert "|1000@default|Ready|" in await client.api("callcenter_config tier list")


async def test_an_agent_who_never_answers_goes_on_break_after_max_no_answer(
    server: DialplanServer, client: EslClient, events: Events
) -> None:
    server.document = document(agents=RINGING_AGENT)
    await client.api("callcenter_config agent set status 1000@default Available")
    await client.api("originate loopback/9630/default &park")
    maxed = await events.action("agent-max-no-answer", CC_Agent="1000@default")
    assert (maxed.get("CC-Agent-No-Answer-Count"), maxed.get("CC-Agent-No-Answer-Status")) == (
        "1",
        "On Break",
    )
    await events.action("agent-status-change", CC_Agent="1000@default", CC_Agent_Status="On Break")
    fail = await events.action("bridge-agent-fail")
    assert fail.get("CC-Hangup-Cause") in ("NO_ANSWER", "ALLOTTED_TIMEOUT")
    assert "|1000@default|No Answer|" in await client.api("callcenter_config tier list")
    # On Break: never offered again; the caller keeps waiting.
    assert await client.api(f"callcenter_config queue count members {QUEUE}") == "1\n"


async def test_an_agent_available_on_demand_goes_idle_after_its_call(
    server: DialplanServer, client: EslClient, events: Events
) -> None:
    status = "callcenter_config agent set status 1000@default 'Available (On Demand)'"
    assert await client.api(status) == "+OK\n"
    await client.api("originate loopback/9630/default &park")
    start = await events.action("bridge-agent-start")
    await client.api(f"uuid_kill {start.get('CC-Member-Session-UUID')}")
    await events.action("agent-state-change", CC_Agent="1000@default", CC_Agent_State="Idle")
    assert await client.api("callcenter_config agent get state 1000@default") == "Idle"


async def test_the_member_can_override_the_music_and_export_variables_to_the_agent(
    server: DialplanServer, client: EslClient, events: Events, target: Target
) -> None:
    await client.api("callcenter_config agent set status 1000@default Available")
    out = await client.api("originate loopback/9635/default &park")
    assert out.startswith("+OK"), out
    start = await events.action("bridge-agent-start")
    member = target.sim.channels[start.get("CC-Member-Session-UUID")]
    assert member.played[:1] == ["silence_stream://300"]  # not the queue's moh
    # The contact's legs carried the exported variable (their hangup shows it).
    hangup = await events.wait(
        lambda e: e.name == "CHANNEL_HANGUP" and e.get("Channel-Name") == "loopback/9631-a"
    )
    assert hangup.get("variable_ticket") == "T-42"
    assert hangup.get("variable_cc_member_session_uuid") == member.uuid

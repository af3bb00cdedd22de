"""What the owner relays besides channel events: CUSTOM subclasses and BACKGROUND_JOB.

Checked on the stream itself, subject by subject: a CUSTOM event lands on
``sy.<ns>.fs.events.<node>.CUSTOM.<subclass>`` (the subclass kept as one
token, colons and all), a job on ``….BACKGROUND_JOB`` with its body.
"""

from __future__ import annotations

import asyncio
import uuid as uuidlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import pytest_asyncio

from switchyard.call_control.node_commands import Originate, OriginateResult
from switchyard.call_control.nodes import parse_nodes
from switchyard.call_control.replica import Replica
from switchyard.fssim import Simulator
from switchyard.fssim.node import Node
from switchyard.shared.bus import Bus
from switchyard.shared.testing import eventually


@pytest_asyncio.fixture
async def stack(bus: Bus) -> AsyncIterator[Node]:
    async with Simulator() as sim:
        node = await sim.add_node("fs1", ai_events=True)  # XSwitch's mod_ai events
        node.register_user("1000")
        replica = Replica(bus, parse_nodes(sim.fs_nodes), lease=2.0)
        await replica.start()
        try:
            await eventually(
                lambda: "fs1" in replica.agents and replica.agents["fs1"].client.connected
            )
            yield node
        finally:
            await replica.stop()


async def _stored(bus: Bus) -> list[tuple[str, dict[str, Any]]]:
    info = await bus.js.stream_info(bus.subjects.events_stream)
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await bus.js.get_msg(bus.subjects.events_stream, seq)
        out.append((msg.subject, msgspec.json.decode(msg.data)))
    return out


async def _stored_once(
    bus: Bus, done: Callable[[list[tuple[str, dict[str, Any]]]], bool]
) -> list[tuple[str, dict[str, Any]]]:
    """The stream's messages, once ``done`` holds for them (events travel ESL, then NATS)."""
    for _ in range(200):
        stored = await _stored(bus)
        if done(stored):
            return stored
        await asyncio.sleep(0.05)
    raise AssertionError("the events never all reached the stream")


async def test_custom_events_land_on_their_subclass_subject(
    stack: Node, bus: Bus, namespace: str
) -> None:
    node = stack
    call = str(uuidlib.uuid4())
    result = await bus.request(
        bus.subjects.any_node_command,
        Originate(uuid=call, dial="user/1000"),
        OriginateResult,
    )
    assert result.ok, result
    node.set_gateway("example", "REGED")
    base = f"sy.{namespace}.fs.events.fs1"
    stored = await _stored_once(
        bus,
        lambda stored: any(
            s == f"{base}.CUSTOM.sofia::gateway_state" and e.get("State") == "REGED"
            for s, e in stored
        ),
    )
    states = [
        e["Answer-State"]
        for subject, e in stored
        if subject == f"{base}.CUSTOM.ai::channel-state" and e.get("Unique-ID") == call
    ]
    assert "answered" in states, states  # the call's answer, as mod_ai reports it
    assert all(
        e["Event-Subclass"] == "ai::channel-state"
        for s, e in stored
        if s == f"{base}.CUSTOM.ai::channel-state"
    )
    gateway = [
        e
        for subject, e in stored
        if subject == f"{base}.CUSTOM.sofia::gateway_state" and e.get("Gateway") == "example"
    ]
    assert gateway and gateway[-1]["State"] == "REGED"
    assert bus.subjects.events("fs1", "CUSTOM", "ai::channel-state") == (
        f"{base}.CUSTOM.ai::channel-state"
    )


async def test_background_jobs_are_relayed_with_their_outcome(
    stack: Node, bus: Bus, namespace: str
) -> None:
    node = stack
    placed, failed = str(uuidlib.uuid4()), str(uuidlib.uuid4())
    for call, dial in ((placed, "user/1000"), (failed, "user/4444")):
        result = await bus.request(
            bus.subjects.any_node_command,
            Originate(uuid=call, dial=dial, background=True),
            OriginateResult,
        )
        assert result.ok and result.uuid == call  # async: answered before the outcome
    await eventually(lambda: node.find(placed))

    subject = f"sy.{namespace}.fs.events.fs1.BACKGROUND_JOB"
    stored = await _stored_once(
        bus,
        lambda stored: {placed, failed} <= {e.get("Job-UUID") for s, e in stored if s == subject},
    )
    found = {e["Job-UUID"]: e for s, e in stored if s == subject}
    assert found[placed]["_body"].startswith(f"+OK {placed}")
    assert found[placed]["Job-Command"] == "originate"
    # 4444 is in no directory (user_outgoing_channel: SUBSCRIBER_ABSENT).
    assert found[failed]["_body"].startswith("-ERR SUBSCRIBER_ABSENT")

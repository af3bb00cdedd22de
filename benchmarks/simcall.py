"""One simulated call's channel events, recorded from an fssim node: the
events the ESL, call-control and event-relay benchmarks replay."""

from __future__ import annotations

import asyncio

from switchyard.fssim import Node
from switchyard.fssim.event import Event


class _Collector:
    """Stands in for an ESL session: keeps every event the node fires."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def offer(self, event: Event) -> None:
        self.events.append(event)

    def session_gone(self, uuid: str, name: str) -> None:
        pass


async def channel_events(caller_name: str, sip_headers: dict[str, str]) -> tuple[list[Event], str]:
    """A call from 13800000000 to 9999, parked then hung up: the events that
    carry the channel's variables (CREATE, ANSWER, EXECUTE, PARK, HANGUP,
    HANGUP_COMPLETE, DESTROY...: what a call-control consumer reads), and
    the channel's uuid."""
    node = Node("bench", heartbeat_seconds=3600)
    collector = _Collector()
    node.sessions.add(collector)  # type: ignore[arg-type]
    ch = node.inject_call(
        "13800000000", "9999", context="default", caller_name=caller_name, sip_headers=sip_headers
    )
    for _ in range(100):
        await asyncio.sleep(0.005)
        if ch.parked:
            break
    node.hangup(ch, "NORMAL_CLEARING")
    return [e for e in collector.events if e.get("variable_uuid")], ch.uuid

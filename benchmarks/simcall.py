"""One simulated call's channel events, recorded from an fssim node: the
events the ESL, call-control and event-relay benchmarks replay; the ESL
handshake their event blasters answer a client with; how fast EslClient
reads a blaster; and the call-control agent that relays a blaster's events
onto the bus."""

from __future__ import annotations

import asyncio
import socket
import time

from nats.js.kv import KeyValue

from switchyard.call_control.agent import NodeAgent
from switchyard.call_control.esl import EslClient
from switchyard.call_control.events import EventPublisher
from switchyard.call_control.nodes import NodeConfig
from switchyard.fssim import Node
from switchyard.fssim.event import Event
from switchyard.shared.bus import Bus


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


def esl_handshake(conn: socket.socket) -> bool:
    """Play FreeSWITCH's side of an inbound ESL connection: ask for auth,
    accept it and any command, until an ``event`` subscription. False if
    the client went away first."""
    # Without delay, as mod_event_socket sets every listener's socket: with
    # Nagle's algorithm on, part of a tick's frames waited for the next tick,
    # and at 1,000 events/s one event in ten reached call-control 10 ms late
    # (issue 14).
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.sendall(b"Content-Type: auth/request\n\n")
    buf, subscribed = b"", False
    while not subscribed:
        data = conn.recv(65536)
        if not data:
            return False
        buf += data
        while b"\n\n" in buf:
            packet, buf = buf.split(b"\n\n", 1)
            subscribed = subscribed or packet.startswith(b"event ")
            reply = b"+OK accepted" if packet.startswith(b"auth") else b"+OK event listener"
            conn.sendall(b"Content-Type: command/reply\nReply-Text: " + reply + b"\n\n")
    return True


async def relaying_agent(
    bus: Bus, port: int, locations: KeyValue | None, *, standby: bool
) -> tuple[NodeAgent, EventPublisher]:
    """A call-control agent for the blaster on ``port`` subscribed to every
    event, and its started publisher; the agent is not started yet. A
    standby writes no channel locations, so it needs no bucket."""
    publisher = EventPublisher(bus)
    await publisher.start()
    agent = NodeAgent(
        bus,
        NodeConfig("bench", "127.0.0.1", port),
        publisher,
        locations,  # type: ignore[arg-type]  # None only for a standby, which never writes
        events=("ALL",),
        subclasses=(),
        standby=standby,
    )
    return agent, publisher


async def esl_ingest_rate(port: int, events: int) -> float:
    """Events per second an EslClient subscribed to every event parses and
    delivers from the blaster on ``port``, over its first ``events``."""
    got = 0
    done = asyncio.Event()

    def count(_: object) -> None:
        nonlocal got
        got += 1
        if got >= events:
            done.set()

    client = EslClient("127.0.0.1", port, "ClueCon", on_event=count, events=("ALL",))
    start = time.perf_counter()
    await client.start()
    await asyncio.wait_for(done.wait(), 120)
    elapsed = time.perf_counter() - start
    await client.close()
    return got / elapsed

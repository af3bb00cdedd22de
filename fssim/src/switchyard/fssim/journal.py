"""What a node's ESL connections received and sent, for a chaos run to count afterwards.

Off unless asked (``Node.record()``, ``switchyard fssim --journal``): it
grows with every event. Each ESL connection is known by its peer address
(``host:port``): the test maps that to the process that opened it, so
nothing is added to the wire and a real FreeSWITCH needs no counterpart.

- ``events``: every event some connection took (queued for it), once, with
  the peers that took it: what the node *produced* for its listeners;
- ``every_event``: every event the node fired, taken or not (one nobody
  took is one no listener could relay: FreeSWITCH drops it too);
- ``commands``: every ``api``/``bgapi``/``sendmsg``, the peer that sent it
  and when its connection opened: who was acting as the node's master.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from switchyard.fssim.event import Event

# The commands that act on the node (the rest set up the connection).
ACTING = frozenset({"api", "bgapi", "sendmsg"})


@dataclass
class Journal:
    events: list[dict[str, Any]] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    every_event: list[dict[str, Any]] = field(default_factory=list)
    _by_id: dict[str, dict[str, Any]] = field(default_factory=dict)

    def fired(self, event: Event) -> None:
        self.every_event.append({"id": _id(event), "name": _name(event), "at": time.time()})

    def taken(self, event: Event, peer: str) -> None:
        key = _id(event)
        record = self._by_id.get(key)
        if record is None:
            record = {
                "id": key,
                "name": _name(event),
                "uuid": event.get("Unique-ID"),
                "call": event.get("Channel-Call-UUID"),
                "at": time.time(),
                "peers": [],
            }
            self._by_id[key] = record
            self.events.append(record)
        record["peers"].append(peer)

    def command(self, peer: str, opened: float, word: str, rest: str) -> None:
        """``opened``: when the connection was accepted (a peer's port may be
        reused by a later connection, maybe another process's)."""
        if word in ACTING:
            self.commands.append(
                {
                    "at": time.time(),
                    "peer": peer,
                    "opened": opened,
                    "command": f"{word} {rest}"[:120],
                }
            )


def _id(event: Event) -> str:
    return f"{event.get('Core-UUID')}:{event.get('Event-Sequence')}"


def _name(event: Event) -> str:
    name = event.get("Event-Name")
    return event.get("Event-Subclass") if name == "CUSTOM" else name

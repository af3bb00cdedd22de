"""The live calls page's model: channels folded into calls.

Built from a snapshot (every node's ``show channels`` rows, as
``/api/channels`` lists them) and kept current by the channel events of
the ``SY_FS_EVENTS`` stream. A call is one row however many legs it has:
a leg that names its originator (``Other-Type: originator`` in its events,
or ``call_uuid`` in a bridged row) is folded into the originator's row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

# FreeSWITCH's Channel-Call-State -> what the page shows (and in which order
# a call's state is the most advanced of its legs').
STATES = {"DOWN": "ringing", "DIALING": "ringing", "RINGING": "ringing", "EARLY": "early"}
STATES |= {"RING_WAIT": "ringing", "ACTIVE": "answered", "HELD": "held", "UNHELD": "answered"}
RANK = {"ringing": 0, "early": 1, "answered": 2, "held": 3}
ENDING = frozenset({"CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"})


@dataclass
class Leg:
    uuid: str
    node: str
    direction: str = ""
    caller: str = ""
    caller_name: str = ""
    callee: str = ""
    context: str = ""
    callstate: str = "DOWN"
    created: float = 0.0  # unix seconds
    answered: float = 0.0  # unix seconds; 0 until answered
    originator: str = ""  # the leg this one was originated by, when known
    peer: str = ""  # the leg bridged to this one (show channels' call_uuid)

    @property
    def state(self) -> str:
        return STATES.get(self.callstate, "ringing")


@dataclass
class Call:
    head: Leg
    legs: list[Leg] = field(default_factory=list)
    owner: str = ""

    @property
    def uuid(self) -> str:
        return self.head.uuid

    @property
    def state(self) -> str:
        return max((leg.state for leg in self.legs), key=RANK.__getitem__)

    @property
    def callee(self) -> str:
        # The number dialled; an originated head leg (API call) names it in
        # its own destination, a bridged one in its B leg's.
        return self.head.callee or next((g.callee for g in self.legs if g.callee), "")

    @property
    def since(self) -> float:
        """When the duration counts from: the first answer, else the start."""
        answered = [g.answered for g in self.legs if g.answered]
        return min(answered) if answered else self.head.created

    @property
    def started(self) -> datetime:
        return datetime.fromtimestamp(self.head.created or 0, UTC)

    def matches(self, number: str, context: str, node: str) -> bool:
        if node and self.head.node != node:
            return False
        if context and not any(g.context == context for g in self.legs):
            return False
        if number:
            wanted = number.lower()
            return any(wanted in g.caller.lower() or wanted in g.callee.lower() for g in self.legs)
        return True


def _seconds(value: str) -> float:
    """FreeSWITCH's microsecond times (``...-Time``: 0 for never)."""
    try:
        return int(value) / 1_000_000
    except ValueError:
        return 0.0


class CallBoard:
    """The calls of every node, as one tab sees them."""

    def __init__(self) -> None:
        self.legs: dict[str, Leg] = {}
        self.ended: set[str] = set()

    def load(self, rows: Iterable[Mapping[str, str]]) -> None:
        """The snapshot: ``show channels`` rows plus ``node``. Channels already
        heard ending (an event read before the snapshot) stay gone."""
        for row in rows:
            uuid = row.get("uuid", "")
            if not uuid or uuid in self.ended:
                continue
            known = self.legs.get(uuid)
            leg = known or Leg(uuid, row.get("node", ""))
            leg.direction = row.get("direction", "") or leg.direction
            # The caller id the leg started with: an originated leg flips its
            # own once it runs an extension (switch_channel_flip_cid).
            initial = "initial_" if row.get("initial_cid_num") else ""
            leg.caller = row.get(f"{initial}cid_num") or leg.caller
            leg.caller_name = row.get(f"{initial}cid_name", leg.caller_name)
            leg.callee = row.get("dest", "") or leg.callee
            leg.context = row.get("context", "") or leg.context
            if known is None:
                # An event already read knows better than the (lagging) table.
                leg.callstate = row.get("callstate", "") or leg.callstate
            with contextlib.suppress(ValueError):
                leg.created = leg.created or float(row.get("created_epoch", "0"))
            leg.peer = row.get("call_uuid", "") or leg.peer
            self.legs[uuid] = leg

    def apply(self, node: str, event: Mapping[str, str]) -> bool:
        """One channel event; True when the board changed."""
        name = event.get("Event-Name", "")
        uuid = event.get("Unique-ID", "")
        if not uuid or not name.startswith("CHANNEL_"):
            return False
        if name in ENDING:
            self.ended.add(uuid)
            return self.legs.pop(uuid, None) is not None
        if uuid in self.ended and name != "CHANNEL_CREATE":
            return False
        self.ended.discard(uuid)
        leg = self.legs.get(uuid) or Leg(uuid, node)
        leg.node = node
        leg.direction = event.get("Call-Direction", leg.direction)
        # The caller id the leg started with (its name with it, even empty).
        source = "Caller-Orig-" if event.get("Caller-Orig-Caller-ID-Number") else "Caller-"
        leg.caller = event.get(f"{source}Caller-ID-Number") or leg.caller
        leg.caller_name = event.get(f"{source}Caller-ID-Name", leg.caller_name)
        leg.callee = event.get("Caller-Destination-Number", leg.callee)
        leg.context = event.get("Caller-Context", leg.context)
        leg.callstate = event.get("Channel-Call-State", leg.callstate)
        leg.created = _seconds(event.get("Caller-Channel-Created-Time", "")) or leg.created
        leg.answered = _seconds(event.get("Caller-Channel-Answered-Time", "")) or leg.answered
        other = event.get("Other-Leg-Unique-ID", "")
        if other and event.get("Other-Type") == "originator":
            leg.originator = other
        elif other:
            leg.peer = other
        self.legs[uuid] = leg
        return True

    def _head_of(self, leg: Leg) -> Leg:
        seen = {leg.uuid}
        while True:
            up = self.legs.get(leg.originator) if leg.originator else None
            if up is None and leg.peer:
                peer = self.legs.get(leg.peer)
                # Bridged legs without an originator: the older one leads.
                if peer is not None and (peer.created, peer.uuid) < (leg.created, leg.uuid):
                    up = peer
            if up is None or up.uuid in seen:
                return leg
            seen.add(up.uuid)
            leg = up

    def calls(self, owners: Mapping[str, str] | None = None) -> list[Call]:
        """The calls, newest first."""
        by_head: dict[str, Call] = {}
        for leg in self.legs.values():
            head = self._head_of(leg)
            call = by_head.get(head.uuid)
            if call is None:
                call = by_head[head.uuid] = Call(head, owner=(owners or {}).get(head.node, ""))
            call.legs.append(leg)
        for call in by_head.values():
            call.legs.sort(key=lambda g: (g is not call.head, g.created, g.uuid))
        return sorted(by_head.values(), key=lambda c: (-c.head.created, c.uuid))

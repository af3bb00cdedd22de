"""mod_ai's ``ai::channel-state`` push (XSwitch, "通话事件通知"), made from stock events.

Stock FreeSWITCH has no mod_ai, so the relay makes its events: the source
channel event with every header kept and only ``Event-Name``,
``Event-Subclass`` and ``Answer-State`` replaced, as ``event json`` would
serialise the CUSTOM event. A node that runs mod_ai sends real ones; those
pass through untouched and the relay makes none for that node.
"""

from __future__ import annotations

from typing import Any

import msgspec

SUBCLASS = "ai::channel-state"

# Which stock event says which Answer-State (freeswitch-wire.md section 4).
ANSWER_STATE = {
    "CHANNEL_CREATE": "ringing",
    "CHANNEL_PROGRESS": "ringing",
    "CHANNEL_PROGRESS_MEDIA": "early",
    "CHANNEL_ANSWER": "answered",
    "CHANNEL_HANGUP_COMPLETE": "hangup",
}

_encoder = msgspec.json.Encoder()


def event_name(event: dict[str, Any]) -> str:
    """What a subscription names: the subclass of a CUSTOM event, else its Event-Name."""
    name = str(event.get("Event-Name", ""))
    if name == "CUSTOM":
        return str(event.get("Event-Subclass", "")) or name
    return name


def is_channel_state(event: dict[str, Any]) -> bool:
    return event.get("Event-Name") == "CUSTOM" and event.get("Event-Subclass") == SUBCLASS


def channel_state(event: dict[str, Any]) -> dict[str, Any] | None:
    """The ai::channel-state event mod_ai would have sent for ``event``, or None."""
    state = ANSWER_STATE.get(str(event.get("Event-Name", "")))
    if state is None:
        return None
    # The subclass and name lead, as in the spec's examples; every other
    # header keeps its place and value.
    out: dict[str, Any] = {"Event-Subclass": SUBCLASS, "Event-Name": "CUSTOM"}
    for key, value in event.items():
        if key not in out:
            out[key] = value
    out["Answer-State"] = state
    return out


def encode(event: dict[str, Any]) -> bytes:
    return _encoder.encode(event)

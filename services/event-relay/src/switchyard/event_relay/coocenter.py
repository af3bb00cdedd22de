"""coocenter's push events, made from FreeSWITCH events (docs/event-relay.md, "coocenter").

coocenter (the call-center middleware) pushes ``dialbegin``, ``dialend``,
``hangup``, ``extensionstatus``, ``cdr`` and ``cc_cdr`` to the ``URL`` of
its api.conf as JSON objects with its own field names. Each push here is a
pure function of one FreeSWITCH event's headers: the relay stores the
FreeSWITCH event and renders the push when it sends it, so a retry or a
replay sends the same body, and no per-call state has to survive a restart
(CHANNEL_HANGUP_COMPLETE carries the call's times in its variables,
``member-queue-end`` the queue's).

Which leg is which: a leg another channel dialled (a bridge's B leg) shows
``Other-Type: originator``; the call's first leg does not. coocenter's
"caller" of a call is the first leg's caller id when that leg came in, and
the number it was sent to when Switchyard placed it (click-to-call rings the
caller first, then connects the callee).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from switchyard.shared import coocenter_auth
from switchyard.shared.settings import Settings

# The names a subscription lists (``events``); ``*`` is all of them.
PUSHES = ("dialbegin", "dialend", "hangup", "extensionstatus", "cdr", "cc_cdr")

# A delivery's kind: this, then the push.
KIND_PREFIX = "coocenter:"

REGISTER = ("sofia::register", "sofia::unregister", "sofia::expire")
CALLCENTER = "callcenter::info"

# coocenter's status codes and Asterisk's texts for them.
IDLE, IN_USE, UNAVAILABLE, RINGING, HOLD = 0, 1, 4, 8, 16
STATUS_TEXT = {
    IDLE: "Idle",
    IN_USE: "InUse",
    UNAVAILABLE: "Unavailable",
    RINGING: "Ringing",
    HOLD: "Hold",
}

# A dial that ended without an answer, by cause (Asterisk's DIALSTATUS, lower case).
DIAL_FAILED = {
    "USER_BUSY": "busy",
    "NO_ANSWER": "noanswer",
    "NO_USER_RESPONSE": "noanswer",
    "ALLOTTED_TIMEOUT": "noanswer",
    "ORIGINATOR_CANCEL": "cancel",
    "LOSE_RACE": "cancel",
    "CALL_REJECTED": "busy",
    "NORMAL_CIRCUIT_CONGESTION": "congestion",
    "SWITCH_CONGESTION": "congestion",
    "USER_NOT_REGISTERED": "chanunavail",
    "SUBSCRIBER_ABSENT": "chanunavail",
    "GATEWAY_DOWN": "chanunavail",
    "DESTINATION_OUT_OF_ORDER": "chanunavail",
}
# The cdr's disposition of a call that was never answered (Asterisk's words).
NOT_ANSWERED = {
    "USER_BUSY": "BUSY",
    "CALL_REJECTED": "BUSY",
    "NO_ANSWER": "NO ANSWER",
    "NO_USER_RESPONSE": "NO ANSWER",
    "ALLOTTED_TIMEOUT": "NO ANSWER",
    "ORIGINATOR_CANCEL": "NO ANSWER",
    "NORMAL_CLEARING": "NO ANSWER",
}
# member-queue-end's CC-Cancel-Reason as coocenter's missCause. A caller who
# gives up within MEMBER_CANCEL_SECONDS is MEMBER_CANCEL (the spec's words),
# later it is NO_ASSIGN: too few agents to take the call in time.
MEMBER_CANCEL_SECONDS = 10
MISS_CAUSE = {"NO_AGENT_TIMEOUT": "NO_AGENT_LOGIN", "TIMEOUT": "NO_AGENT_ANSWER"}

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class Context:
    """What a push needs besides the event: api.conf's ``mac``, the local time
    zone (coocenter's times are local) and its ``WEBKEY``."""

    mac: str = ""
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    webkey: str = ""
    # pausetime=yes: after-call pauses follow answered queue calls (cc_cdr.pauseTime).
    pausetime: bool = False
    pause_seconds: int = 30

    @classmethod
    def from_settings(cls, s: Settings) -> Context:
        return cls(
            s.coocenter_mac,
            ZoneInfo(s.timezone or "UTC"),
            s.coocenter_webkey,
            s.coocenter_pausetime,
            s.coocenter_pause_seconds,
        )

    def headers(self) -> dict[str, str]:
        """A push's own headers: the WEBKEY digest of the day it is sent (a retry
        the next day carries the next day's), none without a WEBKEY."""
        return coocenter_auth.push_header(self.webkey, dt.datetime.now(self.zone))


# --- headers ---------------------------------------------------------------------------


def _h(event: dict[str, Any], name: str) -> str:
    return str(event.get(name) or "")


def _var(event: dict[str, Any], name: str) -> str:
    return _h(event, f"variable_{name}")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def _cause(event: dict[str, Any]) -> str:
    return _h(event, "Hangup-Cause") or _var(event, "hangup_cause")


def _subclass(event: dict[str, Any]) -> str:
    return _h(event, "Event-Subclass") if _h(event, "Event-Name") == "CUSTOM" else ""


def dialled(event: dict[str, Any]) -> bool:
    """Whether this is a leg another channel dialled (a bridge's B leg)."""
    return _h(event, "Other-Type") == "originator"


def _skipped(event: dict[str, Any]) -> bool:
    """Halves that are not a call of their own: a loopback pair's B side, and
    the agent legs mod_callcenter originates (the member's leg is the call)."""
    return _var(event, "loopback_leg") == "B" or _var(event, "cc_side") == "agent"


def _stamp(seconds: int, ctx: Context) -> str:
    if seconds <= 0:
        return ""
    return dt.datetime.fromtimestamp(seconds, ctx.zone).strftime("%Y-%m-%d %H:%M:%S")


def _timestamp(event: dict[str, Any]) -> str:
    """Event-Date-Timestamp (microseconds) as coocenter's ``1534993059.785012``."""
    us = _int(_h(event, "Event-Date-Timestamp"))
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def _party(event: dict[str, Any], prefix: str) -> tuple[str, str]:
    """The number and name of the party who calls, seen from the leg ``prefix``
    describes (``Caller`` or ``Other-Leg``): its caller id when it came in, the
    number it was sent to when it was placed (the first party of a click-to-call)."""
    if _h(event, f"{prefix}-Direction") == "outbound" and _h(event, f"{prefix}-Destination-Number"):
        number = _h(event, f"{prefix}-Destination-Number")
        return number, number
    number = _h(event, f"{prefix}-Caller-ID-Number")
    return number, _h(event, f"{prefix}-Caller-ID-Name") or number


def _first_leg_parties(event: dict[str, Any]) -> tuple[str, str, str, str]:
    """Caller number and name, callee number and name of a first leg's call."""
    bridged = _h(event, "Other-Type") == "originatee" and _h(event, "Other-Leg-Destination-Number")
    if bridged:
        number, name = _party(event, "Caller")
        other = _h(event, "Other-Leg-Destination-Number")
        return number, name, other, other
    # Never bridged: FreeSWITCH's own view of the leg.
    number = _h(event, "Caller-Caller-ID-Number")
    name = _h(event, "Caller-Caller-ID-Name") or number
    other = _h(event, "Caller-Destination-Number")
    return number, name, other, other


def _dialstring(event: dict[str, Any]) -> str:
    if user := _var(event, "dialed_user"):
        return f"user/{user}"
    if gateway := _var(event, "sip_gateway_name"):
        return f"sofia/gateway/{gateway}/{_h(event, 'Caller-Destination-Number')}"
    return _h(event, "Channel-Name")


# --- which pushes an event makes ---------------------------------------------------------


def _exten(event: dict[str, Any]) -> str:
    """The extension a channel or registration event is about, or ''."""
    sub = _subclass(event)
    if sub in REGISTER:
        return _h(event, "from-user") or _h(event, "username") or _h(event, "user")
    if sub:
        return ""
    if _h(event, "Caller-Direction") == "outbound":
        return _var(event, "dialed_user")
    return _var(event, "user_name")


def _ext_status(event: dict[str, Any]) -> int | None:
    sub = _subclass(event)
    if sub == "sofia::register":
        return IDLE
    if sub in REGISTER:
        return UNAVAILABLE
    name = _h(event, "Event-Name")
    outbound = _h(event, "Caller-Direction") == "outbound"
    if name in ("CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA") and outbound:
        return RINGING
    if name == "CHANNEL_CREATE" and not outbound:
        return IN_USE  # the phone is off hook, dialling
    if name in ("CHANNEL_ANSWER", "CHANNEL_UNHOLD"):
        return IN_USE
    if name == "CHANNEL_HOLD":
        return HOLD
    if name == "CHANNEL_HANGUP_COMPLETE":
        return IDLE
    return None


def made(event: dict[str, Any]) -> list[str]:
    """The pushes ``event`` makes, in the order they are sent."""
    out: list[str] = []
    name = _h(event, "Event-Name")
    sub = _subclass(event)
    if sub == CALLCENTER:
        if _h(event, "CC-Action") == "member-queue-end":
            out.append("cc_cdr")
        return out
    if name == "CHANNEL_CREATE" and dialled(event):
        out.append("dialbegin")
    elif name == "CHANNEL_ANSWER" and dialled(event):
        out.append("dialend")
    elif name == "CHANNEL_HANGUP_COMPLETE":
        if dialled(event):
            if _h(event, "Caller-Channel-Answered-Time") in ("", "0"):
                out.append("dialend")  # the dial failed; an answered one ended at the answer
        elif not _skipped(event):
            out += ["hangup", "cdr"]
    if _ext_status(event) is not None and _exten(event):
        out.append("extensionstatus")
    return out


def lane(event: dict[str, Any], push: str) -> str:
    """Pushes of one call share a lane (a B leg's go with its first leg), and
    an extension's statuses share one: each arrives in the order it happened."""
    if push == "extensionstatus":
        return f"exten:{_exten(event)}"
    if push == "cc_cdr":
        return _h(event, "CC-Member-Session-UUID") or _h(event, "Unique-ID")
    if dialled(event):
        return _h(event, "Other-Leg-Unique-ID")
    return _h(event, "Unique-ID")


# --- the pushes --------------------------------------------------------------------------


def dialbegin(event: dict[str, Any], ctx: Context) -> dict[str, Any]:
    number, _ = _party(event, "Other-Leg")
    return {
        # The spec's spelling: coocenter's receivers compare this string.
        "event": "dialbegein",
        "timestamp": _timestamp(event),
        "channel": _h(event, "Other-Leg-Channel-Name"),
        "calleridnum": number,
        "destchannel": _h(event, "Channel-Name"),
        "destcalleridnum": _h(event, "Caller-Destination-Number"),
        "destuniqueid": _h(event, "Unique-ID"),
        "dialstring": _dialstring(event),
        "uniqueid": _h(event, "Other-Leg-Unique-ID"),
        "mac": ctx.mac,
    }


def dialend(event: dict[str, Any], ctx: Context) -> dict[str, Any]:
    number, _ = _party(event, "Other-Leg")
    answered = _h(event, "Event-Name") == "CHANNEL_ANSWER"
    status = "answer" if answered else DIAL_FAILED.get(_cause(event), "hangup")
    return {
        "event": "dialend",
        "timestamp": _timestamp(event),
        "channel": _h(event, "Other-Leg-Channel-Name"),
        "calleridnum": number,
        "destchannel": _h(event, "Channel-Name"),
        "destcalleridnum": _h(event, "Caller-Destination-Number"),
        "uniqueid": _h(event, "Other-Leg-Unique-ID"),
        "dialstatus": status,
    }


def hangup(event: dict[str, Any], ctx: Context) -> dict[str, Any]:
    number, name, other, other_name = _first_leg_parties(event)
    return {
        "event": "hangup",
        "calleridnum": number,
        "calleridname": name,
        "connectedlinenum": other,
        "connectedlinename": other_name,
        "uniqueid": _h(event, "Unique-ID"),
    }


def _calltype(event: dict[str, Any]) -> str:
    """outbound (out through a trunk), inbound (in from one), '' internal."""
    inbound = _h(event, "Caller-Direction") == "inbound"
    if inbound and not _var(event, "user_name"):
        return "inbound"  # not one of our extensions calling
    through = " ".join(
        (_var(event, "current_application_data"), _h(event, "Other-Leg-Channel-Name"))
    )
    if _var(event, "sip_gateway_name") or "gateway/" in through or "sofia/external/" in through:
        return "outbound"
    return ""


def cdr(event: dict[str, Any], ctx: Context) -> dict[str, Any]:
    number, name, other, _ = _first_leg_parties(event)
    answered = _int(_var(event, "answer_epoch"))
    disposition = "ANSWERED" if answered else NOT_ANSWERED.get(_cause(event), "FAILED")
    return {
        "event": "cdr",
        "callerid": f'"{name}" <{number}>',
        "source": number,
        "destination": other,
        "starttime": _stamp(_int(_var(event, "start_epoch")), ctx),
        "answertime": _stamp(answered, ctx),
        "endtime": _stamp(_int(_var(event, "end_epoch")), ctx),
        "disposition": disposition,
        "duration": str(_int(_var(event, "duration"))),
        "billableseconds": str(_int(_var(event, "billsec"))),
        "calltype": _calltype(event),
        "recordfile": _var(event, "record_filename"),
        "uniqueid": _h(event, "Unique-ID"),
    }


def extensionstatus(event: dict[str, Any], ctx: Context) -> dict[str, Any]:
    status = _ext_status(event)
    assert status is not None  # only such events make one
    return {
        "event": "extensionstatus",
        "exten": _exten(event),
        "status": str(status),
        "statustext": STATUS_TEXT[status],
    }


def _local_part(text: str) -> str:
    return text.partition("@")[0]


def _hangup_side(event: dict[str, Any], terminated: bool) -> str:
    if not terminated:
        return "caller"  # the caller left the queue (or was sent away by it)
    disposition = _var(event, "sip_hangup_disposition")
    if disposition.startswith("recv_"):
        return "caller"
    if disposition.startswith("send_") or _var(event, "bridge_hangup_cause"):
        return "agent"  # the bridge ended from the agent's side
    return "caller"


def cc_cdr(event: dict[str, Any], ctx: Context, pause: int = 0) -> dict[str, Any]:
    """A queue call's record from mod_callcenter's member-queue-end (with the
    member channel's data; freeswitch-observed b, sections 2 and 4); ``pause``
    the after-call pause that followed it, seconds (coocenter_pause.py)."""
    terminated = _h(event, "CC-Cause") == "Terminated"
    joined = _int(_h(event, "CC-Member-Joined-Time"))
    left = _int(_h(event, "CC-Member-Leaving-Time"))
    called = _int(_h(event, "CC-Agent-Called-Time"))
    answered = _int(_h(event, "CC-Agent-Answered-Time")) if terminated else 0
    started = _int(_h(event, "Caller-Channel-Created-Time")) // 1_000_000 or joined
    agent = _local_part(_h(event, "CC-Agent") or _var(event, "cc_agent"))
    reason = _h(event, "CC-Cancel-Reason")
    queued = (answered or left) - joined
    if terminated:
        miss = ""
    elif reason in MISS_CAUSE:
        miss = MISS_CAUSE[reason]
    else:  # BREAK_OUT, EXIT_WITH_KEY: the caller gave up
        miss = "MEMBER_CANCEL" if queued <= MEMBER_CANCEL_SECONDS else "NO_ASSIGN"
    hold_us = _int(_h(event, "Caller-Channel-Hold-Accum"))
    return {
        "event": "cc_cdr",
        "uuid": _h(event, "CC-Member-Session-UUID") or _h(event, "Unique-ID"),
        "caller": _h(event, "CC-Member-CID-Number"),
        "called": agent,
        "queueCode": _local_part(_h(event, "CC-Queue")),
        "agentCode": agent,
        "callType": "incoming",
        "cdrState": "bridged" if terminated else "queue",
        "hangupSide": _hangup_side(event, terminated),
        "hangupCause": _cause(event) or reason,
        "startTime": _stamp(started, ctx),
        "endTime": _stamp(left, ctx),
        "duration": str(max(left - started, 0)),
        "queueTime": str(max(queued, 0)),
        "feedbackTime": "0",
        "ivrTime": "",
        "ringTime": str(max(answered - called, 0) if answered and called else 0),
        "holdTime": hold_us // 1_000_000,
        "pauseTime": pause,
        "talkingTime": str(max(left - answered, 0) if answered else 0),
        "voicemailState": "0",
        "ivrId": "",
        "ivrName": "",
        "ivrDtmf": "0",
        "fwType": "",
        "score": "0",
        "trunkNumber": _h(event, "Caller-Destination-Number"),
        "forwardNumber": "",
        "filePath": _var(event, "cc_record_filename") or _var(event, "record_filename"),
        "missCause": miss,
        "mac": ctx.mac,
    }


RENDER: dict[str, Callable[[dict[str, Any], Context], dict[str, Any]]] = {
    "dialbegin": dialbegin,
    "dialend": dialend,
    "hangup": hangup,
    "extensionstatus": extensionstatus,
    "cdr": cdr,
    "cc_cdr": cc_cdr,
}


def render(push: str, event: dict[str, Any], ctx: Context, *, pause: int = 0) -> bytes:
    if push == "cc_cdr":
        return _encoder.encode(cc_cdr(event, ctx, pause))
    return _encoder.encode(RENDER[push](event, ctx))

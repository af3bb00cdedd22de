"""A simulated channel: its state, caller profile and variables, and the event data it adds.

Header names and order follow switch_channel_event_set_basic_data and
switch_caller_profile_event_set_data, as captured from FreeSWITCH 1.10.12.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field

from switchyard.fssim.event import Event

STATES = [
    "CS_NEW",
    "CS_INIT",
    "CS_ROUTING",
    "CS_SOFT_EXECUTE",
    "CS_EXECUTE",
    "CS_EXCHANGE_MEDIA",
    "CS_PARK",
    "CS_CONSUME_MEDIA",
    "CS_HIBERNATE",
    "CS_RESET",
    "CS_HANGUP",
    "CS_REPORTING",
    "CS_DESTROY",
    "CS_NONE",
]
STATE = {name: i for i, name in enumerate(STATES)}
CALLSTATES = ["DOWN", "DIALING", "RINGING", "EARLY", "ACTIVE", "HELD", "RING_WAIT", "HANGUP"]
CALLSTATE = {name: i for i, name in enumerate(CALLSTATES)}

# Events that carry variable_* headers (switch_channel_event_set_extended_data).
VARIABLE_EVENTS = frozenset(
    {
        "CHANNEL_CREATE",
        "CHANNEL_ORIGINATE",
        "CHANNEL_UUID",
        "CHANNEL_ANSWER",
        "CHANNEL_PARK",
        "CHANNEL_UNPARK",
        "CHANNEL_BRIDGE",
        "CHANNEL_UNBRIDGE",
        "CHANNEL_PROGRESS",
        "CHANNEL_PROGRESS_MEDIA",
        "CHANNEL_HANGUP",
        "CHANNEL_HANGUP_COMPLETE",
        "CHANNEL_DATA",
        "CHANNEL_EXECUTE",
        "CHANNEL_EXECUTE_COMPLETE",
        "CHANNEL_DESTROY",
        "CALL_UPDATE",
        "CUSTOM",
        "REQUEST_PARAMS",
        "PLAYBACK_START",
        "PLAYBACK_STOP",
        "RECORD_START",
        "RECORD_STOP",
    }
)


def now_us() -> int:
    return int(time.time() * 1_000_000)


@dataclass
class Profile:
    """A caller profile (switch_caller_profile_t), the fields events show."""

    dialplan: str = "xml"
    caller_id_name: str = ""
    caller_id_number: str = ""
    orig_caller_id_name: str = ""
    orig_caller_id_number: str = ""
    callee_id_name: str = ""
    callee_id_number: str = ""
    network_addr: str = ""
    ani: str = ""
    destination_number: str = ""
    source: str = ""
    context: str = "default"
    username: str = ""
    transfer_source: str = ""
    rdnis: str = ""


@dataclass
class Channel:
    uuid: str
    name: str
    direction: str  # "inbound" or "outbound"
    profile: Profile
    codec: tuple[str, str, str] = ("L16", "8000", "128000")
    running_state: str = "CS_NEW"
    state: str = "CS_INIT"
    callstate: str = "DOWN"
    answer_state: str = "ringing"
    hit_dialplan: bool = False
    hangup_cause: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    created_us: int = field(default_factory=now_us)
    times: dict[str, int] = field(default_factory=dict)
    created_local: str = ""
    application: str = ""
    application_data: str = ""
    peer: Channel | None = None
    # The last peer: FreeSWITCH keeps a bridge's originatee caller profile on the
    # leg after the bridge ends, so its later events (HANGUP_COMPLETE) still
    # carry Other-Type: originatee and the Other-Leg-* of the leg it was bridged to.
    last_peer: Channel | None = None
    partner: Channel | None = None  # the other loopback leg
    originator: Channel | None = None
    initial: Profile | None = None
    continue_after_bridge: bool = False
    parked: bool = False
    pending: deque[tuple[str, str, str]] = field(default_factory=deque)
    transfer_to: tuple[str, str, str] | None = None
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    hungup: asyncio.Event = field(default_factory=asyncio.Event)
    answered_evt: asyncio.Event = field(default_factory=asyncio.Event)
    media_evt: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    muted: dict[str, bool] = field(default_factory=dict)
    conference: str = ""
    session_id: int = 0
    # DTMF received from the far end and not yet read (digit, duration in samples).
    dtmf: deque[tuple[str, int]] = field(default_factory=deque)
    dtmf_evt: asyncio.Event = field(default_factory=asyncio.Event)
    # True while an app reads digits itself (ivr); otherwise they are read at once.
    reads_dtmf: bool = False
    # Every file played to this channel, in order, for tests to see what a caller heard.
    played: list[str] = field(default_factory=list)
    # CF_INTERCEPTED: taken out of its dialplan by ``intercept`` and bridged elsewhere.
    intercepted: bool = False
    # Media bugs recording this channel (uuid_record, record_session): path -> start (monotonic).
    recordings: dict[str, float] = field(default_factory=dict)

    @property
    def is_up(self) -> bool:
        return not self.hungup.is_set()

    @property
    def interrupted(self) -> bool:
        return self.hungup.is_set() or self.transfer_to is not None or self.intercepted

    async def pause(self, seconds: float | None) -> bool:
        """Wait ``seconds`` (None: until woken); False when hung up or transferred meanwhile."""
        if self.interrupted:
            return False
        self.wakeup.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):  # cancel-safe, unlike 3.11's wait_for
                await self.wakeup.wait()
        return not self.interrupted

    def wake(self) -> None:
        self.wakeup.set()

    async def wait_dtmf(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for a queued digit; False on timeout or when interrupted."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self.dtmf:
            left = deadline - loop.time()
            if self.interrupted or left <= 0:
                return False
            self.dtmf_evt.clear()
            self.wakeup.clear()
            waits = [
                asyncio.ensure_future(self.dtmf_evt.wait()),
                asyncio.ensure_future(self.wakeup.wait()),
            ]
            try:
                await asyncio.wait(waits, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
        return not self.interrupted

    def time(self, key: str) -> int:
        return self.times.get(key, 0)

    def add_basic_data(self, event: Event, *, with_vars: bool) -> None:
        add = event.add
        add("Channel-State", self.running_state)
        add("Channel-Call-State", self.callstate)
        add("Channel-State-Number", STATE[self.state])
        add("Channel-Name", self.name)
        add("Unique-ID", self.uuid)
        add("Call-Direction", self.direction)
        add("Presence-Call-Direction", self.direction)
        add("Channel-HIT-Dialplan", "true" if self.hit_dialplan else "false")
        add("Channel-Call-UUID", self.variables.get("call_uuid", self.uuid))
        add("Answer-State", self.answer_state)
        add("Hangup-Cause", self.hangup_cause)
        name, rate, bits = self.codec
        add("Channel-Read-Codec-Name", name)
        add("Channel-Read-Codec-Rate", rate)
        add("Channel-Read-Codec-Bit-Rate", bits)
        add("Channel-Write-Codec-Name", name)
        add("Channel-Write-Codec-Rate", rate)
        add("Channel-Write-Codec-Bit-Rate", bits)
        self.add_profile(event, "Caller", self.profile, self.name, self.direction, times=True)
        if self.peer is not None:
            self.last_peer = self.peer
        other = self.peer or self.originator or self.last_peer
        if other is not None:
            event.add("Other-Type", "originator" if other is self.originator else "originatee")
            self.add_profile(
                event, "Other-Leg", other.profile, other.name, other.direction, uuid=other.uuid
            )
        if with_vars:
            for key, value in self.variables.items():
                add(f"variable_{key}", value)

    def add_profile(
        self,
        event: Event,
        prefix: str,
        p: Profile,
        channel_name: str,
        direction: str,
        *,
        times: bool = False,
        uuid: str | None = None,
    ) -> None:
        add = event.add
        add(f"{prefix}-Direction", direction)
        add(f"{prefix}-Logical-Direction", direction)
        add(f"{prefix}-Username", p.username)
        add(f"{prefix}-Dialplan", p.dialplan)
        add(f"{prefix}-Caller-ID-Name", p.caller_id_name)
        add(f"{prefix}-Caller-ID-Number", p.caller_id_number)
        add(f"{prefix}-Orig-Caller-ID-Name", p.orig_caller_id_name)
        add(f"{prefix}-Orig-Caller-ID-Number", p.orig_caller_id_number)
        add(f"{prefix}-Callee-ID-Name", p.callee_id_name)
        add(f"{prefix}-Callee-ID-Number", p.callee_id_number)
        add(f"{prefix}-Network-Addr", p.network_addr)
        add(f"{prefix}-ANI", p.ani)
        add(f"{prefix}-Destination-Number", p.destination_number)
        add(f"{prefix}-Unique-ID", uuid or self.uuid)
        add(f"{prefix}-Source", p.source)
        add(f"{prefix}-Transfer-Source", p.transfer_source)
        add(f"{prefix}-Context", p.context)
        add(f"{prefix}-RDNIS", p.rdnis)
        add(f"{prefix}-Channel-Name", channel_name)
        add(f"{prefix}-Profile-Index", "1")
        if not times:
            return
        add(f"{prefix}-Profile-Created-Time", self.created_us)
        add(f"{prefix}-Channel-Created-Time", self.created_us)
        for key, header in (
            ("answered", "Answered-Time"),
            ("progress", "Progress-Time"),
            ("progress_media", "Progress-Media-Time"),
            ("hangup", "Hangup-Time"),
            ("transfer", "Transfer-Time"),
            ("resurrect", "Resurrect-Time"),
            ("bridged", "Bridged-Time"),
            ("last_hold", "Last-Hold"),
            ("hold_accum", "Hold-Accum"),
        ):
            add(f"{prefix}-Channel-{header}", self.time(key))
        add(f"{prefix}-Screen-Bit", "true")
        add(f"{prefix}-Privacy-Hide-Name", "false")
        add(f"{prefix}-Privacy-Hide-Number", "false")

    def show_row(self, hostname: str) -> dict[str, str]:
        """This channel as a row of ``show channels as json`` (every value a string)."""
        p, i = self.profile, self.initial or self.profile
        peer = self.peer or self.partner
        name, rate, bits = self.codec
        return {
            "uuid": self.uuid,
            "direction": self.direction,
            "created": self.created_local,
            "created_epoch": str(self.created_us // 1_000_000),
            "name": self.name,
            "state": self.shown_state,
            "cid_name": p.caller_id_name,
            "cid_num": p.caller_id_number,
            "ip_addr": p.network_addr,
            "dest": p.destination_number,
            "application": self.application,
            "application_data": self.application_data,
            "dialplan": p.dialplan,
            "context": p.context,
            "read_codec": name,
            "read_rate": rate,
            "read_bit_rate": bits,
            "write_codec": name,
            "write_rate": rate,
            "write_bit_rate": bits,
            "secure": "",
            "hostname": hostname,
            "presence_id": self.variables.get("presence_id", ""),
            "presence_data": "",
            "accountcode": self.variables.get("accountcode", ""),
            "callstate": self.shown_callstate,
            "callee_name": p.callee_id_name,
            "callee_num": p.callee_id_number,
            "callee_direction": "RECV"
            if p.callee_id_number and self.direction == "outbound"
            else "",
            "call_uuid": peer.uuid if self.peer is not None and peer is not None else "",
            "sent_callee_name": "",
            "sent_callee_num": "",
            "initial_cid_name": i.caller_id_name,
            "initial_cid_num": i.caller_id_number,
            "initial_ip_addr": i.network_addr,
            "initial_dest": i.destination_number,
            "initial_dialplan": i.dialplan,
            "initial_context": i.context,
        }

    # The channels table is written from events and skips some states (sqldb 2449-2740).
    shown_state: str = "CS_INIT"
    shown_callstate: str = ""

"""ESL on the wire, as mod_event_socket reads and writes it: client packets and fixed frames.

Nothing here holds a connection: :func:`read_packet` reads one packet from a
stream, :func:`packet_headers` stores a packet's headers as
switch_event_add_header_string does, and the constants are the frames and
names FreeSWITCH sends or accepts.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

MAX_CONTENT_LENGTH = 16 * 1024 * 1024
KILLED_BODY = b"killed listener because of lost events\n"
KILLED_NOTICE = (
    b"Content-Type: text/disconnect-notice\nContent-Length: %d\n\n" % len(KILLED_BODY) + KILLED_BODY
)
RUDE = b"Access Denied, go away.\n"
RUDE_REJECTION = b"Content-Type: text/rude-rejection\nContent-Length: %d\n\n" % len(RUDE) + RUDE
GREETING = b"Content-Type: auth/request\n\n"
BYE = b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
DISCONNECT_NOTICE = b"Content-Type: text/disconnect-notice\nContent-Length: %d\n\n" % len(BYE) + BYE

# switch_event_types_t names (switch_event.c EVENT_NAMES).
EVENT_NAMES = frozenset(
    [
        "CUSTOM",
        "CLONE",
        "CHANNEL_CREATE",
        "CHANNEL_DESTROY",
        "CHANNEL_STATE",
        "CHANNEL_CALLSTATE",
        "CHANNEL_ANSWER",
        "CHANNEL_HANGUP",
        "CHANNEL_HANGUP_COMPLETE",
        "CHANNEL_EXECUTE",
        "CHANNEL_EXECUTE_COMPLETE",
        "CHANNEL_HOLD",
        "CHANNEL_UNHOLD",
        "CHANNEL_BRIDGE",
        "CHANNEL_UNBRIDGE",
        "CHANNEL_PROGRESS",
        "CHANNEL_PROGRESS_MEDIA",
        "CHANNEL_OUTGOING",
        "CHANNEL_PARK",
        "CHANNEL_UNPARK",
        "CHANNEL_APPLICATION",
        "CHANNEL_ORIGINATE",
        "CHANNEL_UUID",
        "API",
        "LOG",
        "INBOUND_CHAN",
        "OUTBOUND_CHAN",
        "STARTUP",
        "SHUTDOWN",
        "PUBLISH",
        "UNPUBLISH",
        "TALK",
        "NOTALK",
        "SESSION_CRASH",
        "MODULE_LOAD",
        "MODULE_UNLOAD",
        "DTMF",
        "MESSAGE",
        "PRESENCE_IN",
        "NOTIFY_IN",
        "PRESENCE_OUT",
        "PRESENCE_PROBE",
        "MESSAGE_WAITING",
        "MESSAGE_QUERY",
        "ROSTER",
        "CODEC",
        "BACKGROUND_JOB",
        "DETECTED_SPEECH",
        "DETECTED_TONE",
        "PRIVATE_COMMAND",
        "HEARTBEAT",
        "TRAP",
        "ADD_SCHEDULE",
        "DEL_SCHEDULE",
        "EXE_SCHEDULE",
        "RE_SCHEDULE",
        "RELOADXML",
        "NOTIFY",
        "PHONE_FEATURE",
        "PHONE_FEATURE_SUBSCRIBE",
        "SEND_MESSAGE",
        "RECV_MESSAGE",
        "REQUEST_PARAMS",
        "CHANNEL_DATA",
        "GENERAL",
        "COMMAND",
        "SESSION_HEARTBEAT",
        "CLIENT_DISCONNECTED",
        "SERVER_DISCONNECTED",
        "SEND_INFO",
        "RECV_INFO",
        "RECV_RTCP_MESSAGE",
        "SEND_RTCP_MESSAGE",
        "CALL_SECURE",
        "NAT",
        "RECORD_START",
        "RECORD_STOP",
        "PLAYBACK_START",
        "PLAYBACK_STOP",
        "CALL_UPDATE",
        "FAILURE",
        "SOCKET_DATA",
        "MEDIA_BUG_START",
        "MEDIA_BUG_STOP",
        "CONFERENCE_DATA_QUERY",
        "CONFERENCE_DATA",
        "CALL_SETUP_REQ",
        "CALL_SETUP_RESULT",
        "CALL_DETAIL",
        "DEVICE_STATE",
        "TEXT",
        "SHUTDOWN_REQUESTED",
        "ALL",
    ]
)
# Subclasses the simulated modules reserve (switch_event_reserve_subclass):
# ``event ALL`` subscribes to these by name (MES set_all_custom), so they stay
# subscribed when a later nixevent turns ALL into single types.
RESERVED_SUBCLASSES = frozenset({"sofia::gateway_state", "ai::channel-state"})

LOG_LEVELS = {
    "console": 0,
    "alert": 1,
    "crit": 2,
    "err": 3,
    "error": 3,
    "warning": 4,
    "notice": 5,
    "info": 6,
    "debug": 7,
}


def packet_headers(
    lines: list[tuple[str, str]],
) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """A packet's headers as switch_event_add_header_string stores them (read_packet).

    An empty value is not stored and removes the headers of that name;
    ``Name[i]: v`` sets item i of the array header ``Name`` (missing items are
    empty, so ``Name[0]:`` makes a header whose value is empty and is written
    ``_undef_``); ``ARRAY::a|:b`` makes an array. Arrays show as the single item,
    or ``ARRAY::a|:b`` when they hold more.
    """
    headers: list[tuple[str, str]] = []
    arrays: dict[str, list[str]] = {}

    def find(name: str) -> int:
        low = name.lower()
        return next((i for i, (k, _) in enumerate(headers) if k.lower() == low), -1)

    def set_array(name: str, items: list[str]) -> None:
        value = "ARRAY::" + "|:".join(items) if len(items) > 1 else items[0]
        i = find(name)
        if i < 0:
            headers.append((name, value))
        else:
            name = headers[i][0]
            headers[i] = (name, value)
        arrays[name] = items

    for name, value in lines:
        base, bracket, index = name.partition("[")
        if bracket:
            m = re.match(r"\s*[+-]?\d+", index)
            n = int(m.group()) if m else 0
            if not 0 <= n <= 4000:
                continue
            i = find(base)
            items = list(arrays.get(headers[i][0], [])) if i >= 0 else []
            items += [""] * (n + 1 - len(items))
            items[n] = value
            set_array(base, items)
        elif not value:
            low = name.lower()
            headers = [(k, v) for k, v in headers if k.lower() != low]
        elif value.startswith("ARRAY::"):
            if len(value) >= 8:
                set_array(name, value[7:].split("|:"))
        else:
            headers.append((name, value))
    kept = {k for k, _ in headers}
    return headers, {k: v for k, v in arrays.items() if k in kept}


def listener_copy(
    headers: list[tuple[str, str]], arrays: dict[str, list[str]]
) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """What a listener gets of an event with array headers (switch_event_dup).

    mod_event_socket copies each event for each listener, pushing every array
    item onto the copy; a push of "" onto a header that does not exist yet is
    dropped, so leading empty items vanish (with them a header holding only
    those) and one item left shows as a plain value (freeswitch-observed
    section 8). Empty items after a kept one stay in the plain value.
    """
    out: list[tuple[str, str]] = []
    copied: dict[str, list[str]] = {}
    for name, value in headers:
        items = arrays.get(name)
        if items is None:
            out.append((name, value))
            continue
        first = next((i for i, item in enumerate(items) if item), len(items))
        kept = items[first:]
        if not kept:
            continue
        out.append((name, "ARRAY::" + "|:".join(kept) if len(kept) > 1 else kept[0]))
        # The JSON array of the same copy was seen without the empty items
        # (``"X-Arr":["one","two"]`` beside plain ``ARRAY::one|:two|:``).
        copied[name] = [item for item in kept if item]
    return out, copied


@dataclass
class Packet:
    command: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        low = name.lower()
        for key, value in self.headers:
            if key.lower() == low:
                return value
        return None


class BadPacket(Exception):
    pass


async def read_packet(reader: asyncio.StreamReader) -> Packet | None:
    """One client packet (read_packet, MES 1242-1350); None at EOF."""
    lines: list[str] = []
    while True:
        raw = await reader.readline()
        if not raw:
            return None
        line = raw.decode(errors="replace").replace("\r", "").rstrip("\n")
        if not line:
            if lines:
                break
            continue  # leading blank lines are skipped
        lines.append(line)
    packet = Packet(lines[0].strip())
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            packet.headers.append((name.strip(), value.lstrip(" ")))
    length = packet.header("Content-Length")
    if length is not None:
        try:
            n = int(length)
        except ValueError:
            raise BadPacket(length) from None
        if n < 0 or n > MAX_CONTENT_LENGTH:
            raise BadPacket(length)
        packet.body = await reader.readexactly(n)
    return packet

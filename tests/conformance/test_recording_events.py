"""RECORD_START / RECORD_STOP of ``uuid_record`` (freeswitch-observed section 12).

What FreeSWITCH fixes, not timing: the API replies, the layout of both events
(standard headers, the recorded leg's data and variables, ``Record-File-Path``
last, then ``Record-Completion-Cause`` on a stop), the ``record_*`` variables a
stop sets, the completion cause, and that a hangup stops a recording between
CHANNEL_HANGUP and CHANNEL_HANGUP_COMPLETE.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from urllib.parse import unquote

from tests.conformance.conftest import RawEsl, body_of, event_headers, sample

RECORD_VARIABLES = [
    "variable_record_file_size",
    "variable_record_samples",
    "variable_record_seconds",
    "variable_record_ms",
    "variable_record_completion_cause",
]


def _headers(frame: bytes) -> dict[str, str]:
    return {k: unquote(v) for k, v in event_headers(frame)}


def _name(frame: bytes) -> str:
    m = re.search(rb"(?:^|\n)Event-Name: (\S+)", body_of(frame))
    return m.group(1).decode() if m else ""


async def _parked_a_leg(raw: RawEsl) -> str:
    reply = body_of(await raw.reply("api originate loopback/9196 &park")).decode()
    assert reply.startswith("+OK "), reply
    return reply.split()[1]


def _is(name: str, uuid: str) -> Callable[[bytes], bool]:
    return lambda f: _name(f) == name and _headers(f).get("Unique-ID") == uuid


def _check_layout(frame: bytes, uuid: str, path: str) -> list[tuple[str, str]]:
    headers = event_headers(frame)
    standard = [k for k, _ in event_headers(sample("esl/plain-CHANNEL_CREATE.txt"))[:13]]
    assert [k for k, _ in headers[:13]] == standard
    h = _headers(frame)
    assert h["Unique-ID"] == uuid
    assert h["Channel-Name"] == "loopback/9196-a"
    assert any(k.startswith("Caller-") for k, _ in headers)
    assert any(k.startswith("variable_") for k, _ in headers)
    assert unquote(headers[-1][1] if _name(frame) == "RECORD_START" else headers[-2][1]) == path
    return headers


async def test_uuid_record_start_and_stop(raw: RawEsl) -> None:
    await raw.reply("event plain RECORD_START RECORD_STOP")
    a = await _parked_a_leg(raw)
    path = f"/tmp/sy-rec-{a}.wav"
    try:
        assert body_of(await raw.reply(f"api uuid_record {a} start {path}")) == b"+OK Success\n"
        start = (await raw.events_until(_is("RECORD_START", a)))[-1]
        headers = _check_layout(start, a, path)
        assert headers[-1][0] == "Record-File-Path"
        h = _headers(start)
        assert (h["Channel-State"], h["Channel-Call-State"], h["Answer-State"]) == (
            "CS_EXECUTE",
            "ACTIVE",
            "answered",
        )
        assert not any(k in h for k in RECORD_VARIABLES)

        await asyncio.sleep(0.3)
        assert body_of(await raw.reply(f"api uuid_record {a} stop {path}")) == b"+OK Success\n"
        stop = (await raw.events_until(_is("RECORD_STOP", a)))[-1]
        headers = _check_layout(stop, a, path)
        assert [k for k, _ in headers[-2:]] == ["Record-File-Path", "Record-Completion-Cause"]
        h = _headers(stop)
        assert h["Record-Completion-Cause"] == "success-maxtime"
        assert h["variable_record_completion_cause"] == "success-maxtime"
        names = [k for k, _ in headers]
        assert all(k in names for k in RECORD_VARIABLES)
        assert [n for n in names if n in RECORD_VARIABLES] == RECORD_VARIABLES
        samples, ms = int(h["variable_record_samples"]), int(h["variable_record_ms"])
        assert int(h["variable_record_seconds"]) == ms // 1000
        assert int(h["variable_record_file_size"]) == 44 + 2 * samples  # 16-bit mono WAV
        assert h["Channel-State"] == "CS_EXECUTE" and h["Answer-State"] == "answered"

        # Nothing recording any more: a second stop, and stop all, are refused.
        again = await raw.reply(f"api uuid_record {a} stop {path}")
        assert body_of(again) == b"-ERR Cannot stop record session!\n"
        every = await raw.reply(f"api uuid_record {a} stop all")
        assert body_of(every) == b"-ERR Cannot stop record session!\n"
    finally:
        await raw.reply(f"api uuid_kill {a}")


async def test_a_hangup_stops_the_recording_in_cs_hangup(raw: RawEsl) -> None:
    await raw.reply("event plain ALL")
    a = await _parked_a_leg(raw)
    path = f"/tmp/sy-rec-{a}.wav"
    assert body_of(await raw.reply(f"api uuid_record {a} start {path}")) == b"+OK Success\n"
    await asyncio.sleep(0.2)
    await raw.reply(f"api uuid_kill {a}")
    frames = await raw.events_until(_is("CHANNEL_HANGUP_COMPLETE", a))
    mine = [f for f in frames if _headers(f).get("Unique-ID") == a]
    names = [_name(f) for f in mine]
    assert names.count("RECORD_START") == 1 and names.count("RECORD_STOP") == 1
    assert (
        names.index("RECORD_START")
        < names.index("CHANNEL_HANGUP")
        < names.index("RECORD_STOP")
        < names.index("CHANNEL_HANGUP_COMPLETE")
    )
    stop = mine[names.index("RECORD_STOP")]
    headers = _check_layout(stop, a, path)
    assert [k for k, _ in headers[-2:]] == ["Record-File-Path", "Record-Completion-Cause"]
    h = _headers(stop)
    assert h["Channel-State"] == "CS_HANGUP" and h["Answer-State"] == "hangup"
    # success-silence as observed; the source gives no-input-timeout when no speech was heard.
    assert h["Record-Completion-Cause"] in ("success-silence", "no-input-timeout")
    assert h["variable_record_completion_cause"] == h["Record-Completion-Cause"]


async def test_record_session_stops_when_the_leg_hangs_up(raw: RawEsl) -> None:
    """``record_session`` as the A leg's only app: the leg hangs up after it, and the
    recording stops then, as a hangup stops any recording."""
    await raw.reply("event plain ALL")
    path = "/tmp/sy-rec-session.wav"
    reply = body_of(await raw.reply(f"api originate loopback/9196 &record_session({path})"))
    assert reply.startswith(b"+OK "), reply
    a = reply.decode().split()[1]
    frames = await raw.events_until(_is("CHANNEL_HANGUP_COMPLETE", a))
    mine = [f for f in frames if _headers(f).get("Unique-ID") == a]
    names = [_name(f) for f in mine]
    assert names.index("RECORD_START") < names.index("RECORD_STOP")
    assert names.index("CHANNEL_HANGUP") < names.index("RECORD_STOP")
    assert names.index("RECORD_STOP") < names.index("CHANNEL_HANGUP_COMPLETE")
    start, stop = mine[names.index("RECORD_START")], mine[names.index("RECORD_STOP")]
    assert event_headers(start)[-1][0] == "Record-File-Path"
    assert unquote(event_headers(start)[-1][1]) == path
    assert [k for k, _ in event_headers(stop)[-2:]] == [
        "Record-File-Path",
        "Record-Completion-Cause",
    ]
    assert _headers(stop)["Channel-State"] == "CS_HANGUP"

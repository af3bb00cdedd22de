"""Loopback calls that ring, send early media, answer or are rejected: the events of each leg.

The B leg runs an extension of context ``sy_observe``
(tests/conformance/freeswitch/dialplan/sy_observe.xml, loaded by fssim and
installed on a real node), as in freeswitch-observed-2026-12.md section 10.
Only what FreeSWITCH fixes is asserted: the order of the events one thread
fires (a leg's own state machine; the B leg's apps, which mark the A leg
before themselves), never the interleaving of the two legs' threads nor
timing.
"""

from __future__ import annotations

import re

from tests.conformance.conftest import RawEsl, body_of, event_headers

Moment = tuple[str, str, str, str, str]  # event, leg, state, callstate, answer state
MARKS = ("CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER", "CHANNEL_CALLSTATE")


def _h(frame: bytes, name: str) -> str:
    return next((v for k, v in event_headers(frame) if k == name), "")


def _leg(frame: bytes) -> str:
    return _h(frame, "Channel-Name")[-1:]


def _moment(frame: bytes) -> Moment:
    return (
        _h(frame, "Event-Name"),
        _leg(frame),
        _h(frame, "Channel-State"),
        _h(frame, "Channel-Call-State"),
        _h(frame, "Answer-State"),
    )


async def _call(
    raw: RawEsl, dial: str, kill_after: str = "CHANNEL_PARK"
) -> tuple[str, list[bytes]]:
    """``originate <dial> &park`` with ``event plain ALL``; when it answers +OK, the
    A leg is killed after its ``kill_after`` event. The reply, and every channel event until both
    legs' last one, STATE(CS_DESTROY)."""
    await raw.reply("event plain ALL")
    reply = body_of(await raw.reply(f"api originate {dial} &park")).decode()
    frames: list[bytes] = []
    if reply.startswith("+OK "):
        a_leg = reply[4:].strip()
        frames += await raw.events_until(
            lambda f: _h(f, "Event-Name") == kill_after and _h(f, "Unique-ID") == a_leg
        )
        await raw.reply(f"api uuid_kill {a_leg}")
    destroyed: set[str] = set()

    def both_destroyed(f: bytes) -> bool:
        if _h(f, "Event-Name") == "CHANNEL_STATE" and _h(f, "Channel-State") == "CS_DESTROY":
            destroyed.add(_leg(f))
        return destroyed >= {"a", "b"}

    frames += await raw.events_until(both_destroyed)
    return reply, [f for f in frames if _h(f, "Channel-Name").startswith("loopback/")]


def _of(frames: list[bytes], leg: str, *names: str) -> list[Moment]:
    return [m for m in map(_moment, frames) if m[1] == leg and (not names or m[0] in names)]


def _first(frames: list[bytes], name: str, leg: str) -> bytes:
    return next(f for f in frames if _h(f, "Event-Name") == name and _leg(f) == leg)


def _hangup_sequence(frames: list[bytes], leg: str) -> list[str]:
    names = [m[0] for m in _of(frames, leg)]
    return names[names.index("CHANNEL_HANGUP") :]


async def test_an_answer_without_ringing_has_no_progress_and_marks_a_first(raw: RawEsl) -> None:
    reply, frames = await _call(raw, "loopback/9196")  # B: answer, echo
    assert reply.startswith("+OK ")
    names = {m[0] for m in map(_moment, frames)}
    assert not names & {"CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA"}
    # A leg's own thread: OUTGOING first, STATE(CS_INIT) number 1, CREATE number 2.
    own = [m for m in _of(frames, "a") if m[0] in ("CHANNEL_OUTGOING", "CHANNEL_CREATE")]
    assert own[0][0] == "CHANNEL_OUTGOING"
    init = _first(frames, "CHANNEL_STATE", "a")
    assert (_h(init, "Channel-State"), _h(init, "Channel-State-Number")) == ("CS_INIT", "1")
    create = _first(frames, "CHANNEL_CREATE", "a")
    assert (_h(create, "Channel-State"), _h(create, "Channel-State-Number")) == ("CS_INIT", "2")
    # The B leg rings as it starts routing: CALLSTATE before STATE(CS_ROUTING).
    b = _of(frames, "b", "CHANNEL_STATE", "CHANNEL_CALLSTATE")
    assert b[:4] == [
        ("CHANNEL_STATE", "b", "CS_INIT", "DOWN", "ringing"),
        ("CHANNEL_CALLSTATE", "b", "CS_ROUTING", "RINGING", "ringing"),
        ("CHANNEL_STATE", "b", "CS_ROUTING", "RINGING", "ringing"),
        ("CHANNEL_STATE", "b", "CS_EXECUTE", "RINGING", "ringing"),
    ]
    # B's answer marks A answered first; ANSWER shows the old callstate.
    marks = [m for m in map(_moment, frames) if m[0] in MARKS and m[3] != "HANGUP"]
    assert marks[-4:] == [
        ("CHANNEL_ANSWER", "a", "CS_CONSUME_MEDIA", "DOWN", "answered"),
        ("CHANNEL_CALLSTATE", "a", "CS_CONSUME_MEDIA", "ACTIVE", "answered"),
        ("CHANNEL_ANSWER", "b", "CS_EXECUTE", "RINGING", "answered"),
        ("CHANNEL_CALLSTATE", "b", "CS_EXECUTE", "ACTIVE", "answered"),
    ]
    # Given its app as extension, A flips its caller id (CALL_UPDATE), then executes.
    a = [m[0] for m in _of(frames, "a")]
    flip = a.index("CALL_UPDATE")
    assert a[flip - 2 : flip + 4] == [
        "CHANNEL_ANSWER",
        "CHANNEL_CALLSTATE",
        "CALL_UPDATE",
        "CHANNEL_STATE",
        "CHANNEL_EXECUTE",
        "CHANNEL_PARK",
    ]
    update = _first(frames, "CALL_UPDATE", "a")
    assert _moment(update) == ("CALL_UPDATE", "a", "CS_CONSUME_MEDIA", "ACTIVE", "answered")
    assert event_headers(update)[13] == ("Direction", "RECV")
    answer_a = _first(frames, "CHANNEL_ANSWER", "a")
    assert _h(update, "Caller-Caller-ID-Name") == "Outbound%20Call"
    assert _h(update, "Caller-Caller-ID-Number") == _h(answer_a, "Caller-Callee-ID-Number")
    assert _h(update, "Caller-Callee-ID-Number") == _h(answer_a, "Caller-Caller-ID-Number")
    assert _h(update, "variable_pre_transfer_caller_id_number") == _h(
        answer_a, "Caller-Caller-ID-Number"
    )
    assert _h(update, "variable_channel_cid_flipped") == "yes"
    assert _h(_first(frames, "CHANNEL_PARK", "a"), "Caller-Caller-ID-Name") == "Outbound%20Call"
    assert "CALL_UPDATE" not in [m[0] for m in _of(frames, "b")]
    # Each leg's hangup, from its own thread.
    ending = [
        "CHANNEL_STATE",  # CS_HANGUP, still showing the old callstate
        "CHANNEL_CALLSTATE",  # HANGUP
        "CHANNEL_STATE",  # CS_REPORTING
        "CHANNEL_HANGUP_COMPLETE",
        "CHANNEL_DESTROY",
        "CHANNEL_STATE",  # CS_DESTROY
    ]
    assert _hangup_sequence(frames, "a") == [
        "CHANNEL_HANGUP",
        "CHANNEL_UNPARK",
        "CHANNEL_EXECUTE_COMPLETE",
        *ending,
    ]
    assert _hangup_sequence(frames, "b") == ["CHANNEL_HANGUP", "CHANNEL_EXECUTE_COMPLETE", *ending]
    for leg in "ab":
        states = [m[2:4] for m in _of(frames, leg, "CHANNEL_STATE")][-3:]
        assert states == [
            ("CS_HANGUP", "ACTIVE"),
            ("CS_REPORTING", "HANGUP"),
            ("CS_DESTROY", "HANGUP"),
        ]
        destroy = _first(frames, "CHANNEL_DESTROY", leg)
        assert (_h(destroy, "Channel-State"), _h(destroy, "Channel-State-Number")) == (
            "CS_REPORTING",
            "12",
        )


async def test_ringing_then_early_media_then_answer(raw: RawEsl) -> None:
    # B: ring_ready, sleep 300, pre_answer, sleep 300, answer, echo.
    reply, frames = await _call(raw, "loopback/9999/sy_observe", kill_after="CHANNEL_ANSWER")
    assert reply.startswith("+OK ")
    marks = [m for m in map(_moment, frames) if m[0] in MARKS and m[3] != "HANGUP"]
    assert marks == [
        ("CHANNEL_CALLSTATE", "b", "CS_ROUTING", "RINGING", "ringing"),
        ("CHANNEL_PROGRESS", "a", "CS_CONSUME_MEDIA", "DOWN", "ringing"),
        ("CHANNEL_CALLSTATE", "a", "CS_CONSUME_MEDIA", "RINGING", "ringing"),
        ("CHANNEL_PROGRESS", "b", "CS_EXECUTE", "RINGING", "ringing"),  # b already RINGING
        ("CHANNEL_PROGRESS_MEDIA", "a", "CS_CONSUME_MEDIA", "RINGING", "early"),
        ("CHANNEL_CALLSTATE", "a", "CS_CONSUME_MEDIA", "EARLY", "early"),
        ("CHANNEL_PROGRESS_MEDIA", "b", "CS_EXECUTE", "RINGING", "early"),
        ("CHANNEL_CALLSTATE", "b", "CS_EXECUTE", "EARLY", "early"),
        ("CHANNEL_ANSWER", "a", "CS_EXECUTE", "EARLY", "answered"),
        ("CHANNEL_CALLSTATE", "a", "CS_EXECUTE", "ACTIVE", "answered"),
        ("CHANNEL_ANSWER", "b", "CS_EXECUTE", "EARLY", "answered"),
        ("CHANNEL_CALLSTATE", "b", "CS_EXECUTE", "ACTIVE", "answered"),
    ]
    # originate returned on the early media (ignore_early_media is false): A
    # flipped its caller id and parked 300 ms before B answered.
    a = [m for m in _of(frames, "a") if m[0] in ("CALL_UPDATE", "CHANNEL_STATE")]
    flip = [m[0] for m in a].index("CALL_UPDATE")
    assert a[flip : flip + 2] == [
        ("CALL_UPDATE", "a", "CS_CONSUME_MEDIA", "EARLY", "early"),
        ("CHANNEL_STATE", "a", "CS_EXECUTE", "EARLY", "early"),
    ]
    park = _first(frames, "CHANNEL_PARK", "a")
    assert (_h(park, "Channel-Call-State"), _h(park, "Answer-State")) == ("EARLY", "early")
    # PROGRESS and PROGRESS_MEDIA carry the channel's data and variables and
    # nothing of their own (freeswitch-observed section 11).
    answer = _first(frames, "CHANNEL_ANSWER", "a")

    def shape(f: bytes) -> list[str]:
        # Without the caller/callee id headers: A's caller id flips when it parks
        # (CALL_UPDATE), between these events, and an empty name has no header.
        return [
            k
            for k, _ in event_headers(f)[13:]
            if not k.startswith(("variable_", "Caller-Caller-ID-", "Caller-Callee-ID-"))
        ]

    progress = _first(frames, "CHANNEL_PROGRESS", "a")
    media = _first(frames, "CHANNEL_PROGRESS_MEDIA", "a")
    for f in (progress, media, _first(frames, "CHANNEL_PROGRESS", "b")):
        assert shape(f) == shape(answer)
        assert any(k.startswith("variable_") for k, _ in event_headers(f))
    assert _h(progress, "Caller-Channel-Progress-Time") != "0"
    assert _h(progress, "Caller-Channel-Progress-Media-Time") == "0"
    assert _h(media, "Caller-Channel-Progress-Media-Time") != "0"
    assert _h(progress, "variable_originate_early_media") == "true"
    assert _h(progress, "variable_originate_endpoint") == "loopback"
    complete = _first(frames, "CHANNEL_HANGUP_COMPLETE", "a")
    for name in ("progress_uepoch", "progress_media_uepoch", "progress_mediamsec"):
        assert _h(complete, f"variable_{name}") not in ("", "0"), name
    assert _h(complete, "variable_endpoint_disposition") == "ANSWER"


async def test_ringing_then_answer_has_no_early_media(raw: RawEsl) -> None:
    reply, frames = await _call(
        raw, "loopback/9180/sy_observe", kill_after="CHANNEL_ANSWER"
    )  # ring, 300 ms, answer
    assert reply.startswith("+OK ")
    names = [m[:2] for m in map(_moment, frames) if m[0] in MARKS[:3]]
    assert names == [
        ("CHANNEL_PROGRESS", "a"),
        ("CHANNEL_PROGRESS", "b"),
        ("CHANNEL_ANSWER", "a"),
        ("CHANNEL_ANSWER", "b"),
    ]


async def test_a_rejected_call_fails_originate_with_the_b_legs_cause(raw: RawEsl) -> None:
    reply, frames = await _call(raw, "loopback/9486/sy_observe")  # B: hangup CALL_REJECTED
    assert reply == "-ERR CALL_REJECTED\n"
    a_names = {m[0] for m in _of(frames, "a")}
    assert not a_names & {
        "CHANNEL_ANSWER",
        "CHANNEL_PROGRESS",
        "CHANNEL_EXECUTE",
        "CHANNEL_PARK",
    }
    for leg in "ab":
        assert _h(_first(frames, "CHANNEL_HANGUP", leg), "Hangup-Cause") == "CALL_REJECTED"
    assert _of(frames, "b")[-9:] == [
        ("CHANNEL_EXECUTE", "b", "CS_EXECUTE", "RINGING", "ringing"),
        ("CHANNEL_HANGUP", "b", "CS_EXECUTE", "RINGING", "hangup"),
        ("CHANNEL_EXECUTE_COMPLETE", "b", "CS_EXECUTE", "RINGING", "hangup"),
        ("CHANNEL_STATE", "b", "CS_HANGUP", "RINGING", "hangup"),
        ("CHANNEL_CALLSTATE", "b", "CS_HANGUP", "HANGUP", "hangup"),
        ("CHANNEL_STATE", "b", "CS_REPORTING", "HANGUP", "hangup"),
        ("CHANNEL_HANGUP_COMPLETE", "b", "CS_REPORTING", "HANGUP", "hangup"),
        ("CHANNEL_DESTROY", "b", "CS_REPORTING", "HANGUP", "hangup"),
        ("CHANNEL_STATE", "b", "CS_DESTROY", "HANGUP", "hangup"),
    ]
    callstate = _first(frames, "CHANNEL_CALLSTATE", "b")
    assert _h(callstate, "Original-Channel-Call-State") == "DOWN"


async def test_a_leg_that_rang_then_got_busy(raw: RawEsl) -> None:
    reply, frames = await _call(raw, "loopback/9487/sy_observe")  # ring, 200 ms, USER_BUSY
    assert reply == "-ERR USER_BUSY\n"
    a = [m[0] for m in _of(frames, "a", "CHANNEL_PROGRESS", "CHANNEL_CALLSTATE", "CHANNEL_HANGUP")]
    assert a[:3] == ["CHANNEL_PROGRESS", "CHANNEL_CALLSTATE", "CHANNEL_HANGUP"]
    assert _h(_first(frames, "CHANNEL_HANGUP", "a"), "Hangup-Cause") == "USER_BUSY"


async def test_a_b_leg_that_answers_and_hangs_up_at_once_fails_originate(raw: RawEsl) -> None:
    # answer, sleep 0, hangup: gone before originate's next 20 ms pass (8 of 8
    # on 1.10.12); with a 200 ms sleep the originate succeeds (8 of 8).
    reply, frames = await _call(raw, "loopback/91980/sy_observe")
    assert reply == "-ERR NORMAL_CLEARING\n"
    for leg in "ab":
        assert _h(_first(frames, "CHANNEL_ANSWER", leg), "Answer-State") == "answered"
        assert _h(_first(frames, "CHANNEL_HANGUP", leg), "Hangup-Cause") == "NORMAL_CLEARING"
    reply, _ = await _call(raw, "loopback/9198200/sy_observe")
    assert re.fullmatch(r"\+OK [0-9a-f-]{36}\n", reply)


async def test_ignoring_early_media_returns_on_the_answer(raw: RawEsl) -> None:
    # The same call as the early-media one; originate now returns only when B
    # answers, so A parks answered (freeswitch-observed section 10b).
    reply, frames = await _call(
        raw, "{ignore_early_media=true}loopback/9999/sy_observe", kill_after="CHANNEL_PARK"
    )
    assert reply.startswith("+OK ")
    names = [m[0] for m in _of(frames, "a", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER")]
    assert names == ["CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER"]
    park = _first(frames, "CHANNEL_PARK", "a")
    assert (_h(park, "Channel-Call-State"), _h(park, "Answer-State")) == ("ACTIVE", "answered")


async def test_an_error_endpoint_fails_without_a_channel(raw: RawEsl) -> None:
    await raw.reply("event plain ALL")
    reply = await raw.reply("api originate error/CALL_REJECTED &park")
    assert body_of(reply) == b"-ERR CALL_REJECTED\n"
    # No channel was made: the next channel event on this socket is a later call's.
    ok = body_of(await raw.reply("api originate loopback/9196 &park")).decode()
    a_leg = ok[4:].strip()
    frames = await raw.events_until(lambda f: _h(f, "Event-Name") == "CHANNEL_OUTGOING")
    channel_events = [f for f in frames if _h(f, "Unique-ID")]
    assert [_h(f, "Unique-ID") for f in channel_events[:1]] == [a_leg]
    await raw.reply(f"api uuid_kill {a_leg}")

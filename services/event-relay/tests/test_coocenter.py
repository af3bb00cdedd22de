"""coocenter's pushes derived from FreeSWITCH events, field by field.

The events are real FreeSWITCH 1.10.12 frames kept in the repository
(tests/conformance/samples), turned into the legs of a bridged call the way
FreeSWITCH shapes them: a dialled leg carries ``Other-Type: originator`` and
the ``Other-Leg-*`` profile of the leg that dialled it; the first leg keeps
``Other-Type: originatee`` after the bridge. mod_callcenter's
``member-queue-end`` follows the layout observed on 1.10.12: the member
channel's data, then the ``CC-*`` block.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from switchyard.event_relay import coocenter, coocenter_pause
from switchyard.event_relay.coocenter import Context

SAMPLES = Path(__file__).parents[3] / "tests/conformance/samples/esl"
SHANGHAI = Context(mac="68:69:2e:03:8b:3e", zone=ZoneInfo("Asia/Shanghai"))
A_UUID = "11111111-1111-4111-8111-111111111111"
B_UUID = "22222222-2222-4222-8222-222222222222"


def sample(name: str) -> dict[str, Any]:
    frame = (SAMPLES / f"json-{name}.txt").read_text()
    event: dict[str, Any] = json.loads(frame.split("\n\n", 1)[1])
    return event


def profile(
    prefix: str, *, direction: str, uuid: str, channel: str, cid: str, dest: str
) -> dict[str, str]:
    return {
        f"{prefix}-Direction": direction,
        f"{prefix}-Caller-ID-Name": cid,
        f"{prefix}-Caller-ID-Number": cid,
        f"{prefix}-Destination-Number": dest,
        f"{prefix}-Unique-ID": uuid,
        f"{prefix}-Channel-Name": channel,
    }


# Click-to-call: Switchyard rings 808 first (the A leg, placed with the
# caller id 4000), then bridges it to user/809 (the B leg).
A_LEG = {"direction": "outbound", "uuid": A_UUID, "channel": "sofia/internal/808@10.0.0.5",
         "cid": "4000", "dest": "808"}  # fmt: skip
B_LEG = {"direction": "outbound", "uuid": B_UUID, "channel": "sofia/internal/809@10.0.0.5",
         "cid": "4000", "dest": "809"}  # fmt: skip


def b_leg(name: str, **extra: str) -> dict[str, Any]:
    """A real ``name`` frame as the dialled B leg of the click-to-call."""
    event = sample(name)
    event.update(
        {
            "Channel-Name": B_LEG["channel"],
            "Unique-ID": B_UUID,
            **profile("Caller", **B_LEG),
            "Other-Type": "originator",
            **profile("Other-Leg", **A_LEG),
            "variable_dialed_user": "809",
            "variable_dialed_domain": "10.0.0.5",
            **extra,
        }
    )
    return event


def a_leg_hangup(**extra: str) -> dict[str, Any]:
    """The real HANGUP_COMPLETE frame as the click-to-call's A leg, after the bridge."""
    event = sample("CHANNEL_HANGUP_COMPLETE")
    event.update(
        {
            "Channel-Name": A_LEG["channel"],
            "Unique-ID": A_UUID,
            "Hangup-Cause": "NORMAL_CLEARING",
            **profile("Caller", **A_LEG),
            "Other-Type": "originatee",
            **profile("Other-Leg", **B_LEG),
            "variable_dialed_user": "808",
            "variable_start_epoch": "1795268872",
            "variable_answer_epoch": "1795268875",
            "variable_end_epoch": "1795268935",
            "variable_duration": "63",
            "variable_billsec": "60",
            "variable_record_filename": "/recordings/2026-11-21/a.wav",
            **extra,
        }
    )
    for key in ("variable_loopback_leg", "variable_is_loopback"):
        event.pop(key, None)
    return event


def test_a_dialled_leg_begins_and_ends_a_dial() -> None:
    create = b_leg("CHANNEL_CREATE")
    assert coocenter.made(create) == ["dialbegin"]
    assert msgspec.json.decode(coocenter.render("dialbegin", create, SHANGHAI)) == {
        "event": "dialbegein",  # the spec's spelling
        "timestamp": "1795268872.199087",
        "channel": "sofia/internal/808@10.0.0.5",
        "calleridnum": "808",  # the party rung first is the one who calls
        "destchannel": "sofia/internal/809@10.0.0.5",
        "destcalleridnum": "809",
        "destuniqueid": B_UUID,
        "dialstring": "user/809",
        "uniqueid": A_UUID,
        "mac": "68:69:2e:03:8b:3e",
    }
    answer = b_leg("CHANNEL_ANSWER")
    assert coocenter.made(answer) == ["dialend", "extensionstatus"]
    assert coocenter.dialend(answer, SHANGHAI) == {
        "event": "dialend",
        "timestamp": "1795268872.199087",  # Event-Date-Timestamp, in microseconds
        "channel": "sofia/internal/808@10.0.0.5",
        "calleridnum": "808",
        "destchannel": "sofia/internal/809@10.0.0.5",
        "destcalleridnum": "809",
        "uniqueid": A_UUID,
        "dialstatus": "answer",
    }
    # One call, one lane: the dialled leg's pushes go with the first leg's.
    assert coocenter.lane(create, "dialbegin") == coocenter.lane(a_leg_hangup(), "cdr") == A_UUID


def test_a_dial_that_fails_ends_with_its_cause_and_an_answered_one_only_once() -> None:
    busy = b_leg("CHANNEL_HANGUP_COMPLETE", **{"Hangup-Cause": "USER_BUSY"})
    assert coocenter.made(busy) == ["dialend", "extensionstatus"]
    assert coocenter.dialend(busy, SHANGHAI)["dialstatus"] == "busy"
    answered = b_leg(
        "CHANNEL_HANGUP_COMPLETE", **{"Caller-Channel-Answered-Time": "1795268875000000"}
    )
    assert coocenter.made(answered) == ["extensionstatus"]  # its dialend came at the answer


def test_the_first_leg_hangs_up_with_a_cdr_in_local_time() -> None:
    event = a_leg_hangup()
    assert coocenter.made(event) == ["hangup", "cdr", "extensionstatus"]
    assert coocenter.hangup(event, SHANGHAI) == {
        "event": "hangup",
        "calleridnum": "808",
        "calleridname": "808",
        "connectedlinenum": "809",
        "connectedlinename": "809",
        "uniqueid": A_UUID,
    }
    assert coocenter.cdr(event, SHANGHAI) == {
        "event": "cdr",
        "callerid": '"808" <808>',
        "source": "808",
        "destination": "809",
        "starttime": "2026-11-21 21:47:52",  # 13:47:52 UTC in Shanghai
        "answertime": "2026-11-21 21:47:55",
        "endtime": "2026-11-21 21:48:55",
        "disposition": "ANSWERED",
        "duration": "63",
        "billableseconds": "60",
        "calltype": "",  # extension to extension
        "recordfile": "/recordings/2026-11-21/a.wav",
        "uniqueid": A_UUID,
    }


def test_cdr_of_calls_that_came_in_or_went_out_or_were_not_answered() -> None:
    inbound = a_leg_hangup(
        **{"Caller-Direction": "inbound", "Caller-Caller-ID-Number": "13800000000",
           "Caller-Caller-ID-Name": "Li", "variable_answer_epoch": "0", "variable_billsec": "0",
           "Hangup-Cause": "NO_ANSWER"}
    )  # fmt: skip
    record = coocenter.cdr(inbound, SHANGHAI)
    assert (record["callerid"], record["source"], record["destination"]) == (
        '"Li" <13800000000>',
        "13800000000",
        "809",
    )
    assert (record["calltype"], record["disposition"], record["answertime"]) == (
        "inbound",
        "NO ANSWER",
        "",
    )
    out = a_leg_hangup(
        **{"Caller-Direction": "inbound", "variable_user_name": "808",
           "Caller-Caller-ID-Number": "808",
           "variable_current_application_data": "sofia/gateway/carrier/0201234"}
    )  # fmt: skip
    assert coocenter.cdr(out, SHANGHAI)["calltype"] == "outbound"
    busy = a_leg_hangup(**{"variable_answer_epoch": "0", "Hangup-Cause": "USER_BUSY"})
    assert coocenter.cdr(busy, SHANGHAI)["disposition"] == "BUSY"


def test_halves_that_are_not_calls_make_no_cdr() -> None:
    # The loopback sample's own B half, and an agent leg mod_callcenter placed.
    assert "cdr" not in coocenter.made(sample("CHANNEL_HANGUP_COMPLETE"))
    assert "cdr" not in coocenter.made(a_leg_hangup(variable_cc_side="agent"))


def test_extension_status_follows_its_channels_and_registrations() -> None:
    ringing = b_leg("CHANNEL_CREATE")  # no PROGRESS capture: the same leg, renamed
    ringing["Event-Name"] = "CHANNEL_PROGRESS"
    assert coocenter.extensionstatus(ringing, SHANGHAI) == {
        "event": "extensionstatus",
        "exten": "809",
        "status": "8",
        "statustext": "Ringing",
    }
    assert coocenter.extensionstatus(b_leg("CHANNEL_ANSWER"), SHANGHAI)["status"] == "1"
    assert coocenter.extensionstatus(a_leg_hangup(), SHANGHAI) == {
        "event": "extensionstatus",
        "exten": "808",
        "status": "0",
        "statustext": "Idle",
    }
    # sofia::register / unregister (mod_sofia's headers, sofia_reg.c).
    base = {
        k: v
        for k, v in sample("HEARTBEAT").items()
        if k.startswith(("Event-", "Core-", "FreeSWITCH-"))
    }
    register = {**base, "Event-Subclass": "sofia::register", "Event-Name": "CUSTOM",
                "profile-name": "internal", "from-user": "808", "from-host": "10.0.0.5",
                "status": "Registered(UDP)", "expires": "3600", "username": "808"}  # fmt: skip
    assert coocenter.made(register) == ["extensionstatus"]
    assert coocenter.extensionstatus(register, SHANGHAI)["status"] == "0"
    unregister = {**register, "Event-Subclass": "sofia::unregister"}
    assert coocenter.extensionstatus(unregister, SHANGHAI) == {
        "event": "extensionstatus",
        "exten": "808",
        "status": "4",
        "statustext": "Unavailable",
    }
    assert coocenter.lane(register, "extensionstatus") == coocenter.lane(
        a_leg_hangup(variable_dialed_user="808"), "extensionstatus"
    )


def member_queue_end(**cc: str) -> dict[str, Any]:
    """member-queue-end as 1.10.12 sends it: the member channel, then CC-*."""
    event = sample("CHANNEL_HANGUP_COMPLETE")
    event.update({"Event-Name": "CUSTOM", "Event-Subclass": "callcenter::info"})
    event.update(
        {
            "Unique-ID": A_UUID,
            "Caller-Direction": "inbound",
            "Caller-Caller-ID-Number": "85322361",
            "Caller-Destination-Number": "4008001234",
            "Caller-Channel-Created-Time": "1795268860000000",
            "Caller-Channel-Hold-Accum": "3000000",
            "Hangup-Cause": "NORMAL_CLEARING",
            "variable_cc_side": "member",
            "variable_cc_queue": "630@default",
        }
    )
    event.update(cc)
    return event


TERMINATED = {
    "CC-Queue": "630@default", "CC-Action": "member-queue-end", "CC-Hangup-Cause": "SUCCESS",
    "CC-Cause": "Terminated", "CC-Agent": "100@default", "CC-Agent-System": "single_box",
    "CC-Agent-UUID": B_UUID, "CC-Agent-Called-Time": "1795268866",
    "CC-Agent-Answered-Time": "1795268869", "CC-Member-Leaving-Time": "1795268929",
    "CC-Member-Joined-Time": "1795268862", "CC-Member-UUID": "c0ffee00-0000-4000-8000-000000000001",
    "CC-Member-Session-UUID": A_UUID, "CC-Member-CID-Name": "85322361",
    "CC-Member-CID-Number": "85322361",
}  # fmt: skip


def test_a_queue_call_an_agent_answered() -> None:
    event = member_queue_end(**TERMINATED)
    assert coocenter.made(event) == ["cc_cdr"]
    record = coocenter.cc_cdr(event, SHANGHAI)
    assert record == {
        "event": "cc_cdr",
        "uuid": A_UUID,
        "caller": "85322361",
        "called": "100",
        "queueCode": "630",
        "agentCode": "100",
        "callType": "incoming",
        "cdrState": "bridged",
        "hangupSide": "caller",
        "hangupCause": "NORMAL_CLEARING",
        "startTime": "2026-11-21 21:47:40",
        "endTime": "2026-11-21 21:48:49",
        "duration": "69",
        "queueTime": "7",  # joined 862, answered 869
        "feedbackTime": "0",
        "ivrTime": "",
        "ringTime": "3",  # called 866, answered 869
        "holdTime": 3,
        "pauseTime": 0,
        "talkingTime": "60",  # answered 869, left 929
        "voicemailState": "0",
        "ivrId": "",
        "ivrName": "",
        "ivrDtmf": "0",
        "fwType": "",
        "score": "0",
        "trunkNumber": "4008001234",
        "forwardNumber": "",
        "filePath": "",
        "missCause": "",
        "mac": "68:69:2e:03:8b:3e",
    }
    # The spec's numbers stay numbers, the rest strings (its example's types), as sent.
    assert msgspec.json.decode(coocenter.render("cc_cdr", event, SHANGHAI)) == record
    assert all(isinstance(v, str) for k, v in record.items() if k not in ("holdTime", "pauseTime"))
    assert coocenter.lane(event, "cc_cdr") == A_UUID


def test_a_queue_call_nobody_took() -> None:
    cancel = {
        "CC-Queue": "630@default", "CC-Action": "member-queue-end",
        "CC-Member-Leaving-Time": "1795268866", "CC-Member-Joined-Time": "1795268862",
        "CC-Cause": "Cancel", "CC-Cancel-Reason": "BREAK_OUT",
        "CC-Member-UUID": "c0ffee00-0000-4000-8000-000000000001", "CC-Member-Session-UUID": A_UUID,
        "CC-Member-CID-Name": "85322361", "CC-Member-CID-Number": "85322361",
    }  # fmt: skip
    record = coocenter.cc_cdr(member_queue_end(**cancel), SHANGHAI)
    assert (record["cdrState"], record["missCause"], record["hangupSide"]) == (
        "queue",
        "MEMBER_CANCEL",
        "caller",
    )
    assert (record["queueTime"], record["talkingTime"], record["agentCode"]) == ("4", "0", "")
    late = {**cancel, "CC-Member-Leaving-Time": "1795268900"}  # 38 s in the queue
    assert coocenter.cc_cdr(member_queue_end(**late), SHANGHAI)["missCause"] == "NO_ASSIGN"
    nobody = {**cancel, "CC-Cancel-Reason": "NO_AGENT_TIMEOUT"}
    assert coocenter.cc_cdr(member_queue_end(**nobody), SHANGHAI)["missCause"] == "NO_AGENT_LOGIN"
    # Other callcenter::info actions make nothing.
    start = member_queue_end(**{**cancel, "CC-Action": "member-queue-start"})
    assert coocenter.made(start) == []


def test_pushes_carry_the_webkey_digest_of_the_day() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    ctx = Context(zone=zone, webkey="asjdfjklkasdf")
    days = {dt.datetime.now(zone).date()}
    headers = ctx.headers()
    days.add(dt.datetime.now(zone).date())  # both, should midnight pass in between
    digests = {
        hashlib.md5(f"asjdfjklkasdf{d:%Y-%m-%d}".encode(), usedforsecurity=False).hexdigest()
        for d in days
    }
    assert headers["Authorization"] in digests
    assert Context().headers() == {}  # no WEBKEY: no header


async def test_cc_cdr_waits_for_the_after_call_pause_and_carries_its_length(
    db: asyncpg.Pool,
) -> None:
    event = member_queue_end(**TERMINATED)  # left at ...929
    left = int(TERMINATED["CC-Member-Leaving-Time"])
    on = Context(pausetime=True, pause_seconds=30)
    # No after-call work, or nobody took the call: nothing to wait for.
    assert await coocenter_pause.pause_seconds(db, event, Context(), left) == 0
    cancel = member_queue_end(**{**TERMINATED, "CC-Cause": "Cancel"})
    assert await coocenter_pause.pause_seconds(db, cancel, on, left) == 0
    # The pause may still run: ask again later; past the longest pause, none was made.
    assert await coocenter_pause.pause_seconds(db, event, on, left + 1) is None
    assert await coocenter_pause.pause_seconds(db, event, on, left + 36) == 0
    # call-control's row (while it lasts seconds is NULL, then its length).
    insert = (
        "INSERT INTO coocenter_pauses (node, agent, call_uuid, due_at, seconds) "
        "VALUES ('fs1', '100@default', $1, now(), $2)"
    )
    await db.execute(insert, A_UUID, None)
    assert await coocenter_pause.pause_seconds(db, event, on, left + 1) is None
    await db.execute(insert, A_UUID, 12)
    assert await coocenter_pause.pause_seconds(db, event, on, left + 1) == 12
    body = msgspec.json.decode(coocenter.render("cc_cdr", event, on, pause=12))
    assert body["pauseTime"] == 12

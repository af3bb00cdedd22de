"""The live calls page's model: legs folded into calls, snapshot plus events."""

from __future__ import annotations

from switchyard.call_control.calls_view import CallBoard

A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "bbbbbbbb-0000-4000-8000-000000000002"


def _event(name: str, uuid: str, state: str = "RINGING", **extra: str) -> dict[str, str]:
    return {
        "Event-Name": name,
        "Unique-ID": uuid,
        "Channel-Call-State": state,
        "Caller-Caller-ID-Number": "1001",
        "Caller-Destination-Number": "2000",
        "Caller-Context": "default",
        "Caller-Channel-Created-Time": "1700000000000000",
        **extra,
    }


def test_a_bridged_b_leg_folds_into_its_originators_row() -> None:
    board = CallBoard()
    board.apply("fs1", _event("CHANNEL_CREATE", A, "RINGING"))
    board.apply(
        "fs1",
        _event(
            "CHANNEL_CREATE", B, "DOWN", **{"Other-Type": "originator", "Other-Leg-Unique-ID": A}
        ),
    )
    [call] = board.calls({"fs1": "replica-1"})
    assert (call.uuid, len(call.legs), call.state, call.owner) == (A, 2, "ringing", "replica-1")
    board.apply("fs1", _event("CHANNEL_CALLSTATE", B, "EARLY"))
    assert board.calls()[0].state == "early"
    board.apply(
        "fs1",
        _event(
            "CHANNEL_ANSWER", B, "ACTIVE", **{"Caller-Channel-Answered-Time": "1700000005000000"}
        ),
    )
    [call] = board.calls()
    assert call.state == "answered" and call.since == 1700000005.0
    board.apply("fs1", _event("CHANNEL_CALLSTATE", A, "HELD"))
    assert board.calls()[0].state == "held"
    board.apply("fs1", _event("CHANNEL_HANGUP_COMPLETE", A))
    board.apply("fs1", _event("CHANNEL_HANGUP_COMPLETE", B))
    assert board.calls() == []


def test_a_channel_heard_ending_before_the_snapshot_stays_gone() -> None:
    board = CallBoard()
    board.apply("fs1", _event("CHANNEL_HANGUP", A))  # read while the snapshot was taken
    board.load([{"uuid": A, "node": "fs1", "callstate": "ACTIVE", "created_epoch": "1700000000"}])
    board.load([{"uuid": B, "node": "fs2", "callstate": "ACTIVE", "cid_num": "7", "dest": "8"}])
    [call] = board.calls()
    assert (call.uuid, call.head.node, call.state, call.head.caller) == (B, "fs2", "answered", "7")
    assert (
        call.matches("8", "", "fs2")
        and not call.matches("9", "", "")
        and not call.matches("", "", "fs1")
    )


def test_an_originated_leg_shows_the_caller_it_started_with() -> None:
    """After answering, an originated leg flips its caller id; the row keeps the caller."""
    board = CallBoard()
    flipped = {
        "Caller-Caller-ID-Number": "2000",
        "Caller-Caller-ID-Name": "Outbound Call",
        "Caller-Orig-Caller-ID-Number": "1001",
        "Caller-Orig-Caller-ID-Name": "",
    }
    board.apply("fs1", {**_event("CHANNEL_ANSWER", A, "ACTIVE"), **flipped})
    head = board.calls()[0].head
    assert (head.caller, head.caller_name) == ("1001", "")

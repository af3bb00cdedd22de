"""Parsing what FreeSWITCH sends, checked on frames captured from a real FreeSWITCH 1.10.12."""

from __future__ import annotations

from pathlib import Path

import msgspec

from switchyard.call_control.agent import event_payload
from switchyard.call_control.esl import parse_json, parse_plain

SAMPLES = Path(__file__).parents[4] / "tests" / "conformance" / "samples" / "esl"


def _payload(name: str) -> bytes:
    return (SAMPLES / name).read_bytes().split(b"\n\n", 1)[1]


def test_a_url_encoded_newline_in_a_value_cannot_forge_a_header() -> None:
    payload = (
        b"Event-Name: CHANNEL_CREATE\n"
        b"Unique-ID: real-uuid\n"
        b"Caller-Caller-ID-Name: Bob%0AUnique-ID%3A%20forged\n\n"
    )
    event = parse_plain(payload)
    assert event.unique_id == "real-uuid"
    assert event.get("Caller-Caller-ID-Name") == "Bob\nUnique-ID: forged"
    # The forged header comes *after* the real one, so last-wins parsing would fall for it.
    payload = (
        b"Event-Name: CHANNEL_CREATE\n"
        b"Caller-Caller-ID-Name: Bob%0AUnique-ID%3A%20forged\n"
        b"Unique-ID: real-uuid\n\n"
    )
    assert parse_plain(payload).unique_id == "real-uuid"


def test_a_plain_background_job_keeps_its_body_out_of_the_headers() -> None:
    event = parse_plain(_payload("plain-BACKGROUND_JOB.txt"))
    assert event.name == "BACKGROUND_JOB"
    assert event.body == "-ERR NO_ROUTE_DESTINATION\n"
    assert "Content-Length" not in event.headers
    assert event.get("Job-Command-Arg") == "loopback/5555 &park"


def test_plain_and_json_of_the_same_event_agree() -> None:
    for name in ("CHANNEL_CREATE", "CHANNEL_HANGUP_COMPLETE", "HEARTBEAT", "BACKGROUND_JOB"):
        plain = parse_plain(_payload(f"plain-{name}.txt"))
        js = parse_json(_payload(f"json-{name}.txt"))
        assert plain.name == js.name == name
        assert plain.body == js.body
        for key in ("Core-UUID", "Event-Date-GMT", "FreeSWITCH-IPv6", "Unique-ID", "Up-Time"):
            assert plain.get(key) == js.get(key), (name, key)
    assert parse_plain(_payload("plain-CHANNEL_CREATE.txt")).get("Event-Date-Local") == (
        "2026-11-21 13:47:52"
    )


def test_json_array_headers_are_kept_in_freeswitchs_array_form() -> None:
    event = parse_json(b'{"Event-Name":"CUSTOM","X":["a","b"],"Content-Length":"2","_body":"hi"}')
    assert event.get("X") == "ARRAY::a|:b"
    assert event.body == "hi"
    assert "Content-Length" not in event.headers


def test_event_sequence_and_identity_accessors() -> None:
    event = parse_json(_payload("json-CHANNEL_CREATE.txt"))
    assert event.sequence == 815
    assert event.core_uuid == "b52de70d-62a6-43ba-a84a-8c1a2a8d92f1"
    assert event.unique_id == "28b66685-c86f-4107-a641-b9e089a4352b"


def test_header_names_are_never_decoded_and_cr_lf_survive_in_values() -> None:
    # A SIP header name may carry '%' (it is a SIP token character).
    event = parse_plain(
        b"Event-Name: CHANNEL_CREATE\n"
        b"variable_sip_h_X-A%3A%20Unique-ID: v%0d%0Ax\n"
        b"Unique-ID: real-uuid\n\n"
    )
    assert event.unique_id == "real-uuid"
    assert event.get("variable_sip_h_X-A%3A%20Unique-ID") == "v\r\nx"


def test_a_json_event_is_published_as_freeswitch_sent_it_or_in_the_same_shape() -> None:
    """The owner relays FreeSWITCH's own JSON when it already is the event's
    ``event json`` form; otherwise (array headers, a Content-Length) the
    headers encoded again: consumers decode the same thing either way."""
    for name in ("CHANNEL_CREATE", "CHANNEL_HANGUP_COMPLETE", "HEARTBEAT", "BACKGROUND_JOB"):
        payload = _payload(f"json-{name}.txt")
        event = parse_json(payload)
        relayed = msgspec.json.decode(event_payload(event))
        expected = {**event.headers, **({"_body": event.body} if event.body else {})}
        assert relayed == expected, name
    odd = parse_json(b'{"Event-Name":"CUSTOM","X":["a","b"],"Content-Length":"2","_body":"hi"}')
    assert msgspec.json.decode(event_payload(odd)) == {
        "Event-Name": "CUSTOM", "X": "ARRAY::a|:b", "_body": "hi"
    }  # fmt: skip

"""A real FreeSWITCH 1.10.12 dialplan fetch, routed end to end in memory."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, quote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from switchyard.config_api.routing.engine import compile
from switchyard.config_api.routing.model import Gateway, Route, Snapshot
from switchyard.config_api.routing.request import FormFields, dialplan_request, parse_form
from switchyard.config_api.routing.xmldoc import NOT_FOUND, dialplan_document

SAMPLE = Path(__file__).parent / "data" / "dialplan-request-loopback.form"


def test_captured_request_routes_in_the_callers_context() -> None:
    req = dialplan_request(parse_form(SAMPLE.read_bytes()))
    assert (req.section, req.context, req.dest_number, req.caller_number) == (
        "dialplan",
        "context-1",
        "7771234",
        "1002",
    )
    router = compile(
        Snapshot(
            routes=(
                Route(id=1, name="777", dest_type="FS_DEST_GATEWAY", dest_uuid="1",
                      context="context-1", prefix="777", dnc="-777"),
            ),
            gateways=(Gateway(id=1, name="gw1"),),
        )
    )  # fmt: skip
    at = datetime(2026, 11, 21, 13, 47, 9, tzinfo=UTC)
    doc = dialplan_document(router.lookup(req.context, req.dest_number, req.caller_number, at))
    root = ET.fromstring(doc)  # noqa: S314 - our own output
    assert root.find("section/context").get("name") == "context-1"  # type: ignore[union-attr]
    bridge = root.findall("section/context/extension/condition/action")[-1]
    assert bridge.get("data") == "sofia/gateway/gw1/1234"
    other = router.lookup("default", req.dest_number, req.caller_number, at)
    assert dialplan_document(other) == NOT_FOUND


def test_hunt_headers_win_over_caller_headers() -> None:
    form = parse_form(
        "section=dialplan&Caller-Context=public&Caller-Destination-Number=1"
        "&Hunt-Context=default&Hunt-Destination-Number=2&Caller-Caller-ID-Number=%2B86100"
    )
    req = dialplan_request(form)
    assert (req.context, req.dest_number, req.caller_number) == ("default", "2", "+86100")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab=&%+;2F0Cé z9\x00", max_size=40))
def test_parse_form_reads_what_parse_qsl_reads(text: str) -> None:
    """parse_form is a faster parse_qsl (it runs on every fetch): same answer
    for any text, escapes, ``+``, broken escapes and bare keys included."""
    expected = dict(parse_qsl(text, keep_blank_values=True))
    assert parse_form(text) == expected
    raw = text.encode()
    assert parse_form(raw) == dict(parse_qsl(raw.decode(), keep_blank_values=True))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="AZaz09-_", min_size=1, max_size=12),
            st.text(alphabet="ab =&%+/é\x00\n9", max_size=12),
        ),
        max_size=12,
    )
)
def test_form_fields_read_what_parse_form_reads(fields: list[tuple[str, str]]) -> None:
    """FormFields reads a field where it stands instead of parsing the form:
    the same value as parse_form for every field a well-formed form (names
    plain, values encoded, as FreeSWITCH sends them) holds, repeats included."""
    text = "&".join(f"{k}={quote_plus(v)}" for k, v in fields)
    parsed = parse_form(text)
    lazy = FormFields(text.encode())
    for name in {k for k, _ in fields} | {"absent"}:
        assert lazy.get(name) == parsed.get(name)
    assert dict(lazy) == parsed


def test_form_fields_of_freeswitchs_own_fetch() -> None:
    parsed = parse_form(SAMPLE.read_bytes())
    lazy = FormFields(SAMPLE.read_bytes())
    assert {k: lazy[k] for k in parsed} == parsed
    assert dialplan_request(lazy) == dialplan_request(parsed)

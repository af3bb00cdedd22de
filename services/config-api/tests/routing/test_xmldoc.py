"""The mod_xml_curl dialplan documents parse, carry the caller's context,
escape everything, and use FreeSWITCH's exact not-found shape."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from switchyard.config_api.routing.engine import compile
from switchyard.config_api.routing.model import Route, RouteParam, Snapshot
from switchyard.config_api.routing.xmldoc import NOT_FOUND, dialplan_document

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def test_not_found_is_freeswitchs_document_byte_for_byte() -> None:
    # switch_xml.c 1818-1832, as freeswitch-wire.md section 3 quotes it.
    expected = (
        '<document type="freeswitch/xml"><section name="result">'
        '<result status="not found"/></section></document>'
    )
    d = compile(Snapshot()).lookup("default", "1000", "", NOW)
    assert dialplan_document(d) == expected == NOT_FOUND


def test_dialplan_document_shape() -> None:
    snap = Snapshot(
        routes=(Route(id=4, name="x", dest_type="FS_DEST_USER", context="context-1"),),
        domain="d.example",
    )
    d = compile(snap).lookup("context-1", "7771234", "1002", NOW)
    root = ET.fromstring(dialplan_document(d))  # noqa: S314 - our own output
    assert root.tag == "document" and root.get("type") == "freeswitch/xml"
    section = root.find("section")
    assert section is not None and section.get("name") == "dialplan"
    context = section.find("context")
    assert context is not None and context.get("name") == "context-1"
    condition = context.find("extension/condition")
    assert condition is not None
    assert condition.get("field") == "destination_number"
    assert condition.get("expression") == "^7771234$"
    actions = [(a.get("application"), a.get("data")) for a in condition.findall("action")]
    assert actions[-1] == ("bridge", "user/7771234@d.example")


hostile = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30
)


@given(name=hostile, app_data=hostile, body=hostile, context=hostile)
def test_anything_in_configuration_stays_data(
    name: str, app_data: str, body: str, context: str
) -> None:
    route = Route(
        id=1,
        name=name,
        context=context,
        dest_type="FS_DEST_IP",
        body=body,
        params=(RouteParam(id=1, k="set", v=app_data),),
    )
    d = compile(Snapshot(routes=(route,))).lookup(context, "123*#+", "", NOW)
    root = ET.fromstring(dialplan_document(d))  # noqa: S314 - our own output; parsing proves nothing broke out
    ctx = root.find("section/context")
    assert ctx is not None
    cond = root.find("section/context/extension/condition")
    assert cond is not None
    actions = cond.findall("action")
    assert [a.get("application") for a in actions] == [a.application for a in d.actions]
    assert len(actions) == len(d.actions)

    def xml_clean(s: str) -> str:
        return "".join(
            c for c in s if c in "\t\n\r" or (ord(c) >= 0x20 and c not in "\ufffe\uffff")
        )

    assert ctx.get("name") == xml_clean(context)
    assert [a.get("data") for a in actions] == [xml_clean(a.data) for a in d.actions]
    # The dialled number is matched literally, not as a pattern.
    assert cond.get("expression") == "^123\\*\\#\\+$"

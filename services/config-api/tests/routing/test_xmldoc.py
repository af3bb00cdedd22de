"""The mod_xml_curl dialplan documents parse, carry the caller's context,
escape everything, and use FreeSWITCH's exact not-found shape."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from switchyard.config_api.routing.destinations import Action
from switchyard.config_api.routing.engine import compile
from switchyard.config_api.routing.model import (
    Context,
    Extension,
    FuncCode,
    Hotline,
    Route,
    RouteParam,
    Snapshot,
)
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
    assert actions[0] == ("set", "sy_route_id=4")
    last = context.findall("extension/condition")[-1]
    assert [a.get("data") for a in last.findall("action")][-2] == "user/7771234@d.example"


def _conditions(xml: str) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    root = ET.fromstring(xml)  # noqa: S314 - our own output
    return [
        (
            c.get("field", ""),
            c.get("expression", ""),
            c.get("break", ""),
            [(a.get("application", ""), a.get("data", "")) for a in c.findall("action")],
        )
        for c in root.iterfind("section/context/extension/condition")
    ]


def test_a_call_to_an_extension_reads_dnd_and_forwards_back_from_mod_db() -> None:
    snap = Snapshot(
        routes=(Route(id=4, name="x", prefix="1", dest_type="FS_DEST_USER", context="c1"),),
        domain="d",
    )
    d = compile(snap).lookup("c1", "1000", "", NOW)
    number = ("destination_number", "^1000$", "")
    conditions = _conditions(dialplan_document(d))
    assert [c[:3] for c in conditions] == [
        number,
        ("${db(exists/dnd/1000)}", "^true$", "on-true"),
        ("${db(exists/cf_all/1000)}", "^true$", "on-true"),
        ("${db(exists/cf_busy/1000)}", "^true$", "never"),
        ("${db(exists/cf_noanswer/1000)}", "^true$", "never"),
        number,
    ]
    assert conditions[0][3][0] == ("set", "sy_route_id=4")
    assert conditions[0][3][1:] == [(a.application, a.data) for a in d.actions[1:-1]]
    assert [c[3] for c in conditions[1:]] == [
        [("hangup", "USER_BUSY")],
        [("transfer", "${db(select/cf_all/1000)} XML c1")],
        [
            ("set", "sy_cf_USER_BUSY=${db(select/cf_busy/1000)}"),
            ("set", "sy_cf_busy=USER_BUSY"),
        ],
        [
            ("set", "sy_cf_NO_ANSWER=${db(select/cf_noanswer/1000)}"),
            ("set", "sy_cf_NO_USER_RESPONSE=${db(select/cf_noanswer/1000)}"),
            ("set", "sy_cf_noanswer=NO_ANSWER,NO_USER_RESPONSE"),
        ],
        [
            ("set", "continue_on_fail=${sy_cf_busy},${sy_cf_noanswer}"),
            ("set", "hangup_after_bridge=true"),
            ("bridge", "user/1000@d"),
            ("transfer", "${sy_cf_${originate_disposition}} XML c1"),
        ],
    ]
    # sy.config.route and the explanation keep the plain path.
    assert d.actions[-1] == Action("bridge", "user/1000@d")


def test_the_realms_read_back_are_the_ones_the_feature_codes_write() -> None:
    codes = {
        "*72": "FS_DEST_FUNC_CALL_FORWARDING",
        "*90": "FS_DEST_FUNC_CALL_FORWARD_BUSY",
        "*92": "FS_DEST_FUNC_CALL_FORWARD_WITHOUT_RESPONSE",
        "*93": "FS_DEST_FUNC_CALL_FORWARD_NO_RESPONSE",
        "*78": "FS_DEST_FUNC_CALL_DND",
    }
    snap = Snapshot(
        routes=(Route(id=4, name="x", prefix="1", dest_type="FS_DEST_USER", context="c1"),),
        extensions=(Extension(id=1, extn="1000", context="c1"),),
        func_codes=tuple(
            FuncCode(id=i, func_code=c, func_type=t) for i, (c, t) in enumerate(codes.items())
        ),
        domain="d",
    )
    router = compile(snap)
    written = set()
    for code in codes:
        d = router.lookup("c1", code + "1001", "1000", NOW)
        (db,) = [a.data for a in d.actions if a.application == "db"]
        op, realm, key, _ = db.split("/", 3)
        assert (op, key) == ("insert", "${caller_id_number}")
        written.add(realm)
    fields = {c.field for c in router.lookup("c1", "1000", "", NOW).conditions}
    assert {f"${{db(exists/{realm}/1000)}}" for realm in written} <= fields
    assert written == {"cf_all", "cf_busy", "cf_noanswer", "dnd"}


def test_a_did_to_an_extension_honours_its_features_and_other_types_do_not() -> None:
    snap = Snapshot(
        contexts=(Context(key="public", hotline_enabled=True),),
        hotlines=(Hotline(id=1, line_number="8000", numbers="1000"),),
        routes=(Route(id=5, name="x", prefix="9", dest_type="FS_DEST_IP", body="h", context="c1"),),
        domain="d",
    )
    did = _conditions(dialplan_document(compile(snap).lookup("public", "8000", "", NOW)))
    assert did[0][:2] == ("destination_number", "^8000$")
    assert did[2][3] == [("transfer", "${db(select/cf_all/1000)} XML public")]
    other = _conditions(dialplan_document(compile(snap).lookup("c1", "9123", "", NOW)))
    assert len(other) == 1 and other[0][3][-1] == ("bridge", "sofia/public/9123@h")


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

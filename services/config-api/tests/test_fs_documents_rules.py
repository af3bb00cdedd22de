"""The mod_xml_curl directory and configuration documents refuse stored
values that break their fsvalues rule (issue 10, defence in depth): the
user, gateway, menu or entry is left out, never passed on, the refusal is
listed in FsIndex.problems, and everything else is still served."""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchyard.config_api.fsxml.documents import FsIndex
from switchyard.config_api.fsxml.model import (
    DirUser,
    FsConfig,
    GatewayConf,
    GatewayVar,
    IvrEntry,
    IvrMenu,
)
from switchyard.shared.fsvalues import TEXT, Applications

# What an attacker stores, one per field; none may reach a document.
EVIL = [
    "${system(id)}",
    "$${password}",
    "a}b",
    "a\nb",
    "a'b",
    '<X-PRE-PROCESS cmd="exec" data="id"/>',
    "lua ~os.execute('id')",
    "1000\n",
    "x]y",
]
# What may never appear in a document for them (the documents' own $${domain}
# and dial-string ${…} aside; those are checked separately).
MARKERS = ["system(id)", "$${password}", "<X-PRE-PROCESS", "os.execute", "a}b", "x]y"]
STOCK_VARIABLES = {
    "domain", "sound_prefix", "local_ip_v4", "global_codec_prefs", "outbound_codec_prefs",
    "internal_sip_port", "external_sip_port",
}  # fmt: skip

DIRECTORY = {"section": "directory", "domain": "pbx.example", "action": "sip_auth"}
IVR = {"section": "configuration", "key_value": "ivr.conf"}


def ask(index: FsIndex, user: str, domain: str = "pbx.example") -> str | None:
    return index.directory({**DIRECTORY, "user": user, "domain": domain})


def parse(doc: str) -> ET.Element:
    return ET.fromstring(doc)  # noqa: S314 - our own document


def clean(doc: str) -> None:
    for marker in MARKERS:
        assert marker not in doc, marker
    # The only $${…} a document carries are the stock ones from vars.xml.
    stock = re.findall(r"\$\$\{([a-z0-9_]+)\}", doc)
    assert doc.count("$${") == len(stock)
    assert set(stock) <= STOCK_VARIABLES


def user_vars(doc: str) -> dict[str, str]:
    user = parse(doc).find("section/domain/groups/group/users/user")
    assert user is not None
    return {str(v.get("name")): str(v.get("value")) for v in user.iter("variable")}


# --- directory -------------------------------------------------------------------


def test_users_with_a_bad_id_password_context_or_domain_are_left_out() -> None:
    bad = [
        DirUser(id=i, extn=v, password="pw")
        for i, v in enumerate(["${system(id)}", "1000\n", "1}x", "10 00", "1@evil"], start=1)
    ]
    bad += [
        DirUser(id=10, extn="2010", password="${system(id)}"),
        DirUser(id=11, extn="2011", password="$${password}"),
        DirUser(id=12, extn="2012", password=""),  # anyone could register as it
        DirUser(id=13, extn="2013", password="a\nb"),
        DirUser(id=14, extn="2014", password="pw", context="ctx}x"),
        DirUser(id=15, extn="2015", password="pw", context="${system(id)}"),
        DirUser(id=16, extn="2016", password="pw", domain="evil.example/${system(id)}"),
    ]
    good = DirUser(id=20, extn="2020", password='p<X-PRE-PROCESS cmd="exec"/>&"', cid_name="Bob")
    index = FsIndex(FsConfig(users=(*bad, good)))

    for u in bad:
        assert ask(index, u.extn) is None, u
        assert ask(index, u.extn, u.domain or "pbx.example") is None, u
    doc = ask(index, "2020")
    assert doc is not None
    clean(doc)
    user = parse(doc).find("section/domain/groups/group/users/user")
    assert user is not None and user.get("id") == "2020"
    params = {p.get("name"): p.get("value") for p in user.iter("param")}
    assert params["password"] == 'p<X-PRE-PROCESS cmd="exec"/>&"'  # escaped: one value
    assert user_vars(doc)["effective_caller_id_name"] == "Bob"

    refused = {(p.resource, p.id, p.field) for p in index.problems}
    assert {(u.id, f) for _, u_id, f in refused for u in bad if u.id == u_id} == {
        (1, "extn"), (2, "extn"), (3, "extn"), (4, "extn"), (5, "extn"),
        (10, "password"), (11, "password"), (12, "password"), (13, "password"),
        (14, "context"), (15, "context"), (16, "domain"),
    }  # fmt: skip
    assert all(p.resource == "extension" for p in index.problems)


def test_problems_and_logs_never_hold_a_secret(caplog: pytest.LogCaptureFixture) -> None:
    secret = "${system(cat /etc/shadow)}-s3cret"
    with caplog.at_level(logging.WARNING, logger="switchyard.config_api.fsxml.documents"):
        index = FsIndex(
            FsConfig(
                users=(DirUser(id=1, extn="1000", password=secret),),
                gateways=(GatewayConf(id=2, name="gw", password=secret),),
                ivrs=(IvrMenu(id=3, name="m", pin=secret),),
            )
        )
    assert len(index.problems) == 3
    assert "s3cret" not in repr(index.problems)
    assert "s3cret" not in caplog.text
    assert len(caplog.records) == 3  # once each, when the index is built
    assert "extension 1: password refused" in caplog.text


def test_a_bad_caller_name_or_number_falls_back_to_the_extension() -> None:
    index = FsIndex(
        FsConfig(
            users=(
                DirUser(id=1, extn="1001", password="pw", cid_name="${system(id)}"),
                DirUser(id=2, extn="1002", password="pw", name="x}[execute_on_answer=system id]"),
                DirUser(id=3, extn="1003", password="pw", cid_number="1003${system(id)}"),
                DirUser(id=4, extn="1004", password="pw", cid_name='<X-PRE-PROCESS cmd="exec"/>'),
            )
        )
    )
    for extn in ("1001", "1002", "1003", "1004"):
        doc = ask(index, extn)
        assert doc is not None
        clean(doc)
        variables = user_vars(doc)
        assert variables["effective_caller_id_name"] == extn
        assert variables["effective_caller_id_number"] == extn
    assert [(p.id, p.field) for p in index.problems] == [
        (1, "cid_name"),
        (2, "name"),
        (3, "cid_number"),
        (4, "cid_name"),
    ]


def test_a_requested_domain_that_is_not_a_host_is_not_served() -> None:
    index = FsIndex(FsConfig(users=(DirUser(id=1, extn="1000", password="pw"),)))
    assert ask(index, "1000", "pbx.example") is not None
    for domain in ("$${password}", "${system(id)}", "a b", "x\n", "<x>"):
        assert ask(index, "1000", domain) is None


def test_a_bad_sip_domain_setting_falls_back_to_freeswitchs_variable() -> None:
    menu = IvrMenu(id=1, name="m", entries=(IvrEntry(1, "1", "IVR_EXTENSION", args="1000"),))
    index = FsIndex(FsConfig(domain="x${system(id)}", ivrs=(menu,)))
    doc = index.ivr(IVR)
    assert doc is not None and "system" not in doc
    assert 'param="bridge user/1000@$${domain}"' in doc
    assert [p.field for p in index.problems] == ["SWITCHYARD_SIP_DOMAIN"]


CALLER_NAMES = st.text(min_size=1, max_size=256).filter(TEXT.ok) | st.text(
    alphabet=st.sampled_from("$&;:%|,@/=()*#+ ._-aZ9é中\u2028\x85"), min_size=1, max_size=64
)


@settings(max_examples=300, deadline=None)
@given(name=CALLER_NAMES)
def test_any_caller_name_text_accepts_is_carried_as_exactly_one_value(name: str) -> None:
    plain = FsIndex(FsConfig(users=(DirUser(id=1, extn="1000", password="pw", cid_name="A"),)))
    index = FsIndex(FsConfig(users=(DirUser(id=1, extn="1000", password="pw", cid_name=name),)))
    baseline, doc = ask(plain, "1000"), ask(index, "1000")
    assert baseline is not None and doc is not None
    root = parse(doc)  # parses as XML
    variables = user_vars(doc)
    if index.problems:
        # Only what XML 1.0 cannot carry as it is (U+FFFE, U+FFFF) is refused.
        assert any(c in name for c in "\ufffe\uffff")
        assert variables["effective_caller_id_name"] == "1000"
        return
    assert variables["effective_caller_id_name"] == name
    # No new element, attribute or variable; no expansion.
    assert [(e.tag, sorted(e.attrib)) for e in root.iter()] == [
        (e.tag, sorted(e.attrib)) for e in parse(baseline).iter()
    ]
    assert list(variables) == list(user_vars(baseline))
    assert doc.count("${") == baseline.count("${")
    assert doc.count("$${") == baseline.count("$${") == 0
    user = doc[doc.index("<user ") : doc.index("</user>")]
    assert "${" not in user


# --- sofia.conf ------------------------------------------------------------------


def gateways_of(index: FsIndex) -> dict[str, ET.Element]:
    doc = index.sofia({"section": "configuration", "key_value": "sofia.conf"})
    assert doc is not None
    clean(doc)
    return {str(g.get("name")): g for g in parse(doc).iter("gateway")}


def test_gateways_with_a_bad_name_credential_realm_or_param_are_left_out() -> None:
    bad = [
        GatewayConf(id=1, name="gw}x"),
        GatewayConf(id=2, name="gw\n\napi status"),
        GatewayConf(id=3, name="${system(id)}"),
        GatewayConf(id=4, name="gw4", username="${system(id)}"),
        GatewayConf(id=5, name="gw5", password="$${password}"),
        GatewayConf(id=6, name="gw6", password="a\nb"),
        GatewayConf(id=7, name="gw7", realm="sip.example/${system(id)}"),
        GatewayConf(id=8, name="gw8", realm="sip.example\n"),
        GatewayConf(id=9, name="gw9", params=(("proxy", "${system(id)}"),)),
        GatewayConf(id=10, name="gw10", params=(("from-user", "a}b"),)),
        GatewayConf(id=11, name="gw11", params=(("x y", "1"),)),
        GatewayConf(id=12, name="gw12", params=(("password", "${system(id)}"),)),
        GatewayConf(id=14, name="gw14", params=(("register-proxy", "p.example;x=${a}"),)),
        GatewayConf(id=15, name="gw15", params=(("proxy", "p.example\n"),)),
        GatewayConf(id=13, name="gw13", profile="internal", realm="<X-PRE-PROCESS/>"),
    ]
    good = GatewayConf(
        id=20,
        name="carrier",
        realm="sip.carrier.net:5060",
        username="acct",
        password="p'w<&>\"",
        params=(
            ("proxy", "10.0.0.1:5060"),
            ("outbound-proxy", "sip:edge.carrier.net:5061"),
            ("caller-id-in-from", "true"),
        ),
        variables=(GatewayVar("sy_carrier", "one"), GatewayVar("x", "two", 2)),
    )
    index = FsIndex(FsConfig(gateways=(*bad, good)))
    served = gateways_of(index)
    assert list(served) == ["carrier"]
    params = {p.get("name"): p.get("value") for p in served["carrier"].iter("param")}
    assert params == {
        "username": "acct",
        "password": "p'w<&>\"",
        "realm": "sip.carrier.net:5060",
        "register": "true",
        "proxy": "10.0.0.1:5060",
        "outbound-proxy": "sip:edge.carrier.net:5061",
        "caller-id-in-from": "true",
    }
    assert sorted(p.id for p in index.problems) == sorted(g.id for g in bad)
    assert {p.resource for p in index.problems} == {"gateway"}


def test_a_bad_gateway_variable_is_dropped_alone() -> None:
    gw = GatewayConf(
        id=1,
        name="gw",
        variables=(
            GatewayVar("execute_on_answer", "system id"),
            GatewayVar("api_hangup_hook", "system id"),
            GatewayVar("a b", "1"),
            GatewayVar("x\n", "1"),
            GatewayVar("ok1", "${system(id)}"),
            GatewayVar("ok2", "a}b"),
            GatewayVar("ok3", "fine", 1),
        ),
    )
    index = FsIndex(FsConfig(gateways=(gw,)))
    served = gateways_of(index)["gw"]
    variables = [
        (v.get("name"), v.get("value"), v.get("direction")) for v in served.iter("variable")
    ]
    assert variables == [("ok3", "fine", "inbound")]
    assert [p.field for p in index.problems] == [
        "variables",
        "variables",
        "variables",
        "variables",
        "variables ok1",
        "variables ok2",
    ]


# --- ivr.conf --------------------------------------------------------------------


def entries_of(index: FsIndex, menu: str) -> list[tuple[str, str, str]]:
    doc = index.ivr({**IVR, "Menu-Name": menu})
    assert doc is not None
    clean(doc)
    m = next(m for m in parse(doc).iter("menu") if m.get("name") == menu)
    return [(str(e.get("action")), str(e.get("digits")), str(e.get("param"))) for e in m]


def test_ivr_entries_with_a_bad_param_are_dropped_and_the_rest_served() -> None:
    media = json.dumps({"media_id": 1, "media_path": "/sounds/${system(id)}.wav"})
    bad = [
        IvrEntry(1, "1", "IVR_SYSTEM", body="system id"),
        IvrEntry(2, "1", "IVR_SYSTEM", body="bgsystem id"),
        IvrEntry(3, "1", "IVR_SYSTEM", body="lua ~os.execute('id')"),
        IvrEntry(4, "1", "IVR_SYSTEM", body="playback ${system(id)}"),
        IvrEntry(5, "1", "IVR_SYSTEM", body="set execute_on_answer=system id"),
        IvrEntry(6, "1", "IVR_SCRIPT", body="~os.execute('id')"),
        IvrEntry(7, "1", "IVR_SCRIPT", args="x.lua ${system(id)}"),
        IvrEntry(8, "1", "IVR_SCRIPT", body=json.dumps({"media_path": "~os.exit()"})),
        IvrEntry(9, "1", "IVR_PLAY", args=media),
        IvrEntry(10, "1", "IVR_PLAY", args="http://evil.example/x.wav"),
        IvrEntry(11, "1", "IVR_TTS", body="hello}${system(id)}"),
        IvrEntry(12, "1", "MACRO", args='<X-PRE-PROCESS cmd="exec" data="id"/>'),
        IvrEntry(13, "1", "IVR_ROUTE", args="ctx}x", body="1000"),
        IvrEntry(14, "1", "IVR_ROUTE", args="7", body="1000 XML default\n"),
        IvrEntry(15, "1", "IVR_QUEUE", body="q@${system(id)}"),
        IvrEntry(16, "1", "IVR_CONFERENCE", body="room}x"),
        IvrEntry(17, "1", "IVR_EXTENSION", args='[{"extn":"1000|d"},{"extn":"${system(id)}|d"}]'),
        IvrEntry(18, "1", "IVR_EXTENSION", args="1000@evil"),
        IvrEntry(19, "1}", "IVR_EXIT"),
        IvrEntry(20, "$${x}", "IVR_TOP"),
        IvrEntry(21, "1}", "IVR_EXTENSION", match_prefix=True),
        IvrEntry(22, "/a${system(id)}/", "IVR_EXIT"),
    ]
    good = [
        IvrEntry(30, "1", "IVR_EXTENSION", args='[{"extn":"1001|d"},{"extn":"1002|d"}]'),
        IvrEntry(31, "2", "IVR_SYSTEM", body="\n  playback /sounds/hi.wav \nhangup"),
        IvrEntry(32, "3", "IVR_SCRIPT", body="scripts/menu.lua"),
        IvrEntry(33, "4", "IVR_PLAY", args=json.dumps({"media_path": "/sounds/a.wav"})),
        IvrEntry(34, "5", "IVR_TTS", body="Bonjour, 你好 $5 & co"),
        IvrEntry(35, "6", "MACRO", args="voicemail_menu:1"),
        IvrEntry(36, "7", "IVR_ROUTE", args="7", body="1000"),
        IvrEntry(37, "8", "IVR_QUEUE", body="support@pbx.example"),
        IvrEntry(38, "9", "IVR_CONFERENCE", body="room1"),
        IvrEntry(39, "/^(3[0-9])$/", "IVR_EXIT"),
        IvrEntry(40, "4", "IVR_EXTENSION", match_prefix=True),
    ]
    menu = IvrMenu(id=1, name="main", entries=(*bad, *good))
    index = FsIndex(FsConfig(domain="pbx.example", ivrs=(menu,), context_keys=((7, "ctx"),)))
    assert entries_of(index, "main") == [
        ("menu-exec-app", "1", "bridge user/1001@pbx.example,user/1002@pbx.example"),
        ("menu-exec-app", "2", "playback /sounds/hi.wav"),
        ("menu-exec-app", "3", "lua scripts/menu.lua"),
        ("menu-play-sound", "4", "/sounds/a.wav"),
        ("menu-play-sound", "5", "say:Bonjour, 你好 $5 & co"),
        ("menu-play-sound", "6", "phrase:voicemail_menu:1"),
        ("menu-exec-app", "7", "transfer 1000 XML ctx"),
        ("menu-exec-app", "8", "callcenter support@pbx.example"),
        ("menu-exec-app", "9", "conference room1-pbx.example@default"),
        ("menu-exit", "/^(3[0-9])$/", ""),
        ("menu-exec-app", "/^(4[0-9]*)$/", "bridge user/$1@pbx.example"),
    ]
    assert [int(p.field.split("[")[1].split("]")[0]) for p in index.problems] == [e.id for e in bad]
    assert {p.resource for p in index.problems} == {"ivr"}


def test_ivr_system_lines_use_the_configured_applications() -> None:
    entry = IvrEntry(1, "1", "IVR_SYSTEM", body="valet_park_extra lot 1")
    menu = IvrMenu(id=1, name="m", entries=(entry,))
    assert entries_of(FsIndex(FsConfig(ivrs=(menu,))), "m") == []
    extra = Applications.from_setting("valet_park_extra")
    assert entries_of(FsIndex(FsConfig(ivrs=(menu,)), extra), "m") == [
        ("menu-exec-app", "1", "valet_park_extra lot 1")
    ]


def test_menus_with_a_bad_name_are_left_out_and_bad_attributes_omitted() -> None:
    good = IvrMenu(
        id=1,
        name="IVR示例1",
        greet_long=json.dumps({"media_id": 3, "media_path": "/sounds/${system(id)}.wav"}),
        greet_short="/sounds/$${password}",
        invalid_sound="$${sound_prefix}/invalid.wav",
        exit_sound="~os.execute('id')",
        transfer_sound="/a b.wav",
        exec_on_max_failures="system id",
        exec_on_max_timeouts="hangup NORMAL_CLEARING",
        tts_engine="flite}x",
        tts_voice="${system(id)}",
        confirm_macro="<X-PRE-PROCESS/>",
        pin="${system(id)}",
        pin_file="/sounds/pin.wav",
        entries=(
            IvrEntry(1, "1", "IVR_SUB", args="2"),
            IvrEntry(2, "2", "IVR_SUB", args="3"),
        ),
    )
    bad_names = [
        IvrMenu(id=2, name="evil}x"),
        IvrMenu(id=3, name="${system(id)}"),
        IvrMenu(id=4, name="a b"),
        IvrMenu(id=5, name="m\n"),
    ]
    index = FsIndex(FsConfig(ivrs=(good, *bad_names)))
    for m in bad_names:
        assert index.ivr({**IVR, "Menu-Name": m.name}) is None
    doc = index.ivr(IVR)
    assert doc is not None
    clean(doc)
    menus = list(parse(doc).iter("menu"))
    assert [m.get("name") for m in menus] == ["IVR示例1"]
    attrs = menus[0].attrib
    assert attrs["invalid-sound"] == "$${sound_prefix}/invalid.wav"  # SOUND: vars.xml's
    assert attrs["pin-file"] == "/sounds/pin.wav"
    assert attrs["exec-on-max-timeouts"] == "hangup NORMAL_CLEARING"
    for omitted in (
        "greet-long", "greet-short", "exit-sound", "transfer-sound", "exec-on-max-failures",
        "tts-engine", "tts-voice", "confirm-macro", "pin",
    ):  # fmt: skip
        assert omitted not in attrs, omitted
    assert list(menus[0]) == []  # the sub menus were left out, so were their entries
    fields = [(p.id, p.field) for p in index.problems]
    assert (2, "name") in fields and (5, "name") in fields
    assert (1, "exec_on_max_failures") in fields and (1, "pin") in fields


# --- acl.conf --------------------------------------------------------------------


def test_acl_nodes_are_cidrs_only() -> None:
    denied = (
        "203.0.113.9/32",
        "198.51.100.7",
        "2001:db8::/32",
        "10.0.0.0/8\n",
        '1.2.3.4"/><node type="allow" cidr="0.0.0.0/0',
        "${system(id)}",
        "fe80::1%eth0",
        "example.com",
        "198.51.100.7/32",  # the same as above, once
    )
    index = FsIndex(FsConfig(denied=denied))
    doc = index.acl({})
    clean(doc)
    lists = {x.get("name"): x for x in parse(doc).iter("list")}
    nodes = [(n.get("type"), n.get("cidr")) for n in lists["sy-blacklist"]]
    assert nodes == [
        ("deny", "203.0.113.9/32"),
        ("deny", "198.51.100.7/32"),
        ("deny", "2001:db8::/32"),
    ]
    assert len(index.problems) == 5
    assert {p.resource for p in index.problems} == {"iptables"}

"""Each FS_DEST_* type as the actions FreeSWITCH runs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import msgspec
import pytest

from switchyard.config_api.resources.destination_checks import DEST_TYPES
from switchyard.config_api.resources.func_codes import FUNC_TYPES
from switchyard.config_api.routing.destinations import BUILDERS, Action
from switchyard.config_api.routing.engine import Decision, compile
from switchyard.config_api.routing.model import (
    ConferenceProfile,
    ConferenceRoom,
    Distributor,
    Dod,
    Extension,
    FuncCode,
    Gateway,
    Ivr,
    MediaFile,
    Queue,
    Route,
    Snapshot,
    Trunk,
    TrunkGroup,
)
from switchyard.shared.db import load_migrations

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
RESOURCES = Snapshot(
    domain="pbx.example",
    gateways=(Gateway(id=1, name="carrier"), Gateway(id=2, name="off", disabled=True)),
    extensions=(Extension(id=7, extn="1007", domain="gsm.example"),),
    ivrs=(Ivr(id=1, name="welcome"),),
    conference_rooms=(ConferenceRoom(id=1, name="Board", nbr="3000", profile="wideband"),),
    conference_profiles=(ConferenceProfile(id=1, name="video"),),
    queues=(Queue(id=1, name="support"),),
    media_files=(MediaFile(id=1, name="s", abs_path="/var/lib/sy/scripts/s.lua"),),
    trunks=(
        Trunk(id=1, name="t1", host="10.0.0.1:5060"),
        Trunk(id=2, name="t2", host="10.0.0.2", profile="internal"),
    ),
    trunk_groups=(TrunkGroup(id=1, name="both", trunk_ids=(1, 2)),),
    distributors=(Distributor(id=1, name="carriers"),),
)

ALL_TYPES = [
    "FS_DEST_USER", "FS_DEST_GATEWAY", "FS_DEST_USERGW", "FS_DEST_TRUNK_GROUP_OUT",
    "FS_DEST_TRUNK_OUT", "FS_DEST_TRUNK_GROUP_IN", "FS_DEST_TRUNK_IN", "FS_DEST_SYSTEM",
    "FS_DEST_IP", "FS_DEST_AGORA", "FS_DEST_IVRBLOCK", "FS_DEST_CALLFLOW",
    "FS_DEST_CONFERENCE", "FS_DEST_CONFERENCE_ROOM", "FS_DEST_MEETING_ROOM",
    "FS_DEST_USER_CONFERENCE", "FS_DEST_CONFERENCE_CLUSTER", "FS_DEST_CTI",
    "FS_DEST_NUM_QUEUE", "FS_DEST_SCRIPT", "FS_DEST_IVR", "FS_DEST_CHATGPT",
    "FS_DEST_LAST_INTERCEPT", "FS_DEST_DEST_INTERCEPT", "FS_DEST_INTERCEPT",
    "FS_DEST_FORCE_INSERT", "FS_DEST_FORCE_BREAKDOWN", "FS_DEST_EAVESDROP",
    "FS_DEST_MEETING", "FS_DEST_TIMELY_MEETING", "FS_DEST_FUNC_CALL_EXTN",
    "FS_DEST_FUNC_CALL_FORWARDING", "FS_DEST_FUNC_CALL_FORWARDING_CANCEL",
    "FS_DEST_FUNC_CALL_FORWARD_BUSY", "FS_DEST_FUNC_CALL_FORWARD_BUSY_CANCEL",
    "FS_DEST_FUNC_CALL_FORWARD_NO_RESPONSE", "FS_DEST_FUNC_CALL_FORWARD_NO_RESPONSE_CANCEL",
    "FS_DEST_FUNC_CALL_DND", "FS_DEST_FUNC_CALL_DND_CANCEL", "FS_DEST_FUNC_CALL_FIFO_BACK",
    "FS_DEST_FUNC_CALL_RECORD", "FS_DEST_FUNC_CALL_VOICEMAIL", "FS_DEST_VOICEMAIL",
    "FS_DEST_PLAYBACK", "FS_DEST_TRANSFER", "FS_DEST_TEN", "FS_DEST_CLUSTER_TRUNK",
    "FS_DEST_CLUSTER_TRUNK_GROUP", "FS_DEST_DISTRIBUTORS", "FS_DEST_RING_EXTNS",
    "FS_DEST_SEQ_EXTNS", "FS_DEST_MCASTS", "FS_DEST_TENCENT", "FS_DEST_MCAST_MEET",
]  # fmt: skip


def route_to(dest_type: str, dest_uuid: str = "", body: str = "", number: str = "5551234",
             prefix: str = "") -> Decision:  # fmt: skip
    snap = Snapshot(
        **{
            f: getattr(RESOURCES, f)
            for f in RESOURCES.__struct_fields__
            if f not in ("routes",)
        },
        routes=(
            Route(id=1, name="r", dest_type=dest_type, dest_uuid=dest_uuid, body=body,
                  prefix=prefix, max_length=20),
        ),
    )  # fmt: skip
    return compile(snap).lookup("default", number, "1001", NOW)


def dest_actions(d: Decision) -> list[tuple[str, str]]:
    # Drop the per-route variable every route sets.
    return [(a.application, a.data) for a in d.actions if a.data != "sy_route_id=1"]


def test_every_type_of_the_dict_is_handled() -> None:
    assert len(ALL_TYPES) == 54
    assert set(ALL_TYPES) <= set(BUILDERS)


def _dict_values(realm: str) -> set[str]:
    sql = next(m.sql for m in load_migrations() if m.version == "0101_config_dicts")
    return set(re.findall(rf"\('{realm}', '([^']+)'", sql))


def test_every_type_the_api_accepts_has_a_builder() -> None:
    # Routes and time rules (DEST_TYPES), func codes (FUNC_TYPES) and the
    # seeded dicts (realms DEST and FUNC): none may fall through to
    # "unknown destination type" once stored.
    dest, func = _dict_values("DEST"), _dict_values("FUNC")
    assert "FS_DEST_FUNC_CALL_FORWARD_WITHOUT_RESPONSE" in func and len(dest) >= 20
    accepted = DEST_TYPES | set(FUNC_TYPES) | dest | func
    assert sorted(accepted - set(BUILDERS)) == []


@pytest.mark.parametrize(
    ("spelling", "db"),
    [
        ("WITHOUT_RESPONSE", "insert/cf_noanswer/${caller_id_number}/1"),
        ("WITHOUT_RESPONSE_CANCEL", "delete/cf_noanswer/${caller_id_number}"),
        ("NO_RESPONSE", "insert/cf_noanswer/${caller_id_number}/1"),
        ("NO_RESPONSE_CANCEL", "delete/cf_noanswer/${caller_id_number}"),
    ],
)
def test_both_spellings_of_no_answer_forwarding_work_as_func_codes(spelling: str, db: str) -> None:
    func_type = f"FS_DEST_FUNC_CALL_FORWARD_{spelling}"
    snap = Snapshot(
        extensions=(Extension(id=1, extn="1001"),),
        func_codes=(FuncCode(id=1, func_code="*73", func_type=func_type),),
    )
    d = compile(snap).lookup("default", "*731", "1001", NOW)
    assert d.outcome == "func_code" and ("db", db) in dest_actions(d), d.reason


@pytest.mark.parametrize(
    ("dest_type", "uuid", "body", "expected"),
    [
        ("FS_DEST_USER", "", "", ("bridge", "user/5551234@pbx.example")),
        ("FS_DEST_GATEWAY", "1", "", ("bridge", "sofia/gateway/carrier/5551234")),
        ("FS_DEST_GATEWAY", "", "legacy", ("bridge", "sofia/gateway/legacy/5551234")),
        ("FS_DEST_IP", "", "10.1.1.1:5080", ("bridge", "sofia/public/5551234@10.1.1.1:5080")),
        ("FS_DEST_CLUSTER_TRUNK", "2", "", ("bridge", "sofia/internal/5551234@10.0.0.2")),
        ("FS_DEST_TRUNK_OUT", "1", "", ("bridge", "sofia/external/5551234@10.0.0.1:5060")),
        (
            "FS_DEST_CLUSTER_TRUNK_GROUP",
            "1",
            "",
            ("bridge", "sofia/external/5551234@10.0.0.1:5060|sofia/internal/5551234@10.0.0.2"),
        ),
        (
            "FS_DEST_DISTRIBUTORS",
            "1",
            "",
            ("bridge", "sofia/gateway/${distributor(carriers)}/5551234"),
        ),
        ("FS_DEST_IVR", "1", "", ("ivr", "welcome")),
        ("FS_DEST_PLAYBACK", "", "/m/x.wav", ("playback", "/m/x.wav")),
        ("FS_DEST_IVRBLOCK", "12", "", ("lua", "${script_dir}/blocks/blocks-12.lua")),
        ("FS_DEST_CTI", "1", "", ("callcenter", "support@default")),
        ("FS_DEST_NUM_QUEUE", "", "", ("callcenter", "5551234@default")),
        ("FS_DEST_CONFERENCE", "", "", ("conference", "5551234-pbx.example@default")),
        ("FS_DEST_CONFERENCE", "1", "", ("conference", "3000-pbx.example@wideband")),
        ("FS_DEST_CONFERENCE_ROOM", "1", "", ("conference", "3000-pbx.example@wideband")),
        ("FS_DEST_USER_CONFERENCE", "1", "", ("conference", "5551234-pbx.example@video")),
        ("FS_DEST_TRANSFER", "", "8000 sales", ("transfer", "8000 XML sales")),
        ("FS_DEST_VOICEMAIL", "", "", ("voicemail", "default pbx.example 5551234")),
        ("FS_DEST_TENCENT", "", "meet.example", ("bridge", "sofia/public/5551234@meet.example")),
        (
            "FS_DEST_RING_EXTNS",
            json.dumps([{"extn": "1001|pbx.example"}, {"extn": "1002|"}]),
            "",
            ("bridge", "user/1001@pbx.example,user/1002@pbx.example"),
        ),
        (
            "FS_DEST_SEQ_EXTNS",
            json.dumps([{"extn": "1001|a.example"}, {"extn": "1002|b.example"}]),
            "",
            ("bridge", "user/1001@a.example|user/1002@b.example"),
        ),
        ("FS_DEST_EAVESDROP", "", "", ("eavesdrop", "${hash(select/pbx.example-spymap/5551234)}")),
    ],
)
def test_destination_actions(
    dest_type: str, uuid: str, body: str, expected: tuple[str, str]
) -> None:
    d = route_to(dest_type, uuid, body)
    assert d.outcome == "route" and d.stock
    assert expected in dest_actions(d)


def test_system_body_lines_become_actions() -> None:
    body = "answer\r\n# a comment\n\nplayback /m/hello.wav\nhangup  NORMAL_CLEARING\n"
    assert dest_actions(route_to("FS_DEST_SYSTEM", body=body)) == [
        ("answer", ""),
        ("playback", "/m/hello.wav"),
        ("hangup", "NORMAL_CLEARING"),
    ]


def test_conference_cluster_first_node_is_here() -> None:
    here = route_to("FS_DEST_CONFERENCE_CLUSTER", body="10.0.0.1\n")
    assert ("conference", "5551234-pbx.example@default") in dest_actions(here)
    remote = route_to("FS_DEST_CONFERENCE_CLUSTER", body="10.0.0.1\n10.0.0.2\n10.0.0.3")
    assert dest_actions(remote)[-2:] == [
        ("set", "bypass_media=true"),
        ("bridge", "sofia/public/5551234@10.0.0.2|sofia/public/5551234@10.0.0.3"),
    ]


def test_extension_gateway_dials_the_device_with_the_callee() -> None:
    d = route_to("FS_DEST_USERGW", "7")
    [(_app, data)] = [x for x in dest_actions(d) if x[0] == "bridge"]
    assert "sofia_contact(*/1007@gsm.example)" in data and "%1%25551234@%3" in data


def test_func_types_reached_through_a_route_take_the_digits_after_the_prefix() -> None:
    d = route_to("FS_DEST_FUNC_CALL_FORWARDING", number="*721005", prefix="*72")
    assert ("db", "insert/cf_all/${caller_id_number}/1005") in dest_actions(d)
    assert d.module == "mod_db"


@pytest.mark.parametrize(
    ("dest_type", "module"),
    [
        ("FS_DEST_AGORA", "mod_agora (XSwitch)"),
        ("FS_DEST_CHATGPT", "mod_ai (XSwitch)"),
        ("FS_DEST_TEN", "mod_ten (XSwitch)"),
        ("FS_DEST_CALLFLOW", "XSwitch call-flow engine"),
        ("FS_DEST_MCASTS", "mod_mcast (XSwitch)"),
        ("FS_DEST_MCAST_MEET", "mod_mcast (XSwitch)"),
    ],
)
def test_types_needing_foreign_modules_are_accepted_and_say_so(dest_type: str, module: str) -> None:
    d = route_to(dest_type, "abc")
    assert d.outcome == "route" and not d.stock and d.module == module
    assert d.notes[0] == f"needs {module}, which stock FreeSWITCH does not have"
    assert d.actions[-1].data == "abc"


@pytest.mark.parametrize(
    ("dest_type", "uuid", "why"),
    [
        ("FS_DEST_GATEWAY", "2", "disabled"),
        ("FS_DEST_GATEWAY", "9", "does not exist"),
        ("FS_DEST_IVR", "9", "IVR"),
        ("FS_DEST_CTI", "", "queue"),
        ("FS_DEST_RING_EXTNS", "not json", "JSON"),
        ("FS_DEST_RING_EXTNS", "[]", "no extensions"),
        ("FS_DEST_CLUSTER_TRUNK_GROUP", "5", "trunk group"),
        ("FS_DEST_SYSTEM", "", "no 'app args'"),
        ("FS_DEST_NOT_A_TYPE", "", "unknown destination type"),
    ],
)
def test_dangling_references_hang_up_with_a_reason(dest_type: str, uuid: str, why: str) -> None:
    d = route_to(dest_type, uuid)
    assert d.actions[-1] == Action("hangup", "NO_ROUTE_DESTINATION")
    assert why in d.reason and why in d.notes[0]


def test_each_gateway_applies_its_own_dnc_after_the_routes() -> None:
    snap = Snapshot(
        routes=(
            Route(id=1, name="r", dest_type="FS_DEST_GATEWAY", dest_uuid="1,2", prefix="0",
                  dnc="-0"),
        ),
        gateways=(
            Gateway(id=1, name="a", dnc="+0086"),
            Gateway(id=2, name="b", dnc="/^(\\d+)$/$1${x}/"),
            Gateway(id=3, name="c", dnc="nonsense"),
        ),
    )  # fmt: skip
    d = compile(snap).lookup("default", "010555", "", NOW)
    assert d.outcome == "route" and d.actions[-1] == Action("hangup", "NO_ROUTE_DESTINATION")
    assert "gateway b dnc produced" in d.reason
    ok = compile(
        msgspec.structs.replace(
            snap, routes=(msgspec.structs.replace(snap.routes[0], dest_uuid="1,3"),)
        )
    ).lookup("default", "010555", "", NOW)
    assert ok.actions[-1] == Action("bridge", "sofia/gateway/a/008610555|sofia/gateway/c/10555")
    assert "gateway c dnc not applied" in ok.notes[0]


def test_each_gateway_applies_its_own_sdnc_to_its_leg() -> None:
    snap = Snapshot(
        routes=(
            Route(id=1, name="r", dest_type="FS_DEST_GATEWAY", dest_uuid="1,2,3", prefix="0",
                  sdnc="+0"),
        ),
        gateways=(
            Gateway(id=1, name="a", sdnc="-0+86"),
            Gateway(id=2, name="b", sdnc="r1"),
            Gateway(id=3, name="c"),
            Gateway(id=4, name="d", sdnc="nonsense"),
            Gateway(id=5, name="e", sdnc="/^(.*)$/$1,x]${system(id)}/"),
            Gateway(id=6, name="f", sdnc="/^.*$//"),
        ),
    )  # fmt: skip
    d = compile(snap).lookup("default", "010555", "1000", NOW)
    # The route's sdnc first (1000 → 01000), then each gateway's on its own leg.
    assert d.caller == "01000"
    assert d.actions[-1] == Action(
        "bridge",
        "[origination_caller_id_number=861000]sofia/gateway/a/010555"
        "|[origination_caller_id_number=1000]sofia/gateway/b/010555"
        "|sofia/gateway/c/010555",
    )
    assert Action("set", "effective_caller_id_number=01000") in d.actions
    assert [(s.source, s.leg, s.before, s.after) for s in d.transformations] == [
        ("sdnc", "", "1000", "01000"),
        ("gateway_sdnc", "a", "01000", "861000"),
        ("gateway_sdnc", "b", "01000", "1000"),
    ]

    def via(gateways: str, caller: str = "1000") -> Decision:
        route = msgspec.structs.replace(snap.routes[0], dest_uuid=gateways, sdnc="")
        return compile(msgspec.structs.replace(snap, routes=(route,))).lookup(
            "default", "010555", caller, NOW
        )

    bad_spec = via("4,1")
    assert bad_spec.actions[-1] == Action(
        "bridge",
        "sofia/gateway/d/010555|[origination_caller_id_number=861000]sofia/gateway/a/010555",
    )
    assert "gateway d sdnc not applied" in bad_spec.notes[0]
    assert bad_spec.transformations[0].error
    # The value goes inside [...] of a dial string: , ] $ { } would break out.
    for gateways in ("5", "1,5", "6"):
        refused = via(gateways)
        assert refused.actions[-1] == Action("hangup", "NO_ROUTE_DESTINATION")
        assert "sdnc produced" in refused.reason
    # No caller number: the gateway's sdnc still applies (as the route's does).
    assert via("1", "").actions[-1].data.startswith("[origination_caller_id_number=86]")


# --- what the loader gives: no queue, room, profile, media or distributor rows ----

# The dest_uuid/body a client sends per type (xswitch-clients-observed.md
# section 4), with the trunk, gateway, IVR and extension they name stored.
LOADED = Snapshot(
    domain="pbx.example",
    gateways=RESOURCES.gateways,
    extensions=RESOURCES.extensions,
    ivrs=RESOURCES.ivrs,
    trunks=RESOURCES.trunks,
    trunk_groups=RESOURCES.trunk_groups,
)
RING = json.dumps([{"extn": "1001|pbx.example"}])
SAMPLES = {
    "FS_DEST_GATEWAY": ("1", "carrier"),
    "FS_DEST_USERGW": ("7", "1007"),
    "FS_DEST_TRUNK_OUT": ("1", "t1"),
    "FS_DEST_TRUNK_IN": ("2", "t2"),
    "FS_DEST_TRUNK_GROUP_OUT": ("1", "both"),
    "FS_DEST_TRUNK_GROUP_IN": ("1", "both"),
    "FS_DEST_CLUSTER_TRUNK": ("1", "t1"),
    "FS_DEST_CLUSTER_TRUNK_GROUP": ("1", "both"),
    "FS_DEST_SYSTEM": ("", "answer\nplayback /m/a.wav"),
    "FS_DEST_IP": ("", "10.1.1.1"),
    "FS_DEST_AGORA": ("", "https://cb.example/agora"),
    "FS_DEST_IVRBLOCK": ("12", ""),
    "FS_DEST_CALLFLOW": ("5", ""),
    "FS_DEST_CONFERENCE_ROOM": ("3", ""),
    "FS_DEST_MEETING_ROOM": ("4", ""),
    "FS_DEST_USER_CONFERENCE": ("2", ""),
    "FS_DEST_CONFERENCE_CLUSTER": ("", "10.0.0.1"),
    "FS_DEST_CTI": ("5", ""),
    "FS_DEST_SCRIPT": ("9", "welcome.lua"),
    "FS_DEST_IVR": ("1", "welcome"),
    "FS_DEST_CHATGPT": ("a1b2", "sales"),
    "FS_DEST_PLAYBACK": ("", "/m/closed.wav"),
    "FS_DEST_TRANSFER": ("", "8000 sales"),
    "FS_DEST_TEN": ('{"url":"wss://ten.example","language":"en-US"}', ""),
    "FS_DEST_DISTRIBUTORS": ("2", ""),
    "FS_DEST_RING_EXTNS": (RING, ""),
    "FS_DEST_SEQ_EXTNS": (RING, ""),
    "FS_DEST_TENCENT": ("", "meet.example"),
}


@pytest.mark.parametrize("dest_type", sorted(DEST_TYPES))
def test_every_type_the_api_accepts_produces_actions_from_a_loaded_snapshot(
    dest_type: str,
) -> None:
    uuid, body = SAMPLES.get(dest_type, ("", ""))
    route = Route(id=1, name="r", dest_type=dest_type, dest_uuid=uuid, body=body, prefix="55",
                  max_length=20)  # fmt: skip
    d = compile(msgspec.structs.replace(LOADED, routes=(route,))).lookup(
        "default", "5551234", "1001", NOW
    )
    assert d.outcome == "route", d.reason
    assert Action("hangup", "NO_ROUTE_DESTINATION") not in d.actions, d.reason
    assert len(dest_actions(d)) >= 1


@pytest.mark.parametrize(
    ("dest_type", "uuid", "body", "expected", "note"),
    [
        ("FS_DEST_CTI", "5", "", ("callcenter", "5@default"), "queue '5' is not stored"),
        ("FS_DEST_CTI", "5", "support@default", ("callcenter", "support@default"), "callcenter"),
        ("FS_DEST_CONFERENCE", "3", "3000", ("conference", "3000-pbx.example@default"), ""),
        ("FS_DEST_CONFERENCE_ROOM", "3", "", ("conference", "3-pbx.example@default"), "room"),
        ("FS_DEST_CONFERENCE_ROOM", "3", "3000", ("conference", "3000-pbx.example@default"), ""),
        ("FS_DEST_USER_CONFERENCE", "2", "", ("conference", "5551234-pbx.example@default"),
         "conference profile '2'"),
        ("FS_DEST_USER_CONFERENCE", "2", "video", ("conference", "5551234-pbx.example@video"), ""),
        ("FS_DEST_SCRIPT", "9", "", ("lua", "9"), "script_dir"),
        ("FS_DEST_SCRIPT", "", "s/ivr.lua", ("lua", "s/ivr.lua"), ""),
        ("FS_DEST_PLAYBACK", "6", "", ("playback", "6"), "media file '6'"),
        ("FS_DEST_PLAYBACK", "6", "/m/a.wav", ("playback", "/m/a.wav"), "media file '6'"),
        ("FS_DEST_DISTRIBUTORS", "2", "", ("bridge", "sofia/gateway/${distributor(2)}/5551234"),
         "distributor.conf"),
        ("FS_DEST_DISTRIBUTORS", "2", "carriers",
         ("bridge", "sofia/gateway/${distributor(carriers)}/5551234"), "mod_distributor"),
    ],
)  # fmt: skip
def test_objects_without_a_table_are_reached_by_the_name_the_route_holds(
    dest_type: str, uuid: str, body: str, expected: tuple[str, str], note: str
) -> None:
    route = Route(id=1, name="r", dest_type=dest_type, dest_uuid=uuid, body=body, max_length=20)
    d = compile(msgspec.structs.replace(LOADED, routes=(route,))).lookup(
        "default", "5551234", "1001", NOW
    )
    assert d.outcome == "route" and expected in dest_actions(d), d.reason
    assert note in " ".join(d.notes)


@pytest.mark.parametrize(
    ("dest_type", "body"),
    [
        ("FS_DEST_CTI", "support queue"),
        ("FS_DEST_CONFERENCE_ROOM", "a@b"),
        ("FS_DEST_DISTRIBUTORS", "x)}${y"),
        ("FS_DEST_SCRIPT", ""),
        # Only scripts under FreeSWITCH's script_dir run: not an absolute path
        # (uploads land in the media store), not "..".
        ("FS_DEST_SCRIPT", "/var/lib/switchyard/media/upload-1-a.lua"),
        ("FS_DEST_SCRIPT", "../../tmp/x.lua"),
        ("FS_DEST_SCRIPT", "~os.execute('id')"),
    ],
)
def test_a_name_that_would_break_the_application_data_is_refused(dest_type: str, body: str) -> None:
    d = dest_actions(route_to(dest_type, "", body))
    assert d[-1] == ("hangup", "NO_ROUTE_DESTINATION")


def test_dod_matches_a_distributor_known_only_by_its_id() -> None:
    route = Route(id=1, name="r", dest_type="FS_DEST_DISTRIBUTORS", dest_uuid="2", max_length=20)
    snap = msgspec.structs.replace(
        LOADED,
        routes=(route,),
        dods=(Dod(id=1, extn="1001", line_number="88880000", type="DISTRIBUTORS", ref_id="2"),),
    )
    d = compile(snap).lookup("default", "5551234", "1001", NOW)
    assert ("set", "effective_caller_id_number=88880000") in dest_actions(d)


def test_a_stored_media_file_never_runs_as_a_script() -> None:
    # An uploaded file lands in the media store (an absolute path): lua runs
    # only scripts the operator put under script_dir (docs/security.md).
    route = Route(id=1, name="r", dest_type="FS_DEST_SCRIPT", dest_uuid="1", max_length=20)
    d = compile(msgspec.structs.replace(RESOURCES, routes=(route,))).lookup(
        "default", "5551234", "1001", NOW
    )
    assert dest_actions(d)[-1] == ("hangup", "NO_ROUTE_DESTINATION")
    assert all(app != "lua" for app, _ in dest_actions(d))


def test_a_media_file_in_the_object_store_plays_by_url_but_never_runs_as_a_script() -> None:
    # The media service's object-store mode stores a mod_http_cache URL as
    # abs_path (docs/media.md): playback takes it (SOUND), lua does not (SCRIPT).
    url = "http_cache://http://media.example:8081/fs/media/0f1e2d/upload/upload-1-a.wav"
    media = (MediaFile(id=4, name="u", abs_path=url),)
    for dest_type, plays in (("FS_DEST_PLAYBACK", True), ("FS_DEST_SCRIPT", False)):
        route = Route(id=1, name="r", dest_type=dest_type, dest_uuid="4", max_length=20)
        loaded = msgspec.structs.replace(RESOURCES, routes=(route,), media_files=media)
        d = compile(loaded).lookup("default", "5551234", "1001", NOW)
        if plays:
            assert ("playback", url) in dest_actions(d), d.reason
        else:
            assert "script_dir" in d.reason and "refused" in d.reason
            assert all(app != "lua" for app, _ in dest_actions(d))

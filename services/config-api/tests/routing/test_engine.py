"""The compiled engine against the rules as XUI's SQL states them, and the
behaviour a caller notices: blacklists, time rules, DID, DOD, func codes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from switchyard.config_api.resources.routing_api import route_reply
from switchyard.config_api.routing.destinations import Action
from switchyard.config_api.routing.engine import compile
from switchyard.config_api.routing.model import (
    Blacklist,
    Context,
    Dod,
    Extension,
    FuncCode,
    Gateway,
    Hotline,
    Route,
    RouteParam,
    Snapshot,
    TimeRule,
)
from switchyard.config_api.routing.recurrence import parse_recurrence

NOON = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def bridges(actions: tuple[Action, ...]) -> list[str]:
    return [a.data for a in actions if a.application == "bridge"]


# --- selection: compiled table == XUI's SQL ---------------------------------------

# No _ or %: XUI's LIKE would read them as wildcards, Switchyard's prefixes are
# literal (docs/routing.md); with these characters both mean "starts with".
ALPHABET = "0129*#"
short_digits = st.text(alphabet=ALPHABET, max_size=4)
routes_strategy = st.lists(
    st.builds(
        lambda i, ctx, prefix, max_length, disabled: Route(
            id=i,
            name=f"r{i}",
            dest_type="FS_DEST_USER",
            context=ctx,
            prefix=prefix,
            max_length=max_length,
            disabled=disabled,
        ),
        i=st.integers(1, 10_000),
        ctx=st.sampled_from(["default", "public"]),
        prefix=short_digits,
        max_length=st.integers(0, 8),
        disabled=st.booleans(),
    ),
    max_size=40,
    unique_by=lambda r: r.id,
)


def xui_sql(routes: list[Route], context: str, number: str) -> tuple[int | None, list[int]]:
    """The reference, written as XUI's dialplan query (with the ``disabled``
    column it lacked) and run by SQLite: the route taken, and every route of
    the context whose prefix starts the number in the same order."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute(
            "CREATE TABLE routes (id INTEGER PRIMARY KEY, context TEXT, prefix TEXT, "
            "max_length INTEGER, disabled INTEGER)"
        )
        db.executemany(
            "INSERT INTO routes VALUES (?, ?, ?, ?, ?)",
            [(r.id, r.context, r.prefix, r.max_length, int(r.disabled)) for r in routes],
        )
        taken = db.execute(
            "SELECT id FROM routes WHERE context = ? AND ? LIKE prefix || '%' "
            "AND length(?) <= max_length AND disabled = 0 "
            "ORDER BY max_length, length(prefix) DESC, id LIMIT 1",
            (context, number, number),
        ).fetchone()
        considered = db.execute(
            "SELECT id FROM routes WHERE context = ? AND ? LIKE prefix || '%' "
            "ORDER BY max_length, length(prefix) DESC, id",
            (context, number),
        ).fetchall()
    finally:
        db.close()
    return (taken[0] if taken else None), [row[0] for row in considered]


def test_the_sql_reference_itself() -> None:
    routes = [
        Route(id=3, name="", dest_type="", prefix="01", max_length=4),
        Route(id=2, name="", dest_type="", prefix="0", max_length=4),
        Route(id=1, name="", dest_type="", prefix="", max_length=3),
        Route(id=4, name="", dest_type="", prefix="01", max_length=4, disabled=True),
    ]
    assert xui_sql(routes, "default", "0123") == (3, [1, 3, 4, 2])  # 1: too short
    assert xui_sql(routes, "default", "012") == (1, [1, 3, 4, 2])
    assert xui_sql(routes, "public", "012") == (None, [])


@settings(max_examples=400, deadline=None)
@given(
    routes=routes_strategy,
    context=st.sampled_from(["default", "public", "cti"]),
    number=st.text(alphabet=ALPHABET, min_size=1, max_size=8),
)
def test_compiled_selection_equals_xui_sql(routes: list[Route], context: str, number: str) -> None:
    router = compile(Snapshot(routes=tuple(routes)))
    expected, considered = xui_sql(routes, context, number)
    decision = router.lookup(context, number, "", NOON, explain=True)
    assert decision.route_id == expected
    assert decision.found is (expected is not None)
    taken = [c.route_id for c in decision.candidates if c.taken]
    assert taken == ([expected] if expected is not None else [])
    assert [c.route_id for c in decision.candidates] == considered


def test_order_is_max_length_then_longest_prefix_then_id() -> None:
    routes = (
        Route(
            id=5, name="long prefix, long", dest_type="FS_DEST_USER", prefix="010", max_length=12
        ),
        Route(id=7, name="short prefix, short", dest_type="FS_DEST_USER", prefix="0", max_length=8),
        Route(id=6, name="same as 7, lower id", dest_type="FS_DEST_USER", prefix="0", max_length=8),
        Route(id=4, name="longer prefix", dest_type="FS_DEST_USER", prefix="01", max_length=8),
    )
    router = compile(Snapshot(routes=routes))
    assert router.lookup("default", "0101", "", NOON).route_id == 4
    assert router.lookup("default", "0201", "", NOON).route_id == 6
    assert router.lookup("default", "010123456", "", NOON).route_id == 5
    assert not router.lookup("default", "0101234567890", "", NOON).found


# --- time rules -----------------------------------------------------------------

TZS = ["Europe/Berlin", "America/New_York"]


@settings(max_examples=200, deadline=None)
@given(
    tz=st.sampled_from(TZS),
    hour=st.integers(0, 23),
    minutes=st.integers(1, 60 * 30),
    # Moments around both 2026 transitions of both zones.
    moment=st.one_of(
        st.datetimes(datetime(2026, 3, 6), datetime(2026, 4, 2)),
        st.datetimes(datetime(2026, 10, 22), datetime(2026, 11, 4)),
    ).map(lambda d: d.replace(tzinfo=UTC)),
)
def test_time_rule_replaces_destination_exactly_while_active(
    tz: str, hour: int, minutes: int, moment: datetime
) -> None:
    rule = f"20260101T{hour:02d}0000|PT{minutes}M|daily||1|"
    route = Route(
        id=1,
        name="office",
        dest_type="FS_DEST_USER",
        time_rules=(TimeRule(id=1, time_recurrence=rule, dest_type="FS_DEST_VOICEMAIL"),),
    )
    router = compile(Snapshot(timezone=tz, routes=(route,)))
    decision = router.lookup("default", "1000", "2000", moment)
    # Reference: the wall clock of tz shows a time inside one of the windows.
    wall = moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    active = False
    for back in range(3):
        start = datetime.combine(wall.date() - timedelta(days=back), datetime.min.time())
        start = start.replace(hour=hour)
        active = active or start <= wall < start + timedelta(minutes=minutes)
    assert decision.dest_type == ("FS_DEST_VOICEMAIL" if active else "FS_DEST_USER")
    assert decision.time_rule_id == (1 if active else None)
    assert [c.active for c in decision.time_rules] == [active]


def test_an_answer_is_timeless_only_when_no_time_rule_was_checked() -> None:
    """call-control reuses a route answer until the configuration changes
    only when the time of the call could not change it (route_cache.py)."""
    rule = "20260101T090000|PT8H|daily||1|"
    timed = Route(id=1, name="office", dest_type="FS_DEST_IP", prefix="1", body="10.0.0.1",
                  time_rules=(TimeRule(1, rule, "FS_DEST_IP", "", "10.0.0.2"),))  # fmt: skip
    plain = Route(id=2, name="out", dest_type="FS_DEST_IP", prefix="2", body="10.0.0.3")
    router = compile(Snapshot(routes=(timed, plain)))
    at = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert route_reply(router.lookup("default", "1000", "", at), 1).timeless is False
    assert route_reply(router.lookup("default", "2000", "", at), 1).timeless is True


def test_first_active_rule_wins_and_bad_rules_are_reported() -> None:
    route = Route(
        id=1,
        name="r",
        dest_type="FS_DEST_USER",
        time_rules=(
            TimeRule(
                id=3,
                time_recurrence="20260101T000000|PT24H|daily",
                dest_type="FS_DEST_IP",
                body="10.0.0.3",
            ),
            TimeRule(
                id=2,
                time_recurrence="20260101T000000|PT24H|daily",
                dest_type="FS_DEST_IP",
                body="10.0.0.2",
            ),
            TimeRule(id=1, time_recurrence="not a rule", dest_type="FS_DEST_IP", body="10.0.0.1"),
        ),
    )
    router = compile(Snapshot(routes=(route,)))
    d = router.lookup("default", "1000", "", NOON)
    assert d.time_rule_id == 2
    assert bridges(d.actions) == ["sofia/public/1000@10.0.0.2"]
    assert d.time_rules[0].error and not d.time_rules[0].active
    assert [p.field for p in router.problems] == ["time_recurrence"]


# --- blacklists -----------------------------------------------------------------


def _listed(list_type: int, limit: int, numbers: tuple[str, ...]) -> Snapshot:
    return Snapshot(
        routes=(Route(id=1, name="r", dest_type="FS_DEST_USER", prefix="", blacklist=9),),
        blacklists=(
            Blacklist(id=9, name="l", list_type=list_type, limit_user_type=limit, numbers=numbers),
        ),
    )


@settings(max_examples=300, deadline=None)
@given(
    list_type=st.sampled_from([0, 1]),
    limit=st.sampled_from([0, 1, 2]),
    numbers=st.lists(st.text(alphabet="0123", min_size=1, max_size=3), max_size=4),
    caller=st.text(alphabet="0123", min_size=1, max_size=5),
    callee=st.text(alphabet="0123", min_size=1, max_size=5),
)
def test_blacklist_verdict(
    list_type: int, limit: int, numbers: list[str], caller: str, callee: str
) -> None:
    router = compile(_listed(list_type, limit, tuple(numbers)))
    d = router.lookup("default", callee, caller, NOON)
    checked = [caller, callee] if limit == 2 else [[caller], [callee]][limit]
    hit = [any(n.startswith(p) for p in numbers) for n in checked]
    admitted = all(hit) if list_type == 1 else not any(hit)
    assert d.blacklist is not None and d.blacklist.admitted is admitted
    if admitted:
        assert d.outcome == "route"
        assert bridges(d.actions) == [f"user/{callee}@localhost"]
    else:
        assert d.outcome == "rejected"
        assert d.actions == (Action("hangup", "CALL_REJECTED"),)


# --- DID, DOD, func codes, authority, transformations --------------------------


def office() -> Snapshot:
    return Snapshot(
        domain="pbx.example",
        contexts=(Context(key="public", hotline_enabled=True), Context(key="default")),
        hotlines=(Hotline(id=1, line_number="6281000", numbers="1001"),),
        extensions=(
            Extension(id=1, extn="1001", context="default", call_authority=2),
            Extension(id=2, extn="1002", context="default"),
        ),
        gateways=(Gateway(id=3, name="carrier"), Gateway(id=4, name="backup")),
        dods=(Dod(id=1, extn="1002", line_number="6281002", type="GATEWAY", ref_id="3"),),
        func_codes=(
            FuncCode(id=1, func_code="*72", func_type="FS_DEST_FUNC_CALL_FORWARDING"),
            FuncCode(id=2, func_code="*33", func_type="FS_DEST_EAVESDROP"),
            FuncCode(id=3, func_code="*9", func_type="FS_DEST_FUNC_CALL_VOICEMAIL", disabled=True),
        ),
        routes=(
            Route(id=1, name="ext", dest_type="FS_DEST_USER", prefix="1", max_length=4),
            Route(
                id=2,
                name="national",
                dest_type="FS_DEST_GATEWAY",
                dest_uuid="3,4",
                prefix="0",
                max_length=12,
                route_type=3,
                dnc="-0+9",
                sdnc="+86",
                cid_number="6280000",
                media_codec="PCMU, PCMA",
                proxy_media=True,
                bill_rate="0.1",
                params=(
                    RouteParam(id=2, k="playback", v="b.wav", order=1),
                    RouteParam(id=1, k="playback", v="a.wav", order=1),
                    RouteParam(id=3, k="playback", v="off.wav", disabled=True),
                    RouteParam(id=4, k="uploaded_scripts", v="s/x.lua", order=2),
                ),
            ),
            Route(id=3, name="public", dest_type="FS_DEST_USER", context="public", prefix=""),
        ),
    )


def test_did_rings_the_extension_only_in_a_hotline_context() -> None:
    router = compile(office())
    d = router.lookup("public", "6281000", "13800000000", NOON)
    assert d.outcome == "did" and d.callee == "1001"
    assert bridges(d.actions) == ["user/1001@pbx.example"]
    # The same number in a context without DID is just a number to route.
    assert router.lookup("default", "6281000", "1002", NOON).outcome == "not_found"


def test_outbound_route_actions_in_order() -> None:
    router = compile(office())
    d = router.lookup("default", "02088887777", "1002", NOON)
    assert d.callee == "92088887777"
    # cid_number, then the extension's DOD for gateway 3, then sdnc.
    assert [(s.source, s.after) for s in d.transformations] == [
        ("dnc", "92088887777"),
        ("cid_number", "6280000"),
        ("dod", "6281002"),
        ("sdnc", "866281002"),
    ]
    assert d.actions == (
        Action("set", "dnc=-0+9"),
        Action("set", "dnc_number=92088887777"),
        Action("set", "sdnc=+86"),
        Action("set", "sdnc_number=866281002"),
        Action("set", "effective_caller_id_number=866281002"),
        Action("set", "sy_route_id=2"),
        Action("set", "proxy_media=true"),
        Action("export", "absolute_codec_string=PCMU,PCMA"),
        Action("set", "sy_route_type=3"),
        Action("set", "sy_bill_rate=0.1"),
        Action("playback", "a.wav"),
        Action("playback", "b.wav"),
        Action("lua", "s/x.lua"),
        Action("set", "hangup_after_bridge=true"),
        Action("bridge", "sofia/gateway/carrier/92088887777|sofia/gateway/backup/92088887777"),
    )


def test_dod_only_for_its_own_gateway() -> None:
    snap = office()
    routes = tuple(
        r
        if r.id != 2
        else Route(id=2, name="n", dest_type="FS_DEST_GATEWAY", dest_uuid="4", prefix="0")
        for r in snap.routes
    )
    import msgspec

    d = compile(msgspec.structs.replace(snap, routes=routes)).lookup(
        "default", "0201", "1002", NOON
    )
    assert d.caller == "1002" and not any(s.source == "dod" for s in d.transformations)


def test_call_authority_below_route_type_is_rejected() -> None:
    d = compile(office()).lookup("default", "02088887777", "1001", NOON)
    assert d.outcome == "rejected" and "local" in d.reason and "domestic" in d.reason
    assert d.actions == (Action("hangup", "CALL_REJECTED"),)


def test_func_codes_for_own_extensions_only() -> None:
    router = compile(office())
    fwd = router.lookup("default", "*721005", "1002", NOON)
    assert fwd.outcome == "func_code" and fwd.func_code == "*72"
    assert Action("db", "insert/cf_all/${caller_id_number}/1005") in fwd.actions
    spy = router.lookup("default", "*331001", "1002", NOON)
    assert Action("eavesdrop", "${hash(select/pbx.example-spymap/1001)}") in spy.actions
    # Same digits from a public caller: no feature, the public route instead.
    outsider = router.lookup("public", "*331001", "1002", NOON)
    assert outsider.outcome == "route" and outsider.route_id == 3
    # A disabled code is not a feature.
    assert router.lookup("default", "*9", "1002", NOON).outcome == "not_found"


def test_numbers_that_could_inject_into_dial_strings_are_refused() -> None:
    router = compile(office())
    for dest, caller in [
        ("1${system(id)}", "1002"),
        ("1001", "1002,user/evil"),
        ("10|01", "1002"),
        ("1001", 'x"/><action application="system'),
        ("", "1002"),
    ]:
        d = router.lookup("default", dest, caller, NOON)
        assert d.outcome == "invalid"
        assert d.actions == (Action("hangup", "INVALID_NUMBER_FORMAT"),)


def test_regex_dnc_result_is_checked_too() -> None:
    snap = Snapshot(routes=(Route(id=1, name="r", dest_type="FS_DEST_USER", dnc="/^(1)$/$1${x}/"),))
    d = compile(snap).lookup("default", "1", "", NOON)
    assert d.outcome == "invalid" and "${x}" in d.reason


def test_explain_lists_why_candidates_were_skipped() -> None:
    routes = (
        Route(id=1, name="a", dest_type="FS_DEST_USER", prefix="1", max_length=3),
        Route(id=2, name="b", dest_type="FS_DEST_USER", prefix="10", max_length=4, disabled=True),
        Route(id=3, name="c", dest_type="FS_DEST_USER", prefix="1", max_length=5),
        Route(id=4, name="d", dest_type="FS_DEST_USER", prefix="", max_length=5),
        Route(id=5, name="e", dest_type="FS_DEST_USER", prefix="2", max_length=5),
    )
    d = compile(Snapshot(routes=routes)).lookup("default", "1000", "", NOON, explain=True)
    assert [(c.route_id, c.taken, c.reason.split()[0]) for c in d.candidates] == [
        (1, False, "max_length"),
        (2, False, "disabled"),
        (3, True, "first"),
        (4, False, "ranked"),
    ]


def test_parse_of_spec_rule_used_by_a_route() -> None:
    # The spec's own route time rule: weekdays 17:00 for 6h, in Shanghai.
    text = "20230305T170000|PT6H0.06S|daily||1|MO,TU,WE,TH,FR"
    route = Route(
        id=2,
        name="ivr",
        dest_type="FS_DEST_USER",
        time_rules=(TimeRule(id=2, time_recurrence=text, dest_type="FS_DEST_VOICEMAIL"),),
    )
    router = compile(Snapshot(timezone="Asia/Shanghai", routes=(route,)))
    friday_evening = datetime(2026, 11, 20, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    saturday_evening = friday_evening + timedelta(days=1)
    assert parse_recurrence(text).active_at(friday_evening, ZoneInfo("Asia/Shanghai"))
    assert router.lookup("default", "8", "", friday_evening).dest_type == "FS_DEST_VOICEMAIL"
    assert router.lookup("default", "8", "", saturday_evening).dest_type == "FS_DEST_USER"


def test_rejected_calls_still_report_the_time_rule_verdicts() -> None:
    rules = (
        TimeRule(id=1, time_recurrence="nonsense", dest_type="FS_DEST_USER"),
        TimeRule(
            id=2, time_recurrence="20200101T000000|PT24H|daily", dest_type="FS_DEST_VOICEMAIL"
        ),
    )
    listed = _listed(0, 0, ("666",))
    blacklisted = msgspec.structs.replace(
        listed, routes=(msgspec.structs.replace(listed.routes[0], time_rules=rules),)
    )
    d = compile(blacklisted).lookup("default", "1001", "6661", NOON, explain=True)
    assert d.outcome == "rejected" and d.blacklist is not None and not d.blacklist.admitted
    assert [(r.rule_id, r.active, bool(r.error)) for r in d.time_rules] == [
        (1, False, True),
        (2, True, False),
    ]
    assert (d.time_rule_id, d.dest_type) == (2, "FS_DEST_VOICEMAIL")
    # Call authority: extension 1001 may call up to local; route 2 is domestic.
    snap = office()
    national = msgspec.structs.replace(snap.routes[1], time_rules=rules)
    d = compile(
        msgspec.structs.replace(snap, routes=(snap.routes[0], national, snap.routes[2]))
    ).lookup("default", "02088887777", "1001", NOON, explain=True)
    assert d.outcome == "rejected" and "domestic" in d.reason
    assert [r.active for r in d.time_rules] == [False, True] and d.time_rule_id == 2


def test_did_and_func_code_answers_list_the_routes_they_preempted() -> None:
    router = compile(office())
    did = router.lookup("public", "6281000", "13800000000", NOON, explain=True)
    assert did.outcome == "did"
    assert [(c.route_id, c.taken) for c in did.candidates] == [(3, False)]
    assert "DID 6281000" in did.candidates[0].reason
    fwd = router.lookup("default", "*721005", "1002", NOON, explain=True)
    assert fwd.outcome == "func_code" and fwd.candidates == ()  # no route starts with *
    hit = msgspec.structs.replace(
        office(), routes=(Route(id=9, name="star", dest_type="FS_DEST_USER", prefix="*7"),)
    )
    fwd = compile(hit).lookup("default", "*721005", "1002", NOON, explain=True)
    assert [(c.route_id, c.taken) for c in fwd.candidates] == [(9, False)]
    assert "func code *72" in fwd.candidates[0].reason

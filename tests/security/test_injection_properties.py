"""Issue 10, findings 2-5: whatever a client sends, it reaches FreeSWITCH as
exactly one value, or is refused with a 400 naming the field.

The originate line is read back the way FreeSWITCH reads it (mod_commands
``originate``, switch_separate_string, switch_event_create_brackets: the
``{…}`` block ends at its first ``}``, quotes or not; ``&app(args)`` ends
the arguments at the first ``)``); the dialplan document is parsed as XML
and its actions compared. A value that got through would show up as a new
variable, a new leg, a new application, or an ``${…}`` FreeSWITCH expands.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchyard.call_control.channels_http import AppBody, OriginateBody, originate_command
from switchyard.call_control.originate import originate_line
from switchyard.config_api.routing.engine import compile
from switchyard.config_api.routing.model import Gateway, Route, RouteParam, Snapshot
from switchyard.config_api.routing.xmldoc import dialplan_document
from switchyard.shared.fsvalues import APPLICATIONS, UnsafeValue
from switchyard.shared.http.errors import ApiError

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
# Bounded for CI (300 examples a property, seconds in all);
# SWITCHYARD_FUZZ_EXAMPLES=100000 makes a longer local run.
EXAMPLES = settings(
    max_examples=int(os.environ.get("SWITCHYARD_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Text biased to FreeSWITCH's syntax, plus anything at all.
SYNTAX = "{}[]<>'\",|$=&()^:;~ \\\n\r\t/@#*+.-_xa19张"
hostile = st.one_of(
    st.text(alphabet=SYNTAX, min_size=1, max_size=40),
    st.text(min_size=1, max_size=40),
    st.sampled_from(
        [
            "a}[sip_h_X-Evil=injected,execute_on_answer=echo]loopback/9999/default "
            "&park() XML default x",
            "${system(id)}",
            "$${hangup_cause}",
            "1000@evil.example",
            "x'\nbgapi status",
            "NORMAL_CLEARING\n",
            "a)b",
        ]
    ),
)


# --- FreeSWITCH's reading of an originate line ----------------------------------------


def _words(text: str) -> list[str]:
    """switch_separate_string on spaces: split outside '…', drop the quotes,
    resolve \\' \\" \\\\ and \\<space>; any other backslash stays."""
    out, cur, quoted, i = [], "", False, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "'\" \\":
            cur += text[i + 1]
            i += 2
            continue
        if ch == "'":
            quoted = not quoted
        elif ch == " " and not quoted:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    if cur:
        out.append(cur)
    return out


def _items(block: str) -> list[str]:
    """The {…} block split on "," (no quotes are left); "\\," is a comma."""
    out, cur, i = [], "", 0
    while i < len(block):
        if block[i] == "\\" and block[i + 1 : i + 2] == ",":
            cur += ","
            i += 2
            continue
        if block[i] == ",":
            out.append(cur)
            cur = ""
        else:
            cur += block[i]
        i += 1
    return [*out, cur]


class Originated(msgspec.Struct):
    variables: dict[str, str]
    endpoint: str
    apps: list[tuple[str, str]]


def read_originate(line: str) -> Originated:
    assert "\n" not in line and "\r" not in line, "a line break would end the ESL command"
    words = _words(line)
    dial, exten = words[0], words[1]
    variables: dict[str, str] = {}
    if dial.startswith("{"):
        block, _, dial = dial[1:].partition("}")  # the first }, quotes or not
        for pair in _items(block):
            name, eq, value = pair.partition("=")
            if not eq:
                continue  # FreeSWITCH drops an item without =
            assert name not in variables, f"variable {name} given twice"
            variables[name] = value
    if exten.startswith("&"):
        body = exten[1:].split(")", 1)[0]
        app, _, data = body.partition("(")
        apps = [(app, data)]
    else:
        assert words[2] == "inline", words
        delim = ","
        if exten.startswith("^^"):
            delim, exten = exten[2], exten[3:]
        apps = [(step.partition(":")[0], step.partition(":")[2]) for step in exten.split(delim)]
    return Originated(variables, dial, apps)


def _originate(body: OriginateBody) -> Originated | ApiError:
    try:
        cmd = originate_command(body, APPLICATIONS)
    except ApiError as exc:
        return exc
    if not cmd.dial:
        cmd = msgspec.structs.replace(cmd, dial=f"user/{body.destNumber.strip()}")
    return read_originate(originate_line(msgspec.structs.replace(cmd, context="context-1")))


def _refused(result: Originated | ApiError, field: str) -> bool:
    if isinstance(result, ApiError):
        assert result.status == 400
        assert result.data["field"] == field, result.data
        return True
    return False


BASE_VARIABLES = {"origination_uuid", "originate_timeout"}


@EXAMPLES
@given(name=hostile)
def test_a_caller_name_is_one_variable_value_or_a_400(name: str) -> None:
    got = _originate(OriginateBody(destNumber="1000", cidName=name))
    if _refused(got, "cidName"):
        return
    assert isinstance(got, Originated)
    assert set(got.variables) == BASE_VARIABLES | {"origination_caller_id_name"}
    assert got.variables["origination_caller_id_name"] == name
    assert got.endpoint == "user/1000"
    assert got.apps == [("park", "")]
    assert "${" not in name


@EXAMPLES
@given(number=hostile, gateway=st.one_of(hostile, st.just("carrier")))
def test_a_number_through_a_gateway_is_one_endpoint_or_a_400(number: str, gateway: str) -> None:
    got = _originate(OriginateBody(destNumber=number, userGateway=gateway, cidNumber=number))
    if isinstance(got, ApiError):
        assert got.data["field"] in (
            "destNumber",
            "userGateway",
            "cidNumber",
        )
        return
    assert got.endpoint == f"sofia/gateway/{gateway}/{number.strip()}"
    assert re.fullmatch(r"sofia/gateway/[^/@,|\[\]{}]+/[^/@,|\[\]{}$ ]+", got.endpoint)
    assert got.variables["origination_caller_id_number"] == number


@EXAMPLES
@given(app=st.one_of(hostile, st.sampled_from(["system", "bgsystem", "lua", "playback"])),
       args=hostile)  # fmt: skip
def test_an_application_runs_as_named_with_exactly_its_arguments_or_a_400(
    app: str, args: str
) -> None:
    got = _originate(OriginateBody(destNumber="1000", app=app, args=args))
    if isinstance(got, ApiError):
        assert got.data["field"] in ("app", "args")
        return
    assert app in APPLICATIONS.allowed
    assert app not in ("system", "bgsystem", "lua")
    assert len(got.apps) == 1
    sent_app, sent_args = got.apps[0]
    assert sent_app == app
    if app == "transfer":  # a bare transfer is routed in the originating context
        assert sent_args.startswith(args.strip().split(" ")[0] if args.strip() else "")
    else:
        assert sent_args == args
    assert "${" not in sent_args and set(got.variables) == BASE_VARIABLES


def test_the_reported_caller_name_is_refused_naming_cidname() -> None:
    evil = (
        "a}[sip_h_X-Evil=injected,execute_on_answer=echo]loopback/9999/default "
        "&park() XML default x"
    )
    got = _originate(OriginateBody(destNumber="1000", cidName=evil))
    assert isinstance(got, ApiError)
    assert got.data["field"] == "cidName"
    got = _originate(OriginateBody(destNumber="1000", userGateway="gw", cidNumber="1}x"))
    assert isinstance(got, ApiError)
    assert got.data["field"] == "cidNumber"  # finding 12: it blamed destNumber


# --- the dialplan document ---------------------------------------------------------------


def _actions(doc: str) -> list[tuple[str, str]]:
    root = ET.fromstring(doc)  # noqa: S314 - our own document
    return [(a.get("application", ""), a.get("data", "")) for a in root.iter("action")]


def _document(route: Route, number: str = "5551234", **snap: object) -> str:
    snapshot = Snapshot(domain="pbx.example", routes=(route,), **snap)  # type: ignore[arg-type]
    return dialplan_document(compile(snapshot).lookup("default", number, "1001", NOW))


def _expansions(doc: str) -> list[str]:
    return re.findall(r"\$\$?\{", doc)


REFUSED = ("hangup", "NO_ROUTE_DESTINATION")


@EXAMPLES
@given(app=st.one_of(hostile, st.sampled_from(["system", "lua", "set", "playback"])),
       data=hostile)  # fmt: skip
def test_a_system_line_is_one_allowed_action_with_exactly_its_data(app: str, data: str) -> None:
    body = f"{app} {data}"
    route = Route(id=1, name="r", dest_type="FS_DEST_SYSTEM", prefix="555", max_length=20,
                  body=body)  # fmt: skip
    doc = _document(route)
    actions = _actions(doc)
    # The body is one "app data" action per line (# comments and blank lines skipped).
    lines = [ln.strip() for ln in body.replace("\r", "").split("\n")]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    try:
        wanted = [APPLICATIONS.check_line("body", ln) for ln in lines]
    except UnsafeValue:
        assert REFUSED in actions
        assert not any(a in ("system", "bgsystem", "lua") for a, _ in actions)
        return
    if not wanted:
        assert REFUSED in actions  # an empty system destination
        return
    assert actions[-len(wanted) :] == wanted
    assert REFUSED not in actions
    baseline = _document(msgspec.structs.replace(route, body="answer"))
    assert _expansions(doc) == _expansions(baseline)


@EXAMPLES
@given(extn=hostile)
def test_a_ring_group_member_is_one_leg_or_refused(extn: str) -> None:
    members = msgspec.json.encode([{"extn": extn}]).decode()
    route = Route(id=1, name="r", dest_type="FS_DEST_RING_EXTNS", prefix="555", max_length=20,
                  dest_uuid=members)  # fmt: skip
    actions = _actions(_document(route))
    bridges = [d for a, d in actions if a == "bridge"]
    if REFUSED in actions:
        assert not bridges
        return
    member, _, domain = extn.partition("|")
    assert bridges == [f"user/{member}@{domain or 'pbx.example'}"]
    assert re.fullmatch(r"user/[A-Za-z0-9*#+._-]+@[A-Za-z0-9.:-]+", bridges[0])


@EXAMPLES
@given(name=hostile)
def test_a_gateway_name_is_one_endpoint_or_refused(name: str) -> None:
    route = Route(id=1, name="r", dest_type="FS_DEST_GATEWAY", prefix="555", max_length=20,
                  dest_uuid="1")  # fmt: skip
    actions = _actions(_document(route, gateways=(Gateway(id=1, name=name),)))
    bridges = [d for a, d in actions if a == "bridge"]
    if REFUSED in actions:
        assert not bridges
        return
    assert bridges == [f"sofia/gateway/{name}/5551234"]
    assert re.fullmatch(r"sofia/gateway/[A-Za-z0-9_.-]+/5551234", bridges[0])


@EXAMPLES
@given(k=st.one_of(hostile, st.sampled_from(["set", "export", "system", "bgsystem"])),
       v=hostile)  # fmt: skip
def test_a_route_param_is_one_allowed_action_or_left_out(k: str, v: str) -> None:
    route = Route(id=1, name="r", dest_type="FS_DEST_USER", prefix="555", max_length=20,
                  params=(RouteParam(id=1, k=k, v=v),))  # fmt: skip
    doc = _document(route)
    actions = _actions(doc)
    try:
        APPLICATIONS.check_action("params", k, v)
    except UnsafeValue:
        assert (k, v) not in actions
        assert not any(a in ("system", "bgsystem") for a, _ in actions)
        assert "execute_on" not in doc and "api_" not in doc.replace("api_on_", "")
        return
    assert (k, v) in actions


@pytest.mark.parametrize("number", ["${system(id)}", "1000\n", "1000@evil", "1}x", "$${x}"])
def test_a_dialled_number_with_syntax_never_reaches_an_action(number: str) -> None:
    route = Route(id=1, name="r", dest_type="FS_DEST_USER", prefix="", max_length=20)
    doc = _document(route, number=number)
    # The dialled-number condition carries it regex-escaped; no action does.
    assert _actions(doc) == [("hangup", "INVALID_NUMBER_FORMAT")]
    assert _expansions(doc) == []


@pytest.mark.parametrize(
    ("app", "args"),
    [
        ("set", "api_hangup_hook=system touch /tmp/pwned"),
        ("export", "execute_on_answer=system id"),
        ("set", "transfer_after_bridge=system:id:inline"),
        ("transfer", "system:id inline"),
        ("bridge", "loopback/system:reboot/default/inline"),
        ("bind_digit_action", "r,1,api:system,id"),
    ],
)
def test_originate_checks_what_an_allowed_application_is_given(app: str, args: str) -> None:
    """Attack review: originate checked the name and the characters, not what
    set/transfer/bridge do with their data."""
    got = _originate(OriginateBody(destNumber="1000", app=app, args=args))
    assert isinstance(got, ApiError)
    assert got.data["field"] in ("app", "args")
    got = _originate(OriginateBody(destNumber="1000", apps=[AppBody("answer"), AppBody(app, args)]))
    assert isinstance(got, ApiError)
    assert got.data["field"] in ("apps[1].app", "apps[1].args")

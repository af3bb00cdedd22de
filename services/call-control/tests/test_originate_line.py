from __future__ import annotations

import pytest

from switchyard.call_control.node_commands import App, Originate
from switchyard.call_control.originate import UnsafeValue, originate_line, routed

UUID = "7f4c0f7e-0000-4000-8000-000000000001"


def test_no_app_parks_the_channel() -> None:
    line = originate_line(Originate(uuid=UUID, dial="user/1000"))
    assert line == f"{{origination_uuid='{UUID}',originate_timeout='60'}}user/1000 &park()"


def test_one_app_and_variables_are_quoted_and_a_comma_escaped() -> None:
    # The originate API drops the quotes before it splits {…} on commas.
    cmd = Originate(
        uuid=UUID,
        dial="user/1000",
        apps=(App("playback", "/wav/my vacation.wav"),),
        variables=(("origination_caller_id_name", "Smith, John"),),
        ignore_early_media=True,
    )
    assert originate_line(cmd) == (
        f"{{origination_uuid='{UUID}',originate_timeout='60',ignore_early_media='true',"
        "origination_caller_id_name='Smith\\, John'}user/1000 '&playback(/wav/my vacation.wav)'"
    )


def test_several_apps_become_an_inline_dialplan_with_a_safe_separator() -> None:
    apps = (
        App("set", "RECORD_ANSWER_REQ=true"),
        App("record_session", "/tmp/test.wav"),
        App("transfer", "186xxxxxxxx"),
    )
    line = originate_line(Originate(uuid=UUID, dial="user/1000", apps=apps))
    assert line.endswith(
        "'set:RECORD_ANSWER_REQ=true,record_session:/tmp/test.wav,transfer:186xxxxxxxx' inline"
    )
    with_commas = (App("set", "a=1,2"), App("park"))
    assert originate_line(Originate(uuid=UUID, dial="user/1", apps=with_commas)).endswith(
        "'^^;set:a=1,2;park' inline"
    )


def test_a_context_is_where_the_leg_routes_and_a_bare_transfer_goes_there() -> None:
    parked = originate_line(Originate(uuid=UUID, dial="user/1000", context="context-1"))
    assert parked.endswith("user/1000 &park() XML context-1")
    one = Originate(
        uuid=UUID, dial="user/1000", apps=(App("transfer", "186xxxxxxxx"),), context="context-1"
    )
    assert originate_line(one).endswith(
        "user/1000 '&transfer(186xxxxxxxx XML context-1)' XML context-1"
    )
    apps = (
        App("set", "RECORD_ANSWER_REQ=true"),
        App("record_session", "/tmp/test.wav"),
        App("transfer", "186xxxxxxxx"),
    )
    inline = originate_line(Originate(uuid=UUID, dial="user/1000", apps=apps, context="c1"))
    assert inline.endswith(
        "'set:RECORD_ANSWER_REQ=true,record_session:/tmp/test.wav,"
        "transfer:186xxxxxxxx XML c1' inline c1"
    )


@pytest.mark.parametrize(
    ("args", "sent"),
    [
        ("1000", "1000 XML c1"),
        ("-bleg 1000", "-bleg 1000 XML c1"),
        ("1000 XML", "1000 XML c1"),
        ("1000 XML public", "1000 XML public"),  # what the caller named is kept
        ("-both 1000 XML public", "-both 1000 XML public"),
        ("", ""),
    ],
)
def test_transfer_gets_the_missing_dialplan_and_context(args: str, sent: str) -> None:
    assert routed(App("transfer", args), "c1") == App("transfer", sent)
    assert routed(App("transfer", args), "") == App("transfer", args)
    assert routed(App("bridge", "user/1000"), "c1") == App("bridge", "user/1000")


@pytest.mark.parametrize(
    ("cmd", "field"),
    [
        (Originate(uuid=UUID, dial="user/1000\nbgapi hupall"), "dial"),
        (Originate(uuid=UUID, dial="user/1000", apps=(App("playback", "x'\n"),)), "args"),
        (Originate(uuid=UUID, dial="user/1000", apps=(App("play back"),)), "app"),
        (
            Originate(uuid=UUID, dial="user/1", variables=(("x", "a'}user/666 &park("),)),
            "x",
        ),
        (Originate(uuid=UUID, dial="user/1", variables=(("a=b", "c"),)), "variable"),
        (Originate(uuid=UUID, dial="user/1 &hupall()"), "dial"),
        (Originate(uuid=UUID, dial="user/1", context="c1 &park"), "context"),
    ],
)
def test_injection_is_refused_naming_the_field(cmd: Originate, field: str) -> None:
    with pytest.raises(UnsafeValue) as err:
        originate_line(cmd)
    assert err.value.field == field

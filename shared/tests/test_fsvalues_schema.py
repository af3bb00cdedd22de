"""The OpenAPI document's patterns for application data take exactly what
``check_app_data`` takes: what the document promises is accepted, and what
it rules out is refused (fsvalues.app_data_pattern)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchyard.shared.fsvalues import UnsafeValue, app_data_pattern, check_app_data

APPS = ["playback", "transfer", "sched_transfer", "set", "unset", "bridge", "conference"]
SAMPLES = [
    *("", "1000", "1000 XML default", "1000 xml", "-bleg 1000", "-both 1000 XML ctx"),
    *("inline", "x inline y", "inliner", "  1000  ", "x y z w", "1 2", "-x", "a b"),
    *("a=b", "foo=bar baz", "execute_on_answer=x", "API=2", "v =2", "_v=1", "1v=2"),
    *("5 1000", "+5 1000 XML c", "user/1000", "user/1000|sofia/gw/x", "user/1,user/2"),
    *("loopback/1000/ctx/XML", "LOOPBACK/1", "loopback/1/c/inline", "sip:a@b"),
    *("bridge:x", "Bridge:1", "room@default", "a'b", "{x}", "${system(id)}", "a\tb"),
]


def python(app: str) -> str:
    """The pattern as a JSON-schema validator reads it: ``$`` is the end of the text
    (Python's would also match before a final newline)."""
    return re.sub(r"(?<!\\)\$", r"\\Z", app_data_pattern(app))


def accepted(app: str, data: str) -> bool:
    try:
        check_app_data("args", app, data)
    except UnsafeValue:
        return False
    return True


@pytest.mark.parametrize("app", APPS)
def test_the_pattern_takes_what_the_check_takes(app: str) -> None:
    pattern = re.compile(python(app))
    for data in SAMPLES:
        assert (pattern.search(data) is not None) == accepted(app, data), (app, data)


@pytest.mark.parametrize("app", APPS)
@settings(
    max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(data=st.data())
def test_what_the_pattern_generates_is_taken(app: str, data: st.DataObject) -> None:
    value = data.draw(st.from_regex(python(app)))
    assert accepted(app, value), (app, value)

"""dnc/sdnc strings: XUI's own test vectors, the strip rule of docs/architecture.md, the CP
forms, and properties of the -X+Y grammar."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchyard.config_api.routing.model import NumberTranslation
from switchyard.config_api.routing.transform import compile_transform


@pytest.mark.parametrize(
    ("number", "spec", "expected"),
    [
        # lua/xui/vendor/test/test_utils.lua
        ("01234", "-0+9", "91234"),
        ("01234", "-0", "1234"),
        ("01234", "+9", "901234"),
        ("01234", "r3999", "99934"),
        ("01234", "R3999", "01999"),
        ("01", "r3999", "999"),
        ("01", "R3999", "999"),
        ("01234", "/^(.*)[0-9][0-9]$/$1/", "012"),
        # docs/architecture.md, Routing rules: a strip only strips what matches
        # (XUI dropped a character).
        ("91234", "-0", "91234"),
        ("91234", "-0+9", "991234"),
        ("0086123", "-0086+0", "0123"),
        ("123", "-1-2-3", ""),
        ("5", "R0", "5"),
        ("5", "R09", "59"),
        ("12345", "r0", "12345"),
        ("12345", "r2", "345"),
        # Regex: the replacement is the result (FreeSWITCH regex API), no
        # match leaves the number alone, the trailing slash is optional.
        ("01234", "/^0(\\d+)$/9$1/", "91234"),
        ("01234", "/^0(\\d+)$/9$1", "91234"),
        ("71234", "/^0(\\d+)$/9$1/", "71234"),
        ("8613800", "/^86(1\\d+)/$1/", "13800"),
        # CP forms.
        ("01234", "@100", "100"),
        ("01234", "m299", "09934"),
        ("01234", "i28", "081234"),
        ("01234", "I28", "018234"),
        ("01234", "d22", "034"),
    ],
)
def test_transformations(number: str, spec: str, expected: str) -> None:
    assert compile_transform(spec).apply(number) == expected


def test_translation_tables() -> None:
    exact = NumberTranslation(id=4, name="t", type="exact", numbers=(("100", "8100"),))
    prefix = NumberTranslation(
        id=5, name="p", type="prefix", numbers=(("0", "90"), ("010", "9010"))
    )
    tables = {4: exact, 5: prefix}
    assert compile_transform("s/prefix_nts_4/", tables).apply("100") == "8100"
    assert compile_transform("s/prefix_nts_4/", tables).apply("1000") == "1000"
    assert compile_transform("s/prefix_nts_5///", tables).apply("01088") == "901088"
    assert compile_transform("s/prefix_nts_5///", tables).apply("0755") == "90755"
    with pytest.raises(ValueError, match="table 6"):
        compile_transform("s/prefix_nts_6/", tables)


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("", "empty"),
        ("0", "not a transformation"),
        ("-", "tokens"),
        ("-0+", "tokens"),
        ("r", "count digit"),
        ("Rx9", "count digit"),
        ("/(/x/", "bad regex"),
        ("//x/", "expected /regex/replacement/"),
        ("/^0$/$2/", r"\$2"),
        ("m0123", "positions start at 1"),
        ("d2x", "d needs"),
        ("X/3", "distributor"),
    ],
)
def test_bad_specs_are_refused_with_a_reason(spec: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        compile_transform(spec)


digits = st.text(alphabet="0123456789", max_size=12)


@given(number=digits, strip=digits.filter(bool), add=digits.filter(bool))
def test_strip_then_add_strips_only_a_matching_prefix(number: str, strip: str, add: str) -> None:
    out = compile_transform(f"-{strip}+{add}").apply(number)
    rest = number[len(strip) :] if number.startswith(strip) else number
    assert out == add + rest


@given(number=digits, n=st.integers(0, 9), repl=digits)
def test_replace_first_and_last_n(number: str, n: int, repl: str) -> None:
    first = compile_transform(f"r{n}{repl}").apply(number)
    last = compile_transform(f"R{n}{repl}").apply(number)
    assert first == repl + number[n:]
    if len(number) < n:
        assert last == repl
    else:
        assert last == number[: len(number) - n] + repl
        assert last.startswith(number[: len(number) - n])

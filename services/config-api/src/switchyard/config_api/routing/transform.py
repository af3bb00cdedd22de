"""Number transformation strings (route ``dnc`` for the callee, ``sdnc`` for
the caller), compiled once and applied per call.

Grammar (XUI ``utils.apply_dnc`` plus the newer CP forms; docs/routing.md):

- ``-X+Y…``  tokens left to right: ``-X`` strips the prefix X *only if the
  number starts with X* (docs/architecture.md, Routing rules; XUI removed a
  character even when X did not match), ``+Y`` prepends Y. ``-0+9``: 01234 → 91234.
- ``r<n><digits>`` replaces the first n characters (n one digit); a number
  shorter than n becomes ``digits``. ``R<n><digits>`` replaces the last n;
  a number shorter than n becomes ``digits`` (XUI).
- ``/regex/replacement/`` (trailing slash optional): as FreeSWITCH's
  ``regex`` API, which XUI called: when the regex matches, the result is the
  replacement with ``$1``… expanded; when it does not, the number is
  unchanged.
- ``@<n>`` replaces the whole number; ``m<x><n>`` overwrites from position
  x; ``i<x><n>`` / ``I<x><n>`` insert before / after position x;
  ``d<x><n>`` deletes n characters from position x. Positions are 1-based
  and x is one digit (CP's own parser cannot tell more apart).
- ``s/prefix_nts_<id>/…`` looks the number up in translation table <id>.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import msgspec

from switchyard.config_api.routing.model import NumberTranslation

# Whole specs are matched with fullmatch: ``$`` in a ``match`` pattern also
# accepts a trailing newline.
_TOKENS = re.compile(r"(?:[+-][^+-]+)+")
_TOKEN = re.compile(r"([+-])([^+-]+)")
_POSITIONAL = re.compile(r"([mIid])([0-9])(.*)")
_NTS = re.compile(r"^s/prefix_nts_(\d+)/")
_GROUP_REF = re.compile(r"\$(\d)")


class Transform(msgspec.Struct, frozen=True):
    """A compiled transformation; ``apply`` is pure and cheap."""

    spec: str
    fn: Callable[[str], str]

    def apply(self, number: str) -> str:
        return self.fn(number)


def compile_transform(
    spec: str, tables: Mapping[int, NumberTranslation] | None = None
) -> Transform:
    """Compile ``spec``; ValueError says what is wrong with it."""
    fn = _compile(spec, tables or {})
    return Transform(spec=spec, fn=fn)


def _compile(spec: str, tables: Mapping[int, NumberTranslation]) -> Callable[[str], str]:
    if not spec:
        raise ValueError("transformation is empty")
    head = spec[0]
    if head == "/":
        return _regex(spec)
    if head in "rR":
        if len(spec) < 2 or not spec[1].isdigit():
            raise ValueError(f"{spec!r}: {head} needs a count digit, as in {head}3999")
        n, digits = int(spec[1]), spec[2:]
        if head == "r":
            return lambda number: digits + number[n:]
        return lambda number: digits if len(number) < n else number[: len(number) - n] + digits
    if head in "+-":
        if not _TOKENS.fullmatch(spec):
            raise ValueError(
                f"{spec!r}: expected tokens like -0+9 (each - or + followed by digits)"
            )
        tokens = tuple(_TOKEN.findall(spec))

        def strip_add(number: str) -> str:
            for sign, text in tokens:
                if sign == "+":
                    number = text + number
                elif number.startswith(text):
                    number = number[len(text) :]
            return number

        return strip_add
    if head == "@":
        whole = spec[1:]
        return lambda number: whole
    positional = _POSITIONAL.fullmatch(spec)
    if positional:
        return _positional(spec, positional[1], int(positional[2]), positional[3])
    nts = _NTS.match(spec)
    if nts:
        table = tables.get(int(nts[1]))
        if table is None:
            raise ValueError(f"{spec!r}: number translation table {nts[1]} does not exist")
        return _translation(table)
    if head == "X":
        raise ValueError(f"{spec!r}: distributor transformations (X/…) are not supported")
    raise ValueError(
        f"{spec!r}: not a transformation (expected -X+Y, rNdigits, RNdigits, "
        "/regex/replacement/, @number, mXn, iXn, IXn, dXn or s/prefix_nts_ID/)"
    )


def _regex(spec: str) -> Callable[[str], str]:
    body = spec[1:]
    if body.endswith("/") and not body.endswith("\\/"):
        body = body[:-1]
    # The pattern ends at the first unescaped slash; the replacement follows.
    m = re.fullmatch(r"((?:\\.|[^\\/])*)/(.*)", body, re.DOTALL)
    if not m or not m[1]:
        raise ValueError(f"{spec!r}: expected /regex/replacement/")
    try:
        pattern = re.compile(m[1])
    except re.error as exc:
        raise ValueError(f"{spec!r}: bad regex: {exc}") from None
    replacement = m[2]
    refs = {int(g) for g in _GROUP_REF.findall(replacement)}
    if refs and max(refs) > pattern.groups:
        raise ValueError(f"{spec!r}: ${max(refs)} refers to a group the regex does not have")

    def substitute(number: str) -> str:
        found = pattern.search(number)
        if not found:
            return number
        return _GROUP_REF.sub(lambda g: found.group(int(g[1])) or "", replacement)

    return substitute


def _positional(spec: str, op: str, x: int, text: str) -> Callable[[str], str]:
    if x < 1:
        raise ValueError(f"{spec!r}: positions start at 1")
    at = x - 1
    if op == "m":
        return lambda number: number[:at] + text + number[at + len(text) :]
    if op == "i":
        return lambda number: number[:at] + text + number[at:]
    if op == "I":
        return lambda number: number[: at + 1] + text + number[at + 1 :]
    if not text.isdigit():
        raise ValueError(f"{spec!r}: d needs a position digit and a count, as in d23")
    count = int(text)
    return lambda number: number[:at] + number[at + count :]


def _translation(table: NumberTranslation) -> Callable[[str], str]:
    mapping = dict(table.numbers)
    if table.type == "prefix":
        # Longest original prefix wins.
        ordered = sorted(mapping.items(), key=lambda kv: -len(kv[0]))

        def by_prefix(number: str) -> str:
            for original, new in ordered:
                if number.startswith(original):
                    return new + number[len(original) :]
            return number

        return by_prefix
    return lambda number: mapping.get(number, number)

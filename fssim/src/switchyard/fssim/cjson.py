"""cJSON_Print / cJSON_PrintUnformatted as FreeSWITCH's switch_json.c writes them.

Formatted output puts each object member on its own line, indented with
tabs, with a tab after the colon; arrays stay on one line with ``", "``
between items. Unformatted output has no whitespace at all. Strings escape
only the quote, the backslash and control characters; other bytes are
written raw. Integers print as ``%d``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Value = str | int | bool | Mapping[str, "Value"] | Sequence["Value"]

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
_ESCAPES["\t"] = "\\t"


def _string(s: str) -> str:
    out = []
    for c in s:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif ord(c) < 32:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _value(item: Value, depth: int, fmt: bool) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, str):
        return _string(item)
    if isinstance(item, Mapping):
        return _object(item, depth, fmt)
    return _array(item, depth, fmt)


def _array(items: Sequence[Value], depth: int, fmt: bool) -> str:
    sep = ", " if fmt else ","
    return "[" + sep.join(_value(v, depth + 1, fmt) for v in items) + "]"


def _object(obj: Mapping[str, Value], depth: int, fmt: bool) -> str:
    depth += 1
    if not fmt:
        return "{" + ",".join(f"{_string(k)}:{_value(v, depth, fmt)}" for k, v in obj.items()) + "}"
    indent = "\t" * depth
    members = [f"{indent}{_string(k)}:\t{_value(v, depth, fmt)}" for k, v in obj.items()]
    body = "".join(m + ("," if i < len(members) - 1 else "") + "\n" for i, m in enumerate(members))
    return "{\n" + body + "\t" * (depth - 1) + "}"


def dumps(item: Value, *, formatted: bool = True) -> str:
    """cJSON_Print (formatted) or cJSON_PrintUnformatted."""
    return _value(item, 0, formatted)

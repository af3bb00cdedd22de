"""Bodies in: lenient like XSwitch clients, then exact, or a 400 naming the field.

Each resource gets a msgspec Struct generated from its columns (every field
optional, so the same Struct serves a create and a partial update). Before
decoding, the spellings clients use for flags and lists are normalised:
``true``/``"t"``/``"1"`` for 1, an array of codecs for a CSV string, a media
object for its JSON text.
"""

from __future__ import annotations

from typing import Any

import msgspec

from switchyard.config_api.framework.spec import Col, Resource, Values
from switchyard.config_api.framework.wire import MASK
from switchyard.shared.http.body import convert
from switchyard.shared.http.errors import bad_request

_PY_TYPES: dict[str, Any] = {
    "text": str,
    "int": int,
    "flag": int,
    "bool": bool,
    "money": float,
    "csv": str,
    "json": str,
}

# Whole-number columns are Postgres integers.
MAX_INT = 2**31 - 1

# Postgres text cannot hold U+0000; JSON can carry it.
NUL_REASON = "must not contain a NUL character (U+0000)"

_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off", ""}
FLAG_WORDS = sorted(_TRUE | _FALSE)


def struct_for(resource: Resource) -> type[msgspec.Struct]:
    fields = [
        (c.name, _PY_TYPES[c.kind] | msgspec.UnsetType, msgspec.UNSET)
        for c in resource.cols
        if c.writable
    ]
    return msgspec.defstruct(f"{resource.table.title().replace('_', '')}Body", fields, kw_only=True)


def _truth(col: Col, value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise bad_request(col.name, f"must be 0 or 1, got {value!r}")


def normalise(col: Col, value: Any) -> Any:
    """The spellings clients send, folded to one; UNSET for "not given"."""
    if col.aliases and isinstance(value, str):
        value = dict(col.aliases).get(value.strip().lower(), value)
    if value is None:
        return "" if col.kind in ("text", "csv", "json") else msgspec.UNSET
    if col.kind == "flag":
        return int(_truth(col, value))
    if col.kind == "bool":
        return _truth(col, value)
    if col.kind == "csv" and isinstance(value, list):
        return ",".join(str(v) for v in value)
    if col.kind == "json" and isinstance(value, dict | list):
        return msgspec.json.encode(value).decode()
    if col.rule is not None and isinstance(value, float):
        # Its text ("1e+16", "2.5e-42") is never what a value reaching
        # FreeSWITCH means; whole numbers (an extension, a port) are taken.
        if not value.is_integer():
            raise bad_request(col.name, f"must be text or a whole number, got {value!r}")
        return int(value)
    if col.kind in ("int", "money") and value == "":
        return msgspec.UNSET
    return value


def decode(
    resource: Resource, struct: type[msgspec.Struct], data: Any, *, update: bool = False
) -> Values:
    """What the body sets, by column; unknown keys are ignored like XSwitch does.

    An ``update`` whose body names no writable column is a 400: answering
    success for a write that changes nothing would hide the client's mistake.
    """
    if not isinstance(data, dict):
        raise bad_request("body", "must be a JSON object")
    if update:
        writable = [c.name for c in resource.cols if c.writable]
        if not any(name in data for name in writable):
            raise bad_request("body", f"nothing to update: no known field; one of {writable}")
    raw: dict[str, Any] = {}
    for col in resource.cols:
        if not col.writable or col.name not in data:
            continue
        value = normalise(col, data[col.name])
        if col.secret and value == MASK:
            continue  # the masked value read back: keep the stored one
        if value is not msgspec.UNSET:
            raw[col.name] = value
    body = convert(raw, struct)
    values = {
        name: v
        for name in struct.__struct_fields__
        if (v := getattr(body, name)) is not msgspec.UNSET
    }
    for name, value in values.items():
        declared = resource.col(name)
        assert declared is not None
        validate(declared, value)
    return values


def validate(col: Col, value: Any) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise bad_request(col.name, NUL_REASON)
    if col.required and isinstance(value, str) and not value.strip():
        raise bad_request(col.name, "is required")
    if col.choices is not None and value not in col.choices:
        raise bad_request(col.name, f"must be one of {list(col.choices)}, got {value!r}")
    if col.max_len is not None and isinstance(value, str) and len(value) > col.max_len:
        raise bad_request(col.name, f"must be at most {col.max_len} characters")
    if col.kind == "int" and col.choices is None and isinstance(value, int) and value < 0:
        raise bad_request(col.name, "must not be negative")
    if col.kind == "int" and isinstance(value, int) and value > MAX_INT:
        raise bad_request(col.name, f"must be at most {MAX_INT}")


def with_defaults(resource: Resource, values: Values) -> Values:
    """A create: every writable column, the body's value or the column default."""
    out: Values = {}
    for col in resource.cols:
        if not col.writable:
            continue
        if col.name in values:
            out[col.name] = values[col.name]
        elif col.required:
            raise bad_request(col.name, "is required")
        else:
            out[col.name] = col.default
    return out

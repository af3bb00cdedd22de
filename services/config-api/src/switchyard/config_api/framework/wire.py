"""Rows out: timestamps as the specs write them, numbers pinned per resource, secrets masked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec

from switchyard.config_api.framework.spec import Col, Resource, Wire

# What a set password reads as. Writing it back (a client that GETs, edits
# and PUTs the whole object) leaves the stored password unchanged.
MASK = "******"

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def timestamp(value: dt.datetime | None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC, "" when unset (docs/architecture.md, Data)."""
    if value is None:
        return ""
    return value.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)


def pin(value: Any, wire: Wire) -> Any:
    if value is None:
        return ""
    if wire == "str":
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        return str(value)
    if wire == "num":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int | float):
            return value
        if isinstance(value, Decimal):
            return float(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    if wire == "bool":
        return bool(value)
    return media(value)


def media(value: Any) -> Any:
    """A sound field holds a JSON string (``{"media_id",…}``); GET shows it as an object."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            return msgspec.json.decode(value)
        except msgspec.DecodeError:
            return value
    return value


def col_wire(resource: Resource, col: Col) -> Wire:
    if col.wire is not None:
        return col.wire
    if col.kind in ("int", "flag"):
        return resource.pin
    if col.kind == "bool":
        return "bool"
    if col.kind == "money":
        return "str"
    return "str"


def render(resource: Resource, row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": pin(row["id"], resource.id_wire)}
    for col in resource.cols:
        if col.name not in row:
            continue
        value = row[col.name]
        if col.secret:
            out[col.name] = MASK if value else ""
        else:
            out[col.name] = pin(value, col_wire(resource, col))
    for name, wire in resource.computed.items():
        if name in row:
            out[name] = pin(row[name], wire)
    out["created_at"] = timestamp(row.get("created_at"))
    out["updated_at"] = timestamp(row.get("updated_at"))
    out["deleted_at"] = ""
    return out


def plain(row: Mapping[str, Any], *, wire: Wire = "num", **extra: Any) -> dict[str, Any]:
    """A child row (params, lists, numbers) with timestamps rendered."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        if k in ("created_at", "updated_at"):
            out[k] = timestamp(v)
        elif isinstance(v, int | Decimal) and not isinstance(v, bool):
            out[k] = pin(v, wire)
        else:
            out[k] = v
    out["deleted_at"] = ""
    out.update(extra)
    return out

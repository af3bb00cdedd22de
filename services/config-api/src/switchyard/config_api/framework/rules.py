"""What a stored value may hold where it reaches FreeSWITCH, per resource.

A column declares its rule (``Col(..., rule=NUMBER)``); values whose rule
depends on other fields declare a ``Resource.vet`` hook. ``problems`` runs
both over a row as it is (or would be) stored: the write paths (crud,
children, imports, batch updates, time rules) refuse the first with a 400
naming the field (``unsafe``), and ``switchyard check`` lists them all for
rows stored before the rules existed. The rules themselves live in
``switchyard.shared.fsvalues``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from switchyard.config_api.framework.spec import Resource
from switchyard.shared.fsvalues import HOST, NUMBER, Applications, Rule, UnsafeValue
from switchyard.shared.http.errors import bad_request


def column_problems(resource: Resource, row: Mapping[str, Any]) -> Iterator[UnsafeValue]:
    """The declared columns' rules; empty values are left to ``required``."""
    for col in resource.cols:
        if col.rule is None:
            continue
        value = row.get(col.name)
        if value is None or value == "":
            continue
        if not col.rule.ok(str(value)):
            yield UnsafeValue(col.name, col.rule.reason)


def problems(resource: Resource, row: Mapping[str, Any], apps: Applications) -> list[UnsafeValue]:
    """Every value of ``row`` that breaks its rule (columns, then the vet hook)."""
    found = list(column_problems(resource, row))
    if resource.vet is not None:
        found.extend(resource.vet(dict(row), apps))
    return found


def unsafe(resource: Resource, row: Mapping[str, Any], apps: Applications) -> None:
    """Refuse a write whose row would hold an unsafe value: a 400 naming it."""
    for problem in problems(resource, row, apps):
        raise bad_request(problem.field, problem.reason)


# --- helpers for vet hooks ---------------------------------------------------------


def text(row: Mapping[str, Any], name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value)


def check(field: str, value: str, rule: Rule) -> Iterator[UnsafeValue]:
    """``rule`` over a non-empty value."""
    if value and not rule.ok(value):
        yield UnsafeValue(field, rule.reason)


def app_line(field: str, line: str, apps: Applications, where: str = "") -> Iterator[UnsafeValue]:
    """One ``app data`` line a user wrote (an allowlisted application, safe data)."""
    try:
        apps.check_line("", line)
    except UnsafeValue as exc:
        yield UnsafeValue(field, f"{where}{exc.reason}")


def app_lines(
    field: str, body: str, apps: Applications, *, comments: bool = True
) -> Iterator[UnsafeValue]:
    """Every non-empty line of ``body`` (``#`` lines skipped when ``comments``),
    as FS_DEST_SYSTEM runs them; a problem names its line."""
    for n, raw in enumerate(body.replace("\r", "").split("\n"), start=1):
        line = raw.strip()
        if not line or (comments and line.startswith("#")):
            continue
        yield from app_line(field, line, apps, f"line {n}: ")


def members(field: str, value: str) -> Iterator[UnsafeValue]:
    """A ring group's / IVR_EXTENSION's ``[{"extn":"1001|domain"}]``: every
    ``extn`` a NUMBER, every domain a HOST (each goes into ``user/<extn>@<domain>``)."""
    try:
        items = json.loads(value)
    except (ValueError, RecursionError):  # not JSON, or nested too deep
        items = None
    if not isinstance(items, list):
        yield UnsafeValue(field, 'must be the JSON list [{"extn":"1001|domain"}]')
        return
    for i, item in enumerate(items):
        extn = item.get("extn") if isinstance(item, dict) else None
        if not isinstance(extn, str):
            yield UnsafeValue(f"{field}[{i}].extn", 'is required ({"extn":"1001|domain"})')
            continue
        number, bar, domain = extn.partition("|")
        if not NUMBER.ok(number):
            yield UnsafeValue(f"{field}[{i}].extn", NUMBER.reason)
        if bar and domain and not HOST.ok(domain):
            yield UnsafeValue(f"{field}[{i}].extn", f"domain {HOST.reason}")


def media(field: str, value: str, rule: Rule) -> Iterator[UnsafeValue]:
    """A sound or file field: the media JSON ``{"media_path": …}`` (its path
    passes ``rule``; JSON without a path plays nothing) or a plain path."""
    stripped = value.strip()
    if not stripped:
        return
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError):  # not JSON, or nested too deep
            data = None
        if not isinstance(data, dict):
            yield UnsafeValue(field, 'must be a path or the media JSON {"media_path": …}')
            return
        path = data.get("media_path")
        if path is not None and not isinstance(path, str):
            yield UnsafeValue(f"{field}.media_path", "must be a string")
        elif path:
            yield from check(f"{field}.media_path", path, rule)
        return
    yield from check(field, value, rule)

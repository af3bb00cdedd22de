"""Spreadsheet import and export: rows keyed by the spreadsheet's column
names (``translate``), and all-or-nothing imports: every row is checked and
written in one transaction; the first bad row aborts it and is reported by
index and reason, so nothing is written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg

from switchyard.config_api.framework.tx import reference_error, unique_error
from switchyard.shared.http.errors import ApiError, bad_request

RowWriter = Callable[[int, dict[str, Any]], Awaitable[Any]]


def rows_of(data: Any, key: str) -> list[Any]:
    """``{"<key>":[…]}`` or a bare array (clients send both)."""
    rows = data.get(key) if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise bad_request(key, "must be an array of rows")
    if not rows:
        raise bad_request(key, "is empty")
    return rows


def wants_zh(language: str | None) -> bool:
    """Chinese headers unless another language is asked for (XSwitch clients default to zh)."""
    return not language or language.strip().lower().startswith("zh")


def translate(row: Any, mapping: Mapping[str, str], where: str) -> dict[str, Any]:
    """A spreadsheet row (Chinese column titles) as column names; English keys pass through."""
    if not isinstance(row, dict):
        # No field of its own: each_row names the row ("<list>[i]"), once.
        raise ApiError(400, f"{where}: must be an object", {"reason": "must be an object"})
    return {mapping.get(k, k): v for k, v in row.items()}


async def each_row(key: str, rows: list[Any], write_row: RowWriter) -> list[Any]:
    out = []
    for i, row in enumerate(rows):
        where = f"{key}[{i}]"
        try:
            out.append(await write_row(i, row))
        except ApiError as exc:
            raise _at(exc, where, i) from None
        except asyncpg.UniqueViolationError as exc:
            raise _at(unique_error(exc), where, i) from None
        except asyncpg.ForeignKeyViolationError as exc:
            raise _at(reference_error(exc), where, i) from None
    return out


def _at(exc: ApiError, where: str, index: int) -> ApiError:
    data = exc.data if isinstance(exc.data, dict) else {}
    field = f"{where}.{data['field']}" if data.get("field") else where
    reason = str(data.get("reason", exc.message))
    return ApiError(
        exc.status, f"{field}: {reason}", {"field": field, "reason": reason, "row": index}
    )

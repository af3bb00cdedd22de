"""List pagination, sorting and search, as XSwitch clients send them.

Clients disagree on parameter names (``perPage``, ``page_size``,
``pageSize``; ``sortField`` or ``sort_field``): all are accepted. Sort and
search columns are checked against a whitelist the resource declares, so a
column name never reaches SQL from the request. Order is always stable: the
primary key breaks ties.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import msgspec

from switchyard.shared.http.envelope import ListPage
from switchyard.shared.http.errors import bad_request

MAX_PER_PAGE = 10_000  # XSwitch clients fetch pickers with perPage=5000
DEFAULT_PER_PAGE = 20

_ALIASES = {
    "page": ("page", "curPage"),
    "per_page": ("perPage", "page_size", "pageSize", "per_page"),
    "sort_field": ("sortField", "sort_field"),
    "sort_order": ("sortOrder", "sort_order"),
    "search_field": ("searchField", "search_field"),
    "search_key": ("searchKey", "search_key"),
}


class Paging(msgspec.Struct, frozen=True):
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    sort_field: str = ""
    sort_order: str = "asc"
    search_field: str = ""
    search_key: str = ""

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def _first(query: Mapping[str, Any], names: Sequence[str]) -> str | None:
    for name in names:
        value = query.get(name)
        if value not in (None, ""):
            return str(value)
    return None


def _positive(name: str, raw: str | None, default: int, limit: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(name, f"must be a whole number, got {raw!r}") from None
    if value < 1:
        raise bad_request(name, "must be at least 1")
    return min(value, limit)


def parse_paging(
    query: Mapping[str, Any],
    *,
    sortable: Sequence[str],
    searchable: Sequence[str] = (),
) -> Paging:
    page = _positive("page", _first(query, _ALIASES["page"]), 1, 10**9)
    per_page = _positive(
        "perPage", _first(query, _ALIASES["per_page"]), DEFAULT_PER_PAGE, MAX_PER_PAGE
    )
    sort_field = _first(query, _ALIASES["sort_field"]) or ""
    if sort_field and sort_field not in sortable:
        raise bad_request("sortField", f"cannot sort by {sort_field!r}; one of {list(sortable)}")
    sort_order = (_first(query, _ALIASES["sort_order"]) or "asc").lower()
    if sort_order in ("ascend", "ascending"):
        sort_order = "asc"
    elif sort_order in ("descend", "descending"):
        sort_order = "desc"
    if sort_order not in ("asc", "desc"):
        raise bad_request("sortOrder", "must be asc or desc")
    search_field = _first(query, _ALIASES["search_field"]) or ""
    search_key = _first(query, _ALIASES["search_key"]) or ""
    if search_field and search_field not in searchable:
        raise bad_request(
            "searchField", f"cannot search {search_field!r}; one of {list(searchable)}"
        )
    return Paging(page, per_page, sort_field, sort_order, search_field, search_key)


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_clauses(
    paging: Paging,
    *,
    where: Sequence[str] = (),
    args: Sequence[Any] = (),
    default_sort: str = "id",
    key: str = "id",
) -> tuple[str, list[Any], str]:
    """A list query's `` WHERE …`` (``where`` and the search; empty without
    either), its parameters, and its ORDER BY terms (the sort, then ``key``)."""
    conditions = list(where)
    params = list(args)
    if paging.search_field and paging.search_key:
        params.append(f"%{escape_like(paging.search_key)}%")
        conditions.append(f"{paging.search_field}::text ILIKE ${len(params)}")
    where_sql = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    sort = paging.sort_field or default_sort
    direction = "DESC" if paging.sort_order == "desc" else "ASC"
    order = f"{sort} {direction}" + (f", {key} {direction}" if sort != key else "")
    return where_sql, params, order


async def fetch_page(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    select: str,
    where: Sequence[str] = (),
    args: Sequence[Any] = (),
    paging: Paging,
    default_sort: str = "id",
    key: str = "id",
    total: int | None = None,
) -> ListPage[dict[str, Any]]:
    """Run ``select`` (a SELECT … FROM … without WHERE/ORDER) one page at a time.

    ``where`` holds SQL fragments with ``$n`` placeholders numbered from 1
    matching ``args``. Sort and search columns come from ``paging``, which
    ``parse_paging`` has already checked against the resource's whitelist.
    ``total``: the row count when the caller already knows it (a cache of
    counts, see config-api's readcache): only the page is read.
    """
    where_sql, params, order = list_clauses(
        paging, where=where, args=args, default_sort=default_sort, key=key
    )
    n = len(params)
    source = f"({select}{where_sql}) AS q"
    if total is not None:
        page_rows = await conn.fetch(
            f"SELECT * FROM {source} ORDER BY {order} LIMIT ${n + 1} OFFSET ${n + 2}",  # noqa: S608
            *params,
            paging.per_page,
            paging.offset,
        )
        return _page(paging, total, [dict(r) for r in page_rows])
    # One statement, so the page and the count come from one snapshot (they
    # agree while others write) in one round trip, inside a caller's
    # transaction or not. Not count(*) OVER (): that made Postgres read and
    # buffer every matching row before LIMIT applied, even for page 1. Here
    # the page is an ordered scan that stops after OFFSET + LIMIT rows and the
    # count a scan of its own. The LEFT JOIN keeps one row (its columns NULL)
    # to carry the count when the page is past the end.
    sql = (
        f"SELECT q.*, c._total FROM (SELECT count(*) AS _total FROM {source}) AS c "  # noqa: S608
        f"LEFT JOIN (SELECT * FROM {source} ORDER BY {order} "
        f"LIMIT ${n + 1} OFFSET ${n + 2}) AS q ON true ORDER BY {order}"
    )
    rows = await conn.fetch(sql, *params, paging.per_page, paging.offset)
    total = rows[0]["_total"]
    if rows[0][key] is None:
        rows = []
    return _page(paging, total, [{k: v for k, v in r.items() if k != "_total"} for r in rows])


def _page(paging: Paging, total: int, data: list[dict[str, Any]]) -> ListPage[dict[str, Any]]:
    return ListPage(
        page=paging.page,
        pageCount=max(1, math.ceil(total / paging.per_page)),
        rowCount=total,
        data=data,
    )

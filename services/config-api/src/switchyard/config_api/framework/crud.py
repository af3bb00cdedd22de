"""Generated list/get/create/update/delete handlers for a declared Resource.

Also the row-level helpers those handlers use, for resource modules that
add their own exceptional endpoints on top.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import msgspec
from litestar import Request, delete, get, post, put
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import openapi
from switchyard.config_api.framework.inputs import NUL_REASON, decode, struct_for, with_defaults
from switchyard.config_api.framework.readcache import ReadCache
from switchyard.config_api.framework.rules import unsafe
from switchyard.config_api.framework.spec import PathId, Resource, Values
from switchyard.config_api.framework.spreadsheets import each_row, translate
from switchyard.config_api.framework.tx import Tx
from switchyard.config_api.framework.wire import pin, render
from switchyard.config_api.state import ConfigApi
from switchyard.shared.http.body import decode_body
from switchyard.shared.http.envelope import Created, ListPage, Ok
from switchyard.shared.http.errors import ApiError, bad_request, conflict, not_found
from switchyard.shared.http.paging import (
    Paging,
    escape_like,
    fetch_page,
    list_clauses,
    parse_paging,
)

# --- reading -------------------------------------------------------------------


async def body_of(request: Request[Any, Any, Any]) -> Any:
    """The request body as plain data (JSON, or a form), lenient like read_body."""
    raw = await request.body()
    if not raw.strip():
        return {}
    return decode_body(raw, request.content_type[0], Any)  # type: ignore[arg-type]


def no_nul(query: Mapping[str, Any]) -> None:
    """A query value Postgres cannot take (U+0000) is the client's error, named."""
    for name, value in query.items():
        if isinstance(value, str) and "\x00" in value:
            raise bad_request(name, NUL_REASON)


def where_of(
    resource: Resource, query: Mapping[str, Any], start: int = 1
) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    for f in resource.filters:
        value = query.get(f.param)
        if value in (None, ""):
            continue
        if f.mode == "like":
            args.append(f"%{escape_like(str(value))}%")
            where.append(f"{f.column}::text ILIKE ${start + len(args) - 1}")
        else:
            args.append(str(value))
            where.append(f"{f.column}::text = ${start + len(args) - 1}")
    return where, args


def check_list_query(resource: Resource, query: Mapping[str, Any]) -> None:
    """Refuse (400) a list query ``resource``'s list would refuse, for an
    operation that takes the list's parameters but answers otherwise."""
    _query_of(resource, query, (), ())


def _query_of(
    resource: Resource, query: Mapping[str, Any], where: Sequence[str], args: Sequence[Any]
) -> tuple[Paging, list[str], list[Any]]:
    """A list query's paging, and its conditions and arguments: the caller's
    (``where``/``args``) and then the resource's filters in ``query``."""
    no_nul(query)
    paging = parse_paging(query, sortable=resource.sortable, searchable=resource.searchable)
    fw, fa = where_of(resource, query, start=len(args) + 1)
    return paging, [*where, *fw], [*args, *fa]


async def list_rows(
    conn: asyncpg.Connection | asyncpg.Pool,
    resource: Resource,
    query: Mapping[str, Any],
    *,
    where: Sequence[str] = (),
    args: Sequence[Any] = (),
    cache: ReadCache | None = None,
) -> ListPage[dict[str, Any]]:
    """One page; with ``cache``, the row count is counted once per
    configuration change, not on every page (only the page is read)."""
    paging, conditions, params = _query_of(resource, query, where, args)
    key = (
        resource.name,
        tuple(conditions),
        tuple(map(repr, params)),
        paging.search_field,
        paging.search_key,
    )
    generation = cache.generation if cache is not None else 0
    page = await fetch_page(
        conn,
        select=f"SELECT * FROM ({resource.list_select}) AS r",  # noqa: S608 - declared SQL
        where=conditions,
        args=params,
        paging=paging,
        default_sort=resource.default_sort,
        total=cache.count(key) if cache is not None else None,
    )
    if cache is None:
        page.data = [render(resource, row) for row in page.data]
        return page
    cache.keep_count(key, generation, page.rowCount)
    # Rendering (every column pinned to its wire type) cost more than the
    # query: a row rendered once serves every page it appears on.
    data = []
    for row in page.data:
        row_key = ("listed", resource.name, row["id"])
        out = cache.row(row_key)
        if out is None:
            out = render(resource, row)
            cache.keep_row(row_key, generation, out)
        data.append(out)
    page.data = data
    return page


async def all_rows(
    conn: asyncpg.Connection | asyncpg.Pool,
    resource: Resource,
    query: Mapping[str, Any],
    *,
    where: Sequence[str] = (),
    args: Sequence[Any] = (),
) -> list[asyncpg.Record]:
    """Every row a list with this query would page through, in its order (downloads)."""
    paging, conditions, params = _query_of(resource, query, where, args)
    where_sql, params, order = list_clauses(
        paging, where=conditions, args=params, default_sort=resource.default_sort
    )
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT * FROM ({resource.list_select}) AS r{where_sql} "  # noqa: S608 - declared SQL
        f"ORDER BY {order}",  # sort: checked by parse_paging
        *params,
    )
    return rows


async def fetch_row(
    conn: asyncpg.Connection | asyncpg.Pool, resource: Resource, item_id: int
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT * FROM ({resource.list_select}) AS r WHERE id = $1",  # noqa: S608
        item_id,
    )


async def get_one(
    conn: asyncpg.Connection | asyncpg.Pool,
    resource: Resource,
    item_id: int,
    cache: ReadCache | None = None,
) -> dict[str, Any]:
    """One rendered row (with its detail); with ``cache``, read from Postgres
    once per configuration change."""
    if cache is None:
        return await _read_one(conn, resource, item_id)
    key = (resource.name, item_id)
    found = cache.row(key)
    if found is None:
        generation = cache.generation
        found = await _read_one(conn, resource, item_id)
        cache.keep_row(key, generation, found)
    return found


async def _read_one(
    conn: asyncpg.Connection | asyncpg.Pool, resource: Resource, item_id: int
) -> dict[str, Any]:
    row = await fetch_row(conn, resource, item_id)
    if row is None:
        raise not_found()
    out = render(resource, row)
    if resource.detail is not None:
        if isinstance(conn, asyncpg.Pool):
            async with conn.acquire() as c:
                await resource.detail(c, out)
        else:
            await resource.detail(conn, out)
    return out


# --- writing -------------------------------------------------------------------


async def insert_row(tx: Tx, resource: Resource, values: Values) -> asyncpg.Record:
    values = await checked_new(tx, resource, values)
    if resource.key_prefix:
        new_id = await tx.conn.fetchval(
            "SELECT nextval(pg_get_serial_sequence($1, 'id'))", resource.table
        )
        values["id"] = new_id
        if not values.get("key"):
            values["key"] = f"{resource.key_prefix}{new_id}"
    row = await insert(tx.conn, resource.table, values)
    tx.changed(resource.name, "create", row["id"])
    return row


async def checked_new(tx: Tx, resource: Resource, values: Values) -> Values:
    """A new row's ``values`` with what the resource's check adds, refused (400)
    when a value breaks the rules for values reaching FreeSWITCH."""
    values = dict(values)
    if resource.check is not None:
        values.update(await resource.check(tx.conn, dict(values), None) or {})
    unsafe(resource, values, tx.apps)
    return values


async def insert(conn: asyncpg.Connection, table: str, values: Values) -> asyncpg.Record:
    cols = list(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO {table} ({', '.join(cols)}) "  # noqa: S608 - declared columns
        f"VALUES ({placeholders}) RETURNING *",
        *values.values(),
    )
    assert row is not None
    return row


async def locked_row(
    tx: Tx, resource: Resource, item_id: int, missing: ApiError | None = None
) -> asyncpg.Record:
    """Row ``item_id``, locked until the transaction ends; ``missing`` (else
    404) when there is none."""
    row = await tx.conn.fetchrow(
        f"SELECT * FROM {resource.table} WHERE id = $1 FOR UPDATE",  # noqa: S608
        item_id,
    )
    if row is None:
        raise missing or not_found()
    return row


async def update_row(tx: Tx, resource: Resource, item_id: int, values: Values) -> asyncpg.Record:
    current = await locked_row(tx, resource, item_id)
    row = await apply_update(tx, resource, current, values)
    if row is None:
        return current
    tx.changed(resource.name, "update", item_id)
    return row


async def apply_update(
    tx: Tx, resource: Resource, current: asyncpg.Record, values: Values
) -> asyncpg.Record | None:
    """``current`` (locked by the caller) with ``values`` set, after the
    resource's check on the merged row and the rules for values reaching
    FreeSWITCH: the updated row, or None when nothing is left to set. The
    caller queues the notice, since who is notified differs (a child's parent)."""
    if resource.check is not None:
        merged = {**dict(current), **values}
        values = {**values, **(await resource.check(tx.conn, merged, dict(current)) or {})}
    if not values:
        return None
    unsafe(resource, {**dict(current), **values}, tx.apps)
    sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(values, start=2))
    row = await tx.conn.fetchrow(
        f"UPDATE {resource.table} SET {sets}, updated_at = now() "  # noqa: S608
        "WHERE id = $1 RETURNING *",
        current["id"],
        *values.values(),
    )
    assert row is not None
    return row


async def referrers_of(
    conn: asyncpg.Connection, resource: Resource, row: Mapping[str, Any]
) -> list[str]:
    found: list[str] = []
    for ref in resource.referrers:
        arg = row.get("key", "") if ref.by_key else row["id"]
        labels = [str(r[0]) for r in await conn.fetch(ref.sql, arg)]
        if labels:
            found.append(f"{ref.label} {', '.join(labels[:10])}")
    return found


async def relevance(
    conn: asyncpg.Connection, resource: Resource, row: Mapping[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    """What refers to ``row``, by the same SQL that refuses its delete: every
    referrer with a ``key``, its rows with every selected column (numbers
    written like the resource's own)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for ref in resource.referrers:
        if not ref.key:
            continue
        arg = row.get("key", "") if ref.by_key else row["id"]
        rows = await conn.fetch(ref.sql, arg)
        out.setdefault(ref.key, []).extend(
            {k: pin(v, resource.pin) if isinstance(v, int) else v for k, v in r.items()}
            for r in rows
        )
    return out


async def delete_row(tx: Tx, resource: Resource, item_id: int) -> asyncpg.Record:
    row = await locked_row(tx, resource, item_id)
    if found := await referrers_of(tx.conn, resource, dict(row)):
        raise conflict("id", f"still used by {'; '.join(found)}")
    await tx.conn.execute(f"DELETE FROM {resource.table} WHERE id = $1", item_id)  # noqa: S608
    tx.changed(resource.name, "delete", item_id)
    return row


def reply_schema(resource: Resource, kind: str) -> openapi.Schema:
    """What ``reply`` writes, for the OpenAPI document."""
    if kind == "object":
        return openapi.output_schema(resource)
    if kind == "id_str":
        return {"type": "string"}
    if kind == "bare_id":
        return {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
    return {"type": "integer"}


def reply(resource: Resource, kind: str, row: asyncpg.Record) -> Any:
    if kind == "object":
        return render(resource, row)
    if kind == "id_str":
        return str(row["id"])
    return row["id"]


# --- handlers -------------------------------------------------------------------


def handlers(resource: Resource) -> list[HTTPRouteHandler]:
    """The generated endpoints of ``resource``, in the XSwitch shapes."""
    struct = struct_for(resource)
    base = resource.base
    one = f"{base}/{{item_id:int}}"
    name = resource.name
    out: list[HTTPRouteHandler] = []
    # Distinct operation ids keep the OpenAPI document valid.
    op = name.replace("/", "_")

    async def list_items(
        request: Request[Any, Any, Any], config: ConfigApi
    ) -> ListPage[dict[str, Any]]:
        return await list_rows(
            config.runtime.pool, resource, request.query_params, cache=config.reads
        )

    async def get_item(item_id: PathId, config: ConfigApi) -> dict[str, Any]:
        return await get_one(config.runtime.pool, resource, item_id, config.reads)

    async def create_item(request: Request[Any, Any, Any], config: ConfigApi) -> Created:
        data = await body_of(request)
        if resource.bulk and isinstance(data, list):
            if not data:
                raise bad_request(resource.bulk, "is empty")
            async with config.write() as tx:
                rows = await insert_rows(tx, resource, resource.bulk, data)
            return Created(data=[reply(resource, resource.create_reply, r) for r in rows])
        values = with_defaults(resource, decode(resource, struct, data))
        async with config.write() as tx:
            row = await insert_row(tx, resource, values)
            if resource.create_reply == "object":
                row = await fetch_row(tx.conn, resource, row["id"]) or row  # computed columns too
        return Created(data=reply(resource, resource.create_reply, row))

    async def update_item(
        item_id: PathId, request: Request[Any, Any, Any], config: ConfigApi
    ) -> Any:
        data = await body_of(request)
        async with config.write() as tx:
            if resource.toggle and isinstance(data, dict) and data.get("action") == "toggle":
                row = await toggle_row(tx, resource, item_id)
            else:
                values = decode(resource, struct, data, update=True)
                row = await update_row(tx, resource, item_id, values)
        if resource.update_reply == "bare_id":
            return {"id": str(row["id"])}
        return Ok(data=reply(resource, resource.update_reply, row))

    async def delete_item(item_id: PathId, config: ConfigApi) -> Ok:
        async with config.write() as tx:
            row = await delete_row(tx, resource, item_id)
        return Ok(data=str(row["id"]))

    row_schema = openapi.output_schema(resource)
    update_body = openapi.names_one(
        openapi.input_schema(resource, create=False), toggle=resource.toggle
    )
    if "list" in resource.ops:
        out.append(
            get(
                base,
                operation_id=f"list_{op}",
                summary=f"List {name}",
                opt=openapi.doc(
                    reply=openapi.list_page(row_schema), query=openapi.list_params(resource)
                ),
            )(list_items)
        )
    if "get" in resource.ops:
        out.append(
            get(
                one,
                operation_id=f"get_{op}",
                summary=f"One of {name}",
                opt=openapi.doc(reply=row_schema),
            )(get_item)
        )
    if "create" in resource.ops:
        create_body = openapi.input_schema(resource, create=True)
        created = reply_schema(resource, resource.create_reply)
        ptr = "/data/id" if resource.create_reply == "object" else "/data"
        if resource.bulk:
            create_body = {
                "anyOf": [
                    create_body,
                    {"type": "array", "minItems": 1, "items": openapi.untitled(create_body)},
                ],
                "description": "one row, or an array of rows created all or none",
            }
            created = {"anyOf": [created, openapi.array_of(openapi.untitled(created))]}
        out.append(
            post(
                base,
                status_code=200,
                operation_id=f"create_{op}",
                summary=f"Create {name}",
                opt={
                    **openapi.doc(
                        body=create_body,
                        reply=openapi.envelope(created, "Created"),
                        # A bulk create answers an array: nothing to follow.
                        links=None if resource.bulk else openapi.links_from_create(resource, ptr),
                    ),
                    openapi.OPT_CREATES: (resource.name, ptr),
                },
            )(create_item)
        )
    if "update" in resource.ops:
        update_reply = reply_schema(resource, resource.update_reply)
        out.append(
            put(
                one,
                status_code=200,
                operation_id=f"update_{op}",
                summary=f"Update {name}",
                opt=openapi.doc(
                    body=update_body,
                    body_required=True,  # no body reads as {}, which names no column
                    reply=update_reply
                    if resource.update_reply == "bare_id"
                    else openapi.envelope(update_reply),
                ),
            )(update_item)
        )
    if "delete" in resource.ops:
        out.append(
            delete(
                one,
                status_code=200,
                operation_id=f"delete_{op}",
                summary=f"Delete {name}",
                opt=openapi.doc(reply=openapi.envelope({"type": "string"})),
            )(delete_item)
        )
    return out


async def insert_rows(
    tx: Tx,
    resource: Resource,
    key: str,
    rows: list[Any],
    titles: Mapping[str, str] | None = None,
) -> list[asyncpg.Record]:
    """Create every row or none (an import): a bad row is a 400/409 naming
    ``<key>[i].<field>``; ``titles`` maps spreadsheet column titles to columns.
    Answers the rows as a list would show them (computed columns too)."""
    struct = struct_for(resource)

    async def one(i: int, raw: Any) -> asyncpg.Record:
        row = translate(raw, titles or {}, f"{key}[{i}]")
        values = with_defaults(resource, decode(resource, struct, row))
        created = await insert_row(tx, resource, values)
        return await fetch_row(tx.conn, resource, created["id"]) or created

    return await each_row(key, rows, one)


async def toggle_row(tx: Tx, resource: Resource, item_id: int) -> asyncpg.Record:
    column = resource.toggle
    row = await tx.conn.fetchrow(
        f"UPDATE {resource.table} SET {column} = 1 - {column}, updated_at = now() "  # noqa: S608
        "WHERE id = $1 RETURNING *",
        item_id,
    )
    if row is None:
        raise not_found()
    tx.changed(resource.name, "update", item_id)
    return row


def require_object(data: Any, field: str = "body") -> dict[str, Any]:
    if not isinstance(data, dict):
        raise bad_request(field, "must be a JSON object")
    return data


def require_list(data: Any, field: str = "body") -> list[Any]:
    if isinstance(data, dict):
        return [data]  # the spec's own curl examples post one object where an array is due
    if not isinstance(data, list):
        raise bad_request(field, "must be a JSON array")
    return data


def int_of(value: Any, field: str) -> int:
    try:
        return msgspec.convert(value, int, strict=False)
    except msgspec.ValidationError:
        raise bad_request(field, f"must be a whole number, got {value!r}") from None


__all__ = ["ApiError"]

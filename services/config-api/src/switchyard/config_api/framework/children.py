"""Rows that belong to a parent row: route params, gateway params and
variables, blacklist numbers, IVR actions, translation numbers.

The child is declared as a Resource (its own table and columns) plus the
column that points at the parent. Paths differ per parent in the specs
(``/params/$id`` to edit but ``/param/$id`` to delete), so each resource
module wires these helpers to its documented paths explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
from litestar import Request, delete, get, post, put
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import openapi
from switchyard.config_api.framework.crud import (
    apply_update,
    body_of,
    checked_new,
    insert,
    toggle_row,
)
from switchyard.config_api.framework.inputs import decode, struct_for, with_defaults
from switchyard.config_api.framework.spec import PathId, Resource, Values
from switchyard.config_api.framework.tx import Tx
from switchyard.config_api.framework.wire import render
from switchyard.config_api.state import ConfigApi
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.envelope import Created, Ok
from switchyard.shared.http.errors import bad_request, not_found


@dataclass(frozen=True)
class Child:
    parent: Resource
    res: Resource  # the child's table and columns; res.name is the notice resource
    fk: str  # column naming the parent id
    fk_out: str = ""  # how the parent id is called on the wire (default: fk)
    realm: str = ""  # XSwitch's shared params table shows realm ROUTE/GATEWAY/BLACKLIST

    @property
    def struct(self) -> type[msgspec.Struct]:
        return struct_for(self.res)

    def render(self, row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
        out = render(self.res, row)
        out[self.fk_out or self.fk] = row[self.fk]
        if self.realm:
            out["realm"] = self.realm
        return out

    @property
    def schema(self) -> openapi.Schema:
        """One child row as ``render`` writes it."""
        schema = openapi.output_schema(self.res)
        extra: dict[str, openapi.Schema] = {self.fk_out or self.fk: {"type": "integer"}}
        if self.realm:
            extra["realm"] = {"type": "string", "const": self.realm}
        schema["properties"].update(extra)
        schema["required"].extend(k for k in extra if k not in schema["required"])
        return schema

    def body(self, *, create: bool) -> openapi.Schema:
        schema = openapi.input_schema(self.res, create=create)
        return schema if create else openapi.names_one(schema, toggle=self.res.toggle)


async def parent_exists(conn: asyncpg.Connection | asyncpg.Pool, child: Child, pid: int) -> None:
    found = await conn.fetchval(
        f"SELECT 1 FROM {child.parent.table} WHERE id = $1",  # noqa: S608 - declared
        pid,
    )
    if not found:
        raise not_found()


async def list_of(
    conn: asyncpg.Connection | asyncpg.Pool, child: Child, pid: int
) -> list[dict[str, Any]]:
    await parent_exists(conn, child, pid)
    rows = await conn.fetch(
        f"SELECT * FROM {child.res.table} WHERE {child.fk} = $1 ORDER BY id",  # noqa: S608
        pid,
    )
    return [child.render(r) for r in rows]


async def add(tx: Tx, child: Child, pid: int, data: Any) -> asyncpg.Record:
    values = with_defaults(child.res, decode(child.res, child.struct, data))
    return await add_values(tx, child, pid, values)


async def add_values(tx: Tx, child: Child, pid: int, values: Values) -> asyncpg.Record:
    await parent_exists(tx.conn, child, pid)
    values = await checked_new(tx, child.res, values)
    row = await insert(tx.conn, child.res.table, {child.fk: pid, **values})
    tx.changed(child.res.name, "update", pid)
    return row


async def only_with_k(
    conn: asyncpg.Connection, child: Child, pid: int, data: Any, field: str
) -> int:
    """The id of the parent's one child whose ``k`` is the body's ``k``.

    The spec's curls edit a param or a list number by ``k`` without its id;
    that names a row only when exactly one has the key, else ``field`` is required.
    """
    k = data.get("k") if isinstance(data, dict) else None
    if k is None or isinstance(k, dict | list) or not str(k).strip():
        raise bad_request(field, "is required (or a k that exactly one row has)")
    ids = await conn.fetch(
        f"SELECT id FROM {child.res.table} WHERE {child.fk} = $1 AND k = $2 "  # noqa: S608
        "ORDER BY id FOR UPDATE",
        pid,
        str(k),
    )
    if len(ids) != 1:
        found = "no row has" if not ids else f"{len(ids)} rows have"
        raise bad_request(field, f"is required: {found} k {str(k)!r}")
    return int(ids[0]["id"])


async def edit(tx: Tx, child: Child, pid: int, cid: int, data: Any) -> asyncpg.Record:
    if isinstance(data, dict) and data.get("action") == "toggle" and child.res.toggle:
        await _owned(tx.conn, child, pid, cid)
        row = await toggle_row(tx, child.res, cid)
        return row
    values = decode(child.res, child.struct, data, update=True)
    current = await _owned(tx.conn, child, pid, cid)
    row = await apply_update(tx, child.res, current, values)
    if row is None:
        return current
    tx.changed(child.res.name, "update", pid)
    return row


async def remove(tx: Tx, child: Child, pid: int, cid: int) -> asyncpg.Record:
    row = await _owned(tx.conn, child, pid, cid)
    await tx.conn.execute(f"DELETE FROM {child.res.table} WHERE id = $1", cid)  # noqa: S608
    tx.changed(child.res.name, "update", pid)
    return row


async def _owned(conn: asyncpg.Connection, child: Child, pid: int, cid: int) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"SELECT * FROM {child.res.table} WHERE id = $1 AND {child.fk} = $2 FOR UPDATE",  # noqa: S608
        cid,
        pid,
    )
    if row is None:
        raise not_found()
    return row


def _child_links(op: str, *, update: bool, delete: bool) -> dict[str, openapi.Schema]:
    """From a created child to editing and deleting it, under the same parent."""
    params = {"pid": "$request.path.pid", "cid": "$response.body#/data"}
    ids = [f"update_{op}"] * update + [f"delete_{op}"] * delete
    return {i: {"operationId": i, "parameters": params} for i in ids}


def child_handlers(
    child: Child,
    op: str,
    *,
    list_path: str = "",
    create_path: str = "",
    update_path: str = "",
    delete_paths: tuple[str, ...] = (),
    update_reply: str = "object",
    delete_reply: str = "count",
) -> list[HTTPRouteHandler]:
    """Endpoints for a child at the paths its spec documents.

    Paths use ``{pid:int}`` for the parent id and ``{cid:int}`` for the child id.
    """
    out: list[HTTPRouteHandler] = []

    async def list_children(pid: PathId, runtime: AppRuntime) -> list[dict[str, Any]]:
        return await list_of(runtime.pool, child, pid)

    async def create_child(
        pid: PathId, request: Request[Any, Any, Any], config: ConfigApi
    ) -> Created:
        data = await body_of(request)
        async with config.write() as tx:
            row = await add(tx, child, pid, data)
        return Created(data=row["id"])

    async def update_child(
        pid: PathId, cid: PathId, request: Request[Any, Any, Any], config: ConfigApi
    ) -> Ok:
        data = await body_of(request)
        async with config.write() as tx:
            row = await edit(tx, child, pid, cid, data)
        return Ok(data=child.render(row) if update_reply == "object" else str(row["id"]))

    async def delete_child(pid: PathId, cid: PathId, config: ConfigApi) -> Ok:
        async with config.write() as tx:
            row = await remove(tx, child, pid, cid)
        data: Any = {"count": 1, "id_str": str(row["id"]), "empty": "{}"}[delete_reply]
        return Ok(data=data)

    row = child.schema
    if list_path:
        out.append(
            get(
                list_path,
                operation_id=f"list_{op}",
                opt={
                    **openapi.doc(reply=openapi.array_of(row)),
                    openapi.OPT_CHILD_OF: (child.parent.name, "pid"),
                },
            )(list_children)
        )
    if create_path:
        out.append(
            post(
                create_path,
                status_code=200,
                operation_id=f"create_{op}",
                opt={
                    **openapi.doc(
                        body=child.body(create=True),
                        reply=openapi.envelope({"type": "integer"}, "Created"),
                        links=_child_links(op, update=bool(update_path), delete=bool(delete_paths)),
                    ),
                    openapi.OPT_CHILD_OF: (child.parent.name, "pid"),
                },
            )(create_child)
        )
    if update_path:
        out.append(
            put(
                update_path,
                status_code=200,
                operation_id=f"update_{op}",
                opt=openapi.doc(
                    body=child.body(create=False),
                    body_required=True,  # no body reads as {}, which names no column
                    reply=openapi.envelope(row if update_reply == "object" else {"type": "string"}),
                ),
            )(update_child)
        )
    deleted_replies: dict[str, openapi.Schema] = {
        "count": {"type": "integer", "const": 1},
        "id_str": {"type": "string"},
        "empty": {"type": "string", "const": "{}"},
    }
    deleted = deleted_replies[delete_reply]
    for i, path in enumerate(delete_paths):
        out.append(
            delete(
                path,
                status_code=200,
                operation_id=f"delete_{op}{'_' + str(i) if i else ''}",
                opt=openapi.doc(reply=openapi.envelope(deleted)),
            )(delete_child)
        )
    return out

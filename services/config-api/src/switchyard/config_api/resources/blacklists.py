"""Blacklists (/api/blacklists) and their number lists, imports and multimodify."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request, get, post, put
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import children
from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.framework.crud import (
    all_rows,
    body_of,
    handlers,
    insert_row,
    require_object,
)
from switchyard.config_api.framework.inputs import decode, struct_for, with_defaults
from switchyard.config_api.framework.spec import (
    Col,
    Filter,
    PathId,
    Referrer,
    Resource,
    Values,
    is_id,
)
from switchyard.config_api.framework.spreadsheets import each_row, rows_of, translate, wants_zh
from switchyard.config_api.framework.wire import render
from switchyard.config_api.state import ConfigApi
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.envelope import Ok
from switchyard.shared.http.errors import ApiError, bad_request, not_found


async def _detail(conn: asyncpg.Connection, out: Values) -> None:
    out["params"] = await children.list_of(conn, NUMBERS, int(out["id"]))


BLACKLISTS = Resource(
    name="blacklists",
    table="blacklists",
    id_wire="str",
    pin="str",  # CherryPBX compares list_type === "0"
    cols=(
        Col("name", required=True),
        Col("description"),
        Col("list_type", "flag", required=True),
        Col("limit_user_type", "int", required=True, choices=(0, 1, 2)),
    ),
    filters=(Filter("name", "name", "like"), Filter("list_type", "list_type")),
    detail=_detail,
    referrers=(
        Referrer(
            "routes", "SELECT name FROM routes WHERE blacklist = $1::bigint::text ORDER BY id"
        ),
    ),
)

NUMBERS = children.Child(
    parent=BLACKLISTS,
    res=Resource(
        name="blacklists",
        table="blacklist_numbers",
        cols=(Col("k"), Col("v", required=True), Col("disabled", "flag", default=0)),
        toggle="disabled",
    ),
    fk="blacklist_id",
    fk_out="ref_id",
    realm="BLACKLIST",
)
_numbers_struct = struct_for(NUMBERS.res)
_lists_struct = struct_for(BLACKLISTS)
_NUMBER_ROW = oa.input_schema(NUMBERS.res, create=True)

# The spreadsheet's column titles (the XSwitch export format).
EXCEL = {
    "名称": "name",
    "名单类型": "list_type",
    "限制用户类型": "limit_user_type",
    "描述": "description",
    "号码名称": "k",
    "起始号码": "v",
}


@post(
    "/api/blacklists/{pid:int}/import",
    status_code=200,
    operation_id="import_blacklist_numbers",
    opt=oa.doc(
        body=oa.rows_body("data", _NUMBER_ROW), reply=oa.envelope(oa.array_of(NUMBERS.schema))
    ),
)
async def import_numbers(pid: PathId, request: Request[Any, Any, Any], config: ConfigApi) -> Ok:
    rows = rows_of(await body_of(request), "data")

    async with config.write() as tx:
        await children.parent_exists(tx.conn, NUMBERS, pid)

        async def one(i: int, row: Any) -> dict[str, Any]:
            values = with_defaults(NUMBERS.res, decode(NUMBERS.res, _numbers_struct, row))
            return NUMBERS.render(await children.add_values(tx, NUMBERS, pid, values))

        created = await each_row("data", rows, one)
    return Ok(data=created)


@post(
    "/api/blacklists/import",
    status_code=200,
    operation_id="import_blacklists",
    opt=oa.doc(
        body=oa.rows_body(
            "lists",
            oa.obj(
                "BlacklistExcelRow",
                required=["名称"],
                **{title: oa.STR for title in EXCEL},
            ),
        ),
        reply=oa.envelope(
            oa.array_of(
                oa.obj(
                    required=["id", "name", "list_type", "limit_user_type", "description"],
                    id=oa.INT,
                    name=oa.STR,
                    list_type=oa.INT,
                    limit_user_type=oa.INT,
                    description=oa.STR,
                )
            )
        ),
    ),
)
async def import_lists(request: Request[Any, Any, Any], config: ConfigApi) -> Ok:
    """Blacklists and their numbers from spreadsheet rows, one list per distinct name."""
    rows = rows_of(await body_of(request), "lists")
    lists: dict[str, Any] = {}

    async with config.write() as tx:

        async def one(i: int, raw: Any) -> None:
            row = translate(raw, EXCEL, f"lists[{i}]")
            name = str(row.get("name", "")).strip()
            if not name:
                raise bad_request("名称", "is required")
            if name not in lists:
                existing = await tx.conn.fetchrow("SELECT * FROM blacklists WHERE name = $1", name)
                if existing is None:
                    head = {
                        k: row[k]
                        for k in ("name", "list_type", "limit_user_type", "description")
                        if k in row
                    }
                    values = with_defaults(BLACKLISTS, decode(BLACKLISTS, _lists_struct, head))
                    existing = await insert_row(tx, BLACKLISTS, values)
                lists[name] = existing
            number = {k: row[k] for k in ("k", "v") if k in row}
            if not any(str(v).strip() for v in number.values()):
                return  # a list without numbers (as the download writes one)
            values = with_defaults(NUMBERS.res, decode(NUMBERS.res, _numbers_struct, number))
            await children.add_values(tx, NUMBERS, lists[name]["id"], values)

        await each_row("lists", rows, one)
    data = []
    for row in lists.values():
        item = render(BLACKLISTS, row)
        data.append({
            "list_type": int(item["list_type"]),
            "name": item["name"],
            "limit_user_type": int(item["limit_user_type"]),
            "description": item["description"],
            "id": row["id"],
        })  # fmt: skip
    return Ok(data=data)


@get(
    "/api/blacklists/download",
    operation_id="download_blacklists",
    summary="Blacklists and their numbers as spreadsheet rows",
    opt=oa.doc(
        reply={
            "type": "array",
            "description": "a header row, then one row per number (a list without numbers: "
            "one row with empty number cells)",
            "items": {"type": "array", "items": oa.STR},
        },
        query=[
            oa.query_param(
                "language", oa.STR, "zh (the default): the import's Chinese titles; else columns"
            ),
            *(p for p in oa.list_params(BLACKLISTS) if p["name"] not in ("page", "perPage")),
        ],
    ),
)
async def download(request: Request[Any, Any, Any], runtime: AppRuntime) -> list[list[str]]:
    """What ``POST /api/blacklists/import`` takes back: with Chinese titles
    (``language`` zh or absent) or the column names as the header."""
    query = request.query_params
    header = list(EXCEL) if wants_zh(query.get("language")) else list(EXCEL.values())
    lists = await all_rows(runtime.pool, BLACKLISTS, query)
    numbers: dict[int, list[asyncpg.Record]] = {}
    for n in await runtime.pool.fetch(
        "SELECT blacklist_id, k, v FROM blacklist_numbers "
        "WHERE blacklist_id = ANY($1::bigint[]) ORDER BY id",
        [r["id"] for r in lists],
    ):
        numbers.setdefault(n["blacklist_id"], []).append(n)
    out = [header]
    for row in lists:
        item = render(BLACKLISTS, row)
        head = [str(item[c]) for c in ("name", "list_type", "limit_user_type", "description")]
        for n in numbers.get(row["id"]) or [{"k": "", "v": ""}]:
            out.append([*head, n["k"] or "", n["v"] or ""])
    return out


@put(
    "/api/blacklists/{pid:int}/multimodify",
    status_code=200,
    operation_id="multimodify_blacklist",
    opt=oa.doc(
        body=oa.obj(
            "Multimodify",
            required=["data"],
            data={
                "type": "array",
                "minItems": 1,
                "items": {
                    **oa.with_id(NUMBERS.body(create=False), required=False),
                    "description": "id, or a k that exactly one number of the list has",
                },
            },
        ),
        reply=oa.envelope(NUMBERS.schema),
    ),
)
async def multimodify(pid: PathId, request: Request[Any, Any, Any], config: ConfigApi) -> Ok:
    """Edit several numbers of one list; answers with the last one edited.

    A row names its number by ``id``, or (the spec's curl) by a ``k`` that
    exactly one number of the list has."""
    rows = rows_of(require_object(await body_of(request)), "data")
    last: list[dict[str, Any]] = []

    async with config.write() as tx:
        await children.parent_exists(tx.conn, NUMBERS, pid)

        async def one(i: int, row: Any) -> None:
            if not isinstance(row, dict):
                raise bad_request("id", "is required (the number list id)")
            nid = str(row.get("id", "")).strip()
            if is_id(nid):
                number = int(nid)
            elif "id" in row:
                raise bad_request("id", f"must be a number list id, got {row['id']!r}")
            else:
                number = await children.only_with_k(tx.conn, NUMBERS, pid, row, "id")
            try:
                edited = await children.edit(tx, NUMBERS, pid, number, row)
            except ApiError as exc:
                if exc.status == 404:
                    raise bad_request("id", f"no number {number} in blacklist {pid}") from None
                raise
            last[:] = [NUMBERS.render(edited)]

        await each_row("data", rows, one)
    if not last:
        raise not_found()
    return Ok(data=last[0])


def route_handlers() -> list[HTTPRouteHandler]:
    b = "/api/blacklists/{pid:int}"
    return [
        download,
        *handlers(BLACKLISTS),
        *children.child_handlers(
            NUMBERS,
            "blacklist_numbers",
            list_path=f"{b}/lists",
            create_path=f"{b}/lists",
            update_path=f"{b}/lists/{{cid:int}}",
            delete_paths=(f"{b}/lists/{{cid:int}}",),
            update_reply="id_str",
            delete_reply="id_str",
        ),
        import_numbers,
        import_lists,
        multimodify,
    ]

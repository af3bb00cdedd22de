"""Number translation (/api/number_translation): tables of numbers a route's
``s/prefix_nts_<id>/`` rewrites, and their numbers (one by one or imported)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import children
from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.framework.crud import body_of, handlers
from switchyard.config_api.framework.inputs import decode, struct_for, with_defaults
from switchyard.config_api.framework.spec import Col, Filter, PathId, Referrer, Resource
from switchyard.config_api.framework.spreadsheets import each_row, rows_of
from switchyard.config_api.framework.wire import plain
from switchyard.config_api.state import ConfigApi
from switchyard.shared.fsvalues import NUMBER
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.envelope import Ok
from switchyard.shared.http.errors import not_found
from switchyard.shared.http.paging import fetch_page, parse_paging

NUMBER_TRANSLATION = Resource(
    name="number_translation",
    table="number_translations",
    id_wire="str",
    pin="str",
    cols=(
        Col("name", required=True),
        Col("description"),
        Col("type", required=True, choices=("exact", "prefix")),
    ),
    filters=(Filter("name", "name", "like"), Filter("type", "type")),
    referrers=(
        Referrer(
            "routes",
            "SELECT name FROM routes WHERE dnc LIKE '%prefix_nts_' || $1::bigint::text || '/%' "
            "OR sdnc LIKE '%prefix_nts_' || $1::bigint::text || '/%' ORDER BY id",
        ),
    ),
)
NTS = children.Child(
    parent=NUMBER_TRANSLATION,
    res=Resource(
        name="number_translation",
        table="number_translation_numbers",
        id_wire="str",
        pin="str",
        # What a dnc/sdnc s/prefix_nts_<id>/ makes of a number: a NUMBER.
        cols=(
            Col("original_number", required=True, rule=NUMBER),
            Col("nts_number", required=True, rule=NUMBER),
        ),
    ),
    fk="table_id",
)
_nts_struct = struct_for(NTS.res)
N = "/api/number_translation/{pid:int}"
_NTS_SORT = ["id", "original_number", "nts_number"]


@get(
    f"{N}/numbers",
    operation_id="list_translation_numbers",
    opt=oa.doc(
        reply=oa.obj(
            "TranslationNumbers",
            required=["nts_numbers", "number_translation_info"],
            nts_numbers=oa.list_page(
                oa.obj(
                    required=["id", "original_number", "nts_number", "created_at", "updated_at"],
                    id=oa.STR,
                    original_number=oa.STR,
                    nts_number=oa.STR,
                    created_at=oa.TIMESTAMP,
                    updated_at=oa.TIMESTAMP,
                    deleted_at=oa.TIMESTAMP,
                )
            ),
            number_translation_info=oa.array_of(
                oa.obj(
                    required=["name", "description", "type"],
                    name=oa.STR,
                    description=oa.STR,
                    type=oa.STR,
                )
            ),
        ),
        query=oa.paging_params(_NTS_SORT, _NTS_SORT[1:]),
    ),
)
async def list_numbers(
    pid: PathId, request: Request[Any, Any, Any], runtime: AppRuntime
) -> dict[str, Any]:
    table = await runtime.pool.fetchrow(
        "SELECT name, description, type FROM number_translations WHERE id = $1", pid
    )
    if table is None:
        raise not_found()
    paging = parse_paging(
        request.query_params,
        sortable=_NTS_SORT,
        searchable=_NTS_SORT[1:],
    )
    page = await fetch_page(
        runtime.pool,
        select="SELECT id, original_number, nts_number, created_at, updated_at "
        "FROM number_translation_numbers",
        where=["table_id = $1"],
        args=[pid],
        paging=paging,
        default_sort="id",
    )
    page.data = [plain(r, wire="str") for r in page.data]
    return {"nts_numbers": msgspec.to_builtins(page), "number_translation_info": [dict(table)]}


@post(
    f"{N}/import",
    status_code=200,
    operation_id="import_translation_numbers",
    opt=oa.doc(
        body=oa.rows_body("data", oa.input_schema(NTS.res, create=True)),
        reply=oa.envelope(oa.INT),
    ),
)
async def import_numbers(pid: PathId, request: Request[Any, Any, Any], config: ConfigApi) -> Ok:
    rows = rows_of(await body_of(request), "data")
    async with config.write() as tx:
        await children.parent_exists(tx.conn, NTS, pid)

        async def one(i: int, row: Any) -> None:
            values = with_defaults(NTS.res, decode(NTS.res, _nts_struct, row))
            await children.add_values(tx, NTS, pid, values)

        await each_row("data", rows, one)
    return Ok(data=pid)


def route_handlers() -> list[HTTPRouteHandler]:
    return [
        *handlers(NUMBER_TRANSLATION),
        list_numbers,
        *children.child_handlers(
            NTS,
            "translation_numbers",
            create_path=f"{N}/numbers",
            update_path=f"{N}/{{cid:int}}",
            delete_paths=(f"{N}/{{cid:int}}",),
            update_reply="id_str",
            delete_reply="id_str",
        ),
        import_numbers,
    ]

"""The operation log (/api/logs): who changed what, as the operation-log
middleware wrote it (shared/http/oplog.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Request, get
from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework import openapi as oa
from switchyard.config_api.framework.wire import timestamp
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.envelope import ListPage
from switchyard.shared.http.errors import bad_request
from switchyard.shared.http.paging import fetch_page, parse_paging

_LOG_SORT = ["id", "created_at", "operator", "resource", "action"]
_LOG_FIELDS = (
    "id",
    "resource",
    "source_ip",
    "user_id",
    "user_name",
    "message",
    "summary",
    "action",
    "created_at",
)


@get(
    "/api/logs",
    operation_id="list_logs",
    summary="Operation log",
    opt=oa.doc(
        reply=oa.list_page(
            oa.obj(
                "LogEntry",
                required=list(_LOG_FIELDS),
                **{name: oa.STR for name in _LOG_FIELDS},
            )
        ),
        query=[
            # The log's search takes any text, U+0000 too (nothing is stored).
            *oa.paging_params(_LOG_SORT, ["path"], search_key={"type": "string"}),
            oa.query_param("operator", oa.STR),
            oa.query_param("resource", oa.STR),
            oa.query_param("action", oa.STR),
            oa.query_param("startDate", oa.STR, "ISO date or date-time, UTC when no zone"),
        ],
    ),
)
async def list_logs(
    request: Request[Any, Any, Any], runtime: AppRuntime
) -> ListPage[dict[str, Any]]:
    q = request.query_params
    paging = parse_paging(q, sortable=_LOG_SORT, searchable=["path"])
    where: list[str] = []
    args: list[Any] = []
    for param, column in (("operator", "operator"), ("resource", "resource"), ("action", "action")):
        if value := q.get(param):
            args.append(value)
            where.append(f"lower({column}) = lower(${len(args)})")
    if start := q.get("startDate"):
        try:
            since = dt.datetime.fromisoformat(start.strip().replace("/", "-"))
        except ValueError:
            raise bad_request(
                "startDate", "must be a date like 2024-05-30 or 2024-05-30 08:00:00"
            ) from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        args.append(since)
        where.append(f"created_at >= ${len(args)}")
    page = await fetch_page(
        runtime.pool,
        select="SELECT * FROM operation_logs",
        where=where,
        args=args,
        paging=paging,
        default_sort="id",
    )
    page.data = [
        {
            "id": str(r["id"]),
            "resource": r["resource"],
            "source_ip": r["ip"],
            "user_id": "0",
            "user_name": r["operator"],
            "message": msgspec.json.encode(r["detail"]).decode()
            if not isinstance(r["detail"], str)
            else r["detail"],
            "summary": f"{r['method']} {r['path']}",
            "action": r["action"].upper(),
            "created_at": timestamp(r["created_at"]),
        }
        for r in page.data
    ]
    return page


def route_handlers() -> list[HTTPRouteHandler]:
    return [
        list_logs,
    ]

"""The console's recent calls page (docs/console.md): the call detail records
of ``/api/cdrs`` (cdrs.py) with the same filters: date range, direction,
answered, number; each links to the call's webhook deliveries and, when
the media service registered one, its recording."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from switchyard.call_control.cdrs import cdr_page
from switchyard.shared.console.pages import LOGIN_REDIRECT, render
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.errors import ApiError

PAGE = "switchyard.call_control:cdrs.html"
FILTERS = ("since", "until", "direction", "answered", "number", "page")


@get("/console/cdrs", include_in_schema=False, exception_handlers=LOGIN_REDIRECT)
async def cdrs_page(request: Request[Any, Any, Any], runtime: AppRuntime) -> Template:
    q = {k: request.query_params.get(k, "").strip() for k in FILTERS}
    query = {k: v for k, v in q.items() if v and k != "page"}
    recordings: dict[str, str] = {}
    try:
        page = await cdr_page(runtime, {**query, "page": q["page"] or "1", "perPage": "50"})
        error = ""
    except ApiError as exc:
        page, error = None, exc.message
    if page is not None and page.data:
        # The media service's registered recordings of these channels (its
        # table, read here): served by GET /api/media_files/<id>.<ext>.
        rows = await runtime.pool.fetch(
            "SELECT id, ext, channel_uuid FROM media_files WHERE channel_uuid = ANY($1::text[])",
            [c.uuid for c in page.data],
        )
        recordings = {r["channel_uuid"]: f"/api/media_files/{r['id']}.{r['ext']}" for r in rows}
    values = {"q": q, "query": query, "page": page, "error": error, "recordings": recordings}
    return render(request, PAGE, values)


route_handlers = [cdrs_page]

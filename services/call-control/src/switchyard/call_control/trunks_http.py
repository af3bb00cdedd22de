"""``GET /api/trunk_groups/status``: each trunk of each group, with its state.

XSwitch shows a SIP dispatcher's view here (status, ping, flags). A
Switchyard trunk is dialled as ``sofia/<profile>/<number>@<remote_addr>``:
FreeSWITCH keeps no registration or probe state for it, so the state shown
is the configured one and says so: ``Active`` with flags ``AX`` (active, not
probed) for an enabled trunk, ``disabled``/``DX`` otherwise, ``ping``
always ``disabled``. Trunks in no group are listed with an empty group, as
the spec's example shows. Members come from the group's ``params`` JSON
(``{"trunk_ids": [...]}``), where config-api keeps them.
"""

from __future__ import annotations

import json
import math
from typing import Any

import msgspec
from litestar import Request, get

from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.envelope import ListPage
from switchyard.shared.http.paging import parse_paging


class TrunkStatus(msgspec.Struct):
    description: str
    group_name: str
    status: str
    group_id: str
    priority: str
    remote_addr: str
    dflags: str
    ping: str
    flags: str
    attrs: str


def members(params: str) -> list[int]:
    try:
        data = json.loads(params) if params else None
    except ValueError:
        return []
    ids = data.get("trunk_ids", data.get("trunks")) if isinstance(data, dict) else None
    return [int(i) for i in ids or [] if str(i).isdigit()]


def _row(trunk: Any, group: Any | None) -> TrunkStatus:
    enabled = bool(trunk["enabled"])
    transport = (trunk["protocol"] or "UDP").upper()
    return TrunkStatus(
        description=group["description"] if group else "",
        group_name=group["name"] if group else "",
        status="Active" if enabled else "disabled",
        group_id=str(group["id"]) if group else "",
        priority="0",
        remote_addr=f"sip:{trunk['remote_addr']};transport={transport}",
        dflags="AX" if enabled else "DX",
        ping="disabled",
        flags="0",
        attrs="",
    )


@get("/api/trunk_groups/status")
async def trunk_status(request: Request[Any, Any, Any], runtime: AppRuntime) -> ListPage[Any]:
    paging = parse_paging(request.query_params, sortable=[])
    async with runtime.pool.acquire() as conn, conn.transaction(readonly=True):
        groups = await conn.fetch(
            "SELECT id, name, description, params FROM trunk_groups ORDER BY id"
        )
        trunks = {
            t["id"]: t
            for t in await conn.fetch(
                "SELECT id, remote_addr, protocol, enabled FROM trunks ORDER BY id"
            )
        }
    rows: list[TrunkStatus] = []
    grouped: set[int] = set()
    for group in groups:
        for trunk_id in members(group["params"]):
            if trunk_id in trunks:
                grouped.add(trunk_id)
                rows.append(_row(trunks[trunk_id], group))
    rows = [_row(t, None) for i, t in trunks.items() if i not in grouped] + rows
    page = rows[paging.offset : paging.offset + paging.per_page]
    return ListPage(
        page=paging.page,
        pageCount=max(1, math.ceil(len(rows) / paging.per_page)),
        rowCount=len(rows),
        data=page,
    )


route_handlers = [trunk_status]

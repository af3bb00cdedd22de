"""The console's webhook deliveries page (docs/console.md).

Per subscription: its state (a disabled one says why, and an admin can
enable it again), and the message log: every delivery with every attempt
(status, latency, a snippet of the response), filtered by time, status and
event; an admin replays one message, or everything that failed since a
time (``webhooks_http.replay_deliveries``, the API's replay).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Request, Router, get, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from switchyard.event_relay.webhooks_http import (
    RelayDep,
    _provide_relay,
    _row,
    _when,
    _writable,
    replay_deliveries,
)
from switchyard.shared.console.i18n import N_
from switchyard.shared.console.pages import LOGIN_REDIRECT, render, require_admin
from switchyard.shared.http.errors import ApiError, bad_request

PAGE = "switchyard.event_relay:deliveries.html"
PER_PAGE = 50
SNIPPET = 200
STATUSES = {
    "pending": N_("pending"),
    "delivered": N_("delivered"),
    "failed": N_("failed"),
}


class Query(msgspec.Struct):
    webhook: int | None = None
    status: str = ""
    event: str = ""
    since: str = ""
    until: str = ""
    call: str = ""  # a call's uuid: its lane (the recent calls page links here)
    before: int | None = None  # older than this delivery id (the next page back)


def _moment(name: str, text: str) -> dt.datetime | None:
    # <input type="datetime-local"> sends 2026-01-31T13:45 (no zone): the page
    # says these are UTC, as the API's times are.
    return _when(name, text.replace("T", " ")) if text else None


async def _deliveries(relay: Any, q: Query) -> list[dict[str, Any]]:
    where: list[str] = ["d.webhook_id = $1"]
    args: list[Any] = [q.webhook]
    if q.status:
        if q.status not in STATUSES:
            raise bad_request("status", "must be pending, delivered or failed")
        args.append(q.status)
        where.append(f"d.status = ${len(args)}")
    if q.event:
        args.append(q.event)
        where.append(f"d.event_name = ${len(args)}")
    if q.call:
        args.append(q.call)
        where.append(f"d.lane = ${len(args)}")
    if q.before is not None:
        args.append(q.before)
        where.append(f"d.id < ${len(args)}")
    for name, op in (("since", ">="), ("until", "<")):
        if moment := _moment(name, getattr(q, name)):
            args.append(moment)
            where.append(f"d.created_at {op} ${len(args)}")
    rows = await relay.pool.fetch(
        f"""
        SELECT d.id, d.message_id, d.event_name, d.status, d.attempts, d.created_at,
               d.finished_at
        FROM webhook_deliveries d WHERE {" AND ".join(where)}
        ORDER BY d.id DESC LIMIT {PER_PAGE}
        """,  # noqa: S608 - conditions are constants, values are parameters
        *args,
    )
    ids = [r["id"] for r in rows]
    attempts = await relay.pool.fetch(
        """SELECT delivery_id, attempted_at, status_code, ok, latency_ms, response, error
           FROM webhook_attempts WHERE delivery_id = ANY($1::bigint[]) ORDER BY id""",
        ids,
    )
    by_delivery: dict[int, list[dict[str, Any]]] = {}
    for a in attempts:
        item = dict(a)
        item["response"] = (a["response"] or "")[:SNIPPET]
        by_delivery.setdefault(a["delivery_id"], []).append(item)
    return [{**dict(r), "tries": by_delivery.get(r["id"], [])} for r in rows]


@get("/console/deliveries", include_in_schema=False, exception_handlers=LOGIN_REDIRECT)
async def deliveries_page(
    request: Request[Any, Any, Any],
    relay: RelayDep,
    webhook: FromQuery[int | None] = None,
    status: FromQuery[str] = "",
    event: FromQuery[str] = "",
    since: FromQuery[str] = "",
    until: FromQuery[str] = "",
    call: FromQuery[str] = "",
    before: FromQuery[int | None] = None,
) -> Template:
    q = Query(webhook, status, event.strip(), since, until, call.strip(), before)
    subs = await relay.pool.fetch(
        """SELECT id, url, format, events, description, enabled, system, disabled_reason,
                  failing_since FROM webhooks ORDER BY id"""
    )
    if q.webhook is None and subs:
        q.webhook = subs[0]["id"]
    chosen = next((s for s in subs if s["id"] == q.webhook), None)
    deliveries: list[dict[str, Any]] = []
    events: list[str] = []
    if chosen is not None:
        deliveries = await _deliveries(relay, q)
        events = [
            r["event_name"]
            for r in await relay.pool.fetch(
                "SELECT DISTINCT event_name FROM webhook_deliveries WHERE webhook_id = $1"
                " ORDER BY 1",
                q.webhook,
            )
        ]
    return render(
        request,
        PAGE,
        {
            "subs": subs,
            "chosen": chosen,
            "q": q,
            "deliveries": deliveries,
            "events": events,
            "statuses": STATUSES,
            "per_page": PER_PAGE,
        },
    )


class ReplayForm(msgspec.Struct):
    message_id: str = ""
    since: str = ""


def _back(webhook_id: int) -> Redirect:
    return Redirect(f"/console/deliveries?webhook={webhook_id}", status_code=303)


@post(
    "/console/deliveries/{webhook_id:int}/replay",
    include_in_schema=False,
    status_code=303,
    opt={"oplog_resource": "webhooks", "oplog_action": "replay"},
)
async def replay(
    webhook_id: FromPath[int],
    request: Request[Any, Any, Any],
    relay: RelayDep,
    data: URLEncodedBody[ReplayForm],
) -> Redirect:
    require_admin(request)
    await _row(relay.pool, webhook_id)
    if data.message_id:
        if not await replay_deliveries(relay, webhook_id, message_id=data.message_id):
            raise ApiError(404, f"no delivery {data.message_id} for this webhook")
    elif data.since:
        await replay_deliveries(
            relay, webhook_id, since=_moment("since", data.since), failed_only=True
        )
    else:
        raise bad_request("message_id", "give message_id, or since")
    return _back(webhook_id)


@post(
    "/console/deliveries/{webhook_id:int}/enable",
    include_in_schema=False,
    status_code=303,
    opt={"oplog_resource": "webhooks", "oplog_action": "enable"},
)
async def enable(
    webhook_id: FromPath[int], request: Request[Any, Any, Any], relay: RelayDep
) -> Redirect:
    require_admin(request)
    _writable(await _row(relay.pool, webhook_id))
    await relay.pool.execute(
        """UPDATE webhooks SET enabled = true, disabled_reason = '', failing_since = NULL,
                  updated_at = now() WHERE id = $1""",
        webhook_id,
    )
    await relay.changed()
    return _back(webhook_id)


router = Router(
    path="/",
    route_handlers=[deliveries_page, replay, enable],
    dependencies={"relay": Provide(_provide_relay)},
)

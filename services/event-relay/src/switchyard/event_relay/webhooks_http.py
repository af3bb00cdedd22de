"""/api/webhooks: subscriptions, their secrets, the delivery log, replay (docs/event-relay.md)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any, TypeAlias

import asyncpg
import msgspec
from litestar import Request, Router, delete, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from switchyard.event_relay import coocenter, store
from switchyard.event_relay.relay import Relay
from switchyard.event_relay.subscriptions import (
    ANSWER_STATES,
    DEFAULT_EVENTS,
    FORMATS,
    OPERATIONAL,
    ROTATION_OVERLAP,
    SYSTEM,
    check_event_name,
    check_pattern,
)
from switchyard.event_relay.urlpolicy import Refused
from switchyard.shared import webhooks
from switchyard.shared.http.body import read_body
from switchyard.shared.http.envelope import Created, ListPage, Ok
from switchyard.shared.http.errors import ApiError, bad_request, not_found
from switchyard.shared.http.ids import PathId
from switchyard.shared.http.openapi import Schema, doc, struct_body
from switchyard.shared.http.paging import fetch_page, parse_paging

UNSET: Any = msgspec.UNSET
# The running app's Relay (its lifespan state), handed in by Litestar.
RelayDep: TypeAlias = NamedDependency[Relay]


class Filters(msgspec.Struct, forbid_unknown_fields=True):
    node: str = ""
    caller: str = ""
    callee: str = ""
    answer_state: list[str] = msgspec.field(default_factory=list)


class WebhookIn(msgspec.Struct, forbid_unknown_fields=True):
    url: str | msgspec.UnsetType = UNSET
    events: list[str] | msgspec.UnsetType = UNSET
    format: str | msgspec.UnsetType = UNSET
    secret: str | msgspec.UnsetType = UNSET
    description: str | msgspec.UnsetType = UNSET
    enabled: bool | msgspec.UnsetType = UNSET
    filters: Filters | msgspec.UnsetType = UNSET


# --- the subscription body in the OpenAPI document -----------------------------------

# check_event_name for xswitch and raw subscriptions: an event, a CUSTOM
# subclass, * or one of the operational webhook.* events.
_EVENT_NAME: Schema = {
    "type": "string",
    "pattern": "^(?:\\*|[A-Z][A-Z0-9_]*|(?!webhook\\.)[A-Za-z0-9_.-]+::[A-Za-z0-9_:.-]+|"
    + "|".join(re.escape(n) for n in ("webhook.*", *OPERATIONAL))
    + ")$",
}
_PUSH_NAME: Schema = {"type": "string", "enum": ["*", *coocenter.PUSHES]}
# webhooks.secret_key: whsec_ and the base64 of 24 to 64 bytes.
_B64 = "[A-Za-z0-9+/]"
_SECRET: Schema = {
    "type": "string",
    "pattern": f"^(?:whsec_(?:(?:{_B64}{{4}}){{8,20}}(?:{_B64}{{2}}==|{_B64}{{3}}=)?"
    f"|(?:{_B64}{{4}}){{21}}(?:{_B64}{{2}}==)?))?$",
    "writeOnly": True,
    "description": "whsec_ and the base64 of 24-64 bytes; empty or absent: one is made",
}
_NO_NUL = "^[^\\x00]*$"
FILTERS_BODY: Schema = struct_body(
    Filters,
    description="Which events are sent: regular expressions (Python's) on the node, "
    "caller and callee, and the answer states; no other keys.",
    fields={
        name: {"type": "string", "format": "regex", "pattern": _NO_NUL}
        for name in ("node", "caller", "callee")
    }
    | {"answer_state": {"type": "array", "items": {"type": "string", "enum": list(ANSWER_STATES)}}},
)


def _webhook_body(*, create: bool) -> Schema:
    """POST (url required) or PUT (any field) of a subscription; events by format."""
    events: Schema = {
        "type": "array",
        "description": "[] or absent on create: the format's default events",
    }
    return struct_body(
        WebhookIn,
        title="WebhookCreate" if create else "WebhookUpdate",
        required=["url"] if create else [],
        fields={
            "url": {
                "type": "string",
                "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^\\x00]+$",
                "description": "http(s), no credentials; its host must resolve to public "
                "addresses (or ones SWITCHYARD_WEBHOOK_ALLOW_PRIVATE admits)",
            },
            "events": {**events, "items": {"anyOf": [_EVENT_NAME, _PUSH_NAME]}},
            "format": {"type": "string", "enum": list(FORMATS)},
            "secret": _SECRET,
            "description": {"anyOf": [{"type": "string", "pattern": _NO_NUL}, {"type": "number"}]},
            "filters": FILTERS_BODY,
        },
        # A coocenter subscription names coocenter's pushes, the others events
        # (if/then keeps the object plain for generated clients).
        extra={
            "if": {"required": ["format"], "properties": {"format": {"const": "coocenter"}}},
            "then": {"properties": {"events": {"type": "array", "items": _PUSH_NAME}}},
            "else": {"properties": {"events": {"type": "array", "items": _EVENT_NAME}}},
        },
    )


class WebhookOut(msgspec.Struct):
    id: int
    url: str
    events: list[str]
    format: str
    description: str
    enabled: bool
    filters: Filters
    system: bool
    disabled_reason: str
    failing_since: str | None
    created_at: str
    updated_at: str


class SecretOut(msgspec.Struct):
    key: str


class RotateIn(msgspec.Struct):
    key: str = ""


class ReplayIn(msgspec.Struct):
    event_id: str = ""  # a webhook-id (message id) or a delivery's event id
    since: str = ""
    until: str = ""


class AttemptOut(msgspec.Struct):
    id: int
    delivery_id: int
    message_id: str
    event: str
    attempted_at: str
    status_code: int
    ok: bool
    latency_ms: float
    response: str
    error: str
    delivery_status: str


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _out(row: Any) -> WebhookOut:
    return WebhookOut(
        id=row["id"],
        url=row["url"],
        events=list(row["events"]),
        format=row["format"],
        description=row["description"],
        enabled=row["enabled"],
        filters=Filters(
            row["filter_node"],
            row["filter_caller"],
            row["filter_callee"],
            list(row["filter_answer_states"]),
        ),
        system=row["system"],
        disabled_reason=row["disabled_reason"],
        failing_since=_time(row["failing_since"]),
        created_at=_time(row["created_at"]) or "",
        updated_at=_time(row["updated_at"]) or "",
    )


async def _checked(relay: Relay, body: WebhookIn, current: Any = None) -> dict[str, Any]:
    """The columns ``body`` sets, each checked; 400 naming the field otherwise."""
    cols: dict[str, Any] = {}
    fmt = body.format if body.format is not UNSET else (current["format"] if current else "xswitch")
    if fmt not in FORMATS:
        raise bad_request("format", f"must be one of {', '.join(FORMATS)}")
    cols["format"] = fmt
    if body.url is not UNSET or current is None:
        if body.url is UNSET or not body.url:
            raise bad_request("url", "is required")
        try:
            await relay.policy.check(body.url)
        except Refused as exc:
            raise bad_request("url", str(exc)) from None
        cols["url"] = body.url
    if body.events is not UNSET:
        events = body.events or DEFAULT_EVENTS[fmt]
        for name in events:
            if (why := check_event_name(name, fmt)) is not None:
                raise bad_request("events", why)
        cols["events"] = list(dict.fromkeys(events))
    elif current is None:
        cols["events"] = DEFAULT_EVENTS[fmt]
    elif fmt != current["format"]:
        # Another format names other events: the current ones must still mean something.
        for name in current["events"]:
            if (why := check_event_name(name, fmt)) is not None:
                raise bad_request("events", f"{why}; give events for format {fmt}")
    if body.secret is not UNSET and body.secret:
        try:
            webhooks.secret_key(body.secret)
        except ValueError as exc:
            raise bad_request("secret", str(exc)) from None
        cols["secret"] = body.secret
    elif current is None:
        cols["secret"] = webhooks.new_secret()
    if body.description is not UNSET:
        cols["description"] = body.description
    if body.enabled is not UNSET:
        cols["enabled"] = body.enabled
        if body.enabled:
            cols["disabled_reason"] = ""
            cols["failing_since"] = None
    if isinstance(body.filters, Filters):
        f = body.filters
        for name in ("node", "caller", "callee"):
            if (why := check_pattern(getattr(f, name))) is not None:
                raise bad_request(f"filters.{name}", why)
        bad = [s for s in f.answer_state if s not in ANSWER_STATES]
        if bad:
            raise bad_request("filters.answer_state", f"must be among {', '.join(ANSWER_STATES)}")
        cols.update(
            filter_node=f.node,
            filter_caller=f.caller,
            filter_callee=f.callee,
            filter_answer_states=f.answer_state,
        )
    return cols


async def _row(pool: asyncpg.Pool, webhook_id: int) -> Any:
    row = await pool.fetchrow("SELECT * FROM webhooks WHERE id = $1", webhook_id)
    if row is None:
        raise not_found()
    return row


def _writable(row: Any) -> None:
    if row["system"]:
        setting = SYSTEM.get(row["format"], "system").split(" ")[0]
        raise ApiError(
            403,
            f"read-only: the {setting} subscription follows the settings",
            {"field": "id", "reason": "read-only"},
        )


@post("/api/webhooks", status_code=200, opt=doc(body=_webhook_body(create=True)))
async def create(request: Request[Any, Any, Any], relay: RelayDep) -> Created:
    cols = await _checked(relay, await read_body(request, WebhookIn))
    names = list(cols)
    sql = (
        f"INSERT INTO webhooks ({', '.join(names)}) "  # noqa: S608 - names come from _checked
        f"VALUES ({', '.join(f'${i + 1}' for i in range(len(names)))}) RETURNING id"
    )
    webhook_id = await relay.pool.fetchval(sql, *cols.values())
    await relay.changed()
    return Created(webhook_id)


@get("/api/webhooks")
async def list_webhooks(request: Request[Any, Any, Any], relay: RelayDep) -> ListPage[WebhookOut]:
    paging = parse_paging(
        request.query_params,
        sortable=["id", "url", "created_at", "enabled"],
        searchable=["url", "description"],
    )
    page = await fetch_page(relay.pool, select="SELECT * FROM webhooks", paging=paging)
    return ListPage(page.page, page.pageCount, page.rowCount, [_out(r) for r in page.data])


@get("/api/webhooks/{webhook_id:int}")
async def read(webhook_id: PathId, relay: RelayDep) -> WebhookOut:
    return _out(await _row(relay.pool, webhook_id))


@put(
    "/api/webhooks/{webhook_id:int}",
    status_code=200,
    opt=doc(body=_webhook_body(create=False), body_required=False),
)
async def update(webhook_id: PathId, request: Request[Any, Any, Any], relay: RelayDep) -> Ok:
    row = await _row(relay.pool, webhook_id)
    _writable(row)
    cols = await _checked(relay, await read_body(request, WebhookIn), row)
    sets = ", ".join(f"{name} = ${i + 2}" for i, name in enumerate(cols))
    await relay.pool.execute(
        f"UPDATE webhooks SET {sets}, updated_at = now() WHERE id = $1",  # noqa: S608
        webhook_id,
        *cols.values(),
    )
    await relay.changed()
    return Ok()


@delete("/api/webhooks/{webhook_id:int}", status_code=200)
async def remove(webhook_id: PathId, relay: RelayDep) -> Ok:
    _writable(await _row(relay.pool, webhook_id))
    try:
        await store.delete_subscription(relay.pool, webhook_id)
    except asyncpg.DeadlockDetectedError:
        raise ApiError(
            503,
            "the subscription's deliveries are being written; try again",
            {"field": "id", "reason": "busy"},
        ) from None
    await relay.changed()
    return Ok()


@get("/api/webhooks/{webhook_id:int}/secret")
async def secret(webhook_id: PathId, relay: RelayDep) -> SecretOut:
    return SecretOut((await _row(relay.pool, webhook_id))["secret"])


@post("/api/webhooks/{webhook_id:int}/secret/rotate", status_code=200)
async def rotate(webhook_id: PathId, request: Request[Any, Any, Any], relay: RelayDep) -> SecretOut:
    row = await _row(relay.pool, webhook_id)
    _writable(row)
    key = (await read_body(request, RotateIn)).key or webhooks.new_secret()
    try:
        webhooks.secret_key(key)
    except ValueError as exc:
        raise bad_request("key", str(exc)) from None
    # The old secret keeps signing beside the new one while receivers switch.
    await relay.pool.execute(
        "UPDATE webhooks SET previous_secret = secret, previous_secret_until = now() + $2, "
        "secret = $3, updated_at = now() WHERE id = $1",
        webhook_id,
        ROTATION_OVERLAP,
        key,
    )
    await relay.changed()
    return SecretOut(key)


@post("/api/webhooks/{webhook_id:int}/test", status_code=200)
async def send_test(webhook_id: PathId, relay: RelayDep) -> Ok:
    await _row(relay.pool, webhook_id)
    msg_id = f"ping_{uuid.uuid4().hex}"
    payload = msgspec.json.encode(
        {
            "type": "ping",
            "timestamp": dt.datetime.now(dt.UTC).isoformat(),
            "data": {"webhook_id": webhook_id},
        }
    )
    incoming = store.Incoming(
        msg_id, "", payload, [store.Wanted(webhook_id, "", "ping", msg_id, msg_id)]
    )
    await store.record(relay.pool, [incoming], owner="")  # the leader adopts it
    await relay.changed()
    return Ok(data={"message_id": msg_id})


@get("/api/webhooks/{webhook_id:int}/attempts")
async def attempts(
    webhook_id: PathId, request: Request[Any, Any, Any], relay: RelayDep
) -> ListPage[AttemptOut]:
    await _row(relay.pool, webhook_id)
    q = request.query_params
    paging = parse_paging(q, sortable=["id", "attempted_at", "status_code"])
    where, args = ["a.webhook_id = $1"], [webhook_id]
    status = q.get("status", "")
    if status in ("ok", "success", "succeeded"):
        where.append("a.ok")
    elif status in ("failed", "fail", "error"):
        where.append("NOT a.ok")
    elif status.isdigit():
        args.append(int(status))
        where.append(f"a.status_code = ${len(args)}")
    elif status:
        raise bad_request("status", "must be ok, failed or an HTTP status")
    for param, column in (("event_id", "d.message_id"), ("message_id", "d.message_id")):
        if q.get(param):
            args.append(q[param])
            where.append(f"{column} = ${len(args)}")
    page = await fetch_page(
        relay.pool,
        select=(
            "SELECT a.id, a.delivery_id, d.message_id, d.event_name, a.attempted_at, a.status_code,"
            " a.ok, a.latency_ms, a.response, a.error, d.status AS delivery_status"
            " FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id"
        ),
        where=where,
        args=args,
        paging=paging,
        default_sort="id",
    )
    return ListPage(
        page.page,
        page.pageCount,
        page.rowCount,
        [
            AttemptOut(
                r["id"],
                r["delivery_id"],
                r["message_id"],
                r["event_name"],
                _time(r["attempted_at"]) or "",
                r["status_code"],
                r["ok"],
                round(float(r["latency_ms"]), 2),
                r["response"],
                r["error"],
                r["delivery_status"],
            )
            for r in page.data
        ],
    )


def _when(name: str, text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise bad_request(name, "must be a time like 2025-01-31 13:45:00") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@post("/api/webhooks/{webhook_id:int}/replay", status_code=200)
async def replay(webhook_id: PathId, request: Request[Any, Any, Any], relay: RelayDep) -> Ok:
    await _row(relay.pool, webhook_id)
    body = await read_body(request, ReplayIn)
    if body.event_id:
        count = await replay_deliveries(relay, webhook_id, message_id=body.event_id)
        if not count:
            raise not_found(f"no delivery {body.event_id} for this webhook")
    elif body.since:
        until = _when("until", body.until) if body.until else dt.datetime.now(dt.UTC)
        count = await replay_deliveries(
            relay, webhook_id, since=_when("since", body.since), until=until
        )
    else:
        raise bad_request("event_id", "give event_id, or since (and until)")
    return Ok(data={"replayed": count})


async def replay_deliveries(
    relay: Relay,
    webhook_id: int,
    *,
    message_id: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    failed_only: bool = False,
) -> int:
    """Send one message (``message_id``) or those made in [since, until) again:
    the same rows with the same webhook-id, as new attempts, in lane order.
    (The API's replay and the console's.)"""
    args: list[Any] = [webhook_id]
    if message_id:
        args.append(message_id)
        where = "message_id = $2"
    else:
        args += [since or dt.datetime.fromtimestamp(0, dt.UTC), until or dt.datetime.now(dt.UTC)]
        where = "created_at >= $2 AND created_at < $3"
    if failed_only:
        where += " AND status = 'failed'"
    count: int = await relay.pool.fetchval(
        f"""
        WITH r AS (
            UPDATE webhook_deliveries
            SET status = 'pending', attempts = 0, next_at = now(), owner = NULL, finished_at = NULL
            WHERE webhook_id = $1 AND {where} RETURNING 1
        ) SELECT count(*) FROM r
        """,  # noqa: S608 - where is made of constants
        *args,
    )
    if count:
        await relay.changed()
    return count


async def _provide_relay(state: State) -> Relay:
    relay: Relay = state["event-relay"]
    return relay


router = Router(
    path="/",
    route_handlers=[
        create,
        list_webhooks,
        read,
        update,
        remove,
        secret,
        rotate,
        send_test,
        attempts,
        replay,
    ],
    dependencies={"relay": Provide(_provide_relay)},
)

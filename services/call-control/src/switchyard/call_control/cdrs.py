"""Call detail records: one row per channel from its CHANNEL_HANGUP_COMPLETE.

A durable consumer on ``SY_FS_EVENTS`` (shared by every call-control
replica: each event goes to one of them) writes ``cdrs``; the row is keyed
by the channel's uuid, so a redelivered event writes nothing twice, and an
event is acknowledged only once its row is committed, so none is lost when a
replica stops. Rows older than ``SWITCHYARD_CDR_RETENTION_DAYS`` are deleted
hourly. ``GET /api/cdrs`` lists them with the usual paging and filters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from litestar import Request, get
from nats.js.api import DeliverPolicy

from switchyard.shared.event_consumer import consume_events
from switchyard.shared.http.deps import AppRuntime
from switchyard.shared.http.envelope import ListPage
from switchyard.shared.http.errors import bad_request
from switchyard.shared.http.paging import escape_like, fetch_page, parse_paging
from switchyard.shared.runtime import Runtime
from switchyard.shared.tasks import cancel_and_wait

log = logging.getLogger(__name__)

DURABLE = "call-control-cdrs"
EVENT = "CHANNEL_HANGUP_COMPLETE"
PURGE_EVERY = 3600.0

COLUMNS = (
    "uuid, node, direction, caller_number, caller_name, destination, context, other_leg,"
    " started_at, answered_at, ended_at, duration, billsec, hangup_cause, recording"
)


def _time(value: Any) -> datetime | None:
    """FreeSWITCH's microsecond times; 0 (never) is None."""
    try:
        us = int(str(value))
    except ValueError:
        return None
    return datetime.fromtimestamp(us / 1_000_000, UTC) if us > 0 else None


def record_of(node: str, event: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The ``cdrs`` row of one CHANNEL_HANGUP_COMPLETE (in COLUMNS' order)."""
    uuid = str(event.get("Unique-ID", ""))
    if not uuid:
        return None
    ended = _time(event.get("Caller-Channel-Hangup-Time", 0)) or datetime.now(UTC)
    started = _time(event.get("Caller-Channel-Created-Time", 0)) or ended
    answered = _time(event.get("Caller-Channel-Answered-Time", 0))

    def text(*names: str) -> str:
        return next((str(event[n]) for n in names if event.get(n)), "")

    source = "Caller-Orig-" if event.get("Caller-Orig-Caller-ID-Number") else "Caller-"
    return (
        uuid,
        node,
        text("Call-Direction"),
        # The caller id the channel started with (an originated leg flips its own).
        text(f"{source}Caller-ID-Number"),
        text(f"{source}Caller-ID-Name"),
        text("Caller-Destination-Number"),
        text("Caller-Context"),
        text("Other-Leg-Unique-ID", "variable_bridge_uuid"),
        started,
        answered,
        ended,
        max(0, int((ended - started).total_seconds())),
        max(0, int((ended - answered).total_seconds())) if answered else 0,
        text("Hangup-Cause", "variable_hangup_cause"),
        text("variable_record_path", "variable_recording_file"),
    )


class CdrRecorder:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name="cdrs:record"),
            asyncio.create_task(self._purge(), name="cdrs:purge"),
        ]

    async def stop(self) -> None:
        await cancel_and_wait(*self._tasks)

    async def _run(self) -> None:
        bus = self.runtime.bus
        head = bus.subjects.events_all.removesuffix(">")

        async def handle(subject: str, event: dict[str, object]) -> None:
            row = record_of(subject.removeprefix(head).split(".", 1)[0], event)
            if row is not None:
                await self.write([row])

        await consume_events(
            bus,
            bus.subjects.events_named(EVENT),
            DURABLE,
            handle,
            deliver_policy=DeliverPolicy.NEW,  # a first start records from now on
            metrics=self.runtime.metrics,
        )

    async def write(self, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            await self.runtime.pool.executemany(
                f"INSERT INTO cdrs ({COLUMNS}) VALUES "  # noqa: S608 - constant columns
                "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
                " ON CONFLICT (uuid) DO NOTHING",
                rows,
            )

    async def _purge(self) -> None:
        days = self.runtime.settings.cdr_retention_days
        while True:
            try:
                await self.runtime.pool.execute(
                    "DELETE FROM cdrs WHERE ended_at < $1",
                    datetime.now(UTC) - timedelta(days=days),
                )
            except Exception:
                log.exception("deleting old call records failed")
            await asyncio.sleep(PURGE_EVERY)


@asynccontextmanager
async def recording(runtime: Runtime) -> AsyncIterator[CdrRecorder]:
    recorder = CdrRecorder(runtime)
    await recorder.start()
    try:
        yield recorder
    finally:
        await recorder.stop()


# --- GET /api/cdrs --------------------------------------------------------------

SORTABLE = ["id", "started_at", "answered_at", "ended_at", "duration", "billsec"]
SEARCHABLE = ["caller_number", "destination", "hangup_cause", "uuid", "context", "node"]


class Cdr(msgspec.Struct):
    id: int
    uuid: str
    node: str
    direction: str
    caller_number: str
    caller_name: str
    destination: str
    context: str
    other_leg: str
    started_at: str
    answered_at: str | None
    ended_at: str
    duration: int
    billsec: int
    hangup_cause: str
    recording: str


def _text(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _when(name: str, text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("T", " ").replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(name, "must be a time like 2026-01-31 13:45:00") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def cdr_filters(q: Mapping[str, str]) -> tuple[list[str], list[Any]]:
    """The list's conditions: ``since``/``until`` (ended, UTC unless an offset
    is given), ``direction``, ``answered`` (true/false), ``number`` (a
    substring of the caller or the destination), ``node``."""
    where: list[str] = []
    args: list[Any] = []
    for name, value in q.items():
        if "\x00" in value:  # Postgres text cannot hold it: a 400, not a 500
            raise bad_request(name, "must not contain NUL characters")
    for name, op in (("since", ">="), ("until", "<")):
        if q.get(name):
            args.append(_when(name, q[name]))
            where.append(f"ended_at {op} ${len(args)}")
    if direction := q.get("direction", ""):
        if direction not in ("inbound", "outbound"):
            raise bad_request("direction", "must be inbound or outbound")
        args.append(direction)
        where.append(f"direction = ${len(args)}")
    answered = q.get("answered", "").lower()
    if answered in ("1", "true", "yes"):
        where.append("answered_at IS NOT NULL")
    elif answered in ("0", "false", "no"):
        where.append("answered_at IS NULL")
    elif answered:
        raise bad_request("answered", "must be true or false")
    if number := q.get("number", "").strip():
        args.append(f"%{escape_like(number)}%")
        where.append(f"(caller_number ILIKE ${len(args)} OR destination ILIKE ${len(args)})")
    if node := q.get("node", ""):
        args.append(node)
        where.append(f"node = ${len(args)}")
    return where, args


async def cdr_page(runtime: Runtime, q: Mapping[str, str]) -> ListPage[Cdr]:
    where, args = cdr_filters(q)
    paging = parse_paging(q, sortable=SORTABLE, searchable=SEARCHABLE)
    if not paging.sort_field:
        paging = msgspec.structs.replace(paging, sort_field="id", sort_order="desc")
    page = await fetch_page(
        runtime.pool,
        select=f"SELECT id, {COLUMNS} FROM cdrs",  # noqa: S608 - constant columns
        where=where,
        args=args,
        paging=paging,
    )
    return ListPage(
        page.page,
        page.pageCount,
        page.rowCount,
        [
            Cdr(
                **{
                    **r,
                    "started_at": _text(r["started_at"]) or "",
                    "answered_at": _text(r["answered_at"]),
                    "ended_at": _text(r["ended_at"]) or "",
                }
            )
            for r in page.data
        ],
    )


@get("/api/cdrs", summary="Call detail records, newest first")
async def list_cdrs(request: Request[Any, Any, Any], runtime: AppRuntime) -> ListPage[Cdr]:
    return await cdr_page(runtime, request.query_params)


route_handlers = [list_cdrs]

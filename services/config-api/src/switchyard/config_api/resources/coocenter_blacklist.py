"""coocenter's inbound blacklist: ``/coocenter-api/blacklist/index|create|delete``.

It is one of config-api's blacklists: the black list named ``coocenter``
(made on the first create), whose numbers the routing engine refuses like
any other blacklist's (docs/routing.md; bind it to a route or context as
usual). Authentication is coocenter's WEBKEY digest (shared/http/coocenter.py).
"""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request, delete, get, post

from switchyard.config_api.state import ConfigApi
from switchyard.shared.fsvalues import NUMBER
from switchyard.shared.http import coocenter
from switchyard.shared.http.coocenter import (
    FORM,
    Refused,
    Reply,
    form,
    form_body,
    form_field,
    reply_schema,
    required,
    success,
)
from switchyard.shared.http.openapi import doc

LIST = "coocenter"
GUARDS = [coocenter.guard]
_NUMBER = form_body({"number": form_field(NUMBER, "the caller's number")}, ["number"])


async def _list_id(conn: asyncpg.Connection, *, create: bool) -> int | None:
    found = await conn.fetchval("SELECT id FROM blacklists WHERE name = $1", LIST)
    if found is None and create:
        found = await conn.fetchval(
            "INSERT INTO blacklists (name, description, list_type) VALUES ($1, $2, 0) "
            "ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
            LIST,
            "coocenter's inbound blacklist (/coocenter-api/blacklist)",
        )
    return int(found) if found is not None else None


async def _number(request: Request[Any, Any, Any]) -> str:
    number = required(await form(request), "number")
    if not NUMBER.ok(number):
        raise Refused(400, f"number: {NUMBER.reason}")
    return number


@get(
    "/coocenter-api/blacklist/index",
    guards=GUARDS,
    opt={
        **coocenter.OPT,
        **doc(reply=reply_schema(None, {"type": "array", "items": {"type": "string"}})),
    },
)
async def index(config: ConfigApi) -> Reply:
    rows = await config.runtime.pool.fetch(
        "SELECT n.v FROM blacklist_numbers n JOIN blacklists b ON b.id = n.blacklist_id "
        "WHERE b.name = $1 AND n.disabled = 0 ORDER BY n.id",
        LIST,
    )
    return success(data=[r["v"] for r in rows])


@post(
    "/coocenter-api/blacklist/create",
    status_code=200,
    guards=GUARDS,
    opt={
        **coocenter.WRITE_OPT,
        **doc(
            body=_NUMBER,
            body_type=FORM,
            reply=reply_schema("Updated database successfully"),
        ),
    },
)
async def create(request: Request[Any, Any, Any], config: ConfigApi) -> Reply:
    number = await _number(request)
    async with config.write() as tx:
        list_id = await _list_id(tx.conn, create=True)
        exists = await tx.conn.fetchval(
            "SELECT 1 FROM blacklist_numbers WHERE blacklist_id = $1 AND v = $2", list_id, number
        )
        if not exists:
            await tx.conn.execute(
                "INSERT INTO blacklist_numbers (blacklist_id, v) VALUES ($1, $2)", list_id, number
            )
            tx.changed("blacklists", "update", list_id)
    return success("Updated database successfully")


@delete(
    "/coocenter-api/blacklist/delete",
    status_code=200,
    guards=GUARDS,
    opt={
        **coocenter.WRITE_OPT,
        **doc(body=_NUMBER, body_type=FORM, reply=reply_schema("Key deleted successfully")),
    },
)
async def remove(request: Request[Any, Any, Any], config: ConfigApi) -> Reply:
    number = await _number(request)
    async with config.write() as tx:
        list_id = await _list_id(tx.conn, create=False)
        done = await tx.conn.execute(
            "DELETE FROM blacklist_numbers WHERE blacklist_id = $1 AND v = $2", list_id, number
        )
        if done == "DELETE 0":
            raise Refused(404, "number: not in the blacklist")
        tx.changed("blacklists", "update", list_id)
    return success("Key deleted successfully")


route_handlers = [index, create, remove]

"""Contexts (/api/contexts): where a call comes from; routes and extensions name one by `key`."""

from __future__ import annotations

from switchyard.config_api.framework.crud import handlers
from switchyard.config_api.framework.spec import Col, Filter, Referrer, Resource
from switchyard.shared.fsvalues import HOST, NAME

CONTEXTS = Resource(
    name="contexts",
    table="contexts",
    id_wire="num",
    cols=(
        Col("name", required=True),
        # The dialplan context FreeSWITCH hunts in (user_context, transfer … XML <key>).
        Col("key", rule=NAME),
        Col("description"),
        Col("domain", rule=HOST),
        # CherryPBX compares hotline_enabled === "1": pinned to a string.
        Col("hotline_enabled", "flag", default=0, wire="str"),
    ),
    # The contexts page reads `identifier` and falls back to `key`: both are returned.
    select="SELECT *, key AS identifier FROM contexts",
    computed={"identifier": "str"},
    key_prefix="context-",
    toggle="hotline_enabled",
    filters=(Filter("name", "name", "like"), Filter("key", "key")),
    referrers=(
        Referrer("routes", "SELECT name FROM routes WHERE context = $1 ORDER BY id", by_key=True),
        Referrer(
            "extensions", "SELECT extn FROM extensions WHERE context = $1 ORDER BY id", by_key=True
        ),
    ),
)


def route_handlers() -> list:  # type: ignore[type-arg]
    return handlers(CONTEXTS)

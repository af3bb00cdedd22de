"""Hotlines (/api/hotlines): a DID that rings a list of extensions; nothing
but their declaration."""

from __future__ import annotations

from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework.crud import handlers
from switchyard.config_api.framework.spec import Col, Filter, Resource
from switchyard.shared.fsvalues import NUMBER

HOTLINES = Resource(
    name="hotlines",
    table="hotlines",
    id_wire="str",
    pin="str",
    cols=(
        # A DID: matched against the dialled number; rings user/<numbers>@…
        Col("line_number", required=True, rule=NUMBER),
        Col("numbers", required=True, rule=NUMBER),
        Col("description"),
        Col("type"),
        Col("ref_id"),
    ),
    filters=(Filter("numbers", "numbers"), Filter("line_number", "line_number")),
)


def route_handlers() -> list[HTTPRouteHandler]:
    return [
        *handlers(HOTLINES),
    ]

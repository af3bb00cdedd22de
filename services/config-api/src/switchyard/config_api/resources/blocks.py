"""IVR blocks (/api/blocks): stored XML/JS/Lua call flows a route names with
FS_DEST_IVRBLOCK; nothing but their declaration."""

from __future__ import annotations

from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework.crud import handlers
from switchyard.config_api.framework.spec import Col, Filter, Referrer, Resource
from switchyard.config_api.resources.destination_checks import uses_sql

BLOCKS = Resource(
    name="blocks",
    table="blocks",
    id_wire="str",
    pin="str",
    cols=(
        Col("name", required=True),
        Col("description"),
        Col("xml", searchable=False),
        Col("js", searchable=False),
        Col("lua", searchable=False),
        Col("ver"),
        Col("ivr_menu_id"),
    ),
    filters=(Filter("name", "name", "like"),),
    referrers=(Referrer("routes", uses_sql("FS_DEST_IVRBLOCK")),),
)


def route_handlers() -> list[HTTPRouteHandler]:
    return [
        *handlers(BLOCKS),
    ]

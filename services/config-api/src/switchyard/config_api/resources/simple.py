"""Resources that are nothing but their declaration: func codes, blocks, hotlines."""

from __future__ import annotations

from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework.crud import handlers
from switchyard.config_api.framework.spec import Col, Filter, Referrer, Resource
from switchyard.config_api.resources.destinations import uses_sql
from switchyard.shared.fsvalues import NUMBER

FUNC_TYPES = (
    "FS_DEST_FUNC_CALL_FORWARDING", "FS_DEST_FUNC_CALL_FORWARDING_CANCEL",
    "FS_DEST_FUNC_CALL_FORWARD_BUSY", "FS_DEST_FUNC_CALL_FORWARD_BUSY_CANCEL",
    "FS_DEST_FUNC_CALL_FORWARD_WITHOUT_RESPONSE",
    "FS_DEST_FUNC_CALL_FORWARD_WITHOUT_RESPONSE_CANCEL",
    "FS_DEST_FUNC_CALL_FORWARD_NO_RESPONSE", "FS_DEST_FUNC_CALL_FORWARD_NO_RESPONSE_CANCEL",
    "FS_DEST_FUNC_CALL_DND", "FS_DEST_FUNC_CALL_DND_CANCEL", "FS_DEST_FORCE_INSERT",
    "FS_DEST_FORCE_BREAKDOWN", "FS_DEST_EAVESDROP", "FS_DEST_LAST_INTERCEPT",
    "FS_DEST_DEST_INTERCEPT", "FS_DEST_FUNC_CALL_VOICEMAIL", "FS_DEST_FUNC_CALL_FIFO_BACK",
    "FS_DEST_FUNC_CALL_RECORD", "FS_DEST_TIMELY_MEETING", "FS_DEST_MCASTS",
    "FS_DEST_FUNC_CALL_EXTN",
)  # fmt: skip

FUNC_CODES = Resource(
    name="func_code",
    table="func_codes",
    cols=(
        Col("func_code", required=True, rule=NUMBER),
        Col("func_type", required=True, choices=FUNC_TYPES),
        Col("description"),
        Col("disabled", "flag", default=0),
    ),
    filters=(Filter("func_type", "func_type"), Filter("func_code", "func_code")),
    toggle="disabled",
)

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
    return [*handlers(FUNC_CODES), *handlers(BLOCKS), *handlers(HOTLINES)]

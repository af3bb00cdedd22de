"""Function codes (/api/func_code): a dialled code that runs a feature (call
forwarding, DND, intercept …); nothing but their declaration."""

from __future__ import annotations

from litestar.handlers import HTTPRouteHandler

from switchyard.config_api.framework.crud import handlers
from switchyard.config_api.framework.spec import Col, Filter, Resource
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


def route_handlers() -> list[HTTPRouteHandler]:
    return [
        *handlers(FUNC_CODES),
    ]

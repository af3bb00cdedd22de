"""Whether a background worker runs (/api/check/:name), by the spec's worker
names."""

from __future__ import annotations

import msgspec
from litestar import get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from switchyard.config_api.state import ConfigApi
from switchyard.shared.http.errors import not_found

# The spec's script names and what stands for them in Switchyard. None:
# no Switchyard worker does that job yet, so it honestly reports "not running".
CHECKS: dict[str, str | None] = {
    "clean-file": None,  # media retention belongs to the media service
    "conference-manager-cdr": None,
    "conference-manager": None,
    "heartbeat": "config-outbox",  # config-api's own liveness: its outbox worker
    "sip-trace": None,
    "config-outbox": "config-outbox",
}


class CheckReply(msgspec.Struct):
    msg: str
    code: int


@get("/api/check/{name:str}", operation_id="check_worker", summary="Is a background worker running")
async def check(name: FromPath[str], config: ConfigApi) -> CheckReply:
    if name not in CHECKS:
        raise not_found()
    worker = CHECKS[name]
    running = worker == "config-outbox" and config.outbox.running
    return CheckReply("Already Running", 0) if running else CheckReply("Not Running", 200)


def route_handlers() -> list[HTTPRouteHandler]:
    return [
        check,
    ]

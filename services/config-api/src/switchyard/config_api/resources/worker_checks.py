"""Whether a background worker runs (/api/check/:name), by the spec's worker
names."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

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
async def check(name: FromPath[str], request: Request[Any, Any, Any]) -> CheckReply:
    if name not in CHECKS:
        raise not_found()
    worker = CHECKS[name]
    state = request.app.state.get("config-api")
    running = worker == "config-outbox" and state is not None and state.outbox.running
    return CheckReply("Already Running", 0) if running else CheckReply("Not Running", 200)


def route_handlers() -> list[HTTPRouteHandler]:
    return [
        check,
    ]

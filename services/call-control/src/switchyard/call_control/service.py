"""The call-control service as the runner sees it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Router

from switchyard.call_control import (
    cdrs,
    channels_http,
    cli_http,
    console_calls,
    console_cdrs,
    console_gateways,
    console_nodes,
    coocenter_http,
    gateways_http,
    trunks_http,
)
from switchyard.call_control.replica import Replica, replica_lifespan
from switchyard.shared.runtime import Runtime
from switchyard.shared.service import Service, Slot


@asynccontextmanager
async def lifespan(runtime: Runtime) -> AsyncIterator[Replica]:
    """The replica (nodes, ESL, commands) and the call records it keeps."""
    async with (
        replica_lifespan(runtime) as replica,
        cdrs.recording(runtime),
        gateways_http.serving_control(runtime),
    ):
        yield replica


async def ready(replica: Replica | None) -> str | None:
    if replica is None:
        return "starting"
    return None


def _handlers(replica: Slot[Replica]) -> list[Any]:
    # One router so a handler can take the running ``replica`` (503 before
    # the lifespan has filled the slot).
    return [
        Router(
            "/",
            route_handlers=[
                *channels_http.route_handlers,
                *gateways_http.route_handlers,
                *trunks_http.route_handlers,
                *cli_http.route_handlers,
                *coocenter_http.route_handlers,
                *console_calls.route_handlers,
                *console_gateways.route_handlers,
                *console_nodes.route_handlers,
                *console_cdrs.route_handlers,
                *cdrs.route_handlers,
            ],
            dependencies={"replica": replica.provide()},
        )
    ]


service = Service(name="call-control", route_handlers=_handlers, lifespan=lifespan, ready=ready)

"""The config-api service as the runner sees it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Router

from switchyard.config_api import console_routes, demo
from switchyard.config_api.framework import openapi
from switchyard.config_api.framework.readcache import ReadCache
from switchyard.config_api.fsxml import endpoint
from switchyard.config_api.fsxml.metrics import FsXmlMetrics
from switchyard.config_api.live import Live
from switchyard.config_api.outbox import Outbox
from switchyard.config_api.resources import (
    blacklists,
    blocks,
    callcenter_queues,
    contexts,
    coocenter_blacklist,
    device_provisions,
    dicts,
    dods,
    extensions,
    func_codes,
    gateways,
    hotlines,
    ip_blacklist,
    ivrs,
    logs,
    number_translation,
    routes,
    routing_api,
    sensors,
    time_rules,
    trunks,
    worker_checks,
)
from switchyard.config_api.state import NAME, ConfigApiState, dependencies
from switchyard.shared.http import coocenter
from switchyard.shared.messages import RouteRequest
from switchyard.shared.runtime import Runtime
from switchyard.shared.service import Service, Slot


@asynccontextmanager
async def lifespan(runtime: Runtime) -> AsyncIterator[ConfigApiState]:
    endpoint.warn_if_open(runtime.settings.xml_curl_secret)
    coocenter.warn_if_open(runtime.settings, "its blacklist can be read and emptied")
    runtime.metrics.bundle(FsXmlMetrics)  # listed from the first scrape
    if runtime.settings.demo:
        await demo.seed(runtime)
    outbox = Outbox(runtime)
    outbox.start()
    outbox.kick()  # notices left by a previous run
    reads = ReadCache()
    live = Live(runtime, changed=reads.changed)
    try:
        await live.start()  # compiled before the first request is served
        sub = await runtime.bus.serve(
            runtime.subjects.route_lookup,
            RouteRequest,
            routing_api.lookup_handler(live),
            queue=runtime.subjects.config_api_queue,
            local=True,  # call-control in this process asks without a NATS round trip
        )
        try:
            yield ConfigApiState(runtime, outbox, live, reads)
        finally:
            await sub.unsubscribe()
    finally:
        await live.stop()
        await outbox.stop()


async def ready(state: Any) -> str | None:
    if not isinstance(state, ConfigApiState) or not state.outbox.running:
        return "config outbox worker not running"
    if not state.live.running:
        return "routing configuration not compiled or its worker stopped"
    return None


def _handlers(config: Slot[ConfigApiState]) -> list[Any]:
    # One router so every handler gets the ``config`` dependency (state.py).
    return [
        Router("/", route_handlers=_documented(config), dependencies=dependencies(config)),
        # coocenter's blacklist: its own auth and reply bodies, outside the XSwitch schema.
        Router(
            "/",
            route_handlers=coocenter_blacklist.route_handlers,
            dependencies=dependencies(config),
            exception_handlers=coocenter.EXCEPTION_HANDLERS,
        ),
        # The console's route explain page (docs/console.md), outside the schema.
        Router(
            "/", route_handlers=console_routes.route_handlers, dependencies=dependencies(config)
        ),
    ]


def _documented(config: Slot[ConfigApiState]) -> list[Any]:
    return openapi.document(
        [
            *dicts.route_handlers(),
            *contexts.route_handlers(),
            *extensions.route_handlers(),
            *routing_api.route_handlers(),
            *routes.route_handlers(),
            *gateways.route_handlers(),
            *blacklists.route_handlers(),
            *callcenter_queues.route_handlers(),
            *ivrs.route_handlers(),
            *func_codes.route_handlers(),
            *blocks.route_handlers(),
            *hotlines.route_handlers(),
            *trunks.route_handlers(),
            *dods.route_handlers(),
            *time_rules.route_handlers(),
            *number_translation.route_handlers(),
            *device_provisions.route_handlers(),
            *sensors.route_handlers(),
            *ip_blacklist.route_handlers(),
            *logs.route_handlers(),
            *worker_checks.route_handlers(),
            *endpoint.route_handlers(config),
        ]
    )


service = Service(name=NAME, route_handlers=_handlers, lifespan=lifespan, ready=ready)

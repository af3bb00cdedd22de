"""Builds one Litestar app from one or several services (docs/architecture.md).

``switchyard run config-api`` serves one service, ``switchyard up`` all of
them; both go through ``create_app``, so a single process and a cluster run
the same code paths, and services still meet only over NATS.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import msgspec
from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from opentelemetry import trace

from switchyard.shared.bus import Bus
from switchyard.shared.console import pages as console_pages
from switchyard.shared.console import shell as console
from switchyard.shared.db import create_pool, redact_dsn
from switchyard.shared.embedded import die_with_parent
from switchyard.shared.http import sessions
from switchyard.shared.http.auth import EXCLUDE_OPT, auth_middleware
from switchyard.shared.http.body import BodyCheckingRequest
from switchyard.shared.http.docs_ui import SwaggerUiPlugin
from switchyard.shared.http.errors import exception_handlers
from switchyard.shared.http.limits import LoginLimiter
from switchyard.shared.http.methods import options_allow
from switchyard.shared.http.openapi import document_routes
from switchyard.shared.http.openapi import tags as openapi_tags
from switchyard.shared.http.oplog import OperationLogMiddleware
from switchyard.shared.http.oplog_writer import OplogWriter
from switchyard.shared.http.peer import parse_networks
from switchyard.shared.http.security import add_security_headers
from switchyard.shared.http.tokencache import TokenCache
from switchyard.shared.http.tracing import TracingMiddleware
from switchyard.shared.messages import Pong, TokenRevoked
from switchyard.shared.metrics import CONTENT_TYPE, Metrics
from switchyard.shared.runtime import Runtime
from switchyard.shared.service import Service, Slot, discover, select
from switchyard.shared.settings import Settings
from switchyard.shared.subjects import Subjects
from switchyard.shared.telemetry import configure_logging, setup_telemetry

log = logging.getLogger(__name__)

READY_TIMEOUT = 2
# The runner's own paths for probes and scrapes: neither traced nor counted,
# and never routed by the public Ingress (ingress.py).
INTERNAL_PATHS = ("/healthz", "/readyz", "/metrics")


class Health(msgspec.Struct):
    status: str
    services: dict[str, str]
    checks: dict[str, str] = msgspec.field(default_factory=dict)


@get("/healthz", opt={EXCLUDE_OPT: True}, include_in_schema=False)
async def healthz(state: State) -> Health:
    return Health("ok", {name: "running" for name in state.service_names})


@get("/readyz", opt={EXCLUDE_OPT: True}, include_in_schema=False)
async def readyz(state: State) -> Response[Health]:
    checks: dict[str, str] = {}
    runtime: Runtime | None = state.get("runtime")
    if runtime is None:
        return Response(Health("starting", {}, {}), status_code=503)
    try:
        await asyncio.wait_for(runtime.pool.fetchval("SELECT 1"), READY_TIMEOUT)
        checks["postgres"] = "ok"
    except Exception as exc:
        checks["postgres"] = f"down: {type(exc).__name__}"
    try:
        await runtime.bus.nc.flush(timeout=READY_TIMEOUT)
        checks["nats"] = "ok"
    except Exception as exc:
        checks["nats"] = f"down: {type(exc).__name__}"
    services: dict[str, str] = {}
    slot: Slot[Any]
    for service, slot in state.services:
        problem = None
        if service.ready is not None:
            try:
                problem = await asyncio.wait_for(service.ready(slot.value), READY_TIMEOUT)
            except Exception as exc:
                problem = f"check failed: {type(exc).__name__}"
        services[service.name] = problem or "ok"
    ok = all(v == "ok" for v in checks.values()) and all(v == "ok" for v in services.values())
    return Response(
        Health("ok" if ok else "unready", services, checks), status_code=200 if ok else 503
    )


# Unauthenticated like the probes: Prometheus scrapes it in-cluster, the
# generated Ingress never routes it, and nothing in it is a secret
# (docs/security.md).
@get("/metrics", opt={EXCLUDE_OPT: True, "oplog": False}, include_in_schema=False)
async def metrics(state: State) -> Response[bytes]:
    registry: Metrics = state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE)


def create_app(
    settings: Settings, services: Sequence[Service], *, own_logging: bool = False
) -> Litestar:
    """``own_logging``: configure the process's logging (a server process, not a test)."""
    names = [s.name for s in services]
    slots: list[Slot[Any]] = [Slot(s.name) for s in services]
    # The app's Runtime for handlers (the ``runtime`` dependency), filled with
    # the lifespan; middleware reads it from ``app.state.runtime``.
    runtime_slot: Slot[Runtime] = Slot("switchyard")
    telemetry = setup_telemetry("switchyard-" + "+".join(names))
    app_metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if own_logging:
            # Here, not in the factory: granian configures logging after loading it.
            configure_logging(settings.log_level, settings.log_format)
        async with AsyncExitStack() as stack:
            stack.callback(telemetry.shutdown)
            log.info("connecting to postgres at %s", redact_dsn(settings.database_url))
            pool = await create_pool(
                settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
            )
            stack.push_async_callback(pool.close)
            bus = await Bus.connect(
                settings.nats_url,
                Subjects(settings.nats_namespace),
                name="switchyard:" + ",".join(names),
                timeout=settings.bus_timeout,
                replicas=settings.jetstream_replicas,
                # Every service's own spans (bus, ESL, webhooks) come from this
                # tracer: none with OTEL_SDK_DISABLED=true.
                tracer=telemetry.tracer_provider.get_tracer("switchyard.bus")
                if telemetry.enabled
                else trace.NoOpTracer(),
            )
            stack.push_async_callback(bus.close)

            async def pong(_: Any) -> Pong:
                return Pong(names)

            ping = await bus.serve(bus.subjects.ping, Any, pong)
            stack.push_async_callback(ping.unsubscribe)

            notices = await bus.subscribe(
                bus.subjects.token_revoked, TokenRevoked, tokens.on_notice
            )
            stack.push_async_callback(notices.unsubscribe)
            oplog = OplogWriter(pool)
            stack.push_async_callback(oplog.close)  # before the pool closes
            runtime = Runtime(settings, pool, bus, tokens, limiter, oplog, app_metrics)
            app.state.runtime = runtime_slot.value = runtime
            stack.callback(setattr, runtime_slot, "value", None)
            for service, slot in zip(services, slots, strict=True):
                if service.lifespan is not None:
                    slot.value = await stack.enter_async_context(service.lifespan(runtime))
                    stack.callback(setattr, slot, "value", None)
                    # Not read by any handler (they hold the slot); for tests and tools.
                    app.state[service.name] = slot.value
            log.info("serving %s", ", ".join(names))
            try:
                yield
            finally:
                app.state.runtime = None

    handlers: list[Any] = [
        healthz,
        readyz,
        metrics,
        *sessions.route_handlers,
        *console.route_handlers,
    ]
    for service, slot in zip(services, slots, strict=True):
        handlers.extend(service.handlers(slot))
    middleware: list[Any] = [
        # Outermost: the span and the request metrics cover auth and the operation log.
        TracingMiddleware(telemetry, app_metrics, exclude=INTERNAL_PATHS),
        auth_middleware(),
        OperationLogMiddleware(),
    ]
    parse_networks(settings.trusted_proxies)  # a bad SWITCHYARD_TRUSTED_PROXIES stops here
    tokens = TokenCache(settings.token_cache_ttl)
    limiter = LoginLimiter.from_settings(settings)
    app = Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        state=State(
            {
                "service_names": names,
                "services": list(zip(services, slots, strict=True)),
                "runtime": None,
                "metrics": app_metrics,
            }
        ),
        dependencies={"runtime": Provide(runtime_slot.get, sync_to_thread=False)},
        middleware=middleware,
        exception_handlers=exception_handlers,
        # Every JSON body is depth-checked before anything decodes it (body.py).
        request_class=BodyCheckingRequest,
        before_send=[add_security_headers, options_allow],
        # The console's pages (docs/console.md): Jinja templates read from the packages.
        template_config=console_pages.template_config(),
        openapi_config=OpenAPIConfig(
            title="Switchyard",
            version="0.1.0",
            path="/schema",
            # Operations grouped by resource, named in English and Chinese.
            tags=openapi_tags(),
            # The docs UI from the package, no CDN; /schema/openapi.json as before.
            render_plugins=[SwaggerUiPlugin("/schema"), JsonRenderPlugin()],
        ),
        debug=False,
    )
    # Every service's operations say what they answer (shared/http/openapi.py).
    document_routes(app)
    return app


def app_from_env() -> Litestar:
    """The ASGI factory granian loads: settings and services from the environment."""
    # This runs in granian's worker process: if the `switchyard` process that
    # spawned it is killed outright, the worker must not live on as an orphan
    # still holding node leases and ports.
    die_with_parent()
    settings = Settings.from_env()
    return create_app(settings, select(discover(), settings.service_names), own_logging=True)

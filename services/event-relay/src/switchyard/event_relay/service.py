"""The event-relay service as the runner sees it."""

from __future__ import annotations

from switchyard.event_relay import console_deliveries, webhooks_http
from switchyard.event_relay.relay import Relay, relay_lifespan
from switchyard.shared.service import Service


async def ready(relay: Relay | None) -> str | None:
    return "starting" if relay is None else None


service = Service(
    name="event-relay",
    route_handlers=[webhooks_http.router, console_deliveries.router],
    lifespan=relay_lifespan,
    ready=ready,
)

"""The one object a service hands to the runner (docs/architecture.md).

A service is its HTTP routes, its start/stop hook and its readiness check.
Services are found through the ``switchyard.services`` entry-point group, so
shared never imports a service and a service never imports another.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from litestar.types import ControllerRouterHandler

from switchyard.shared.runtime import Runtime

ENTRY_POINT_GROUP = "switchyard.services"

# Opens what the service needs (workers, caches, subscriptions) and closes it
# on exit; what it yields is kept as ``app.state[<service name>]``.
Lifespan = Callable[[Runtime], AbstractAsyncContextManager[Any]]
# Returns None when ready, else why not.
ReadyCheck = Callable[[Any], Awaitable[str | None]]


@dataclass(frozen=True)
class Service:
    name: str
    route_handlers: Sequence[ControllerRouterHandler] = field(default_factory=tuple)
    lifespan: Lifespan | None = None
    ready: ReadyCheck | None = None


class UnknownService(LookupError):
    pass


def discover() -> dict[str, Service]:
    found: dict[str, Service] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        service = ep.load()
        if not isinstance(service, Service):
            raise TypeError(f"entry point {ep.name} is not a Service")
        found[service.name] = service
    return dict(sorted(found.items()))


def select(available: dict[str, Service], names: Sequence[str] | None) -> list[Service]:
    if names is None:
        return list(available.values())
    missing = [n for n in names if n not in available]
    if missing:
        raise UnknownService(
            f"unknown service {', '.join(missing)}; installed: {', '.join(available)}"
        )
    return [available[n] for n in names]

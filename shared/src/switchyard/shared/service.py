"""The one object a service hands to the runner (docs/architecture.md).

A service is its HTTP routes, its start/stop hook and its readiness check.
Services are found through the ``switchyard.services`` entry-point group, so
shared never imports a service and a service never imports another.

A service whose handlers need what its lifespan opened builds them around a
``Slot``: the runner makes one slot per app, hands it to the service's
handler factory when it builds the app, and fills it once when the lifespan
has started. A handler then holds its state by reference; none looks it up
in the app's state by name on a request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from litestar.di import NamedDependency, Provide
from litestar.types import ControllerRouterHandler

from switchyard.shared.http.errors import ApiError
from switchyard.shared.runtime import Runtime

ENTRY_POINT_GROUP = "switchyard.services"

T = TypeVar("T")


class Slot(Generic[T]):
    """What one service's lifespan yielded, in one app: empty until the
    lifespan has started and again once it has stopped."""

    __slots__ = ("name", "value")

    def __init__(self, name: str) -> None:
        self.name = name
        self.value: T | None = None

    # Litestar deep-copies a Router when it registers it (and with it the
    # handlers and dependencies bound to this slot); a copy would never be
    # filled, so a slot copies as itself.
    def __copy__(self) -> Slot[T]:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Slot[T]:
        return self

    def get(self) -> T:
        """The state; 503 while the service is not running (a request that
        arrives before the lifespan has opened it, or after it closed)."""
        value = self.value
        if value is None:
            raise ApiError(503, f"{self.name} is not running")
        return value

    def provide(self) -> Provide:
        """The slot as a handler dependency, resolved after ``runtime``.

        Litestar resolves dependencies of one level side by side, in an anyio
        task group: two tasks per request for two in-memory lookups (about
        0.1 ms of an originate's budget, issue 12). Depending on ``runtime``
        puts this one a level below it, so each level is resolved in turn."""

        def after_runtime(runtime: NamedDependency[Any]) -> Any:
            return self.get()

        return Provide(after_runtime, sync_to_thread=False)


# Opens what the service needs (workers, caches, subscriptions) and closes it
# on exit; what it yields fills the service's Slot (and, for tests and
# tools, ``app.state[<service name>]``).
Lifespan = Callable[[Runtime], AbstractAsyncContextManager[Any]]
# Returns None when ready, else why not.
ReadyCheck = Callable[[Any], Awaitable[str | None]]
Handlers = Sequence[ControllerRouterHandler]
# Builds the service's handlers around its Slot, once per app.
HandlerFactory = Callable[[Slot[Any]], Handlers]


@dataclass(frozen=True)
class Service:
    name: str
    # The handlers, or a factory that builds them around the service's Slot
    # (for handlers that need what the lifespan opened).
    route_handlers: Handlers | HandlerFactory = field(default_factory=tuple)
    lifespan: Lifespan | None = None
    ready: ReadyCheck | None = None

    def handlers(self, slot: Slot[Any]) -> Handlers:
        """The handlers for one app, whose lifespan fills ``slot``."""
        if callable(self.route_handlers):
            return self.route_handlers(slot)
        return self.route_handlers


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

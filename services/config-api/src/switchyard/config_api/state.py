"""What config-api's lifespan opens, handed to its handlers by dependency
injection (``config: ConfigApi``), as the runner hands out ``AppRuntime``."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TypeAlias

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from switchyard.config_api.framework.tx import Tx, write
from switchyard.config_api.live import Live
from switchyard.config_api.outbox import Outbox
from switchyard.shared.http.errors import ApiError
from switchyard.shared.runtime import Runtime

NAME = "config-api"


@dataclass(frozen=True)
class ConfigApiState:
    runtime: Runtime
    outbox: Outbox
    live: Live

    def write(self) -> AbstractAsyncContextManager[Tx]:
        """One write transaction; its notices are published after the commit."""
        return write(self.runtime, self.outbox)


def of_state(state: State) -> ConfigApiState:
    """What the runner keeps under the service's name (the one place that
    names it); 503 before the lifespan has opened it."""
    found = state.get(NAME)
    if not isinstance(found, ConfigApiState):
        raise ApiError(503, "configuration not loaded yet")
    return found


async def _provide(state: State) -> ConfigApiState:
    return of_state(state)


# The running config-api's state, for its handlers: ``config: ConfigApi``.
ConfigApi: TypeAlias = NamedDependency[ConfigApiState]
DEPENDENCIES = {"config": Provide(_provide)}

"""What config-api's lifespan opens, handed to its handlers by dependency
injection (``config: ConfigApi``), as the runner hands out ``AppRuntime``."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TypeAlias

from litestar.di import NamedDependency, Provide

from switchyard.config_api.framework.readcache import ReadCache
from switchyard.config_api.framework.tx import Tx, write
from switchyard.config_api.live import Live
from switchyard.config_api.outbox import Outbox
from switchyard.shared.runtime import Runtime
from switchyard.shared.service import Slot

NAME = "config-api"


@dataclass(frozen=True)
class ConfigApiState:
    runtime: Runtime
    outbox: Outbox
    live: Live
    # What this replica read, until the configuration changes (readcache.py).
    reads: ReadCache = field(default_factory=ReadCache)

    def write(self) -> AbstractAsyncContextManager[Tx]:
        """One write transaction; its notices are published after the commit,
        and this replica's cached reads are dropped before the client is
        answered (it reads its own write back)."""
        return write(self.runtime, self.outbox, committed=self.reads.changed)


# The running config-api's state, for its handlers: ``config: ConfigApi``.
ConfigApi: TypeAlias = NamedDependency[ConfigApiState]


def dependencies(config: Slot[ConfigApiState]) -> dict[str, Provide]:
    """The ``config`` dependency, read from the app's slot (503 before the
    lifespan has filled it)."""
    return {"config": Provide(config.get, sync_to_thread=False)}

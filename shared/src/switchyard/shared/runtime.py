"""What one running app holds: settings, the Postgres pool, the bus, the
replica's token cache and login counters, the metrics.

Built by the runner inside the app's lifespan and kept on ``app.state``;
nothing here is module-global.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from switchyard.shared.bus import Bus
from switchyard.shared.http.limits import LoginLimiter
from switchyard.shared.http.oplog_writer import OplogWriter
from switchyard.shared.http.tokencache import TokenCache
from switchyard.shared.metrics import Metrics
from switchyard.shared.settings import Settings
from switchyard.shared.subjects import Subjects


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    pool: asyncpg.Pool
    bus: Bus
    # Tokens verified lately on this replica (tokencache.py), and its login
    # rate limits (limits.py): per app, so two apps in one process share neither.
    tokens: TokenCache
    login_limiter: LoginLimiter
    # The operation log's rows, written in batches (oplog_writer.py).
    oplog: OplogWriter
    # The app's Prometheus registry (served at /metrics); services add their instruments.
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def subjects(self) -> Subjects:
        return self.bus.subjects

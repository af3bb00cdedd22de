"""The compiled configuration every request is answered from, kept current.

At start the configuration is loaded and compiled before the app serves.
Afterwards one worker task reloads whenever it is woken: by a
``sy.config.changed.>`` notice (bursts collapse into one reload, see
DEBOUNCE), by the poll of ``config_version`` every POLL seconds (a replica
whose notice was lost still converges), or by ``fresh()``. A full
load reads Postgres and compiles in a worker thread with a connection of
its own, so a large configuration does not stall the loop; a reload reads
only what changed since (loader.py) and, when that is a few routes,
compiles them on the loop in a few milliseconds; the new ``Compiled`` replaces the
old one by a single reference assignment, so a request sees either the old
or the new configuration, never a mix.

The promise (issue 5): once a write is acknowledged, every replica serves
it within one second. Its version was committed before the ack; a replica
sees it at the latest on its next poll (0.5 s), then loads and compiles it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from switchyard.config_api import loader
from switchyard.config_api.fsxml.documents import FsIndex
from switchyard.config_api.routing.engine import Router, compile
from switchyard.shared.fsvalues import APPLICATIONS, Applications, fs_applications
from switchyard.shared.http.errors import ApiError
from switchyard.shared.messages import ConfigChanged
from switchyard.shared.runtime import Runtime
from switchyard.shared.tasks import cancel_and_wait

log = logging.getLogger(__name__)

POLL = 0.5
# After a notice, wait this long for the rest of a burst (an import, a batch
# update) before reloading; never longer than DEBOUNCE_MAX from the first.
DEBOUNCE = 0.05
DEBOUNCE_MAX = 0.2
# How long the API's routing answers wait for this replica to catch up.
FRESH_TIMEOUT = 2.0


# A reload reads only the routes changed since the previous load when that
# load is younger than this (route_changes keeps a day of changes).
INCREMENTAL_WITHIN = 12 * 3600.0
ROUTE_CHANGES_KEPT = "1 day"
# A reload that changed at most this many routes (and no other table) is
# assembled and compiled on the loop; a larger one in a worker thread.
ON_LOOP = 64


@dataclass(frozen=True)
class Compiled:
    version: int
    router: Router
    fs: FsIndex
    loaded_at: float  # time.time() of the load
    loaded: loader.Loaded | None = None  # what it was compiled from


def keep_out_of_gc() -> None:
    """Move what the process holds now, the new configuration included, out of
    the cycle collector's sight (``gc.freeze``).

    100k routes compile to about 400k objects, and a full collection walked
    them all: 0.3-0.5 s during which every request waited (the p99 of
    /fs/xml, docs/benchmarks.md). A compiled configuration holds no reference
    cycles (a dropped one leaves the collector nothing to find), so
    reference counting frees it, frozen or not, once the next one replaces
    it; the collector has nothing to do there. (Whatever short-lived cyclic
    garbage exists at the moment is frozen too and never reclaimed: a few
    objects per reload. Collecting the young generations first would walk
    the part of the new configuration still in them, the stall this avoids.)
    """
    gc.freeze()


def build(
    loaded: loader.Loaded,
    applications: Applications = APPLICATIONS,
    previous: Compiled | None = None,
) -> Compiled:
    """Compile a loaded configuration (CPU only; run in a thread); loaded
    incrementally, ``previous``'s unchanged routes are kept as compiled."""
    router = compile(
        loaded.snapshot,
        applications,
        previous.router if previous else None,
        loaded.changed,
        loaded.fresh,
    )
    if (
        previous is not None
        and previous.loaded is not None
        and loaded.fs is previous.loaded.fs  # loader.assemble kept it: no table of it written
        and previous.fs.applications == applications
    ):
        fs = previous.fs
    else:
        fs = FsIndex(loaded.fs, applications)
    return Compiled(loaded.version, router, fs, time.time(), loaded)


class Live:
    def __init__(self, runtime: Runtime, changed: Callable[[], None] = lambda: None) -> None:
        self.runtime = runtime
        # Told at once of every change this replica learns of, before the
        # reload: the cached API reads (framework/readcache.py) drop there.
        self.changed = changed
        self._polled = 0  # the config_version the last poll read
        self._current: Compiled | None = None
        self._wake = asyncio.Event()
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []
        self._sub: Any = None
        self.reloads = 0
        self.full_loads = 0

    @property
    def current(self) -> Compiled:
        if self._current is None:
            raise RuntimeError("configuration not compiled yet")
        return self._current

    @property
    def running(self) -> bool:
        return (
            self._current is not None
            and bool(self._tasks)
            and not any(t.done() for t in self._tasks)
        )

    async def start(self) -> None:
        # Subscribe first: a change committed while the first load runs then
        # still wakes the worker.
        self._sub = await self.runtime.bus.subscribe(
            self.runtime.subjects.config_changed_all, ConfigChanged, self._on_notice
        )
        await self._reload()
        self._tasks = [
            asyncio.create_task(self._worker(), name="config-live-worker"),
            asyncio.create_task(self._poll(), name="config-live-poll"),
        ]

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        await cancel_and_wait(*self._tasks)
        self._tasks = []

    def kick(self) -> None:
        self._wake.set()

    async def fresh(self, timeout: float | None = None) -> Compiled:
        """The compiled configuration once it holds every committed write
        (read-your-writes for the API; never used on the mod_xml_curl path).
        Not caught up within ``timeout`` (FRESH_TIMEOUT): ApiError 503."""
        target = await loader.current_version(self.runtime.pool)
        if self.current.version >= target:
            return self.current
        self.kick()
        try:
            async with asyncio.timeout(FRESH_TIMEOUT if timeout is None else timeout):
                async with self._changed:
                    await self._changed.wait_for(lambda: self.current.version >= target)
        except TimeoutError:
            held = self.current.version
            raise ApiError(
                503,
                f"configuration not current yet: this replica holds version {held}, "
                f"{target} is committed; try again",
                {"reason": "stale", "version": held, "committed": target},
            ) from None
        return self.current

    async def _on_notice(self, _: ConfigChanged) -> None:
        self.changed()
        self._wake.set()

    async def _worker(self) -> None:
        while True:
            await self._wake.wait()
            first = time.monotonic()
            # Collapse a burst of notices into one reload.
            while True:
                self._wake.clear()
                await asyncio.sleep(DEBOUNCE)
                if not self._wake.is_set() or time.monotonic() - first >= DEBOUNCE_MAX:
                    break
            self._wake.clear()
            try:
                await self._reload()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Postgres away: keep serving the last good configuration; the
                # poll wakes us again.
                log.warning("configuration reload failed (%s)", type(exc).__name__)

    async def _load_and_build(self) -> Compiled:
        previous = self._current
        if previous is not None and time.time() - previous.loaded_at > INCREMENTAL_WITHIN:
            previous = None  # its horizon may predate the changes still kept
        settings = self.runtime.settings
        applications = fs_applications(settings.fs_applications)
        if previous is None or previous.loaded is None:
            # In a worker thread, reading included: see loader.load_blocking.
            def full() -> Compiled:
                loaded = loader.load_blocking(
                    settings.database_url, domain=settings.sip_domain, timezone=settings.timezone
                )
                return build(loaded, applications)

            return await asyncio.to_thread(full)
        rows = await loader.load_since(self.runtime.pool, previous.loaded)

        def assemble() -> Compiled:
            loaded = loader.assemble(
                rows,
                domain=settings.sip_domain,
                timezone=settings.timezone,
                previous=previous.loaded,
            )
            return build(loaded, applications, previous)

        if rows.changed is not None and not rows.reread and len(rows.changed) <= ON_LOOP:
            # A few routes: a few milliseconds, less than a thread costs the
            # loop in switches of the interpreter lock while it runs.
            return assemble()
        return await asyncio.to_thread(assemble)

    async def _prune_route_changes(self) -> None:
        """Forget changes no replica can still need (after a full load,
        so at least once per INCREMENTAL_WITHIN on a replica that reloads)."""
        try:
            for table in ("route_changes", "table_changes"):
                await self.runtime.pool.execute(
                    f"DELETE FROM {table} WHERE at < now() - interval '{ROUTE_CHANGES_KEPT}'"  # noqa: S608 - constants
                )
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("pruning route_changes/table_changes failed (%s)", type(exc).__name__)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL)
            try:
                version = await loader.current_version(self.runtime.pool)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("config_version poll failed (%s)", type(exc).__name__)
                continue
            if version > self._polled:
                # Maybe a write whose notice this replica missed. Compared with
                # the last poll, not the compiled version: a reload woken by a
                # later notice can compile past a missed write.
                self._polled = version
                self.changed()
            if self._current is None or version > self._current.version:
                self._wake.set()

    async def _reload(self) -> None:
        if self._current is not None:
            version = await loader.current_version(self.runtime.pool)
            if version <= self._current.version:
                return
        compiled = await self._load_and_build()
        if self._current is not None and compiled.version <= self._current.version:
            return
        self._current = compiled  # the swap: one reference assignment
        self.reloads += 1
        if compiled.loaded is not None and compiled.loaded.changed is None:
            self.full_loads += 1
            await self._prune_route_changes()
        keep_out_of_gc()
        for p in compiled.router.problems:
            log.info("route %s: %s refused: %s", p.route_id, p.field, p.message)
        async with self._changed:
            self._changed.notify_all()

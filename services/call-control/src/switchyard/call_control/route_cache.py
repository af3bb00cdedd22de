"""config-api's answers to "where does this number go", reused while the
configuration stands.

An originate asks config-api's routing engine where ``destNumber`` goes
(``sy.config.route``): a NATS round trip, about 1.3 ms of the call's setup
on the loaded 2-core machine (issue 12) for an answer that changes only
when the configuration does. An answer is reused when:

- it does not depend on the time (config-api says so: no time rule was
  checked, ``RouteReply.timeless``);
- no configuration change was announced (``sy.config.changed.>``) since
  it was asked, nor in the QUIET seconds before: config-api's replicas
  serve a write within a second of its notice (config_api/live.py), and an
  answer from one still compiling the previous version must not be kept;
- it is at most TTL old, so a lost notice costs at most that much;
- it is not older than an answer already seen (a lagging replica).

"No route" (``not_found``: the number is dialled as a user) is kept the
same way: which route a number takes never depends on the time. Every
other error is asked again each time.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import nats.errors

from switchyard.shared.bus import Bus, BusError
from switchyard.shared.messages import ConfigChanged, RouteReply, RouteRequest

TTL = 1.0
QUIET = 1.0
MAX_ENTRIES = 10_000


class RouteCache:
    def __init__(self, bus: Bus, *, ttl: float = TTL, quiet: float = QUIET) -> None:
        self.bus = bus
        self.ttl, self.quiet = ttl, quiet
        # request -> (expiry on the monotonic clock, the answer or NO_ROUTE)
        self._entries: dict[RouteRequest, tuple[float, RouteReply | BusError]] = {}
        self._notices = 0  # changes announced so far
        self._quiet_until = 0.0
        self._version = 0  # the newest configuration version an answer came from
        self._sub: Any = None
        self.hits = 0

    async def start(self) -> None:
        self._sub = await self.bus.subscribe(
            self.bus.subjects.config_changed_all, ConfigChanged, self._on_notice
        )

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._sub.unsubscribe()
            self._sub = None

    async def lookup(self, request: RouteRequest) -> RouteReply:
        """config-api's answer (BusError as from ``Bus.request``)."""
        now = time.monotonic()
        kept = self._entries.get(request)
        if kept is not None and kept[0] > now:
            self.hits += 1
            if isinstance(kept[1], BusError):
                raise BusError(kept[1].code, kept[1].message)
            return kept[1]
        notices = self._notices
        try:
            reply = await self.bus.request(self.bus.subjects.route_lookup, request, RouteReply)
        except BusError as exc:
            if exc.code == "not_found":
                self._keep(request, exc, now, notices)
            raise
        if reply.timeless and reply.version >= self._version:
            self._version = reply.version
            self._keep(request, reply, now, notices)
        return reply

    def _keep(
        self, request: RouteRequest, answer: RouteReply | BusError, asked: float, notices: int
    ) -> None:
        # Asked after the quiet time of the last notice, and none came since.
        if notices != self._notices or asked < self._quiet_until:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[request] = (asked + self.ttl, answer)

    async def _on_notice(self, _: ConfigChanged) -> None:
        self._notices += 1
        self._quiet_until = time.monotonic() + self.quiet
        self._entries.clear()

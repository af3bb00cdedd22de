"""The core DB's channels table: what ``show channels`` reads, one SQL batch behind.

FreeSWITCH answers ``show channels`` from its core DB, not from the sessions:
the core_db event handler queues SQL for each channel event and the CORE
queue thread writes it in batches, sleeping up to about 200 ms between
passes while fewer than 500 statements wait (switch_core_sqldb.c,
switch_user_sql_thread). So a row appears 30-200 ms after ``originate``
answers ``+OK`` and stays 90-300 ms after ``uuid_kill`` has (observed on
1.10.12, freeswitch-observed section 1), while ``uuid_exists`` and
``uuid_getvar`` read the session hash and are immediate. The table copies a
channel's row at the batch that follows its event, so what it shows is the
channel as of that pass, all columns at once.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable

from switchyard.fssim.channel import Channel
from switchyard.fssim.registrations import Registration

# One pass of switch_user_sql_thread: writes are applied on these boundaries.
BATCH_SECONDS = 0.2
# No write was seen sooner than this (29 ms after +OK; 91 ms after uuid_kill).
MIN_LAG = 0.03


def next_pass(apply: Callable[[], None]) -> asyncio.TimerHandle:
    """Run ``apply`` at the SQL thread's next pass that is at least MIN_LAG away."""
    loop = asyncio.get_running_loop()
    # The thread runs on its own clock: the next pass, not a fixed delay
    # from this write, which is why the lag varies from call to call.
    soonest = loop.time() + MIN_LAG
    return loop.call_at((math.floor(soonest / BATCH_SECONDS) + 1) * BATCH_SECONDS, apply)


class SqlQueue:
    """What a core DB table shares: writes queue for the SQL thread's next pass
    unless ``lag`` is off, and a restart drops what is queued and kept."""

    def __init__(self, hostname: str, *, lag: bool = True) -> None:
        self.hostname = hostname
        self.lag = lag
        self._flush: asyncio.TimerHandle | None = None

    def queued(self) -> None:
        """A write was queued: apply it at once, or at the next pass."""
        if not self.lag:
            self.apply()
        elif self._flush is None:
            try:
                self._flush = next_pass(self.apply)
            except RuntimeError:  # no event loop yet (a node set up before it starts)
                self.apply()

    def apply(self) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        """A restart: the in-memory DB starts empty and nothing queued survives."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None


class ChannelTable(SqlQueue):
    """The ``channels`` table. ``lag`` False applies each write at once and shows
    the channels as they are (for unit tests that need ``show channels`` to
    agree with the events immediately)."""

    def __init__(self, hostname: str, *, lag: bool = True) -> None:
        super().__init__(hostname, lag=lag)
        self._rows: dict[str, tuple[Channel, dict[str, str]]] = {}
        self._pending: dict[str, Channel] = {}

    def write(self, ch: Channel) -> None:
        """A channel event queued its SQL (insert, update or, once destroyed, delete)."""
        self._pending[ch.uuid] = ch
        self.queued()

    def apply(self) -> None:
        """One pass of the SQL thread: every queued write lands."""
        self._flush = None
        pending, self._pending = self._pending, {}
        for uuid, ch in pending.items():
            if ch.state == "CS_DESTROY":
                self._rows.pop(uuid, None)
            else:
                self._rows[uuid] = (ch, ch.show_row(self.hostname))

    def rows(self) -> list[dict[str, str]]:
        kept = sorted(self._rows.values(), key=lambda r: r[0].created_us)
        if not self.lag:
            # Without the lag the table is the channels as they are now.
            return [ch.show_row(self.hostname) for ch, _ in kept]
        return [row for _, row in kept]

    def clear(self) -> None:
        super().clear()
        self._pending.clear()
        self._rows.clear()


class RegistrationTable(SqlQueue):
    """The ``registrations`` table (``show registrations``). mod_sofia writes it through
    the same SQL queue (switch_core_add_registration, _del_registration), so it trails
    the registrations as the channels table trails the channels. One row per user and
    realm: a new registration of the same user replaces the old one."""

    def __init__(self, hostname: str, *, lag: bool = True) -> None:
        super().__init__(hostname, lag=lag)
        self._rows: dict[tuple[str, str], dict[str, str]] = {}
        self._pending: list[tuple[tuple[str, str], dict[str, str] | None]] = []

    def write(self, reg: Registration, *, delete: bool = False) -> None:
        """Queue the insert (or, with ``delete``, the delete) of ``reg``'s row."""
        key = (reg.user, reg.host)
        self._pending.append((key, None if delete else reg.core_row(self.hostname)))
        self.queued()

    def apply(self) -> None:
        self._flush = None
        pending, self._pending = self._pending, []
        for key, row in pending:
            self._rows.pop(key, None)  # the delete before each insert
            if row is not None:
                self._rows[key] = row

    def rows(self) -> list[dict[str, str]]:
        return list(self._rows.values())

    def clear(self) -> None:
        super().clear()
        self._pending.clear()
        self._rows.clear()

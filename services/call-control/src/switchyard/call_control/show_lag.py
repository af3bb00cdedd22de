"""``show channels`` corrected for its lag behind the events.

FreeSWITCH answers ``show channels`` from its core DB, which a SQL thread
writes in batches: a channel's row appears up to about 200 ms after its
CHANNEL_CREATE (and after ``originate`` answered ``+OK``) and stays up to
about 300 ms after its hangup (freeswitch-observed section 1; fssim does the
same, docs/fssim.md). The events and ``uuid_kill``'s reply are not late. So
a list read right after a call began would lose it, and one read right after
a hangup would invent it; the agent trusts the events for the channels it
has heard of and the table for the rest.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

# Longer than the longest lag seen (304 ms): what the table shows after this
# long includes every change made before it.
SETTLE = 0.5
# How long a hung-up channel is remembered, so that its lagging row is hidden.
ENDED_FOR = 10.0
_POLL = 0.02

Rows = list[dict[str, str]]


class EndedChannels:
    """Channels known to have hung up recently (their rows may still be listed)."""

    def __init__(self, keep: float = ENDED_FOR) -> None:
        self.keep = keep
        # Oldest first. An OrderedDict, not a dict: its oldest entry is found
        # in constant time however many were deleted before it. Copying the
        # dict to find them cost every hangup event a walk of the last 10 s of
        # hangups (4 % of an owner's event ingest, issue 12).
        self._at: OrderedDict[str, float] = OrderedDict()

    def add(self, uuid: str) -> None:
        now = time.monotonic()
        self._at[uuid] = now
        self._at.move_to_end(uuid)
        while self._at:  # the newest is ``uuid``, just added: ends there (keep > 0)
            old, at = next(iter(self._at.items()))
            if now - at < self.keep:
                break
            del self._at[old]

    def discard(self, uuid: str) -> None:
        """A new channel with this uuid (``origination_uuid`` may reuse one)."""
        self._at.pop(uuid, None)

    def __contains__(self, uuid: object) -> bool:
        at = self._at.get(uuid)  # type: ignore[call-overload]
        return at is not None and time.monotonic() - at < self.keep


async def current_rows(
    show: Callable[[], Awaitable[Rows]],
    live: Callable[[], set[str]],
    ended: EndedChannels,
    *,
    settle: float = SETTLE,
) -> Rows:
    """The table's rows without the channels that hung up, re-read (for at most
    ``settle``) while a channel the events say is live is not listed yet.
    ``show`` reads the table; ``live`` is the channels the events say exist,
    taken after ``show`` so that it includes every event read before the rows."""
    deadline = time.monotonic() + settle
    while True:
        rows = [r for r in await show() if r.get("uuid") not in ended]
        missing = live() - {r.get("uuid") for r in rows}
        missing = {u for u in missing if u not in ended}
        if not missing or time.monotonic() >= deadline:
            return rows
        await asyncio.sleep(_POLL)

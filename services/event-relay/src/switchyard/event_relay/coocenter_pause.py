"""cc_cdr's ``pauseTime``: the after-call pause call-control records.

With ``SWITCHYARD_COOCENTER_PAUSETIME`` on, the agent of an answered queue
call is put On Break for up to ``SWITCHYARD_COOCENTER_PAUSE_SECONDS`` or
until unpaused, and call-control writes the pause's length in
``coocenter_pauses`` when it ends, keyed by the caller's channel uuid, the
cc_cdr's ``uuid`` (docs/coocenter.md). The cc_cdr is made when the call
leaves the queue, before that pause: so its delivery waits until the pause
has ended, or until the longest pause (and a grace) since the call left has
passed, then reads the length. Read when sent, from a table that only grows:
a retry or a replay sends the same value.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from switchyard.event_relay.coocenter import Context

# After the longest pause: call-control's sweep (every second) and the event's way here.
GRACE = 5


async def pause_seconds(
    pool: asyncpg.Pool, event: dict[str, Any], ctx: Context, now: float
) -> int | None:
    """The pause after ``event``'s call (a member-queue-end), seconds; None while
    it may still be running (ask again later)."""
    if not ctx.pausetime or event.get("CC-Cause") != "Terminated":
        return 0  # no after-call work, or no agent took the call
    call = str(event.get("CC-Member-Session-UUID") or "")
    row = await pool.fetchrow(
        "SELECT seconds FROM coocenter_pauses WHERE call_uuid = $1 AND seconds IS NOT NULL "
        "ORDER BY id DESC LIMIT 1",
        call,
    )
    if row is not None:
        return int(row["seconds"])
    try:
        left = int(str(event.get("CC-Member-Leaving-Time") or "0"))
    except ValueError:
        left = 0
    if now < left + ctx.pause_seconds + GRACE:
        return None
    return 0  # no pause was recorded for this call

"""Stopping background tasks for sure."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)

# How long a cancelled task may keep running before it is cancelled again.
RECANCEL = 0.1


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel ``tasks`` and return once every one of them has ended.

    One ``cancel()`` is not always enough on Python 3.11: ``asyncio.wait_for``
    returns normally when the cancel lands just as its wait completes, and
    libraries still use it (nats-py's ``flush`` and ``request`` among them).
    The task then runs on, and a plain ``await task`` waits forever. So
    the cancel is repeated until the task has really ended. A task that
    failed is logged, not raised: its owner is shutting it down anyway.
    """
    pending = {t for t in tasks if t is not None and not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=RECANCEL)
    for ended in tasks:
        if ended is not None and not ended.cancelled() and ended.exception() is not None:
            log.warning("task %s had failed", ended.get_name(), exc_info=ended.exception())

"""When to try a failed delivery again (Svix's schedule, Standard Webhooks' advice)."""

from __future__ import annotations

import email.utils
import random
import time

JITTER = 0.2


def parse_schedule(text: str) -> tuple[float, ...]:
    """``SWITCHYARD_WEBHOOK_RETRY_SCHEDULE``: seconds, comma separated."""
    delays = tuple(float(p) for p in text.split(",") if p.strip())
    if any(d < 0 for d in delays):
        raise ValueError("retry delays must not be negative")
    return delays


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def next_delay(
    schedule: tuple[float, ...], failures: int, asked: float | None, rng: random.Random
) -> float | None:
    """Seconds before retry number ``failures`` (1-based), or None when retries are spent.

    A receiver's ``Retry-After`` is honoured but held between the scheduled
    delay and twice it, as Svix does: a receiver cannot make the relay hammer
    it, nor park a delivery for a week.
    """
    if failures > len(schedule):
        return None
    base = schedule[failures - 1]
    delay = base * rng.uniform(1 - JITTER, 1 + JITTER)
    if asked is not None:
        delay = min(max(asked, base), 2 * base) if base else asked
    return delay

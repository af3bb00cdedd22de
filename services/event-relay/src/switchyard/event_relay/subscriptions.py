"""Webhook subscriptions: what each wants, read from Postgres into a matcher.

``events`` holds FreeSWITCH event names, CUSTOM subclasses (``ai::channel-state``),
``CUSTOM`` (every subclass), ``*`` (every FreeSWITCH event), and the
relay's own operational events (``webhook.disabled`` …, or ``webhook.*``),
which ``*`` does not include. Filters are regexes matched in full against
the node, ``Caller-Caller-ID-Number`` and ``Caller-Destination-Number``,
and a list of ``Answer-State`` values; an empty filter admits everything.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from switchyard.event_relay import coocenter
from switchyard.shared import webhooks

FORMATS = ("xswitch", "raw", "coocenter")
OPERATIONAL = ("webhook.attempt.exhausted", "webhook.disabled", "webhook.recovered")
ANSWER_STATES = ("ringing", "early", "answered", "hangup")
# A coocenter subscription names coocenter's pushes (``*``: all of them).
DEFAULT_EVENTS = {"xswitch": ["ai::channel-state"], "raw": ["*"], "coocenter": ["*"]}
ROTATION_OVERLAP = dt.timedelta(hours=24)

_EVENT = re.compile(r"\*|[A-Z][A-Z0-9_]*|[A-Za-z0-9_.-]+::[A-Za-z0-9_:.-]+|webhook\.[a-z.*]+")


def check_event_name(name: str, fmt: str = "raw") -> str | None:
    """Why ``name`` cannot be subscribed by a ``fmt`` subscription, or None."""
    if fmt == "coocenter":
        if name == "*" or name in coocenter.PUSHES:
            return None
        return f"{name!r} is not * or one of coocenter's pushes ({', '.join(coocenter.PUSHES)})"
    if not _EVENT.fullmatch(name):
        return f"{name!r} is not an event name, a CUSTOM subclass, * or webhook.*"
    if name.startswith("webhook.") and name != "webhook.*" and name not in OPERATIONAL:
        return f"{name!r} is not one of {', '.join(OPERATIONAL)}"
    return None


def check_pattern(pattern: str) -> str | None:
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"is not a regular expression ({exc})"
    return None


@dataclass
class Subscription:
    id: int
    url: str
    events: frozenset[str]
    format: str
    enabled: bool
    system: bool
    keys: tuple[bytes, ...]  # signing keys: the secret, then a rotated-out one still valid
    node: re.Pattern[str] | None = None
    caller: re.Pattern[str] | None = None
    callee: re.Pattern[str] | None = None
    answer_states: frozenset[str] = frozenset()
    failing_since: dt.datetime | None = None
    keys_until: dt.datetime | None = field(default=None, compare=False)
    # Signs with ``keys``, each key's HMAC set up once, not per delivery.
    signer: webhooks.Signer = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.signer = webhooks.Signer(self.keys)

    def wants(self, name: str, event: dict[str, Any], node: str) -> bool:
        if name.startswith("webhook."):
            return name in self.events or "webhook.*" in self.events
        if not (
            name in self.events
            or "*" in self.events
            or ("CUSTOM" in self.events and event.get("Event-Name") == "CUSTOM")
        ):
            return False
        if self.node is not None and not self.node.fullmatch(node):
            return False
        if self.caller is not None and not self.caller.fullmatch(
            str(event.get("Caller-Caller-ID-Number", ""))
        ):
            return False
        if self.callee is not None and not self.callee.fullmatch(
            str(event.get("Caller-Destination-Number", ""))
        ):
            return False
        return not self.answer_states or event.get("Answer-State") in self.answer_states


def _regex(text: str) -> re.Pattern[str] | None:
    return re.compile(text) if text else None


def from_row(row: asyncpg.Record, now: dt.datetime) -> Subscription:
    keys = []
    if row["secret"]:
        keys.append(webhooks.secret_key(row["secret"]))
    until = row["previous_secret_until"]
    if row["previous_secret"] and until is not None and until > now:
        keys.append(webhooks.secret_key(row["previous_secret"]))
    return Subscription(
        id=row["id"],
        url=row["url"],
        events=frozenset(row["events"]),
        format=row["format"],
        enabled=row["enabled"],
        system=row["system"],
        keys=tuple(keys),
        node=_regex(row["filter_node"]),
        caller=_regex(row["filter_caller"]),
        callee=_regex(row["filter_callee"]),
        answer_states=frozenset(row["filter_answer_states"]),
        failing_since=row["failing_since"],
        keys_until=until if len(keys) > 1 else None,
    )


async def load(pool: asyncpg.Pool) -> dict[int, Subscription]:
    rows = await pool.fetch("SELECT *, now() AS _now FROM webhooks ORDER BY id")
    return {r["id"]: from_row(r, r["_now"]) for r in rows}


# The subscriptions the settings keep, one per format: what each is for.
SYSTEM = {
    "xswitch": "SWITCHYARD_POST_EVENT_URL (mod_ai post-event-url)",
    "coocenter": "SWITCHYARD_COOCENTER_PUSH_URL (coocenter api.conf URL)",
}


async def sync_system(pool: asyncpg.Pool, fmt: str, url: str, secret: str = "") -> None:
    """Make the system subscription of ``fmt`` match the settings (none without a URL)."""
    if not url:
        await pool.execute("DELETE FROM webhooks WHERE system AND format = $1", fmt)
        return
    await pool.execute(
        """
        INSERT INTO webhooks (url, events, format, description, secret, system)
        VALUES ($1, $2, $3, $4, $5, true)
        ON CONFLICT (format) WHERE system DO UPDATE
        SET url = EXCLUDED.url, secret = EXCLUDED.secret, enabled = true,
            disabled_reason = '', updated_at = now()
        WHERE webhooks.url <> EXCLUDED.url OR webhooks.secret <> EXCLUDED.secret
        """,
        url,
        DEFAULT_EVENTS[fmt],
        fmt,
        SYSTEM[fmt],
        secret,
    )

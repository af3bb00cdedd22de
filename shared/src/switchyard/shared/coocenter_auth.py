"""coocenter's WEBKEY digest: what its API checks and its pushes carry.

api.conf's ``WEBKEY`` makes every request carry ``Authorization:
md5(WEBKEY + 'YYYY-MM-DD')`` (hex) of the current date, and every push
carry the same header. The date is the server's local date, here the day in
``SWITCHYARD_TIMEZONE`` (the zone Switchyard calls local time everywhere).
Around midnight the two clocks of client and server disagree on the day,
so within ``GRACE`` of midnight the neighbouring day's digest is accepted
too; outside it only today's is. No WEBKEY: no check (the spec's "comment
it out" case). Compared in constant time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from zoneinfo import ZoneInfo

# How close to midnight the neighbouring day's digest is still (or already) accepted.
GRACE = dt.timedelta(minutes=5)


def digest(webkey: str, day: dt.date) -> str:
    """md5(WEBKEY + 'YYYY-MM-DD') in lower-case hex, as coocenter computes it."""
    # md5 is the protocol's choice, not a security decision of ours.
    return hashlib.md5((webkey + day.isoformat()).encode(), usedforsecurity=False).hexdigest()


def local_now(timezone: str) -> dt.datetime:
    return dt.datetime.now(ZoneInfo(timezone or "UTC"))


def accepted_days(now: dt.datetime) -> list[dt.date]:
    """Today, plus yesterday in the first GRACE of the day or tomorrow in its last GRACE."""
    days = [now.date()]
    if (now - GRACE).date() != now.date():
        days.append((now - GRACE).date())
    if (now + GRACE).date() != now.date():
        days.append((now + GRACE).date())
    return days


def authorized(webkey: str, header: str | None, now: dt.datetime) -> bool:
    """Whether ``header`` (the request's Authorization) is good at ``now`` (local time).

    Every accepted day is compared, so the time taken does not say which one
    matched or how much of the header did."""
    if not webkey:
        return True
    given = (header or "").strip().lower().encode()
    ok = False
    for day in accepted_days(now):
        ok |= hmac.compare_digest(given, digest(webkey, day).encode())
    return ok


def push_header(webkey: str, now: dt.datetime) -> dict[str, str]:
    """The Authorization header of a push (none without a WEBKEY)."""
    return {"Authorization": digest(webkey, now.date())} if webkey else {}

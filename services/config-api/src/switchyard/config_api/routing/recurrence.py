"""Time-rule recurrence strings: parse, validate, and ask "is it active now?".

The string is XSwitch's flattened iCalendar RRULE (docs/architecture.md, Routing rules):
``dtstart|duration|freq|until|interval|byday|bymonthday|byyearday|byweekno|bymonth``.
Every time in it is wall-clock time of the switch's configured timezone.

Decisions where the vendor is silent (docs/routing.md, "Time rules"):

- Trailing fields may be left off (``20220502T000000|PT2H|daily`` is valid).
- The spec's own template example ``20100101T010101|PT10H||daily`` puts the
  frequency in the ``until`` slot with an empty ``freq``; when ``freq`` is
  empty and ``until`` is a frequency word, it is read as the frequency.
- An empty ``freq`` means a single window starting at ``dtstart``.
- Windows are measured on the local wall clock: a moment is inside a window
  when the clock on the wall (in the configured timezone) shows a time in
  ``[start, start + duration)``. So ``dtstart`` 09:00 with ``PT8H`` is
  09:00-17:00 local on every day, whatever the UTC offset, and 00:00 +
  ``PT24H`` ends at the next local midnight even on a 23 or 25 hour day.
- Consequences at daylight-saving changes, deliberately: in the autumn the
  repeated hour is shown twice, and a window covering it is active during
  both passes; in the spring the skipped hour is never shown, so only the
  part of a window that exists on the clock is active (a window lying
  entirely inside the skipped hour does not happen that day).
- ``until`` bounds the start of an occurrence, inclusive (RFC 5545); a bare
  date means the end of that local day.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec

FREQUENCIES = ("daily", "weekly", "monthly", "yearly")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
FIELDS = (
    "dtstart",
    "duration",
    "freq",
    "until",
    "interval",
    "byday",
    "bymonthday",
    "byyearday",
    "byweekno",
    "bymonth",
)
# A window longer than a year would overlap its own next yearly occurrence;
# the cap also bounds how far back active_at has to look.
MAX_DURATION = timedelta(days=366)

# Matched in full (fullmatch): "$" would also accept a trailing newline.
_DATETIME = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z)?)?")
_DURATION = re.compile(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")
_BYDAY = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")


class Recurrence(msgspec.Struct, frozen=True):
    """One parsed time rule. ``byday`` holds ``(ordinal, weekday)`` with
    weekday 0 = Monday and ordinal 0 = every such weekday."""

    text: str
    dtstart: datetime
    duration: timedelta
    freq: str = ""
    until: datetime | None = None
    interval: int = 1
    byday: tuple[tuple[int, int], ...] = ()
    bymonthday: tuple[int, ...] = ()
    byyearday: tuple[int, ...] = ()
    byweekno: tuple[int, ...] = ()
    bymonth: tuple[int, ...] = ()

    def active_at(self, moment: datetime, tz: ZoneInfo) -> bool:
        """Whether ``moment`` (an aware instant) falls inside one of the windows,
        the windows being evaluated on ``tz``'s wall clock."""
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        wall = moment.astimezone(tz).replace(tzinfo=None)
        # Only occurrences that started today or up to duration.days + 1
        # days ago can still be open.
        for back in range(self.duration.days + 2):
            day = wall.date() - timedelta(days=back)
            if not self.occurs_on(day):
                continue
            start = datetime.combine(day, self.dtstart.time())
            if self.until is not None and not self._starts_by_until(start, tz):
                continue
            if start <= wall < start + self.duration:
                return True
        return False

    def _starts_by_until(self, start: datetime, tz: ZoneInfo) -> bool:
        assert self.until is not None
        if self.until.tzinfo is not None:
            # A UTC until (trailing Z); fold=0 reads a start in the skipped
            # or repeated hour as RFC 5545 does.
            return start.replace(tzinfo=tz, fold=0) <= self.until
        return start <= self.until

    def occurs_on(self, day: date) -> bool:
        """Whether an occurrence starts on local calendar ``day``."""
        first = self.dtstart.date()
        if day < first:
            return False
        if not self.freq:
            return day == first
        if not self._period_matches(day, first):
            return False
        if self.bymonth and day.month not in self.bymonth:
            return False
        if self.bymonthday and not _matches_index(
            day.day, calendar.monthrange(day.year, day.month)[1], self.bymonthday
        ):
            return False
        if self.byyearday and not _matches_index(
            day.timetuple().tm_yday, 366 if calendar.isleap(day.year) else 365, self.byyearday
        ):
            return False
        if self.byweekno and not _matches_index(
            day.isocalendar().week, _iso_weeks(day.isocalendar().year), self.byweekno
        ):
            return False
        if self.byday and not self._byday_matches(day):
            return False
        return self._default_anchor(day)

    def _period_matches(self, day: date, first: date) -> bool:
        if self.freq == "daily":
            steps = (day - first).days
        elif self.freq == "weekly":
            monday = first - timedelta(days=first.weekday())
            steps = (day - monday).days // 7
        elif self.freq == "monthly":
            steps = (day.year - first.year) * 12 + day.month - first.month
        else:
            steps = day.year - first.year
        return steps % self.interval == 0

    def _byday_matches(self, day: date) -> bool:
        for ordinal, weekday in self.byday:
            if day.weekday() != weekday:
                continue
            if ordinal == 0:
                return True
            # The nth weekday of the month for monthly rules (or yearly rules
            # narrowed by month), of the year otherwise (RFC 5545).
            if self.freq == "monthly" or (self.freq == "yearly" and self.bymonth):
                nth = (day.day - 1) // 7 + 1
                count = (calendar.monthrange(day.year, day.month)[1] - day.day) // 7 + nth
            else:
                yday = day.timetuple().tm_yday
                nth = (yday - 1) // 7 + 1
                days = 366 if calendar.isleap(day.year) else 365
                count = (days - yday) // 7 + nth
            if ordinal == nth or ordinal == nth - count - 1:
                return True
        return False

    def _default_anchor(self, day: date) -> bool:
        """RFC 5545: parts a rule leaves out are taken from dtstart."""
        start = self.dtstart
        if self.freq == "weekly" and not self.byday:
            return day.weekday() == start.weekday()
        if self.freq == "monthly" and not (
            self.bymonthday or self.byday or self.byyearday or self.byweekno
        ):
            return day.day == start.day
        if self.freq == "yearly" and not (
            self.bymonthday or self.byday or self.byyearday or self.byweekno
        ):
            return day.day == start.day and (bool(self.bymonth) or day.month == start.month)
        return True


def parse_recurrence(text: str) -> Recurrence:
    """Parse and validate a recurrence string; ValueError names the bad part."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("time_recurrence is empty")
    parts = text.strip().split("|")
    if len(parts) > len(FIELDS):
        raise ValueError(
            f"time_recurrence has {len(parts)} '|'-separated parts, at most {len(FIELDS)} "
            f"({'|'.join(FIELDS)})"
        )
    if len(parts) < 2:
        raise ValueError("time_recurrence needs at least dtstart|duration")
    parts += [""] * (len(FIELDS) - len(parts))
    raw = dict(zip(FIELDS, (p.strip() for p in parts), strict=True))

    if not raw["freq"] and raw["until"].lower() in FREQUENCIES:
        raw["freq"], raw["until"] = raw["until"], ""

    dtstart = _parse_datetime("dtstart", raw["dtstart"])
    if dtstart.tzinfo is not None:
        raise ValueError(f"dtstart {raw['dtstart']!r} must be local time (no trailing Z)")
    duration = _parse_duration(raw["duration"])
    freq = raw["freq"].lower()
    if freq and freq not in FREQUENCIES:
        raise ValueError(f"freq {raw['freq']!r} must be one of {', '.join(FREQUENCIES)} or empty")
    until = None
    if raw["until"]:
        until = _parse_datetime("until", raw["until"], end_of_day=True)
        if until.tzinfo is None and until < dtstart:
            raise ValueError(f"until {raw['until']!r} is before dtstart {raw['dtstart']!r}")
    interval = 1
    if raw["interval"]:
        if not raw["interval"].isdigit() or int(raw["interval"]) < 1:
            raise ValueError(f"interval {raw['interval']!r} must be a whole number >= 1")
        interval = int(raw["interval"])
    byday = _parse_byday(raw["byday"], freq)
    bymonthday = _parse_ints("bymonthday", raw["bymonthday"], 1, 31, signed=True)
    byyearday = _parse_ints("byyearday", raw["byyearday"], 1, 366, signed=True)
    byweekno = _parse_ints("byweekno", raw["byweekno"], 1, 53, signed=True)
    bymonth = _parse_ints("bymonth", raw["bymonth"], 1, 12, signed=False)
    if not freq and (byday or bymonthday or byyearday or byweekno or bymonth):
        raise ValueError("byday/bymonthday/byyearday/byweekno/bymonth need a freq")
    if byweekno and freq != "yearly":
        raise ValueError("byweekno is only valid with freq yearly")
    if byyearday and freq in ("weekly", "monthly"):
        raise ValueError("byyearday is not valid with freq weekly or monthly")
    return Recurrence(
        text=text,
        dtstart=dtstart,
        duration=duration,
        freq=freq,
        until=until,
        interval=interval,
        byday=byday,
        bymonthday=bymonthday,
        byyearday=byyearday,
        byweekno=byweekno,
        bymonth=bymonth,
    )


def _parse_datetime(name: str, value: str, *, end_of_day: bool = False) -> datetime:
    m = _DATETIME.fullmatch(value)
    if not m:
        raise ValueError(f"{name} {value!r} must be YYYYMMDDTHHMMSS (or YYYYMMDD)")
    if m[4] is None and name == "dtstart":
        raise ValueError(f"{name} {value!r} needs a time: YYYYMMDDTHHMMSS")
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    try:
        if m[4] is None:
            moment = datetime.combine(date(year, month, day), time.max if end_of_day else time())
        else:
            moment = datetime(year, month, day, int(m[4]), int(m[5]), int(m[6]))
    except ValueError as exc:
        raise ValueError(f"{name} {value!r} is not a real date/time: {exc}") from None
    return moment.replace(tzinfo=UTC) if m[7] else moment


def _parse_duration(value: str) -> timedelta:
    m = _DURATION.fullmatch(value)
    if not m or value in ("P", "PT") or value.endswith("T"):
        raise ValueError(f"duration {value!r} must be ISO 8601 like PT8H, PT1H30M or P7D")
    weeks, days, hours, minutes = (int(g) if g else 0 for g in m.groups()[:4])
    seconds = float(m[5]) if m[5] else 0.0
    duration = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    if duration <= timedelta(0):
        raise ValueError(f"duration {value!r} must be longer than zero")
    if duration > MAX_DURATION:
        raise ValueError(f"duration {value!r} must be at most 366 days")
    return duration


def _parse_byday(value: str, freq: str) -> tuple[tuple[int, int], ...]:
    if not value:
        return ()
    out = []
    for item in value.split(","):
        m = _BYDAY.fullmatch(item.strip().upper())
        if not m:
            raise ValueError(
                f"byday item {item!r} must be one of {','.join(WEEKDAYS)}, optionally "
                "with an ordinal like 1MO or -1FR"
            )
        ordinal = int(m[1]) if m[1] else 0
        if ordinal and freq not in ("monthly", "yearly"):
            raise ValueError(f"byday item {item!r}: an ordinal needs freq monthly or yearly")
        if ordinal and not (1 <= abs(ordinal) <= 53):
            raise ValueError(f"byday item {item!r}: ordinal must be within 1..53 or -53..-1")
        out.append((ordinal, WEEKDAYS.index(m[2])))
    return tuple(out)


def _parse_ints(name: str, value: str, low: int, high: int, *, signed: bool) -> tuple[int, ...]:
    if not value:
        return ()
    out = []
    for item in value.split(","):
        item = item.strip()
        try:
            n = int(item)
        except ValueError:
            raise ValueError(f"{name} item {item!r} is not a number") from None
        if not (low <= abs(n) <= high) or (n < 0 and not signed):
            span = f"{low}..{high}" + (f" or -{high}..-{low}" if signed else "")
            raise ValueError(f"{name} item {item!r} must be within {span}")
        out.append(n)
    return tuple(out)


def _matches_index(value: int, size: int, wanted: tuple[int, ...]) -> bool:
    """1-based ``value`` out of ``size`` matches a positive or from-the-end index."""
    return any(w == value or (w < 0 and size + w + 1 == value) for w in wanted)


def _iso_weeks(iso_year: int) -> int:
    return date(iso_year, 12, 28).isocalendar().week

"""Time-rule strings: every example of the spec parses, bad ones are refused
with the part named, and windows follow the local wall clock across DST."""

from __future__ import annotations

import calendar
from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchyard.config_api.routing.recurrence import WEEKDAYS, parse_recurrence

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Every time_recurrence string in /work/shared/spec (grep time_recurrence).
SPEC_EXAMPLES = [
    "20100101T010101|PT10H||daily",
    "20100102T010101|PT10H||daily",
    "20770101T010101|PT10H||daily",
    "20211231T000000|PT47H59M59S|yearly||1|",
    "20220502T000000|PT1H59M59S|daily||1|MO",
    "20220502T000000|PT59M59.696S|daily||1|MO",
    "20220503T070000|PT2H|daily||1|SU",
    "20220503T070000|PT59M59.464S|daily||1|SU",
    "20220511T000000|PT119H59M59S|yearly||1|",
    "20230305T170000|PT6H0.06S|daily||1|MO,TU,WE,TH,FR",
]


def local(tz: ZoneInfo, y: int, mo: int, d: int, h: int, mi: int, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=tz)


@pytest.mark.parametrize("text", SPEC_EXAMPLES)
def test_every_spec_example_parses(text: str) -> None:
    rule = parse_recurrence(text)
    assert rule.text == text
    assert rule.freq in ("daily", "yearly")
    assert rule.duration > timedelta(0)


def test_fractional_seconds_and_weekday_list() -> None:
    rule = parse_recurrence("20230305T170000|PT6H0.06S|daily||1|MO,TU,WE,TH,FR")
    assert rule.duration == timedelta(hours=6, milliseconds=60)
    assert [wd for _, wd in rule.byday] == [0, 1, 2, 3, 4]


def test_frequency_in_until_slot_is_read_as_frequency() -> None:
    rule = parse_recurrence("20100101T010101|PT10H||daily")
    assert rule.freq == "daily" and rule.until is None
    # Active 01:01:01-11:01:01 every day, years later.
    assert rule.active_at(local(SHANGHAI, 2026, 5, 6, 11, 0), SHANGHAI)
    assert not rule.active_at(local(SHANGHAI, 2026, 5, 6, 11, 1, 2), SHANGHAI)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("", "empty"),
        ("20220502T000000", "dtstart|duration"),
        ("2022-05-02T00:00|PT1H|daily", "dtstart"),
        ("20220502|PT1H|daily", "dtstart"),
        ("20221302T000000|PT1H|daily", "dtstart"),
        ("20220502T000000|1H|daily", "duration"),
        ("20220502T000000|PT|daily", "duration"),
        ("20220502T000000|P|daily", "duration"),
        ("20220502T000000|PT0S|daily", "duration"),
        ("20220502T000000|P400D|yearly", "duration"),
        ("20220502T000000|PT1H|hourly", "freq"),
        ("20220502T000000|PT1H|daily|tomorrow", "until"),
        ("20220502T000000|PT1H|daily|20220101", "until"),
        ("20220502T000000|PT1H|daily||0", "interval"),
        ("20220502T000000|PT1H|daily||x", "interval"),
        ("20220502T000000|PT1H|daily||1|XX", "byday"),
        ("20220502T000000|PT1H|daily||1|1MO", "byday"),
        ("20220502T000000|PT1H|monthly||1||32", "bymonthday"),
        ("20220502T000000|PT1H|yearly||1|||0", "byyearday"),
        ("20220502T000000|PT1H|daily||1||||5", "byweekno"),
        ("20220502T000000|PT1H|yearly||1|||||13", "bymonth"),
        ("20220502T000000|PT1H|yearly||1|||||-1", "bymonth"),
        ("20220502T000000|PT1H|||1|MO", "freq"),
        ("1|2|3|4|5|6|7|8|9|10|11", "parts"),
    ],
)
def test_bad_strings_name_the_part(text: str, part: str) -> None:
    with pytest.raises(ValueError, match=part):
        parse_recurrence(text)


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK])
def test_working_hours_stay_at_local_nine_across_dst(tz: ZoneInfo) -> None:
    rule = parse_recurrence("20260101T090000|PT8H|daily||1|")
    utc_openings = set()
    # Both 2026 transitions of both zones fall inside these spans.
    days = [date(2026, 3, 1) + timedelta(days=i) for i in range(35)]
    days += [date(2026, 10, 20) + timedelta(days=i) for i in range(20)]
    for day in days:
        opens = local(tz, day.year, day.month, day.day, 9, 0)
        closes = local(tz, day.year, day.month, day.day, 17, 0)
        assert rule.active_at(opens, tz), opens
        assert not rule.active_at(opens - timedelta(seconds=1), tz), opens
        assert rule.active_at(closes - timedelta(seconds=1), tz), closes
        assert not rule.active_at(closes, tz), closes
        utc_openings.add(opens.astimezone(UTC).hour)
    assert len(utc_openings) == 2  # the UTC hour moved, local 09:00 did not


def test_repeated_autumn_hour_is_active_on_both_passes() -> None:
    rule = parse_recurrence("20260101T020000|PT30M|daily")
    # Berlin 2026-10-25: 03:00 CEST becomes 02:00 CET, 02:xx is shown twice.
    first = datetime(2026, 10, 25, 0, 15, tzinfo=UTC)  # 02:15 CEST
    second = datetime(2026, 10, 25, 1, 15, tzinfo=UTC)  # 02:15 CET
    between = datetime(2026, 10, 25, 0, 45, tzinfo=UTC)  # 02:45 CEST
    assert rule.active_at(first, BERLIN)
    assert rule.active_at(second, BERLIN)
    assert not rule.active_at(between, BERLIN)


def test_skipped_spring_hour_keeps_the_part_that_exists() -> None:
    rule = parse_recurrence("20260101T023000|PT1H|daily")
    # Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST.
    assert not rule.active_at(local(BERLIN, 2026, 3, 29, 1, 59, 59), BERLIN)
    assert rule.active_at(local(BERLIN, 2026, 3, 29, 3, 0), BERLIN)
    assert rule.active_at(local(BERLIN, 2026, 3, 29, 3, 29, 59), BERLIN)
    assert not rule.active_at(local(BERLIN, 2026, 3, 29, 3, 30), BERLIN)
    inside_gap = parse_recurrence("20260101T021000|PT30M|daily")
    assert not any(
        inside_gap.active_at(datetime(2026, 3, 29, 0, 0, tzinfo=UTC) + timedelta(minutes=m), BERLIN)
        for m in range(0, 240)
    )
    assert inside_gap.active_at(local(BERLIN, 2026, 3, 30, 2, 10), BERLIN)


def test_yearly_holiday_window_spans_days_and_repeats() -> None:
    rule = parse_recurrence("20211231T000000|PT47H59M59S|yearly||1|")
    assert rule.active_at(local(SHANGHAI, 2030, 12, 31, 0, 0), SHANGHAI)
    assert rule.active_at(local(SHANGHAI, 2031, 1, 1, 23, 59, 58), SHANGHAI)
    assert not rule.active_at(local(SHANGHAI, 2031, 1, 1, 23, 59, 59), SHANGHAI)
    assert not rule.active_at(local(SHANGHAI, 2030, 12, 30, 23, 59, 59), SHANGHAI)
    assert not rule.active_at(local(SHANGHAI, 2021, 1, 1, 12, 0), SHANGHAI)  # before dtstart


def test_until_interval_and_monthly_ordinals() -> None:
    rule = parse_recurrence("20260105T100000|PT1H|weekly|20260131|2|MO,WE")
    hits = {d for d in range(1, 32) if rule.active_at(local(BERLIN, 2026, 1, d, 10, 30), BERLIN)}
    # Every other week from the week of Jan 5: weeks of Jan 5 and Jan 19.
    assert hits == {5, 7, 19, 21}
    last_friday = parse_recurrence("20260101T180000|PT2H|monthly||1|-1FR")
    assert last_friday.active_at(local(BERLIN, 2026, 2, 27, 19, 0), BERLIN)
    assert not last_friday.active_at(local(BERLIN, 2026, 2, 20, 19, 0), BERLIN)
    first_monday_of_may = parse_recurrence("20260101T000000|PT24H|yearly||1|1MO||||5")
    assert first_monday_of_may.active_at(local(BERLIN, 2027, 5, 3, 12, 0), BERLIN)
    assert not first_monday_of_may.active_at(local(BERLIN, 2027, 5, 10, 12, 0), BERLIN)


def test_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_recurrence("20260101T090000|PT8H|daily").active_at(datetime(2026, 1, 1), BERLIN)


def test_monthly_rules_skip_months_without_the_day() -> None:
    # RFC 5545: dtstart's day-of-month; a month without a 31st has no occurrence.
    rule = parse_recurrence("20260131T090000|PT1H|monthly")
    assert rule.active_at(local(BERLIN, 2026, 1, 31, 9, 30), BERLIN)
    assert not rule.active_at(local(BERLIN, 2026, 2, 28, 9, 30), BERLIN)
    assert rule.active_at(local(BERLIN, 2026, 3, 31, 9, 30), BERLIN)
    assert not any(rule.active_at(local(BERLIN, 2026, 4, d, 9, 30), BERLIN) for d in range(1, 31))
    every_third = parse_recurrence("20260115T080000|PT2H|monthly||3||15")
    hits = [
        m for m in range(1, 13) if every_third.active_at(local(BERLIN, 2026, m, 15, 9, 0), BERLIN)
    ]
    assert hits == [1, 4, 7, 10]


def test_bymonthday_counts_from_either_end() -> None:
    last = parse_recurrence("20260101T120000|PT1H|monthly||1||-1")
    assert last.active_at(local(SHANGHAI, 2026, 2, 28, 12, 30), SHANGHAI)
    assert not last.active_at(local(SHANGHAI, 2026, 2, 27, 12, 30), SHANGHAI)
    assert last.active_at(local(SHANGHAI, 2028, 2, 29, 12, 30), SHANGHAI)  # leap year
    assert last.active_at(local(SHANGHAI, 2026, 4, 30, 12, 30), SHANGHAI)
    assert not last.active_at(local(SHANGHAI, 2026, 4, 1, 12, 30), SHANGHAI)
    first_and_15th = parse_recurrence("20260101T000000|PT1H|daily||1||1,15")
    days = {
        d
        for d in range(1, 32)
        if first_and_15th.active_at(local(BERLIN, 2026, 3, d, 0, 30), BERLIN)
    }
    assert days == {1, 15}


def test_byyearday_with_leap_years_and_from_the_end() -> None:
    day_100 = parse_recurrence("20260101T000000|PT24H|yearly||1|||100")
    assert day_100.active_at(local(BERLIN, 2026, 4, 10, 12, 0), BERLIN)
    assert not day_100.active_at(local(BERLIN, 2026, 4, 9, 12, 0), BERLIN)
    assert day_100.active_at(local(BERLIN, 2028, 4, 9, 12, 0), BERLIN)  # 29 February first
    new_years_eve = parse_recurrence("20260101T180000|PT6H|yearly||1|||-1")
    assert new_years_eve.active_at(local(BERLIN, 2026, 12, 31, 23, 59), BERLIN)
    assert not new_years_eve.active_at(local(BERLIN, 2026, 12, 30, 23, 59), BERLIN)


def test_byweekno_is_the_iso_week() -> None:
    week_20 = parse_recurrence("20260101T120000|PT1H|yearly||1||||20")
    assert [
        d for d in range(9, 20) if week_20.active_at(local(BERLIN, 2026, 5, d, 12, 30), BERLIN)
    ] == list(range(11, 18))
    # Monday of week 1: 2026's began on 29 December 2025, before dtstart;
    # 2027's is 4 January; 2028's 3 January.
    monday_1 = parse_recurrence("20260101T100000|PT1H|yearly||1|MO|||1")
    assert not monday_1.active_at(local(BERLIN, 2025, 12, 29, 10, 30), BERLIN)
    assert monday_1.active_at(local(BERLIN, 2027, 1, 4, 10, 30), BERLIN)
    assert not monday_1.active_at(local(BERLIN, 2027, 1, 11, 10, 30), BERLIN)
    assert monday_1.active_at(local(BERLIN, 2028, 1, 3, 10, 30), BERLIN)
    # The last week: 2026 has 53 ISO weeks, the last starting Monday 28 December.
    last_monday = parse_recurrence("20260101T100000|PT1H|yearly||1|MO|||-1")
    assert last_monday.active_at(local(BERLIN, 2026, 12, 28, 10, 30), BERLIN)
    assert not last_monday.active_at(local(BERLIN, 2026, 12, 21, 10, 30), BERLIN)


def test_until_bounds_occurrence_starts_inclusively() -> None:
    # A bare date is the end of that local day; a window started by then runs on.
    bare = parse_recurrence("20260101T220000|PT4H|daily|20260110")
    assert bare.active_at(local(BERLIN, 2026, 1, 10, 22, 0), BERLIN)
    assert bare.active_at(local(BERLIN, 2026, 1, 11, 1, 59), BERLIN)
    assert not bare.active_at(local(BERLIN, 2026, 1, 11, 22, 0), BERLIN)
    timed = parse_recurrence("20260101T090000|PT1H|daily|20260105T085959")
    assert timed.active_at(local(BERLIN, 2026, 1, 4, 9, 30), BERLIN)
    assert not timed.active_at(local(BERLIN, 2026, 1, 5, 9, 30), BERLIN)
    # A UTC until is an instant: 09:00 in Berlin in January is 08:00Z.
    on_time = parse_recurrence("20260101T090000|PT1H|daily|20260105T080000Z")
    assert on_time.active_at(local(BERLIN, 2026, 1, 5, 9, 30), BERLIN)
    too_early = parse_recurrence("20260101T090000|PT1H|daily|20260105T075959Z")
    assert not too_early.active_at(local(BERLIN, 2026, 1, 5, 9, 30), BERLIN)
    assert too_early.active_at(local(BERLIN, 2026, 1, 4, 9, 30), BERLIN)
    monthly = parse_recurrence("20260110T080000|PT1H|monthly|20260310")
    hits = [m for m in range(1, 7) if monthly.active_at(local(BERLIN, 2026, m, 10, 8, 30), BERLIN)]
    assert hits == [1, 2, 3]


# --- property test against a brute-force enumeration of occurrences ---------


def _monday_of_week_1(year: int) -> date:
    """ISO 8601: week 1 is the week with 4 January in it."""
    jan4 = date(year, 1, 4)
    return jan4 - timedelta(days=jan4.weekday())


def _week_index(day: date) -> tuple[int, int]:
    """(week number, weeks in that week-numbering year), without isocalendar()."""
    for year in (day.year + 1, day.year, day.year - 1):
        first = _monday_of_week_1(year)
        if day >= first:
            weeks = (_monday_of_week_1(year + 1) - first).days // 7
            return (day - first).days // 7 + 1, weeks
    raise AssertionError(day)


def _from_either_end(value: int, count: int, wanted: set[int]) -> bool:
    return any(w == value if w > 0 else count + 1 + w == value for w in wanted)


class Rule(msgspec.Struct):
    start: datetime
    minutes: int
    freq: str
    interval: int
    until: datetime | None = None
    until_text: str = ""
    weekdays: set[int] = msgspec.field(default_factory=set)
    monthdays: set[int] = msgspec.field(default_factory=set)
    yeardays: set[int] = msgspec.field(default_factory=set)
    weeknos: set[int] = msgspec.field(default_factory=set)
    months: set[int] = msgspec.field(default_factory=set)

    def text(self) -> str:
        def csv(values: set[int]) -> str:
            return ",".join(str(v) for v in sorted(values))

        return "|".join(
            [
                self.start.strftime("%Y%m%dT%H%M%S"),
                f"PT{self.minutes}M",
                self.freq,
                self.until_text,
                str(self.interval) if self.freq else "",
                ",".join(WEEKDAYS[w] for w in sorted(self.weekdays)),
                csv(self.monthdays),
                csv(self.yeardays),
                csv(self.weeknos),
                csv(self.months),
            ]
        )


def _occurs(rule: Rule, day: date) -> bool:
    """RFC 5545 by hand: the period steps, then every BY-part as a filter,
    then what a rule leaves out taken from dtstart."""
    first = rule.start.date()
    if rule.freq == "":
        return day == first
    months_apart = (day.year - first.year) * 12 + day.month - first.month
    step = {
        "daily": (day - first).days,
        "weekly": (day - (first - timedelta(days=first.weekday()))).days // 7,
        "monthly": months_apart,
        "yearly": day.year - first.year,
    }[rule.freq]
    if step % rule.interval:
        return False
    month_len = calendar.monthrange(day.year, day.month)[1]
    year_len = (date(day.year + 1, 1, 1) - date(day.year, 1, 1)).days
    yday = (day - date(day.year, 1, 1)).days + 1
    if rule.months and day.month not in rule.months:
        return False
    if rule.monthdays and not _from_either_end(day.day, month_len, rule.monthdays):
        return False
    if rule.yeardays and not _from_either_end(yday, year_len, rule.yeardays):
        return False
    if rule.weeknos and not _from_either_end(*_week_index(day), rule.weeknos):
        return False
    if rule.weekdays and day.weekday() not in rule.weekdays:
        return False
    day_level = rule.weekdays or rule.monthdays or rule.yeardays or rule.weeknos
    if rule.freq == "weekly" and not rule.weekdays:
        return day.weekday() == first.weekday()
    if rule.freq == "monthly" and not day_level:
        return day.day == first.day
    if rule.freq == "yearly" and not day_level:
        return day.day == first.day and (bool(rule.months) or day.month == first.month)
    return True


def _occurrences(rule: Rule, last: date) -> list[datetime]:
    """Every occurrence start (wall clock) from dtstart through ``last``."""
    out = []
    day = rule.start.date()
    while day <= last:
        occ = datetime.combine(day, rule.start.time())
        if _occurs(rule, day) and (rule.until is None or occ <= rule.until):
            out.append(occ)
        day += timedelta(days=1)
    return out


def _reference_active(starts: list[datetime], minutes: int, wall: datetime) -> bool:
    window = timedelta(minutes=minutes)
    return any(occ <= wall < occ + window for occ in starts)


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    start = draw(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 1)))
    start = start.replace(microsecond=0)
    freq = draw(st.sampled_from(["", "daily", "weekly", "monthly", "yearly"]))
    rule = Rule(
        start=start,
        minutes=draw(st.integers(min_value=1, max_value=60 * 24 * 9)),
        freq=freq,
        interval=draw(st.integers(min_value=1, max_value=3)),
    )
    if not freq:
        return rule

    def small(values: st.SearchStrategy[int], max_size: int) -> st.SearchStrategy[set[int]]:
        # Often empty: the defaults taken from dtstart need exercising too.
        return st.one_of(st.just(set()), st.sets(values, min_size=1, max_size=max_size))

    rule.weekdays = draw(small(st.integers(0, 6), max_size=3))
    rule.months = draw(small(st.integers(1, 12), max_size=3))

    def signed(high: int, edges: list[int]) -> st.SearchStrategy[int]:
        # The ends of months, years and 52/53-week years are where it goes wrong.
        return st.one_of(st.sampled_from(edges), st.integers(-high, high).filter(bool))

    if freq in ("daily", "monthly", "yearly"):  # RFC 5545: not with weekly
        rule.monthdays = draw(small(signed(31, [1, 28, 29, 30, 31, -1, -2, -31]), 3))
    if freq in ("daily", "yearly"):  # RFC 5545: not with weekly or monthly
        rule.yeardays = draw(small(signed(366, [1, 59, 60, 365, 366, -1, -366]), 3))
    if freq == "yearly":  # RFC 5545: yearly only
        rule.weeknos = draw(small(signed(53, [1, 52, 53, -1, -2, -53]), 2))
    if draw(st.booleans()):
        end = start + timedelta(days=draw(st.integers(0, 500)), seconds=draw(st.integers(0, 86399)))
        if draw(st.booleans()):  # a bare date: the end of that day
            rule.until_text = end.strftime("%Y%m%d")
            rule.until = datetime.combine(end.date(), time.max)
        else:
            rule.until_text = end.strftime("%Y%m%dT%H%M%S")
            rule.until = end
    return rule


@settings(max_examples=200, deadline=None)
@given(
    rule=rules(),
    phase=st.integers(min_value=-60, max_value=60 * 24 * 9 + 60),
    tz=st.sampled_from([BERLIN, NEW_YORK, SHANGHAI]),
)
def test_active_at_matches_occurrence_enumeration(rule: Rule, phase: int, tz: ZoneInfo) -> None:
    # Probe every day of two years at the same point of its would-be window
    # (a little before it to a little after it): whether that day, or one
    # before it, has an occurrence decides each answer. The years hold both
    # DST changes of Berlin and New York.
    parsed = parse_recurrence(rule.text())
    phase = phase % (rule.minutes + 2) - 1
    first = rule.start.date() - timedelta(days=3)
    probes = []
    for n in range(2 * 366):
        wall = datetime.combine(first + timedelta(days=n), rule.start.time())
        moment = (wall.replace(tzinfo=tz) + timedelta(minutes=phase)).astimezone(UTC)
        probes.append((moment, moment.astimezone(tz).replace(tzinfo=None)))
    starts = _occurrences(rule, probes[-1][1].date())
    for moment, wall in probes:
        recent = starts[bisect_left(starts, wall - timedelta(days=12)) : bisect_right(starts, wall)]
        expected = _reference_active(recent, rule.minutes, wall)
        assert parsed.active_at(moment, tz) is expected, (rule.text(), wall.isoformat())


def test_reference_week_numbers_agree_with_iso() -> None:
    day = date(2020, 12, 1)
    while day < date(2029, 2, 1):
        iso = day.isocalendar()
        weeks = date(iso.year, 12, 28).isocalendar().week
        assert _week_index(day) == (iso.week, weeks), day
        day += timedelta(days=1)

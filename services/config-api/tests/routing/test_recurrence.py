"""Time-rule strings: every example of the spec parses, bad ones are refused
with the part named, and windows follow the local wall clock across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

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


# --- property test against a brute-force enumeration of occurrences ---------


def _reference_active(
    start: datetime,
    duration: timedelta,
    freq: str,
    interval: int,
    weekdays: set[int],
    months: set[int],
    wall: datetime,
) -> bool:
    """Walks every occurrence from dtstart onward, RFC-style, on wall time."""
    day = start.date()
    while day <= wall.date():
        if freq == "":
            ok = day == start.date()
        elif freq == "daily":
            ok = (day - start.date()).days % interval == 0
        elif freq == "weekly":
            week0 = start.date() - timedelta(days=start.weekday())
            ok = ((day - week0).days // 7) % interval == 0
            ok = ok and (
                day.weekday() in weekdays if weekdays else day.weekday() == start.weekday()
            )
        else:  # yearly
            ok = (day.year - start.year) % interval == 0 and day.day == start.day
            ok = ok and (day.month in months if months else day.month == start.month)
        if freq in ("daily",) and weekdays:
            ok = ok and day.weekday() in weekdays
        if freq in ("daily", "weekly") and months:
            ok = ok and day.month in months
        occ = datetime.combine(day, start.time())
        if ok and occ <= wall < occ + duration:
            return True
        day += timedelta(days=1)
    return False


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
    minutes=st.integers(min_value=1, max_value=60 * 24 * 9),
    freq=st.sampled_from(["", "daily", "weekly", "yearly"]),
    interval=st.integers(min_value=1, max_value=3),
    weekdays=st.sets(st.integers(min_value=0, max_value=6), max_size=3),
    months=st.sets(st.integers(min_value=1, max_value=12), max_size=3),
    offset=st.integers(min_value=-3 * 24 * 3600, max_value=2 * 365 * 24 * 3600),
    tz=st.sampled_from([BERLIN, NEW_YORK, SHANGHAI]),
)
def test_active_at_matches_occurrence_enumeration(
    start: datetime,
    minutes: int,
    freq: str,
    interval: int,
    weekdays: set[int],
    months: set[int],
    offset: int,
    tz: ZoneInfo,
) -> None:
    if freq == "":
        weekdays, months = set(), set()
    if freq == "yearly":
        weekdays = set()
        if months:
            start = start.replace(day=min(start.day, 28))
    duration = timedelta(minutes=minutes)
    text = "|".join(
        [
            start.strftime("%Y%m%dT%H%M%S"),
            f"PT{minutes}M",
            freq,
            "",
            str(interval) if freq else "",
            ",".join(WEEKDAYS[w] for w in sorted(weekdays)),
            "",
            "",
            "",
            ",".join(str(m) for m in sorted(months)),
        ]
    )
    rule = parse_recurrence(text)
    moment = start.replace(tzinfo=tz).astimezone(UTC) + timedelta(seconds=offset)
    wall = moment.astimezone(tz).replace(tzinfo=None)
    expected = _reference_active(start, duration, freq, interval, weekdays, months, wall)
    assert rule.active_at(moment, tz) is expected

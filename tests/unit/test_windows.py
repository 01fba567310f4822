"""Milestone windows in the account's timezone, the freeze rule, the refresh schedule and the
bucketing of instants, with values worked out by hand."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from domain.windows import (
    Buckets,
    Window,
    day_start,
    is_frozen,
    local_date,
    milestone_window,
    refresh_due,
)

UTC_ZONE = ZoneInfo("UTC")
WARSAW = ZoneInfo("Europe/Warsaw")
SANTIAGO = ZoneInfo("America/Santiago")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_utc_window_is_whole_days() -> None:
    window = milestone_window(date(2024, 1, 1), date(2024, 1, 31), UTC_ZONE)
    assert window == Window(utc(2024, 1, 1), utc(2024, 2, 1))


def test_warsaw_month_with_the_spring_change() -> None:
    # March starts at 00:00 CET (UTC+1) and ends at 00:00 CEST (UTC+2) on 1 April.
    window = milestone_window(date(2024, 3, 1), date(2024, 3, 31), WARSAW)
    assert window == Window(utc(2024, 2, 29, 23), utc(2024, 3, 31, 22))


def test_warsaw_days_of_23_and_25_hours() -> None:
    spring = milestone_window(date(2024, 3, 31), date(2024, 3, 31), WARSAW)
    assert spring.end - spring.start == timedelta(hours=23)
    autumn = milestone_window(date(2024, 10, 27), date(2024, 10, 27), WARSAW)
    assert autumn == Window(utc(2024, 10, 26, 22), utc(2024, 10, 27, 23))


def test_a_day_whose_midnight_does_not_exist_starts_at_the_change() -> None:
    # Chile moves from UTC-4 to UTC-3 at 00:00 on 8 September 2024: the day starts at 01:00
    # local, which is 04:00 UTC, and lasts 23 hours.
    assert day_start(date(2024, 9, 8), SANTIAGO) == utc(2024, 9, 8, 4)
    window = milestone_window(date(2024, 9, 8), date(2024, 9, 8), SANTIAGO)
    assert window.end - window.start == timedelta(hours=23)


def test_freezing_waits_the_given_hours_after_the_local_end() -> None:
    # 31 January ends at 1 February 00:00 UTC; frozen from 2 February 00:00 with 24 hours.
    end = date(2024, 1, 31)
    assert not is_frozen(end, UTC_ZONE, utc(2024, 2, 1, 23, 59, 59, 999999), 24)
    assert is_frozen(end, UTC_ZONE, utc(2024, 2, 2), 24)
    assert is_frozen(end, UTC_ZONE, utc(2024, 2, 1), 0)
    # In Warsaw the end is 31 January 23:00 UTC.
    assert is_frozen(end, WARSAW, utc(2024, 2, 1, 23), 24)
    assert not is_frozen(end, WARSAW, utc(2024, 2, 1, 22, 59), 24)


def test_refresh_is_due_once_the_local_hour_has_come() -> None:
    # 00:30 UTC on 11 June is 02:30 in Warsaw (UTC+2 in summer).
    assert refresh_due(utc(2024, 6, 10, 23, 30), WARSAW, 2, None) is None  # 01:30 local
    assert refresh_due(utc(2024, 6, 11, 0, 0), WARSAW, 2, None) == date(2024, 6, 11)
    assert refresh_due(utc(2024, 6, 11, 0, 0), WARSAW, 2, date(2024, 6, 10)) == date(2024, 6, 11)
    assert refresh_due(utc(2024, 6, 11, 0, 0), WARSAW, 2, date(2024, 6, 11)) is None
    assert refresh_due(utc(2024, 6, 11, 20, 59), WARSAW, 23, None) is None  # 22:59 local
    assert refresh_due(utc(2024, 6, 11, 21, 0), WARSAW, 23, None) == date(2024, 6, 11)
    assert local_date(utc(2024, 6, 10, 22, 0), WARSAW) == date(2024, 6, 11)


def test_buckets_number_the_intervals_between_boundaries() -> None:
    january = Window(utc(2024, 1, 1), utc(2024, 2, 1))
    mid_january_on = Window(utc(2024, 1, 15), utc(2024, 3, 1))
    buckets = Buckets.of([january, mid_january_on])
    assert buckets.boundaries == (
        utc(2024, 1, 1),
        utc(2024, 1, 15),
        utc(2024, 2, 1),
        utc(2024, 3, 1),
    )
    assert buckets.span(january) == (1, 2)
    assert buckets.span(mid_january_on) == (2, 3)
    assert buckets.bucket_of(utc(2023, 12, 31, 23, 59)) is None
    assert buckets.bucket_of(utc(2024, 1, 1)) == 1
    assert buckets.bucket_of(utc(2024, 1, 14, 23, 59)) == 1
    assert buckets.bucket_of(utc(2024, 1, 15)) == 2
    assert buckets.bucket_of(utc(2024, 2, 29, 23, 59)) == 3
    assert buckets.bucket_of(utc(2024, 3, 1)) is None


_days = st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 12, 31))
_zones = st.sampled_from([UTC_ZONE, WARSAW, SANTIAGO, ZoneInfo("Asia/Kolkata")])


@given(
    ranges=st.lists(st.tuples(_days, st.integers(0, 120)), min_size=1, max_size=6),
    zone=_zones,
    instant_day=_days,
    seconds=st.integers(0, 86399),
)
def test_an_instant_is_in_a_window_exactly_when_its_bucket_is_in_the_span(
    ranges: list[tuple[date, int]], zone: ZoneInfo, instant_day: date, seconds: int
) -> None:
    windows = [milestone_window(start, start + timedelta(days=n), zone) for start, n in ranges]
    buckets = Buckets.of(windows)
    instant = datetime.combine(instant_day, datetime.min.time(), UTC) + timedelta(seconds=seconds)
    bucket = buckets.bucket_of(instant)
    for window in windows:
        first, last = buckets.span(window)
        inside = window.start <= instant < window.end
        assert inside == (bucket is not None and first <= bucket <= last)

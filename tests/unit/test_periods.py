"""Milestone periods: every period and fiscal start month, random dates within five years."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.enums import MilestonePeriod
from domain.periods import exceeds_max_duration, milestone_periods

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)


@st.composite
def goal_dates(draw: st.DrawFn) -> tuple[date, date]:
    start = draw(st.dates(FIRST_DAY, LAST_DAY))
    end = start + timedelta(days=draw(st.integers(0, 5 * 365)))
    return start, end


@settings(max_examples=400, deadline=None)
@given(
    dates=goal_dates(),
    period=st.sampled_from(list(MilestonePeriod)),
    fiscal_month=st.integers(1, 12),
    aligned=st.booleans(),
)
def test_milestones_cover_the_goal_without_gap_or_overlap(
    dates: tuple[date, date], period: MilestonePeriod, fiscal_month: int, aligned: bool
) -> None:
    start, end = dates
    periods = milestone_periods(
        start, end, period, align_to_fiscal_year=aligned, fiscal_year_start_month=fiscal_month
    )
    assert [p.index for p in periods] == list(range(len(periods)))
    assert periods[0].start_date == start
    assert periods[-1].end_date == end
    for earlier, later in zip(periods, periods[1:], strict=False):
        assert later.start_date == earlier.end_date + timedelta(days=1)
    for p in periods:
        assert p.start_date <= p.end_date
    year_start = fiscal_month if aligned else 1
    # Every period but the clipped first starts where its kind of period starts.
    for p in periods[1:]:
        day = p.start_date
        if period is MilestonePeriod.WEEKLY:
            assert day.weekday() == 0
        else:
            assert day.day == 1
            if period is MilestonePeriod.QUARTERLY:
                assert (day.month - year_start) % 3 == 0
            if period is MilestonePeriod.YEARLY:
                assert day.month == year_start
    # Every period but the clipped last ends the day before the next kind-of-period start.
    for p in periods[:-1]:
        following = p.end_date + timedelta(days=1)
        if period is MilestonePeriod.WEEKLY:
            assert following.weekday() == 0
            assert (p.end_date - p.start_date).days <= 6
        else:
            assert following.day == 1
    expected_lengths = {
        MilestonePeriod.WEEKLY: 7,
        MilestonePeriod.MONTHLY: 31,
        MilestonePeriod.QUARTERLY: 92,
        MilestonePeriod.YEARLY: 366,
    }
    for p in periods:
        assert (p.end_date - p.start_date).days < expected_lengths[period]


@settings(max_examples=200, deadline=None)
@given(dates=goal_dates(), fiscal_month=st.integers(1, 12))
def test_alignment_only_moves_quarters_and_years(
    dates: tuple[date, date], fiscal_month: int
) -> None:
    start, end = dates
    for period in (MilestonePeriod.WEEKLY, MilestonePeriod.MONTHLY):
        assert milestone_periods(
            start, end, period, align_to_fiscal_year=True, fiscal_year_start_month=fiscal_month
        ) == milestone_periods(start, end, period)


@pytest.mark.parametrize(
    ("period", "fiscal_month", "expected"),
    [
        (
            MilestonePeriod.QUARTERLY,
            4,
            [
                ("2026-02-15", "2026-03-31"),
                ("2026-04-01", "2026-06-30"),
                ("2026-07-01", "2026-08-01"),
            ],
        ),
        (
            MilestonePeriod.QUARTERLY,
            1,
            [
                ("2026-02-15", "2026-03-31"),
                ("2026-04-01", "2026-06-30"),
                ("2026-07-01", "2026-08-01"),
            ],
        ),
        (
            MilestonePeriod.QUARTERLY,
            2,
            [
                ("2026-02-15", "2026-04-30"),
                ("2026-05-01", "2026-07-31"),
                ("2026-08-01", "2026-08-01"),
            ],
        ),
        (MilestonePeriod.YEARLY, 7, [("2026-02-15", "2026-06-30"), ("2026-07-01", "2026-08-01")]),
        (
            MilestonePeriod.MONTHLY,
            7,
            [
                ("2026-02-15", "2026-02-28"),
                ("2026-03-01", "2026-03-31"),
                ("2026-04-01", "2026-04-30"),
                ("2026-05-01", "2026-05-31"),
                ("2026-06-01", "2026-06-30"),
                ("2026-07-01", "2026-07-31"),
                ("2026-08-01", "2026-08-01"),
            ],
        ),
    ],
)
def test_known_fiscal_windows(
    period: MilestonePeriod, fiscal_month: int, expected: list[tuple[str, str]]
) -> None:
    periods = milestone_periods(
        date(2026, 2, 15),
        date(2026, 8, 1),
        period,
        align_to_fiscal_year=True,
        fiscal_year_start_month=fiscal_month,
    )
    assert [(p.start_date.isoformat(), p.end_date.isoformat()) for p in periods] == expected


def test_weeks_start_on_monday_across_a_year_end() -> None:
    # 2026-12-31 is a Thursday; ISO week 1 of 2027 starts on Monday 2027-01-04.
    periods = milestone_periods(date(2026, 12, 31), date(2027, 1, 11), MilestonePeriod.WEEKLY)
    assert [(p.start_date, p.end_date) for p in periods] == [
        (date(2026, 12, 31), date(2027, 1, 3)),
        (date(2027, 1, 4), date(2027, 1, 10)),
        (date(2027, 1, 11), date(2027, 1, 11)),
    ]


def test_a_single_day_is_one_milestone() -> None:
    for period in MilestonePeriod:
        periods = milestone_periods(date(2026, 5, 5), date(2026, 5, 5), period)
        assert [(p.index, p.start_date, p.end_date) for p in periods] == [
            (0, date(2026, 5, 5), date(2026, 5, 5))
        ]


def test_end_before_start_is_refused() -> None:
    with pytest.raises(ValueError):
        milestone_periods(date(2026, 5, 5), date(2026, 5, 4), MilestonePeriod.MONTHLY)


def test_five_years_at_most() -> None:
    assert not exceeds_max_duration(date(2026, 1, 1), date(2030, 12, 31))
    assert exceeds_max_duration(date(2026, 1, 1), date(2031, 1, 1))
    # From 29 February the fifth anniversary falls on 1 March.
    assert not exceeds_max_duration(date(2028, 2, 29), date(2033, 2, 28))
    assert exceeds_max_duration(date(2028, 2, 29), date(2033, 3, 1))

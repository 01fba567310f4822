"""Milestone periods: pure date arithmetic, no database and no clock."""

from dataclasses import dataclass
from datetime import MAXYEAR, date, timedelta

from domain.enums import MilestonePeriod

MAX_GOAL_YEARS = 5
# Periods reach up to a year beyond a goal's dates; these bounds keep them inside the calendar.
FIRST_GOAL_DATE = date(1900, 1, 1)
LAST_GOAL_DATE = date(MAXYEAR - 1, 12, 31)


@dataclass(frozen=True, slots=True)
class Period:
    index: int
    start_date: date
    end_date: date  # inclusive


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    total = year * 12 + (month - 1) + months
    return total // 12, total % 12 + 1


def period_start(day: date, period: MilestonePeriod, year_start_month: int = 1) -> date:
    """The first day of the period that contains ``day``.

    ``year_start_month`` moves quarters and years to a fiscal year starting in that month.
    """
    if period is MilestonePeriod.WEEKLY:
        return day - timedelta(days=day.weekday())
    if period is MilestonePeriod.MONTHLY:
        return day.replace(day=1)
    length = 3 if period is MilestonePeriod.QUARTERLY else 12
    months_since = (day.month - year_start_month) % length
    year, month = _add_months(day.year, day.month, -months_since)
    return date(year, month, 1)


def next_period_start(start: date, period: MilestonePeriod) -> date:
    if period is MilestonePeriod.WEEKLY:
        return start + timedelta(days=7)
    length = {MilestonePeriod.MONTHLY: 1, MilestonePeriod.QUARTERLY: 3, MilestonePeriod.YEARLY: 12}[
        period
    ]
    year, month = _add_months(start.year, start.month, length)
    return date(year, month, 1)


def milestone_periods(
    start_date: date,
    end_date: date,
    period: MilestonePeriod,
    *,
    align_to_fiscal_year: bool = False,
    fiscal_year_start_month: int = 1,
) -> list[Period]:
    """The periods covering [start_date, end_date], the first and last clipped to it."""
    if end_date < start_date:
        raise ValueError("end_date is before start_date")
    year_start = fiscal_year_start_month if align_to_fiscal_year else 1
    periods: list[Period] = []
    cursor = period_start(start_date, period, year_start)
    while cursor <= end_date:
        following = next_period_start(cursor, period)
        periods.append(
            Period(
                index=len(periods),
                start_date=max(cursor, start_date),
                end_date=min(following - timedelta(days=1), end_date),
            )
        )
        cursor = following
    return periods


def exceeds_max_duration(start_date: date, end_date: date) -> bool:
    """True when [start, end] is longer than five years (end may fall on the day before the
    fifth anniversary of the start)."""
    if start_date.year + MAX_GOAL_YEARS > MAXYEAR:
        return False
    try:
        limit = start_date.replace(year=start_date.year + MAX_GOAL_YEARS)
    except ValueError:  # 29 February
        limit = date(start_date.year + MAX_GOAL_YEARS, 3, 1)
    return end_date >= limit


def outside_goal_dates(start_date: date, end_date: date) -> bool:
    """True when either date lies outside the range a goal's dates may take."""
    return start_date < FIRST_GOAL_DATE or end_date > LAST_GOAL_DATE

"""Rules of reading goals, on plain values: the history window and whether a goal is
forecastable."""

from datetime import date

import pytest

from domain.enums import MilestonePeriod, forecastable
from domain.errors import Refused
from domain.history import history_dates

TODAY = date(2026, 3, 10)


def test_history_defaults_to_the_90_days_ending_today() -> None:
    assert history_dates(None, None, TODAY) == (date(2025, 12, 11), TODAY)


def test_history_from_one_bound_spans_90_days() -> None:
    assert history_dates(date(2026, 1, 1), None, TODAY) == (date(2026, 1, 1), date(2026, 3, 31))
    assert history_dates(None, date(2026, 1, 1), TODAY) == (date(2025, 10, 4), date(2026, 1, 1))


def test_history_stops_at_the_ends_of_the_calendar() -> None:
    assert history_dates(None, date(1, 1, 5), TODAY) == (date.min, date(1, 1, 5))
    assert history_dates(date(9999, 12, 1), None, TODAY) == (date(9999, 12, 1), date.max)


def test_history_covers_at_most_366_days() -> None:
    assert history_dates(date(2024, 1, 1), date(2024, 12, 31), TODAY)[1] == date(2024, 12, 31)
    with pytest.raises(Refused, match="^History covers at most 366 days per call.$"):
        history_dates(date(2024, 1, 1), date(2025, 1, 1), TODAY)


def test_history_refuses_reversed_dates() -> None:
    with pytest.raises(Refused, match="^`from` must not be after `to`.$"):
        history_dates(date(2026, 2, 2), date(2026, 2, 1), TODAY)


@pytest.mark.parametrize(
    ("period", "pipelines", "expected"),
    [
        (MilestonePeriod.MONTHLY, 0, True),
        (MilestonePeriod.WEEKLY, 1, True),
        (MilestonePeriod.QUARTERLY, 2, False),
        (MilestonePeriod.YEARLY, 1, False),
    ],
)
def test_forecastable_needs_a_period_below_a_year_and_one_pipeline_at_most(
    period: MilestonePeriod, pipelines: int, expected: bool
) -> None:
    assert forecastable(period, pipelines) is expected

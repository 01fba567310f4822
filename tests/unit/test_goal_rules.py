"""Rules the API and the services share, on plain values: the history window, whether a goal
is forecastable, and the date checks a goal preview and a goal creation both apply."""

from datetime import date

import pytest

from domain.enums import GoalCategory, GoalType, MilestonePeriod, forecastable
from domain.errors import ErrorCode, Errors, Refused
from domain.goals.validation import GoalDraft, plan_milestones, preview_milestones
from domain.history import history_dates
from domain.periods import Period

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


def draft(start: date, end: date, period: MilestonePeriod, *, aligned: bool) -> GoalDraft:
    return GoalDraft(
        name="Q",
        category=GoalCategory.SALES,
        type=GoalType.REVENUE,
        start_date=start,
        end_date=end,
        milestone_period=period,
        contributors=[],
        align_to_fiscal_year=aligned,
    )


def preview(goal: GoalDraft, fiscal_year_start_month: int) -> list[Period]:
    return preview_milestones(
        goal.start_date,
        goal.end_date,
        goal.milestone_period,
        align_to_fiscal_year=goal.align_to_fiscal_year,
        fiscal_year_start_month=fiscal_year_start_month,
    )


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (
            date(2026, 2, 15),
            date(2026, 2, 14),
            "end_date",
            "The end date is before the start date.",
        ),
        (date(2026, 1, 1), date(2031, 1, 1), "end_date", "A goal lasts at most 5 years."),
        (
            date(1899, 12, 31),
            date(1900, 1, 31),
            "start_date",
            "Goal dates lie between 1900-01-01 and 9998-12-31.",
        ),
    ],
)
def test_preview_and_creation_refuse_dates_in_the_same_words(
    start: date, end: date, field: str, message: str
) -> None:
    goal = draft(start, end, MilestonePeriod.MONTHLY, aligned=False)
    with pytest.raises(Refused) as refused:
        preview(goal, 1)
    assert str(refused.value) == message
    errors = Errors()
    assert plan_milestones(errors, ("input",), goal, 1) is None
    assert [(e.field, e.code, e.message) for e in errors.items] == [
        (("input", field), ErrorCode.INVALID, message)
    ]


def test_preview_and_creation_plan_the_same_milestones() -> None:
    goal = draft(date(2026, 2, 1), date(2026, 7, 31), MilestonePeriod.QUARTERLY, aligned=True)
    planned = preview(goal, 2)
    assert planned == plan_milestones(Errors(), ("input",), goal, 2)
    assert [(p.start_date, p.end_date) for p in planned] == [
        (date(2026, 2, 1), date(2026, 4, 30)),
        (date(2026, 5, 1), date(2026, 7, 31)),
    ]

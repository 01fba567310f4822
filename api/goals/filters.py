"""Goal filter and order inputs, and their translation into the domain's criteria."""

import base64
import binascii
import dataclasses
import datetime
import json
import math
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TypeVar

import strawberry

from api.common.enums import described_enum
from api.common.errors import PublicError
from api.common.text import text_problem
from api.goals.ranges import DateRangeInput, date_range_of
from api.goals.types import GoalCategory, GoalStatus, GoalType, MilestonePeriod
from api.ids import from_global_id
from api.insight.pace import PaceStatus
from domain import enums
from domain.global_ids import max_pk
from domain.goals import queries as goal_queries
from domain.ranges import DateRange

S = TypeVar("S", bound=str)

MAX_IDS = 500
MAX_SEARCH_LENGTH = 200

GoalOrderField = goal_queries.GoalOrderField
described_enum(
    GoalOrderField,
    name="GoalOrderField",
    description="What goals are listed by; ties break by id, so pages never overlap.",
    values={
        "PROGRESS": "The goal's percent (over `filter.dateRange` when given); nulls last.",
        "NAME": "The goal's name.",
        "START_DATE": "The goal's first day.",
        "END_DATE": "The goal's last day.",
        "CREATED_AT": "When the goal was created.",
        "PACE": "The goal's pace ratio (`Goal.pace.ratio`); goals without one (not in "
        "progress, not yet refreshed, or nothing due yet) last.",
    },
)


@strawberry.enum(description="Which way a list is ordered.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Smallest, earliest or A first.")
    DESC = strawberry.enum_value("DESC", description="Largest, latest or Z first.")


@strawberry.input(description="Inclusive percent bounds; a null percent never matches.")
class ProgressRangeInput:
    min: float | None = strawberry.field(
        default=None,
        description="The lowest percent that matches; null: no lower bound.",
    )
    max: float | None = strawberry.field(
        default=None,
        description="The highest percent that matches; null: no upper bound.",
    )


@strawberry.input(description="Every given field must hold; a null or empty list is no constraint.")
class GoalFilter:
    date_range: DateRangeInput | None = strawberry.field(
        default=None,
        description="Goals whose duration overlaps the range. Also makes statuses, progress "
        "and ordering by PROGRESS use the figures over this range.",
    )
    user_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="With teamIds, an OR over contributor goals."
    )
    team_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="That team as contributor, or a user contributor in it."
    )
    pipeline_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Goals sharing a pipeline with these (at most 500 ids).",
    )
    milestone_periods: list[MilestonePeriod] | None = strawberry.field(
        default=None,
        description="Goals cut into milestones of these periods.",
    )
    statuses: list[GoalStatus] | None = strawberry.field(
        default=None,
        description="The contributor goal's own status; with dateRange, its status over that "
        "range (the milestones that overlap it).",
    )
    progress: ProgressRangeInput | None = strawberry.field(
        default=None,
        description="The contributor goal's own percent; with dateRange, its percent over that "
        "range.",
    )
    categories: list[GoalCategory] | None = strawberry.field(
        default=None,
        description="Goals of these categories.",
    )
    types: list[GoalType] | None = strawberry.field(
        default=None,
        description="Goals of these types.",
    )
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive part of the goal's name."
    )
    pace_statuses: list[PaceStatus] | None = strawberry.field(
        default=None,
        description="The contributor goal's pace status (`ContributorGoal.pace.status`); a "
        "contributor goal without pace (not in progress or not yet refreshed) never matches. "
        "Pace is over the whole duration, with or without dateRange.",
    )


@strawberry.input(description="How goals are listed; default: newest first.")
class GoalOrder:
    field: GoalOrderField = strawberry.field(description="What goals are ordered by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC,
        description="ASC by default.",
    )


def filter_range(goal_filter: GoalFilter | None) -> DateRange | None:
    """The range whose figures the filter's statuses and progress and the PROGRESS order use:
    the filter's dateRange when it bounds anything."""
    if goal_filter is None or goal_filter.date_range is None:
        return None
    date_range = date_range_of(goal_filter.date_range, "dateRange")
    return None if date_range == DateRange() else date_range


def _ids(
    global_ids: list[strawberry.ID] | None, type_name: str, name: str
) -> tuple[int, ...] | None:
    """Known ids of the type; unknown or wrong-type ids simply match nothing."""
    if not global_ids:
        return None
    if len(global_ids) > MAX_IDS:
        raise PublicError(f"`{name}` takes at most {MAX_IDS} ids.")
    return tuple(
        sorted({pk for g in global_ids if (pk := from_global_id(g, type_name)) is not None})
    )


def _choices(values: Sequence[S] | None) -> tuple[S, ...] | None:
    return tuple(sorted(set(values))) if values else None


def _percent(bound: float | None, name: str) -> Decimal | None:
    if bound is None:
        return None
    if not math.isfinite(bound):
        raise PublicError(f"`progress.{name}` must be a finite number.")
    return Decimal(str(bound))


def goal_criteria(goal_filter: GoalFilter | None) -> goal_queries.GoalCriteria | None:
    if goal_filter is None:
        return None
    date_range = goal_filter.date_range
    date_from = date_range.from_ if date_range else None
    date_to = date_range.to if date_range else None
    if date_from is not None and date_to is not None and date_from > date_to:
        raise PublicError("`dateRange.from` must not be after `dateRange.to`.")
    search = (goal_filter.search or "").strip()
    if len(search) > MAX_SEARCH_LENGTH:
        raise PublicError(f"`search` takes at most {MAX_SEARCH_LENGTH} characters.")
    criteria = goal_queries.GoalCriteria(
        date_from=date_from,
        date_to=date_to,
        pipeline_ids=_ids(goal_filter.pipeline_ids, "Pipeline", "pipelineIds"),
        milestone_periods=_choices(goal_filter.milestone_periods),
        categories=_choices(goal_filter.categories),
        types=_choices(goal_filter.types),
        search=search or None,
    )
    return None if criteria == goal_queries.GoalCriteria() else criteria


def contributor_criteria(
    goal_filter: GoalFilter | None, today: datetime.date
) -> goal_queries.ContributorCriteria | None:
    if goal_filter is None:
        return None
    progress = goal_filter.progress
    statuses: tuple[enums.GoalStatus, ...] | None = _choices(goal_filter.statuses)
    pace_statuses: tuple[enums.PaceStatus, ...] | None = _choices(goal_filter.pace_statuses)
    criteria = goal_queries.ContributorCriteria(
        user_ids=_ids(goal_filter.user_ids, "User", "userIds"),
        team_ids=_ids(goal_filter.team_ids, "Team", "teamIds"),
        statuses=statuses,
        percent_min=_percent(progress.min if progress else None, "min"),
        percent_max=_percent(progress.max if progress else None, "max"),
        today=today if statuses or pace_statuses else None,
        pace_statuses=pace_statuses,
    )
    if statuses is not None or progress is not None:
        criteria = dataclasses.replace(criteria, date_range=filter_range(goal_filter))
    return None if criteria == goal_queries.ContributorCriteria() else criteria


def goal_order(order: GoalOrder | None) -> tuple[goal_queries.GoalOrderField, bool]:
    """(field, descending); CREATED_AT descending when not given."""
    if order is None:
        return goal_queries.GoalOrderField.CREATED_AT, True
    return goal_queries.GoalOrderField(order.field), order.direction is OrderDirection.DESC


# A cursor given out holds a name of at most 200 characters: anything much longer is forged.
MAX_CURSOR_LENGTH = 4096
# Percents are stored with two decimals and fewer than 22 digits before the point.
PERCENT_DIGITS = 22


def _percent_value(text: str) -> Decimal:
    value = Decimal(text)
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2:  # NaN and infinities have letters here
        raise ValueError("not a stored percent")
    if value and value.adjusted() >= PERCENT_DIGITS:  # no arithmetic: it could overflow
        raise ValueError("not a stored percent")
    return value


# Ratios are stored with four decimals and at most 11 digits before the point.
RATIO_DIGITS = 11


def _ratio_value(text: str) -> Decimal:
    value = Decimal(text)
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -4:
        raise ValueError("not a stored ratio")
    if value and value.adjusted() >= RATIO_DIGITS:
        raise ValueError("not a stored ratio")
    return value


def _name_value(text: str) -> str:
    if text_problem(text):
        raise ValueError("not a stored name")
    return text


def _instant_value(text: str) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("not an instant")
    value.astimezone(datetime.UTC)  # OverflowError for an instant outside the calendar
    return value


_PARSE_SORT_VALUE: dict[goal_queries.GoalOrderField, Callable[[str], goal_queries.SortValue]] = {
    goal_queries.GoalOrderField.PROGRESS: _percent_value,
    goal_queries.GoalOrderField.NAME: _name_value,
    goal_queries.GoalOrderField.START_DATE: datetime.date.fromisoformat,
    goal_queries.GoalOrderField.END_DATE: datetime.date.fromisoformat,
    goal_queries.GoalOrderField.CREATED_AT: _instant_value,
    goal_queries.GoalOrderField.PACE: _ratio_value,
}


def encode_cursor(
    field: goal_queries.GoalOrderField, descending: bool, value: goal_queries.SortValue, pk: int
) -> str:
    """The position of one goal in one order: its sort value and id, so the next page starts
    right after it even when goals are added or removed in between."""
    text = (
        None if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)
    )
    payload = json.dumps([field.value, descending, text, pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode()


def decode_cursor(
    cursor: str, field: goal_queries.GoalOrderField, descending: bool
) -> tuple[goal_queries.SortValue, int]:
    """(sort value, id) from a cursor given out for the same order."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4))
        cursor_field, cursor_descending, text, pk = json.loads(raw)
        if cursor_field != field.value or cursor_descending is not descending:
            raise ValueError("another order")
        if not isinstance(pk, int) or not (text is None or isinstance(text, str)):
            raise ValueError("malformed")
        if isinstance(pk, bool) or not 1 <= pk <= max_pk("Goal"):
            raise ValueError("no such goal")
        value = None if text is None else _PARSE_SORT_VALUE[field](text)
    except (
        ValueError,
        TypeError,
        InvalidOperation,
        OverflowError,
        RecursionError,
        binascii.Error,
    ):
        raise PublicError("`after` is not a cursor this list gave out in this order.") from None
    return value, pk

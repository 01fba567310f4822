"""Which goals a viewer sees, which match a filter, and in what order: composed querysets, so
the database does the work and the rules live in one place."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tortoise.expressions import Case, F, Q, RawSQL, Subquery, When
from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from domain.enums import GoalCategory, GoalStatus, GoalType, MilestonePeriod, PaceStatus
from domain.goals import pace_sql, range_sql
from domain.models import ContributorGoal, Goal, GoalPipeline, TeamMembership, User
from domain.permissions import Reach, can_view_goals
from domain.ranges import DateRange
from domain.sql import column, connection, is_postgres

HUNDRED = Decimal(100)
NOTHING = Q(id__in=[])


class GoalOrderField(StrEnum):
    PROGRESS = "PROGRESS"
    NAME = "NAME"
    START_DATE = "START_DATE"
    END_DATE = "END_DATE"
    CREATED_AT = "CREATED_AT"
    PACE = "PACE"


@dataclass(frozen=True, slots=True)
class GoalCriteria:
    """Goal-level constraints. None means no constraint; an empty tuple matches nothing (every
    id given was unknown)."""

    date_from: date | None = None
    date_to: date | None = None
    pipeline_ids: tuple[int, ...] | None = None
    milestone_periods: tuple[MilestonePeriod, ...] | None = None
    categories: tuple[GoalCategory, ...] | None = None
    types: tuple[GoalType, ...] | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class ContributorCriteria:
    """Contributor-level constraints; hashable so that a page's loads can share one query.

    ``today`` is the viewer's local date; statuses need it."""

    user_ids: tuple[int, ...] | None = None
    team_ids: tuple[int, ...] | None = None
    statuses: tuple[GoalStatus, ...] | None = None
    percent_min: Decimal | None = None
    percent_max: Decimal | None = None
    today: date | None = None
    # Given: statuses and percent are those over this range (``domain.ranges``).
    date_range: DateRange | None = None
    # The contributor goal's pace status (``domain.pace``); needs ``today``.
    pace_statuses: tuple[PaceStatus, ...] | None = None


def status_condition(status: GoalStatus, today: date, *, dates_of_goal: bool = False) -> Q:
    """The SQL form of ``domain.status.status_of``: the row has ``status`` on ``today``.

    The row holds value, target and percent; its start and end dates are its own, or with
    ``dates_of_goal`` (a contributor goal) those of the goal it belongs to.
    """
    if status is GoalStatus.PENDING:
        dates = Q(start_date__gt=today)
        values = Q()
    elif status is GoalStatus.IN_PROGRESS:
        dates = Q(start_date__lte=today, end_date__gte=today)
        values = Q()
    else:
        dates = Q(start_date__lte=today, end_date__lt=today)
        # A null percent with a known value means a zero denominator: equal is achieved.
        zero_denominator = Q(percent__isnull=True, value__isnull=False)
        if status is GoalStatus.EXCEEDED:
            values = Q(percent__gt=HUNDRED) | (zero_denominator & ~Q(value=F("target")))
        elif status is GoalStatus.ACHIEVED:
            values = Q(percent=HUNDRED) | (zero_denominator & Q(value=F("target")))
        else:
            values = Q(percent__lt=HUNDRED) | Q(percent__isnull=True, value__isnull=True)
    if dates_of_goal:
        # A subquery rather than a join keeps value/target/percent unambiguous.
        dates = Q(goal_id__in=Subquery(Goal.filter(dates).values("id")))
    return dates & values


def pace_condition(statuses: tuple[PaceStatus, ...], today: date) -> Q:
    """The SQL form of ``domain.pace.pace_shown`` and the stored status: contributor goals whose
    pace shows on ``today`` with one of ``statuses`` (a null pace never matches)."""
    if not statuses:
        return NOTHING
    in_progress = status_condition(GoalStatus.IN_PROGRESS, today, dates_of_goal=True)
    return in_progress & Q(pace_status__in=[s.value for s in statuses])


def contributor_goals_in_reach(account_id: int, reach: Reach) -> QuerySet[ContributorGoal]:
    """The account's contributor goals whose contributor is within ``reach``."""
    contributor_goals = ContributorGoal.filter(account_id=account_id)
    if reach.everyone:
        return contributor_goals
    return contributor_goals.filter(
        Q(user_id__in=sorted(reach.user_ids)) | Q(team_id__in=sorted(reach.team_ids))
    )


def visible_goals(account_id: int, viewer: User, reach: Reach) -> QuerySet[Goal]:
    """Goals of the viewer's account that the viewer created or that have a contributor within
    their reach; none without a paid seat (admins always see)."""
    goals = Goal.filter(account_id=account_id)
    if not can_view_goals(viewer):
        return goals.filter(NOTHING)
    if reach.everyone:
        return goals
    reached = contributor_goals_in_reach(account_id, reach)
    return goals.filter(Q(created_by_id=viewer.id) | Q(id__in=Subquery(reached.values("goal_id"))))


def goal_condition(criteria: GoalCriteria) -> Q:
    condition = overlapping(DateRange(criteria.date_from, criteria.date_to))
    if criteria.pipeline_ids is not None:
        sharing = GoalPipeline.filter(pipeline_id__in=criteria.pipeline_ids)
        condition &= Q(id__in=Subquery(sharing.values("goal_id")))
    if criteria.milestone_periods is not None:
        condition &= Q(milestone_period__in=criteria.milestone_periods)
    if criteria.categories is not None:
        condition &= Q(category__in=criteria.categories)
    if criteria.types is not None:
        condition &= Q(type__in=criteria.types)
    if criteria.search:
        condition &= Q(name__icontains=criteria.search)
    return condition


def contributor_condition(account_id: int, criteria: ContributorCriteria) -> Q:
    condition = Q()
    if criteria.user_ids is not None or criteria.team_ids is not None:
        who = NOTHING
        if criteria.user_ids is not None:
            who |= Q(user_id__in=criteria.user_ids)
        if criteria.team_ids is not None:
            members = TeamMembership.filter(account_id=account_id, team_id__in=criteria.team_ids)
            who |= Q(team_id__in=criteria.team_ids)
            who |= Q(user_id__in=Subquery(members.values("user_id")))
        condition &= who
    if criteria.pace_statuses is not None:
        if criteria.today is None:
            raise ValueError("filtering by pace needs today's date")
        condition &= pace_condition(criteria.pace_statuses, criteria.today)
    figures = (criteria.statuses, criteria.percent_min, criteria.percent_max)
    if criteria.date_range is not None and figures != (None, None, None):
        in_range = range_sql.contributor_goals_in_range(
            account_id,
            criteria.date_range,
            statuses=criteria.statuses,
            percent_min=criteria.percent_min,
            percent_max=criteria.percent_max,
            today=criteria.today,
        )
        return condition & Q(id__in=RawSQL(in_range))
    if criteria.statuses is not None:
        if criteria.today is None:
            raise ValueError("filtering by status needs today's date")
        by_status = NOTHING
        for status in criteria.statuses:
            by_status |= status_condition(status, criteria.today, dates_of_goal=True)
        condition &= by_status
    if criteria.percent_min is not None:
        condition &= Q(percent__gte=criteria.percent_min)
    if criteria.percent_max is not None:
        condition &= Q(percent__lte=criteria.percent_max)
    return condition


def overlapping(date_range: DateRange) -> Q:
    """Rows (goals, milestones) whose start and end dates overlap the range:
    ``DateRange.overlaps`` for a query."""
    condition = Q()
    if date_range.first is not None:
        condition &= Q(end_date__gte=date_range.first)
    if date_range.last is not None:
        condition &= Q(start_date__lte=date_range.last)
    return condition


def matching_contributor_goals(
    account_id: int, criteria: ContributorCriteria | None
) -> QuerySet[ContributorGoal]:
    contributor_goals = ContributorGoal.filter(account_id=account_id)
    if criteria is None:
        return contributor_goals
    return contributor_goals.filter(contributor_condition(account_id, criteria))


def filter_goals(
    goals: QuerySet[Goal],
    account_id: int,
    criteria: GoalCriteria | None,
    contributors: ContributorCriteria | None,
) -> QuerySet[Goal]:
    """Goals matching the goal-level criteria with at least one contributor goal matching the
    contributor-level ones."""
    if criteria is not None:
        goals = goals.filter(goal_condition(criteria))
    if contributors is not None:
        matching_cg = matching_contributor_goals(account_id, contributors)
        goals = goals.filter(id__in=Subquery(matching_cg.values("goal_id")))
    return goals


_ORDER_COLUMNS = {
    GoalOrderField.NAME: "name",
    GoalOrderField.START_DATE: "start_date",
    GoalOrderField.END_DATE: "end_date",
    GoalOrderField.CREATED_AT: "created_at",
}


def order_goals(
    goals: QuerySet[Goal],
    field: GoalOrderField,
    descending: bool,
    date_range: DateRange | None = None,
    today: date | None = None,
) -> QuerySet[Goal]:
    """A total order: ties break by id. Progress (the goal's percent, over ``date_range`` when
    given) and pace (the goal's ratio, while it shows on ``today``) put nulls last both ways."""
    sign = "-" if descending else ""
    if field is GoalOrderField.PACE:
        if today is None:
            raise ValueError("ordering by pace needs today's date")
        key = pace_sql.goal_pace_key(today, descending=descending)
        return goals.annotate(pace_key=RawSQL(key)).order_by(f"{sign}pace_key", f"{sign}id")
    if field is GoalOrderField.PROGRESS and date_range is not None:
        key = range_sql.goal_percent_key(date_range, descending=descending)
        return goals.annotate(range_percent_key=RawSQL(key)).order_by(
            f"{sign}range_percent_key", f"{sign}id"
        )
    if field is GoalOrderField.PROGRESS:
        # Text flags: PostgreSQL cannot type an integer parameter inside CASE.
        unknown = Case(When(percent__isnull=True, then="1"), default="0")
        goals = goals.annotate(percent_unknown=unknown)
        return goals.order_by("percent_unknown", f"{sign}percent", f"{sign}id")
    return goals.order_by(f"{sign}{_ORDER_COLUMNS[field]}", f"{sign}id")


async def fetch_ordered(
    goals: QuerySet[Goal], field: GoalOrderField, date_range: DateRange | None = None
) -> list[Goal]:
    """The goals of a query from ``order_goals``. Ordered by progress over a range, PostgreSQL
    estimates the per-goal subqueries high enough to compile the statement (JIT), which takes
    far longer than running it (a second against a fifth of one at 100 goals of 100
    contributors): that statement runs with JIT off."""
    conn = connection()
    if field is not GoalOrderField.PROGRESS or date_range is None or not is_postgres(conn):
        return await goals
    async with in_transaction() as tx:
        await tx.execute_script("SET LOCAL jit = off")
        return await goals.using_db(tx)


SortValue = str | date | datetime | Decimal | None


def sort_value(goal: Goal, field: GoalOrderField, date_range: DateRange | None = None) -> SortValue:
    """The value ``goal`` is ordered by, to resume a list after it; ``goal`` comes from
    ``order_goals`` with the same arguments."""
    if field is GoalOrderField.PACE:
        return pace_sql.ratio_of_key(goal.pace_key)  # type: ignore[attr-defined]
    if field is GoalOrderField.PROGRESS and date_range is not None:
        return range_sql.percent_of_key(goal.range_percent_key)  # type: ignore[attr-defined]
    if field is GoalOrderField.PROGRESS:
        return goal.percent
    value: SortValue = getattr(goal, _ORDER_COLUMNS[field])
    return value


def after_position(
    field: GoalOrderField,
    descending: bool,
    value: SortValue,
    goal_id: int,
    date_range: DateRange | None = None,
) -> Q:
    """The goals that come after (value, goal_id) in ``order_goals``'s order (keyset paging)."""
    further = "lt" if descending else "gt"
    later_id: dict[str, Any] = {f"id__{further}": goal_id}
    if field is GoalOrderField.PACE:
        if value is not None and not isinstance(value, Decimal):
            raise ValueError("a pace position is a ratio")
        key = pace_sql.key_of_ratio(value, descending=descending)
        past: dict[str, Any] = {f"pace_key__{further}": key}
        return Q(**past) | Q(pace_key=key, **later_id)
    if field is GoalOrderField.PROGRESS and date_range is not None:
        if value is not None and not isinstance(value, Decimal):
            raise ValueError("a progress position is a percent")
        key = range_sql.key_of_percent(value, descending=descending)
        past_key: dict[str, Any] = {f"range_percent_key__{further}": key}
        return Q(**past_key) | Q(range_percent_key=key, **later_id)
    column = "percent" if field is GoalOrderField.PROGRESS else _ORDER_COLUMNS[field]
    beyond: dict[str, Any] = {f"{column}__{further}": value}
    tie: dict[str, Any] = {column: value}
    if field is not GoalOrderField.PROGRESS:
        return Q(**beyond) | Q(**tie, **later_id)
    if value is None:  # among the trailing nulls
        return Q(percent__isnull=True, **later_id)
    return Q(**beyond) | Q(**tie, **later_id) | Q(percent__isnull=True)


async def largest_goal_size(account_id: int) -> int:
    """The most contributors any goal of the account has (0 without goals): what a list of a
    goal's contributors can hold in this account, for bounding an operation's cost."""
    sizes = await column(
        ContributorGoal.filter(account_id=account_id)
        .group_by("goal_id")
        .annotate(size=Count("id"))
        .order_by("-size")
        .limit(1),
        "size",
    )
    return int(sizes[0]) if sizes else 0

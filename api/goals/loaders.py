"""Batch loads for goals: one query per kind of related object per request, whatever the page;
a list of keys too long to bind in one statement (a goal's 130,000 milestones) is read in
pieces."""

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeVar

from tortoise.expressions import Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from domain.enums import GoalType
from domain.goals.queries import (
    ContributorCriteria,
    matching_contributor_goals,
    overlapping,
    visible_goals,
)
from domain.models import (
    ContributorGoal,
    Goal,
    Milestone,
    ProgressSnapshot,
    User,
)
from domain.parameters import in_pieces
from domain.permissions import Reach
from domain.ranges import DateRange, GoalOverRange, goal_over_range
from domain.sql import (
    Params,
    connection,
    ids_grouped,
    instances_by_id,
    instances_where,
    is_postgres,
)

HistoryKey = tuple[int, date, date]
ContributorsKey = tuple[int, ContributorCriteria | None]
RangeKey = tuple[int, GoalType, DateRange]
# An id with the viewer and their reach: what is visible is the viewer's to decide.
VisibleKey = tuple[int, User, Reach]


R = TypeVar("R", bound=Model)


async def _visible_by_id(
    account_id: int,
    keys: Sequence[VisibleKey],
    rows_of: Callable[[QuerySet[Goal], list[int]], QuerySet[R]],
) -> list[R | None]:
    """``rows_of(visible goals, ids)`` once per viewer (once per request in practice), whatever
    the number of keys; a key whose row is not among them gets None."""
    ids_by_viewer: dict[tuple[User, Reach], set[int]] = defaultdict(set)
    for pk, viewer, reach in keys:
        ids_by_viewer[(viewer, reach)].add(pk)
    found: dict[tuple[int, int], R] = {}
    for (viewer, reach), ids in ids_by_viewer.items():
        visible = visible_goals(account_id, viewer, reach)
        for row in await rows_of(visible, sorted(ids)):
            found[(row.pk, viewer.id)] = row
    return [found.get((pk, viewer.id)) for pk, viewer, _ in keys]


async def load_visible_goals(account_id: int, keys: Sequence[VisibleKey]) -> list[Goal | None]:
    return await _visible_by_id(account_id, keys, lambda visible, ids: visible.filter(id__in=ids))


async def load_visible_contributor_goals(
    account_id: int, keys: Sequence[VisibleKey]
) -> list[ContributorGoal | None]:
    """Contributor goals of the goals the viewer may see."""
    return await _visible_by_id(
        account_id,
        keys,
        lambda visible, ids: ContributorGoal.filter(
            account_id=account_id, id__in=ids, goal_id__in=Subquery(visible.values("id"))
        ),
    )


async def load_visible_milestones(
    account_id: int, keys: Sequence[VisibleKey]
) -> list[Milestone | None]:
    """Milestones of the goals the viewer may see, each with its contributor goal and goal."""
    return await _visible_by_id(
        account_id,
        keys,
        lambda visible, ids: Milestone.filter(
            id__in=ids,
            contributor_goal__account_id=account_id,
            contributor_goal__goal_id__in=Subquery(visible.values("id")),
        ).select_related("contributor_goal__goal"),
    )


async def load_goals(account_id: int, ids: Sequence[int]) -> list[Goal | None]:
    return await instances_by_id(Goal, account_id, ids)


def _of_account_contributor_goals(params: Params, account_id: int, ids: Sequence[int]) -> str:
    """Contributor goals among ``ids`` that belong to the account."""
    return (
        f'SELECT "id" FROM "contributor_goal" WHERE "account_id" = {params(account_id)} '
        f'AND "id" IN ({params.ids(ids)})'
    )


async def load_contributor_goals_of_goals(
    account_id: int, keys: Sequence[ContributorsKey]
) -> list[list[ContributorGoal]]:
    """Keys pair a goal id with the contributor-level criteria (None: all); one query per
    distinct criteria, which is one query for a page listed with one filter."""
    goal_ids_by_criteria: dict[ContributorCriteria | None, set[int]] = defaultdict(set)
    for goal_id, criteria in keys:
        goal_ids_by_criteria[criteria].add(goal_id)
    found: dict[ContributorsKey, list[ContributorGoal]] = defaultdict(list)
    for criteria, goal_ids in goal_ids_by_criteria.items():
        for row in await _contributor_goals_of(account_id, criteria, sorted(goal_ids)):
            found[(row.goal_id, criteria)].append(row)
    return [found[key] for key in keys]


async def _contributor_goals_of(
    account_id: int, criteria: ContributorCriteria | None, goal_ids: list[int]
) -> list[ContributorGoal]:
    """The contributor goals of these goals that meet ``criteria``, by id."""
    if criteria is None:  # every one, as a page lists them: a statement without the builder
        params = Params(is_postgres(connection()))
        where = f'"account_id" = {params(account_id)} AND "goal_id" IN ({params.ids(goal_ids)})'
        return await instances_where(ContributorGoal, where, params, '"id"')
    rows: list[ContributorGoal] = []
    for piece in in_pieces(goal_ids):
        query = matching_contributor_goals(account_id, criteria).filter(goal_id__in=piece)
        rows += await query.order_by("id")
    return rows


async def load_milestones_of_contributor_goals(
    account_id: int, contributor_goal_ids: Sequence[int]
) -> list[list[Milestone]]:
    milestones: dict[int, list[Milestone]] = defaultdict(list)
    params = Params(is_postgres(connection()))
    where = (
        f'"contributor_goal_id" IN '
        f"({_of_account_contributor_goals(params, account_id, contributor_goal_ids)})"
    )
    order = '"contributor_goal_id", "index"'
    for row in await instances_where(Milestone, where, params, order):
        milestones[row.contributor_goal_id].append(row)
    return [milestones[i] for i in contributor_goal_ids]


async def load_goals_over_range(
    account_id: int, keys: Sequence[RangeKey]
) -> list[GoalOverRange[Milestone]]:
    """Keys are (goal id, goal type, date range): the goal read for the range, from its
    milestones that overlap it, computed once per request. One query per distinct range, which
    is one for a page read for one period."""
    goal_ids_by_range: dict[DateRange, set[int]] = defaultdict(set)
    for goal_id, _, date_range in keys:
        goal_ids_by_range[date_range].add(goal_id)
    found: dict[tuple[int, DateRange], dict[int, list[Milestone]]] = defaultdict(dict)
    for date_range, goal_ids in goal_ids_by_range.items():
        for piece in in_pieces(sorted(goal_ids)):
            rows = (
                await Milestone.filter(
                    overlapping(date_range),
                    contributor_goal__account_id=account_id,
                    contributor_goal__goal_id__in=piece,
                )
                .select_related("contributor_goal")
                .order_by("contributor_goal_id", "index")
            )
            for row in rows:
                of_goal = found[(row.contributor_goal.goal_id, date_range)]
                of_goal.setdefault(row.contributor_goal_id, []).append(row)
    return [
        goal_over_range(found[(goal_id, date_range)], date_range, goal_type)
        for goal_id, goal_type, date_range in keys
    ]


async def load_pipeline_ids_of_goals(account_id: int, goal_ids: Sequence[int]) -> list[list[int]]:
    params = Params(is_postgres(connection()))
    sql = (
        'SELECT "goal_id", "pipeline_id" FROM "goal_pipeline" WHERE "goal_id" IN '
        f'(SELECT "id" FROM "goal" WHERE "account_id" = {params(account_id)} '
        f'AND "id" IN ({params.ids(goal_ids)})) ORDER BY "id"'
    )
    return await ids_grouped(sql, params, goal_ids)


async def load_pipeline_ids_of_milestones(
    account_id: int, milestone_ids: Sequence[int]
) -> list[list[int]]:
    params = Params(is_postgres(connection()))
    sql = (
        'SELECT mp."milestone_id", mp."pipeline_id" FROM "milestone_pipeline" mp '
        'JOIN "milestone" m ON m."id" = mp."milestone_id" '
        'JOIN "contributor_goal" cg ON cg."id" = m."contributor_goal_id" '
        f'WHERE cg."account_id" = {params(account_id)} '
        f'AND mp."milestone_id" IN ({params.ids(milestone_ids)}) ORDER BY mp."id"'
    )
    return await ids_grouped(sql, params, milestone_ids)


async def load_snapshots(
    account_id: int, keys: Sequence[HistoryKey]
) -> list[list[ProgressSnapshot]]:
    """Keys are (contributor goal id, first date, last date); one query per distinct range."""
    ids_by_range: dict[tuple[date, date], set[int]] = defaultdict(set)
    for contributor_goal_id, first, last in keys:
        ids_by_range[(first, last)].add(contributor_goal_id)
    found: dict[HistoryKey, list[ProgressSnapshot]] = defaultdict(list)
    for (first, last), ids in ids_by_range.items():
        params = Params(is_postgres(connection()))
        contributor_goals = _of_account_contributor_goals(params, account_id, sorted(ids))
        where = (
            f'"contributor_goal_id" IN ({contributor_goals})'
            f' AND "date" >= {params.day(first)} AND "date" <= {params.day(last)}'
        )
        order = '"contributor_goal_id", "date"'
        for row in await instances_where(ProgressSnapshot, where, params, order):
            found[(row.contributor_goal_id, first, last)].append(row)
    return [found[key] for key in keys]

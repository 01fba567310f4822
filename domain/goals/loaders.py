"""What the goal services read before they decide: the directory an input names, the goal to
change with the caller's access to it, its milestone dates, pipelines and final targets."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tortoise.functions import Count

from domain.errors import ErrorCode, Errors
from domain.goals.validation import ContributorDraft, Directory
from domain.models import (
    ContributorGoal,
    Goal,
    GoalPipeline,
    Milestone,
    Pipeline,
    Team,
    TeamMembership,
    User,
)
from domain.periods import Period
from domain.permissions import GoalAccess, Reach, goal_access


@dataclass(frozen=True, slots=True)
class LoadedGoal:
    goal: Goal
    contributor_goals: list[ContributorGoal]


def milestone_pipeline_ids(contributors: Sequence[ContributorDraft]) -> list[int]:
    return [
        pipeline_id
        for draft in contributors
        for subset in draft.milestone_pipeline_ids or []
        for pipeline_id in subset
    ]


async def load_directory(
    account_id: int, contributors: Sequence[ContributorDraft], pipeline_ids: Sequence[int]
) -> Directory:
    """The users, teams (with member counts) and pipelines an input names, in this account."""
    user_ids = {c.user_id for c in contributors if c.user_id is not None}
    team_ids = {c.team_id for c in contributors if c.team_id is not None}
    users = (
        {u.id: u for u in await User.filter(account_id=account_id, id__in=user_ids)}
        if user_ids
        else {}
    )
    teams = (
        {t.id: t for t in await Team.filter(account_id=account_id, id__in=team_ids)}
        if team_ids
        else {}
    )
    member_counts: dict[int, int] = {}
    if teams:
        rows = (
            await TeamMembership.filter(account_id=account_id, team_id__in=list(teams))
            .annotate(members=Count("id"))
            .group_by("team_id")
            .values_list("team_id", "members")
        )
        member_counts = {team_id: members for team_id, members in rows}
    wanted = set(pipeline_ids)
    pipelines = (
        {p.id: p for p in await Pipeline.filter(account_id=account_id, id__in=wanted)}
        if wanted
        else {}
    )
    return Directory(
        users=users, teams=teams, team_member_counts=member_counts, pipelines=pipelines
    )


async def load_goal(
    actor: User, reach: Reach, goal_id: int, errors: Errors, path: Sequence[str]
) -> LoadedGoal | None:
    """The goal when the actor may edit it; else None, with NOT_FOUND or FORBIDDEN recorded."""
    # Locked until the transaction ends, so concurrent edits of one goal take turns (PostgreSQL).
    goal = await Goal.select_for_update().get_or_none(account_id=actor.account_id, id=goal_id)
    contributor_goals = await ContributorGoal.filter(goal_id=goal.id).order_by("id") if goal else []
    access = (
        goal_access(
            actor,
            reach,
            created_by_id=goal.created_by_id,
            contributors=[(c.user_id, c.team_id) for c in contributor_goals],
        )
        if goal
        else GoalAccess.NONE
    )
    if goal is None or access is GoalAccess.NONE:
        errors.add(path, ErrorCode.NOT_FOUND, "No such goal.")
        return None
    if access < GoalAccess.EDIT:
        errors.add(
            path,
            ErrorCode.FORBIDDEN,
            "You can see this goal but not change it: some of its contributors are beyond "
            "your reach, or your seat is not a paid one.",
        )
        return None
    return LoadedGoal(goal, list(contributor_goals))


async def goal_periods(contributor_goal_id: int) -> list[Period]:
    """A goal's milestone dates, fixed at creation, read from one of its contributor goals."""
    rows = (
        await Milestone.filter(contributor_goal_id=contributor_goal_id)
        .order_by("index")
        .values_list("index", "start_date", "end_date")
    )
    return [Period(index, start, end) for index, start, end in rows]


async def pipeline_ids_of(goal_id: int) -> list[int]:
    rows: list[Any] = (
        await GoalPipeline.filter(goal_id=goal_id)
        .order_by("id")
        .values_list("pipeline_id", flat=True)
    )
    return [int(pipeline_id) for pipeline_id in rows]


async def final_targets(contributor_goal_ids: Sequence[int]) -> dict[tuple[int, int], Decimal]:
    """The targets of the final milestones of these contributor goals, by (id, index)."""
    rows = await Milestone.filter(
        contributor_goal_id__in=list(contributor_goal_ids), final=True
    ).values_list("contributor_goal_id", "index", "target")
    return {(cg_id, index): target for cg_id, index, target in rows}

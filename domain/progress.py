"""Progress of goals: roll-ups after target edits (and, later, the set-based refresh)."""

from collections import defaultdict
from collections.abc import Sequence

from domain.enums import AVERAGE_TYPES, higher_is_better
from domain.models import ContributorGoal, Goal, Milestone
from domain.rollup import Level, MilestoneNumbers, contributor_level, goal_level


async def recompute_rollups(goal_ids: Sequence[int]) -> None:
    """Rewrite the stored value, target and percent of these goals and their contributor goals
    from their milestones. Call inside the transaction that changed targets or contributors."""
    if not goal_ids:
        return
    goals = {g.id: g for g in await Goal.filter(id__in=goal_ids)}
    contributor_goals = await ContributorGoal.filter(goal_id__in=goal_ids)
    by_contributor: dict[int, list[MilestoneNumbers]] = defaultdict(list)
    for target, value, value_sum, value_count, cg_id in await Milestone.filter(
        contributor_goal_id__in=[c.id for c in contributor_goals]
    ).values_list("target", "value", "value_sum", "value_count", "contributor_goal_id"):
        by_contributor[cg_id].append(MilestoneNumbers(target, value, value_sum, value_count))
    levels: dict[int, list[Level]] = defaultdict(list)
    for cg in contributor_goals:
        goal = goals[cg.goal_id]
        level = contributor_level(
            by_contributor[cg.id],
            average=goal.type in AVERAGE_TYPES,
            higher_is_better=higher_is_better(goal.type),
        )
        levels[goal.id].append(level)
        await ContributorGoal.filter(id=cg.id).update(
            value=level.value,
            value_sum=level.value_sum,
            value_count=level.value_count,
            target=level.target,
            percent=level.percent,
        )
    for goal in goals.values():
        level = goal_level(
            levels[goal.id],
            average=goal.type in AVERAGE_TYPES,
            higher_is_better=higher_is_better(goal.type),
        )
        await Goal.filter(id=goal.id).update(
            value=level.value, target=level.target, percent=level.percent
        )

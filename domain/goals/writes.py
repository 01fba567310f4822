"""The goal services' bulk writes: contributor goals with their milestones, and target edits."""

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from tortoise.expressions import Q

from domain.goals.changes import TargetEdit
from domain.goals.validation import ContributorPlan
from domain.models import ContributorGoal, Goal, Milestone, MilestonePipeline
from domain.periods import Period
from domain.sql import quantize4

INSERT_BATCH = 10_000


async def add_contributor_goals(
    goal: Goal, plans: Sequence[ContributorPlan], periods: Sequence[Period]
) -> list[ContributorGoal]:
    """Contributor goals with their milestones and milestone pipelines, a few bulk inserts."""
    if not plans:
        return []
    await ContributorGoal.bulk_create(
        [
            ContributorGoal(
                account_id=goal.account_id,
                goal_id=goal.id,
                user_id=plan.user_id,
                team_id=plan.team_id,
                target=sum(plan.targets, Decimal(0)),
            )
            for plan in plans
        ],
        batch_size=INSERT_BATCH,
    )
    by_contributor = {(c.user_id, c.team_id): c for c in await ContributorGoal.filter(goal=goal)}
    added = [by_contributor[(plan.user_id, plan.team_id)] for plan in plans]
    await Milestone.bulk_create(
        [
            Milestone(
                contributor_goal_id=cg.id,
                index=period.index,
                start_date=period.start_date,
                end_date=period.end_date,
                target=plan.targets[period.index],
            )
            for cg, plan in zip(added, plans, strict=True)
            for period in periods
        ],
        batch_size=INSERT_BATCH,
    )
    plans_by_cg = {cg.id: plan for cg, plan in zip(added, plans, strict=True)}
    if any(subset for plan in plans for subset in plan.milestone_pipeline_ids):
        milestone_ids = await Milestone.filter(
            contributor_goal_id__in=list(plans_by_cg)
        ).values_list("id", "contributor_goal_id", "index")
        await MilestonePipeline.bulk_create(
            [
                MilestonePipeline(milestone_id=milestone_id, pipeline_id=pipeline_id)
                for milestone_id, cg_id, index in milestone_ids
                for pipeline_id in plans_by_cg[cg_id].milestone_pipeline_ids[index]
            ],
            batch_size=INSERT_BATCH,
        )
    return added


async def write_target_edits(edits: Sequence[TargetEdit]) -> None:
    """One UPDATE per distinct amount: edits from a grid usually share a few amounts."""
    by_amount: dict[Decimal, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for edit in edits:
        by_amount[edit.amount][edit.contributor_goal_id].append(edit.milestone_index)
    for amount, indexes_by_cg in by_amount.items():
        where = Q(
            *(
                Q(contributor_goal_id=cg_id, index__in=indexes)
                for cg_id, indexes in indexes_by_cg.items()
            ),
            join_type=Q.OR,
        )
        await Milestone.filter(where, final=False).update(target=quantize4(amount))

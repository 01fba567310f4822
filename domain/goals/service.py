"""Creating, editing and deleting goals: the use cases.

Each operation validates its whole input first (``validation`` and ``changes`` hold the
rules, ``loaders`` reads what they need), then writes inside one transaction (``writes``), so
a failure leaves nothing half-written and raises ValidationFailed. Notifications go to the
outbox in the same transaction and are handed to the workers after it commits.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from domain import jobs, progress
from domain.data_version import account_write
from domain.errors import ErrorCode, Errors, ValidationFailed
from domain.goals.changes import (
    MAX_DELETIONS,
    Deletable,
    DeletionRef,
    GoalEdit,
    TargetApplication,
    check_contributor_goal_ids,
    check_deletions,
    check_milestone_indexes,
    check_target_edits,
    final_message,
    notify_list,
)
from domain.goals.loaders import (
    final_targets,
    goal_periods,
    load_directory,
    load_goal,
    milestone_pipeline_ids,
    pipeline_ids_of,
)
from domain.goals.validation import (
    MAX_CONTRIBUTORS,
    ContributorPlan,
    GoalDraft,
    check_amount,
    check_contributor_count,
    check_goal_pipelines,
    check_type,
    clean_name,
    plan_contributors,
    plan_milestones,
)
from domain.goals.writes import add_contributor_goals, write_target_edits
from domain.models import ContributorGoal, Goal, GoalPipeline, Milestone, User
from domain.notifications import dispatch, outbox
from domain.permissions import Reach, goal_access
from domain.sql import quantize4


def _new_change_id() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------- create


async def create_goal(actor: User, reach: Reach, draft: GoalDraft) -> Goal:
    """Raises ValidationFailed with every problem of the input."""
    errors = Errors()
    root = ("input",)
    notification_ids: list[int] = []
    change_id = _new_change_id()
    async with account_write(actor.account_id):
        name = clean_name(errors, (*root, "name"), draft.name)
        check_type(errors, (*root, "type"), draft.category, draft.type)
        periods = plan_milestones(errors, root, draft, actor.account.fiscal_year_start_month)
        countable = check_contributor_count(
            errors, (*root, "contributors"), len(draft.contributors)
        )
        contributors = draft.contributors if countable else []
        directory = await load_directory(
            actor.account_id,
            contributors,
            [*(draft.pipeline_ids or []), *milestone_pipeline_ids(contributors)],
        )
        goal_pipeline_ids = check_goal_pipelines(
            errors, (*root, "pipeline_ids"), draft.type, draft.pipeline_ids, directory
        )
        plans = plan_contributors(
            errors,
            (*root, "contributors"),
            contributors,
            directory=directory,
            reach=reach,
            milestone_count=len(periods) if periods is not None else None,
            goal_pipeline_ids=goal_pipeline_ids,
        )
        if errors:
            raise ValidationFailed(errors.items)
        assert periods is not None and goal_pipeline_ids is not None
        goal = await Goal.create(
            account_id=actor.account_id,
            name=name,
            category=draft.category,
            type=draft.type,
            start_date=draft.start_date,
            end_date=draft.end_date,
            milestone_period=draft.milestone_period,
            align_to_fiscal_year=draft.align_to_fiscal_year,
            notify=notify_list(draft.notify),
            created_by_id=actor.id,
        )
        await GoalPipeline.bulk_create(
            [GoalPipeline(goal_id=goal.id, pipeline_id=p) for p in goal_pipeline_ids]
        )
        added = await add_contributor_goals(goal, plans, periods)
        await progress.recompute_rollups([goal.id])
        notification_ids += await outbox.record_goal_assigned(goal, added, change_id)
    await dispatch.after_commit(notification_ids)
    await jobs.after_commit([jobs.refresh_goal(goal.account_id, goal.id, change_id)])
    return await Goal.get(id=goal.id)


# ---------------------------------------------------------------- apply targets


@dataclass(frozen=True, slots=True)
class TargetsApplied:
    goal: Goal
    changed_milestones: int


async def apply_goal_targets(
    actor: User, reach: Reach, application: TargetApplication
) -> TargetsApplied:
    """Writes the amount to the chosen milestones. A final milestone's target is history: named
    explicitly, it is refused (unless it already has the amount); chosen as "all", skipped."""
    errors = Errors()
    root = ("input",)
    notification_ids: list[int] = []
    change_id = _new_change_id()
    async with account_write(actor.account_id):
        loaded = await load_goal(actor, reach, application.goal_id, errors, (*root, "goal_id"))
        if loaded is None:
            raise ValidationFailed(errors.items)
        goal = loaded.goal
        all_ids = [c.id for c in loaded.contributor_goals]
        periods = await goal_periods(all_ids[0])
        cg_ids = check_contributor_goal_ids(
            errors, (*root, "contributor_ids"), application.contributor_goal_ids, set(all_ids)
        )
        indexes = check_milestone_indexes(
            errors, (*root, "milestone_indexes"), application.milestone_indexes, len(periods)
        )
        check_amount(errors, (*root, "amount"), application.amount)
        chosen = cg_ids if cg_ids is not None else all_ids
        final = await final_targets(chosen)
        for i, index in enumerate(indexes or []):
            if any(
                final.get((cg_id, index), application.amount) != application.amount
                for cg_id in chosen
            ):
                errors.add(
                    (*root, "milestone_indexes", str(i)), ErrorCode.IMMUTABLE, final_message(index)
                )
        if errors:
            raise ValidationFailed(errors.items)
        chosen_indexes = indexes if indexes is not None else [p.index for p in periods]
        written = {
            cg_id: [i for i in chosen_indexes if (cg_id, i) not in final] for cg_id in chosen
        }
        changed_ids = [cg_id for cg_id, written_indexes in written.items() if written_indexes]
        changed = sum(len(written_indexes) for written_indexes in written.values())
        if changed:
            milestones = Milestone.filter(contributor_goal_id__in=changed_ids, final=False)
            await milestones.filter(index__in=chosen_indexes).update(
                target=quantize4(application.amount)
            )
            await goal.save(update_fields=["updated_at"])
            await progress.recompute_rollups([goal.id])
            notification_ids += await outbox.record_targets_changed(goal, changed_ids, change_id)
    await dispatch.after_commit(notification_ids)
    if changed:
        await jobs.after_commit([jobs.refresh_goal(goal.account_id, goal.id, change_id)])
    return TargetsApplied(await Goal.get(id=goal.id), changed)


# ---------------------------------------------------------------- update


async def update_goal(actor: User, reach: Reach, edit: GoalEdit) -> Goal:
    """Validates every part, then applies name, notify, target edits, added contributors and
    removed contributor goals, in that order."""
    errors = Errors()
    root = ("input",)
    notification_ids: list[int] = []
    async with account_write(actor.account_id):
        loaded = await load_goal(actor, reach, edit.goal_id, errors, (*root, "id"))
        if loaded is None:
            raise ValidationFailed(errors.items)
        goal = loaded.goal
        current = loaded.contributor_goals
        current_ids = {c.id for c in current}
        periods = await goal_periods(current[0].id)
        goal_pipeline_ids = await pipeline_ids_of(goal.id)

        name = clean_name(errors, (*root, "name"), edit.name) if edit.name is not None else None
        if edit.pipeline_ids is not None and set(edit.pipeline_ids) != set(goal_pipeline_ids):
            errors.add(
                (*root, "pipeline_ids"),
                ErrorCode.IMMUTABLE,
                "A goal's pipelines cannot change after creation.",
            )
        target_edits = check_target_edits(
            errors,
            (*root, "targets"),
            edit.targets or [],
            current_ids,
            len(periods),
            await final_targets(sorted(current_ids)) if edit.targets else {},
        )
        removed = (
            check_contributor_goal_ids(
                errors,
                (*root, "remove_contributor_ids"),
                edit.remove_contributor_goal_ids,
                current_ids,
            )
            or []
        )
        additions = list(edit.add_contributors or [])
        remaining = len(current_ids - set(removed))
        if removed and remaining == 0 and not additions:
            errors.add(
                (*root, "remove_contributor_ids"),
                ErrorCode.INVALID,
                "A goal keeps at least one contributor; delete the goal instead.",
            )
        plans: list[ContributorPlan] = []
        if additions:
            path = (*root, "add_contributors")
            if remaining + len(additions) > MAX_CONTRIBUTORS:
                errors.add(
                    path,
                    ErrorCode.TOO_MANY,
                    f"A goal has at most {MAX_CONTRIBUTORS} contributors; this would make "
                    f"{remaining + len(additions)}.",
                )
            else:
                directory = await load_directory(
                    actor.account_id,
                    additions,
                    [*goal_pipeline_ids, *milestone_pipeline_ids(additions)],
                )
                plans = plan_contributors(
                    errors,
                    path,
                    additions,
                    directory=directory,
                    reach=reach,
                    milestone_count=len(periods),
                    goal_pipeline_ids=goal_pipeline_ids,
                    existing=frozenset((c.user_id, c.team_id) for c in current),
                )
        if errors:
            raise ValidationFailed(errors.items)

        change_id = _new_change_id()
        if name is not None:
            goal.name = name
        if edit.notify is not None:
            goal.notify = notify_list(edit.notify)
        await goal.save(update_fields=["name", "notify", "updated_at"])
        if target_edits:
            await write_target_edits(target_edits)
            edited = sorted({e.contributor_goal_id for e in target_edits} - set(removed))
            if edited:
                notification_ids += await outbox.record_targets_changed(goal, edited, change_id)
        added = await add_contributor_goals(goal, plans, periods)
        if added:
            notification_ids += await outbox.record_goal_assigned(goal, added, change_id)
        if removed:
            await ContributorGoal.filter(id__in=removed).delete()
        if target_edits or added or removed:
            await progress.recompute_rollups([goal.id])
    await dispatch.after_commit(notification_ids)
    if target_edits or added:
        await jobs.after_commit([jobs.refresh_goal(goal.account_id, goal.id, change_id)])
    return await Goal.get(id=goal.id)


# ---------------------------------------------------------------- delete


async def delete_goals(actor: User, reach: Reach, refs: Sequence[DeletionRef]) -> list[DeletionRef]:
    """Deletes goals and contributor goals; a goal whose last contributor goal goes is deleted
    too and named in the result after the requested ones."""
    errors = Errors()
    if len(refs) > MAX_DELETIONS:
        errors.add(("ids",), ErrorCode.TOO_MANY, f"Delete at most {MAX_DELETIONS} ids at a time.")
        raise ValidationFailed(errors.items)
    async with account_write(actor.account_id):
        goal_ids = {r.id for r in refs if r.kind is Deletable.GOAL}
        requested_cgs = {
            c.id: c
            for c in await ContributorGoal.filter(
                account_id=actor.account_id,
                id__in=[r.id for r in refs if r.kind is Deletable.CONTRIBUTOR_GOAL],
            )
        }
        involved = goal_ids | {c.goal_id for c in requested_cgs.values()}
        goals = {
            g.id: g
            for g in await Goal.select_for_update()
            .filter(account_id=actor.account_id, id__in=involved)
            .order_by("id")
        }
        contributors: dict[int, list[ContributorGoal]] = defaultdict(list)
        for cg in await ContributorGoal.filter(goal_id__in=list(goals)):
            contributors[cg.goal_id].append(cg)
        access = {
            g.id: goal_access(
                actor,
                reach,
                created_by_id=g.created_by_id,
                contributors=[(c.user_id, c.team_id) for c in contributors[g.id]],
            )
            for g in goals.values()
        }
        check_deletions(errors, actor, reach, refs, access, requested_cgs)
        if errors:
            raise ValidationFailed(errors.items)

        emptied = [
            goal_id
            for goal_id in sorted(involved - goal_ids)
            if all(c.id in requested_cgs for c in contributors[goal_id])
        ]
        doomed_goals = goal_ids | set(emptied)
        await ContributorGoal.filter(id__in=list(requested_cgs)).delete()
        await Goal.filter(id__in=list(doomed_goals)).delete()
        await progress.recompute_rollups(sorted(involved - doomed_goals))
    unique_refs = list(dict.fromkeys(refs))
    return [*unique_refs, *(DeletionRef(Deletable.GOAL, g) for g in emptied)]


# ---------------------------------------------------------------- refresh


async def refresh_goal_progress(actor: User, reach: Reach, goal_id: int) -> Goal:
    """Recomputes one goal now, through the same code as the daily refresh."""
    errors = Errors()
    if await load_goal(actor, reach, goal_id, errors, ("id",)) is None:
        raise ValidationFailed(errors.items)
    await progress.refresh_goal(goal_id)
    return await Goal.get(id=goal_id)

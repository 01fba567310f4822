"""Creating, editing and deleting goals.

Each operation validates its whole input first, then writes inside one transaction, so a
failure leaves nothing half-written. Rows are inserted set-based: a goal with 500 contributors
and 60 milestones each is a handful of statements, not 30,000. Notifications go to the outbox
in the same transaction and are handed to the workers after it commits.
"""

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from domain import jobs, notifications, progress
from domain.enums import NotificationKind
from domain.errors import ErrorCode, Errors, ValidationFailed
from domain.goals.validation import (
    MAX_CONTRIBUTORS,
    ContributorDraft,
    ContributorPlan,
    Directory,
    GoalDraft,
    check_amount,
    check_contributor_count,
    check_goal_pipelines,
    check_type,
    clean_name,
    plan_contributors,
    plan_milestones,
)
from domain.models import (
    ContributorGoal,
    Goal,
    GoalPipeline,
    Milestone,
    MilestonePipeline,
    Pipeline,
    Team,
    TeamMembership,
    User,
)
from domain.periods import Period
from domain.permissions import GoalAccess, Reach, can_remove_contributor, goal_access
from domain.sql import quantize4

MAX_DELETIONS = 500
# Bounds one update's statements (and their parameters) whatever the client sends.
MAX_TARGET_EDITS = 5000
INSERT_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class TargetApplication:
    """One amount for the chosen milestones of the chosen contributor goals (None: all)."""

    goal_id: int
    amount: Decimal
    contributor_goal_ids: Sequence[int] | None = None
    milestone_indexes: Sequence[int] | None = None


@dataclass(frozen=True, slots=True)
class TargetEdit:
    contributor_goal_id: int
    milestone_index: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class GoalEdit:
    """Changes to a goal; a None part is left as it is."""

    goal_id: int
    name: str | None = None
    notify: Sequence[NotificationKind] | None = None
    pipeline_ids: Sequence[int] | None = None
    targets: Sequence[TargetEdit] | None = None
    add_contributors: Sequence[ContributorDraft] | None = None
    remove_contributor_goal_ids: Sequence[int] | None = None


class Deletable(StrEnum):
    GOAL = "Goal"
    CONTRIBUTOR_GOAL = "ContributorGoal"


@dataclass(frozen=True, slots=True)
class DeletionRef:
    kind: Deletable
    id: int


@dataclass(frozen=True, slots=True)
class _LoadedGoal:
    goal: Goal
    contributor_goals: list[ContributorGoal]


def _new_change_id() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------- create


async def create_goal(actor: User, reach: Reach, draft: GoalDraft) -> Goal:
    """Raises ValidationFailed with every problem of the input."""
    errors = Errors()
    root = ("input",)
    notification_ids: list[int] = []
    change_id = _new_change_id()
    async with in_transaction():
        name = clean_name(errors, (*root, "name"), draft.name)
        check_type(errors, (*root, "type"), draft.category, draft.type)
        periods = plan_milestones(errors, root, draft, actor.account.fiscal_year_start_month)
        countable = check_contributor_count(
            errors, (*root, "contributors"), len(draft.contributors)
        )
        contributors = draft.contributors if countable else []
        directory = await _load_directory(
            actor.account_id,
            contributors,
            [*(draft.pipeline_ids or []), *_milestone_pipeline_ids(contributors)],
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
            notify=_notify_list(draft.notify),
            created_by_id=actor.id,
        )
        await GoalPipeline.bulk_create(
            [GoalPipeline(goal_id=goal.id, pipeline_id=p) for p in goal_pipeline_ids]
        )
        added = await _add_contributor_goals(goal, plans, periods)
        await progress.recompute_rollups([goal.id])
        notification_ids += await notifications.record_goal_assigned(goal, added, change_id)
    await notifications.after_commit(notification_ids)
    await jobs.after_commit([jobs.refresh_goal(goal.account_id, goal.id, change_id)])
    return await Goal.get(id=goal.id)


def _notify_list(kinds: Iterable[NotificationKind] | None) -> list[str]:
    return [k.value for k in dict.fromkeys(kinds or [])]


def _milestone_pipeline_ids(contributors: Sequence[ContributorDraft]) -> list[int]:
    return [
        pipeline_id
        for draft in contributors
        for subset in draft.milestone_pipeline_ids or []
        for pipeline_id in subset
    ]


async def _load_directory(
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


async def _add_contributor_goals(
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


# ---------------------------------------------------------------- finding a goal to change


async def _load_goal(
    actor: User, reach: Reach, goal_id: int, errors: Errors, path: Sequence[str]
) -> _LoadedGoal | None:
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
    return _LoadedGoal(goal, list(contributor_goals))


async def _goal_periods(contributor_goal_id: int) -> list[Period]:
    """A goal's milestone dates, fixed at creation, read from one of its contributor goals."""
    rows = (
        await Milestone.filter(contributor_goal_id=contributor_goal_id)
        .order_by("index")
        .values_list("index", "start_date", "end_date")
    )
    return [Period(index, start, end) for index, start, end in rows]


async def _goal_pipeline_ids(goal_id: int) -> list[int]:
    rows: list[Any] = (
        await GoalPipeline.filter(goal_id=goal_id)
        .order_by("id")
        .values_list("pipeline_id", flat=True)
    )
    return [int(pipeline_id) for pipeline_id in rows]


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
    async with in_transaction():
        loaded = await _load_goal(actor, reach, application.goal_id, errors, (*root, "goal_id"))
        if loaded is None:
            raise ValidationFailed(errors.items)
        goal = loaded.goal
        all_ids = [c.id for c in loaded.contributor_goals]
        periods = await _goal_periods(all_ids[0])
        cg_ids = _check_ids_of(
            errors,
            (*root, "contributor_ids"),
            application.contributor_goal_ids,
            set(all_ids),
            "No such contributor on this goal.",
        )
        indexes = _check_indexes(
            errors, (*root, "milestone_indexes"), application.milestone_indexes, len(periods)
        )
        check_amount(errors, (*root, "amount"), application.amount)
        chosen = cg_ids if cg_ids is not None else all_ids
        final = await _final_targets(chosen)
        for i, index in enumerate(indexes or []):
            if any(
                final.get((cg_id, index), application.amount) != application.amount
                for cg_id in chosen
            ):
                errors.add(
                    (*root, "milestone_indexes", str(i)), ErrorCode.IMMUTABLE, _final_message(index)
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
            notification_ids += await notifications.record_targets_changed(
                goal, changed_ids, change_id
            )
    await notifications.after_commit(notification_ids)
    if changed:
        await jobs.after_commit([jobs.refresh_goal(goal.account_id, goal.id, change_id)])
    return TargetsApplied(await Goal.get(id=goal.id), changed)


async def _final_targets(contributor_goal_ids: Sequence[int]) -> dict[tuple[int, int], Decimal]:
    """The targets of the final milestones of these contributor goals, by (id, index)."""
    rows = await Milestone.filter(
        contributor_goal_id__in=list(contributor_goal_ids), final=True
    ).values_list("contributor_goal_id", "index", "target")
    return {(cg_id, index): target for cg_id, index, target in rows}


def _final_message(index: int) -> str:
    return (
        f"Milestone {index} is final: its outcome has been announced, so its target is history "
        "and cannot change."
    )


def _check_ids_of(
    errors: Errors,
    path: Sequence[str],
    ids: Sequence[int] | None,
    known: set[int],
    missing: str,
) -> list[int] | None:
    """None for "all"; an empty list is refused, unknown ids are NOT_FOUND, repeats DUPLICATE."""
    if ids is None:
        return None
    if not ids:
        errors.add(path, ErrorCode.INVALID, "Leave the list out to mean all; it cannot be empty.")
        return None
    seen: set[int] = set()
    for i, item in enumerate(ids):
        if item not in known:
            errors.add((*path, str(i)), ErrorCode.NOT_FOUND, missing)
        elif item in seen:
            errors.add((*path, str(i)), ErrorCode.DUPLICATE, "This id is listed twice.")
        seen.add(item)
    return list(dict.fromkeys(ids))


def _check_indexes(
    errors: Errors, path: Sequence[str], indexes: Sequence[int] | None, count: int
) -> list[int] | None:
    if indexes is None:
        return None
    if not indexes:
        errors.add(path, ErrorCode.INVALID, "Leave the list out to mean all; it cannot be empty.")
        return None
    seen: set[int] = set()
    for i, index in enumerate(indexes):
        if not 0 <= index < count:
            errors.add(
                (*path, str(i)),
                ErrorCode.INVALID,
                f"The goal's milestones are numbered 0 to {count - 1}.",
            )
        elif index in seen:
            errors.add((*path, str(i)), ErrorCode.DUPLICATE, "This milestone is listed twice.")
        seen.add(index)
    return list(dict.fromkeys(indexes))


# ---------------------------------------------------------------- update


async def update_goal(actor: User, reach: Reach, edit: GoalEdit) -> Goal:
    """Validates every part, then applies name, notify, target edits, added contributors and
    removed contributor goals, in that order."""
    errors = Errors()
    root = ("input",)
    notification_ids: list[int] = []
    async with in_transaction():
        loaded = await _load_goal(actor, reach, edit.goal_id, errors, (*root, "id"))
        if loaded is None:
            raise ValidationFailed(errors.items)
        goal = loaded.goal
        current = loaded.contributor_goals
        current_ids = {c.id for c in current}
        periods = await _goal_periods(current[0].id)
        goal_pipeline_ids = await _goal_pipeline_ids(goal.id)

        name = clean_name(errors, (*root, "name"), edit.name) if edit.name is not None else None
        if edit.pipeline_ids is not None and set(edit.pipeline_ids) != set(goal_pipeline_ids):
            errors.add(
                (*root, "pipeline_ids"),
                ErrorCode.IMMUTABLE,
                "A goal's pipelines cannot change after creation.",
            )
        target_edits = _check_target_edits(
            errors,
            (*root, "targets"),
            edit.targets or [],
            current_ids,
            len(periods),
            await _final_targets(sorted(current_ids)) if edit.targets else {},
        )
        removed = (
            _check_ids_of(
                errors,
                (*root, "remove_contributor_ids"),
                edit.remove_contributor_goal_ids,
                current_ids,
                "No such contributor on this goal.",
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
                directory = await _load_directory(
                    actor.account_id,
                    additions,
                    [*goal_pipeline_ids, *_milestone_pipeline_ids(additions)],
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
            goal.notify = _notify_list(edit.notify)
        await goal.save(update_fields=["name", "notify", "updated_at"])
        if target_edits:
            await _write_target_edits(target_edits)
            edited = sorted({e.contributor_goal_id for e in target_edits} - set(removed))
            if edited:
                notification_ids += await notifications.record_targets_changed(
                    goal, edited, change_id
                )
        added = await _add_contributor_goals(goal, plans, periods)
        if added:
            notification_ids += await notifications.record_goal_assigned(goal, added, change_id)
        if removed:
            await ContributorGoal.filter(id__in=removed).delete()
        if target_edits or added or removed:
            await progress.recompute_rollups([goal.id])
    await notifications.after_commit(notification_ids)
    if target_edits or added:
        await jobs.after_commit([jobs.refresh_goal(goal.account_id, goal.id, change_id)])
    return await Goal.get(id=goal.id)


def _check_target_edits(
    errors: Errors,
    path: Sequence[str],
    edits: Sequence[TargetEdit],
    contributor_goal_ids: set[int],
    milestone_count: int,
    final: dict[tuple[int, int], Decimal],
) -> list[TargetEdit]:
    """The edits to write: a final milestone's target is refused, unless the edit repeats it
    (then there is nothing to write)."""
    if len(edits) > MAX_TARGET_EDITS:
        errors.add(
            path, ErrorCode.TOO_MANY, f"Edit at most {MAX_TARGET_EDITS} targets in one update."
        )
        return []
    seen: set[tuple[int, int]] = set()
    for i, edit in enumerate(edits):
        item = (*path, str(i))
        if edit.contributor_goal_id not in contributor_goal_ids:
            errors.add(
                (*item, "contributor_id"), ErrorCode.NOT_FOUND, "No such contributor on this goal."
            )
        if not 0 <= edit.milestone_index < milestone_count:
            errors.add(
                (*item, "milestone_index"),
                ErrorCode.INVALID,
                f"The goal's milestones are numbered 0 to {milestone_count - 1}.",
            )
        check_amount(errors, (*item, "amount"), edit.amount)
        key = (edit.contributor_goal_id, edit.milestone_index)
        if key in seen:
            errors.add(item, ErrorCode.DUPLICATE, "This milestone is edited twice.")
        seen.add(key)
        if final.get(key, edit.amount) != edit.amount:
            errors.add(item, ErrorCode.IMMUTABLE, _final_message(edit.milestone_index))
    return [e for e in edits if (e.contributor_goal_id, e.milestone_index) not in final]


async def _write_target_edits(edits: Sequence[TargetEdit]) -> None:
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


# ---------------------------------------------------------------- delete


async def delete_goals(actor: User, reach: Reach, refs: Sequence[DeletionRef]) -> list[DeletionRef]:
    """Deletes goals and contributor goals; a goal whose last contributor goal goes is deleted
    too and named in the result after the requested ones."""
    errors = Errors()
    if len(refs) > MAX_DELETIONS:
        errors.add(("ids",), ErrorCode.TOO_MANY, f"Delete at most {MAX_DELETIONS} ids at a time.")
        raise ValidationFailed(errors.items)
    async with in_transaction():
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
        seen = Counter[DeletionRef]()
        for i, ref in enumerate(refs):
            path = ("ids", str(i))
            seen[ref] += 1
            if seen[ref] > 1:
                errors.add(path, ErrorCode.DUPLICATE, "This id is listed twice.")
            elif ref.kind is Deletable.GOAL:
                level = access.get(ref.id, GoalAccess.NONE)
                if level is GoalAccess.NONE:
                    errors.add(path, ErrorCode.NOT_FOUND, "No such goal.")
                elif level < GoalAccess.EDIT:
                    errors.add(
                        path,
                        ErrorCode.FORBIDDEN,
                        "Deleting a goal needs a paid seat and all its contributors in reach.",
                    )
            else:
                found = requested_cgs.get(ref.id)
                level = access.get(found.goal_id, GoalAccess.NONE) if found else GoalAccess.NONE
                if found is None or level is GoalAccess.NONE:
                    errors.add(path, ErrorCode.NOT_FOUND, "No such contributor goal.")
                elif not can_remove_contributor(actor, reach, level, found.user_id, found.team_id):
                    errors.add(
                        path,
                        ErrorCode.FORBIDDEN,
                        "Deleting a contributor goal needs a paid seat and that contributor "
                        "in reach.",
                    )
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
    if await _load_goal(actor, reach, goal_id, errors, ("id",)) is None:
        raise ValidationFailed(errors.items)
    await progress.refresh_goal(goal_id)  # type: ignore[attr-defined]
    return await Goal.get(id=goal_id)

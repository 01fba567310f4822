"""Rules a goal's input must satisfy, checked against a snapshot of the account's directory.

Every check adds to an ``Errors`` collector instead of stopping, so a caller sees all problems of
an input at once. Nothing here reads the database or the clock: the service loads what the rules
need (``Directory``) and passes it in.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from domain.enums import (
    CATEGORY_TYPES,
    GoalCategory,
    GoalType,
    MilestonePeriod,
    NotificationKind,
    ObjectType,
    Seat,
    pipeline_object_type,
)
from domain.errors import ErrorCode, Errors, Path, Refused
from domain.models import Pipeline, Team, User
from domain.periods import (
    FIRST_GOAL_DATE,
    LAST_GOAL_DATE,
    MAX_GOAL_YEARS,
    Period,
    exceeds_max_duration,
    milestone_periods,
    outside_goal_dates,
)
from domain.permissions import Reach

MAX_NAME_LENGTH = 200
MAX_CONTRIBUTORS = 500
MAX_DECIMAL_PLACES = 4
TARGET_LIMIT = Decimal(10) ** 15
# An id the caller sent that names nothing of its type (undecodable, another type, out of
# range). Primary keys start at 1, so a lookup by it finds nothing and reports NOT_FOUND.
UNKNOWN_ID = 0

PathPart = str | int


@dataclass(frozen=True, slots=True)
class ContributorDraft:
    """One contributor of a creation or an addition; ``None`` lists mean "the default"."""

    user_id: int | None = None
    team_id: int | None = None
    targets: Sequence[Decimal] | None = None
    milestone_pipeline_ids: Sequence[Sequence[int]] | None = None


@dataclass(frozen=True, slots=True)
class GoalDraft:
    name: str
    category: GoalCategory
    type: GoalType
    start_date: date
    end_date: date
    milestone_period: MilestonePeriod
    contributors: Sequence[ContributorDraft]
    align_to_fiscal_year: bool = False
    pipeline_ids: Sequence[int] | None = None
    notify: Sequence[NotificationKind] | None = None


@dataclass(frozen=True, slots=True)
class Directory:
    """The users, teams and pipelines an input names, as found in the caller's account."""

    users: dict[int, User] = field(default_factory=dict)
    teams: dict[int, Team] = field(default_factory=dict)
    team_member_counts: dict[int, int] = field(default_factory=dict)
    pipelines: dict[int, Pipeline] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContributorPlan:
    """A validated contributor: what the service writes."""

    user_id: int | None
    team_id: int | None
    targets: list[Decimal]
    milestone_pipeline_ids: list[list[int]]


def clean_name(errors: Errors, path: Sequence[PathPart], name: str) -> str:
    trimmed = name.strip()
    if not trimmed:
        errors.add(path, ErrorCode.REQUIRED, "Give the goal a name.")
    elif len(trimmed) > MAX_NAME_LENGTH:
        errors.add(
            path,
            ErrorCode.INVALID,
            f"The name is {len(trimmed)} characters long; at most {MAX_NAME_LENGTH} are allowed.",
        )
    return trimmed


def check_amount(errors: Errors, path: Sequence[PathPart], amount: Decimal) -> None:
    """A target: a finite decimal, at least 0, below 10^15, with at most four decimal places."""
    if not amount.is_finite():
        errors.add(path, ErrorCode.INVALID, "A target must be a finite number.")
    elif amount < 0:
        errors.add(path, ErrorCode.INVALID, "A target cannot be negative.")
    elif amount >= TARGET_LIMIT:
        errors.add(path, ErrorCode.INVALID, "A target must be below 1,000,000,000,000,000.")
    elif _decimal_places(amount) > MAX_DECIMAL_PLACES:
        errors.add(
            path,
            ErrorCode.INVALID,
            f"A target has at most {MAX_DECIMAL_PLACES} decimal places.",
        )


def _decimal_places(amount: Decimal) -> int:
    exponent = amount.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite numbers only
    return max(0, -exponent)


def check_type(
    errors: Errors, path: Sequence[PathPart], category: GoalCategory, type_: GoalType
) -> None:
    if type_ not in CATEGORY_TYPES[category]:
        allowed = ", ".join(sorted(CATEGORY_TYPES[category]))
        errors.add(
            path,
            ErrorCode.INVALID,
            f"{type_.value} is not a {category.value} goal type; choose one of {allowed}.",
        )


def plan_milestones(
    errors: Errors,
    path: Sequence[PathPart],
    draft: GoalDraft,
    fiscal_year_start_month: int,
) -> list[Period] | None:
    """The milestones of a valid date range, else None with the reason recorded."""
    problem = goal_dates_problem(draft.start_date, draft.end_date)
    if problem is not None:
        field, message = problem
        errors.add([*path, field], ErrorCode.INVALID, message)
        return None
    return milestone_periods(
        draft.start_date,
        draft.end_date,
        draft.milestone_period,
        align_to_fiscal_year=draft.align_to_fiscal_year,
        fiscal_year_start_month=fiscal_year_start_month,
    )


def goal_dates_problem(start_date: date, end_date: date) -> tuple[str, str] | None:
    """The date field a goal's dates fail on and why, or None when they may be a goal's."""
    if end_date < start_date:
        return "end_date", "The end date is before the start date."
    if exceeds_max_duration(start_date, end_date):
        return "end_date", f"A goal lasts at most {MAX_GOAL_YEARS} years."
    if outside_goal_dates(start_date, end_date):
        field = "start_date" if start_date < FIRST_GOAL_DATE else "end_date"
        return field, f"Goal dates lie between {FIRST_GOAL_DATE} and {LAST_GOAL_DATE}."
    return None


def preview_milestones(
    start_date: date,
    end_date: date,
    milestone_period: MilestonePeriod,
    *,
    align_to_fiscal_year: bool,
    fiscal_year_start_month: int,
) -> list[Period]:
    """The milestones a goal with these dates would get; refused, with the words creating
    such a goal would get, when the dates cannot be a goal's."""
    problem = goal_dates_problem(start_date, end_date)
    if problem is not None:
        raise Refused(problem[1])
    return milestone_periods(
        start_date,
        end_date,
        milestone_period,
        align_to_fiscal_year=align_to_fiscal_year,
        fiscal_year_start_month=fiscal_year_start_month,
    )


def check_goal_pipelines(
    errors: Errors,
    path: Sequence[PathPart],
    type_: GoalType,
    pipeline_ids: Sequence[int] | None,
    directory: Directory,
) -> list[int] | None:
    """The goal's pipelines when they suit its type, else None with the reasons recorded."""
    object_type = pipeline_object_type(type_)
    ids = list(pipeline_ids or [])
    if object_type is None:
        if ids:
            errors.add(path, ErrorCode.INVALID, f"A {type_.value} goal takes no pipelines.")
            return None
        return []
    if not ids:
        errors.add(path, ErrorCode.REQUIRED, f"Choose at least one {_noun(object_type)} pipeline.")
        return None
    before = len(errors)
    seen: set[int] = set()
    for i, pipeline_id in enumerate(ids):
        pipeline = directory.pipelines.get(pipeline_id)
        if pipeline is None:
            errors.add([*path, i], ErrorCode.NOT_FOUND, "No such pipeline.")
        elif pipeline.object_type != object_type:
            errors.add(
                [*path, i],
                ErrorCode.INVALID,
                f"{pipeline.name} is a {_noun(pipeline.object_type)} pipeline; a {type_.value} "
                f"goal counts {_noun(object_type)}s.",
            )
        elif pipeline_id in seen:
            errors.add([*path, i], ErrorCode.DUPLICATE, "This pipeline is listed twice.")
        seen.add(pipeline_id)
    return ids if len(errors) == before else None


def _noun(object_type: ObjectType) -> str:
    return object_type.value.lower()


def check_contributor_count(
    errors: Errors, path: Sequence[PathPart], count: int, *, minimum: int = 1
) -> bool:
    """False when the list is too long to look at item by item."""
    if count < minimum:
        errors.add(path, ErrorCode.REQUIRED, "Add at least one contributor.")
    if count > MAX_CONTRIBUTORS:
        errors.add(
            path,
            ErrorCode.TOO_MANY,
            f"A goal has at most {MAX_CONTRIBUTORS} contributors; {count} were given.",
        )
        return False
    return True


def plan_contributors(
    errors: Errors,
    path: Sequence[PathPart],
    drafts: Sequence[ContributorDraft],
    *,
    directory: Directory,
    reach: Reach,
    milestone_count: int | None,
    goal_pipeline_ids: list[int] | None,
    existing: frozenset[tuple[int | None, int | None]] = frozenset(),
) -> list[ContributorPlan]:
    """Validated contributors, in input order.

    ``milestone_count`` and ``goal_pipeline_ids`` are None when the goal's own dates or pipelines
    are invalid; the checks that depend on them are then skipped. ``existing`` holds the
    (user_id, team_id) pairs already on the goal.
    """
    plans: list[ContributorPlan] = []
    seen = set(existing)
    for i, draft in enumerate(drafts):
        item: Path = (*map(str, path), str(i))
        who = _check_who(errors, item, draft, directory, reach, seen)
        targets = _check_targets(errors, item, draft.targets, milestone_count)
        subsets = _check_milestone_pipelines(
            errors,
            item,
            draft.milestone_pipeline_ids,
            milestone_count,
            goal_pipeline_ids,
            directory,
        )
        if who is not None and targets is not None and subsets is not None:
            plans.append(ContributorPlan(who[0], who[1], targets, subsets))
    return plans


def _check_who(
    errors: Errors,
    path: Path,
    draft: ContributorDraft,
    directory: Directory,
    reach: Reach,
    seen: set[tuple[int | None, int | None]],
) -> tuple[int | None, int | None] | None:
    if draft.user_id is None and draft.team_id is None:
        errors.add(path, ErrorCode.REQUIRED, "Give either a userId or a teamId.")
        return None
    if draft.user_id is not None and draft.team_id is not None:
        errors.add(path, ErrorCode.INVALID, "Give either a userId or a teamId, not both.")
        return None
    if draft.user_id is not None:
        user = directory.users.get(draft.user_id)
        where = (*path, "user_id")
        if user is None or not reach.has_user(user.id):
            errors.add(where, ErrorCode.NOT_FOUND, "No such user within your reach.")
            return None
        if not user.active:
            errors.add(where, ErrorCode.INVALID, f"{user.name} is inactive.")
            return None
        if user.seat != Seat.PAID:
            errors.add(where, ErrorCode.INVALID, f"{user.name} has no paid seat.")
            return None
        key: tuple[int | None, int | None] = (user.id, None)
        described = user.name
    else:
        assert draft.team_id is not None
        team = directory.teams.get(draft.team_id)
        where = (*path, "team_id")
        if team is None or not reach.has_team(team.id):
            errors.add(where, ErrorCode.NOT_FOUND, "No such team within your reach.")
            return None
        if not directory.team_member_counts.get(team.id):
            errors.add(where, ErrorCode.INVALID, f"{team.name} has no members.")
            return None
        key = (None, team.id)
        described = team.name
    if key in seen:
        errors.add(where, ErrorCode.DUPLICATE, f"{described} is already a contributor.")
        return None
    seen.add(key)
    return key


def _check_targets(
    errors: Errors, path: Path, targets: Sequence[Decimal] | None, milestone_count: int | None
) -> list[Decimal] | None:
    if milestone_count is None:
        return None
    if targets is None:
        return [Decimal(0)] * milestone_count
    if len(targets) != milestone_count:
        errors.add(
            (*path, "targets"),
            ErrorCode.INVALID,
            f"Give one target per milestone: {milestone_count}, not {len(targets)}.",
        )
        return None
    before = len(errors)
    for j, amount in enumerate(targets):
        check_amount(errors, (*path, "targets", str(j)), amount)
    return list(targets) if len(errors) == before else None


def _check_milestone_pipelines(
    errors: Errors,
    path: Path,
    subsets: Sequence[Sequence[int]] | None,
    milestone_count: int | None,
    goal_pipeline_ids: list[int] | None,
    directory: Directory,
) -> list[list[int]] | None:
    if milestone_count is None or goal_pipeline_ids is None:
        return None
    if subsets is None:
        return [list(goal_pipeline_ids) for _ in range(milestone_count)]
    where = (*path, "milestone_pipeline_ids")
    if not goal_pipeline_ids:
        errors.add(where, ErrorCode.INVALID, "This goal type takes no pipelines.")
        return None
    if len(subsets) != milestone_count:
        errors.add(
            where,
            ErrorCode.INVALID,
            f"Give one pipeline list per milestone: {milestone_count}, not {len(subsets)}.",
        )
        return None
    before = len(errors)
    allowed = set(goal_pipeline_ids)
    for j, subset in enumerate(subsets):
        if not subset:
            errors.add((*where, str(j)), ErrorCode.REQUIRED, "Choose at least one pipeline.")
        seen: set[int] = set()
        for k, pipeline_id in enumerate(subset):
            if pipeline_id not in directory.pipelines:
                errors.add((*where, str(j), str(k)), ErrorCode.NOT_FOUND, "No such pipeline.")
            elif pipeline_id not in allowed:
                errors.add(
                    (*where, str(j), str(k)),
                    ErrorCode.INVALID,
                    "A milestone can only use the goal's own pipelines.",
                )
            elif pipeline_id in seen:
                errors.add(
                    (*where, str(j), str(k)), ErrorCode.DUPLICATE, "This pipeline is listed twice."
                )
            seen.add(pipeline_id)
    return [list(s) for s in subsets] if len(errors) == before else None

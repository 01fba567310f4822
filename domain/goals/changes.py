"""Changes to existing goals (targets, edits, deletions) and the rules they must satisfy.

Like ``validation``, every check adds to an ``Errors`` collector and reads neither the
database nor the clock: the service loads what a check needs and passes it in.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.enums import NotificationKind
from domain.errors import ErrorCode, Errors
from domain.goals.validation import ContributorDraft, check_amount
from domain.models import ContributorGoal, User
from domain.permissions import GoalAccess, Reach, can_remove_contributor

MAX_DELETIONS = 500
# Bounds one update's statements (and their parameters) whatever the client sends.
MAX_TARGET_EDITS = 5000
NO_SUCH_CONTRIBUTOR = "No such contributor on this goal."


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


def notify_list(kinds: Iterable[NotificationKind] | None) -> list[str]:
    return [k.value for k in dict.fromkeys(kinds or [])]


def final_message(index: int) -> str:
    return (
        f"Milestone {index} is final: its outcome has been announced, so its target is history "
        "and cannot change."
    )


def _numbered(milestone_count: int) -> str:
    return f"The goal's milestones are numbered 0 to {milestone_count - 1}."


def check_chosen(
    errors: Errors,
    path: Sequence[str],
    chosen: Sequence[int] | None,
    *,
    valid: Callable[[int], bool],
    invalid: tuple[ErrorCode, str],
    twice: str,
) -> list[int] | None:
    """The chosen ids or indexes without repeats; None for "all". An empty list is refused, an
    item that is not ``valid`` gets ``invalid``, a repeat DUPLICATE with ``twice``."""
    if chosen is None:
        return None
    if not chosen:
        errors.add(path, ErrorCode.INVALID, "Leave the list out to mean all; it cannot be empty.")
        return None
    seen: set[int] = set()
    for i, item in enumerate(chosen):
        if not valid(item):
            errors.add((*path, str(i)), *invalid)
        elif item in seen:
            errors.add((*path, str(i)), ErrorCode.DUPLICATE, twice)
        seen.add(item)
    return list(dict.fromkeys(chosen))


def check_contributor_goal_ids(
    errors: Errors, path: Sequence[str], ids: Sequence[int] | None, known: set[int]
) -> list[int] | None:
    return check_chosen(
        errors,
        path,
        ids,
        valid=known.__contains__,
        invalid=(ErrorCode.NOT_FOUND, NO_SUCH_CONTRIBUTOR),
        twice="This id is listed twice.",
    )


def check_milestone_indexes(
    errors: Errors, path: Sequence[str], indexes: Sequence[int] | None, milestone_count: int
) -> list[int] | None:
    return check_chosen(
        errors,
        path,
        indexes,
        valid=lambda index: 0 <= index < milestone_count,
        invalid=(ErrorCode.INVALID, _numbered(milestone_count)),
        twice="This milestone is listed twice.",
    )


def check_target_edits(
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
            errors.add((*item, "contributor_id"), ErrorCode.NOT_FOUND, NO_SUCH_CONTRIBUTOR)
        if not 0 <= edit.milestone_index < milestone_count:
            errors.add((*item, "milestone_index"), ErrorCode.INVALID, _numbered(milestone_count))
        check_amount(errors, (*item, "amount"), edit.amount)
        key = (edit.contributor_goal_id, edit.milestone_index)
        if key in seen:
            errors.add(item, ErrorCode.DUPLICATE, "This milestone is edited twice.")
        seen.add(key)
        if final.get(key, edit.amount) != edit.amount:
            errors.add(item, ErrorCode.IMMUTABLE, final_message(edit.milestone_index))
    return [e for e in edits if (e.contributor_goal_id, e.milestone_index) not in final]


def check_deletions(
    errors: Errors,
    actor: User,
    reach: Reach,
    refs: Sequence[DeletionRef],
    access: Mapping[int, GoalAccess],
    requested: Mapping[int, ContributorGoal],
) -> None:
    """Each goal needs EDIT access; each contributor goal (``requested``, found in the account)
    its contributor in reach; an id twice is a DUPLICATE."""
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
            found = requested.get(ref.id)
            level = access.get(found.goal_id, GoalAccess.NONE) if found else GoalAccess.NONE
            if found is None or level is GoalAccess.NONE:
                errors.add(path, ErrorCode.NOT_FOUND, "No such contributor goal.")
            elif not can_remove_contributor(actor, reach, level, found.user_id, found.team_id):
                errors.add(
                    path,
                    ErrorCode.FORBIDDEN,
                    "Deleting a contributor goal needs a paid seat and that contributor in reach.",
                )

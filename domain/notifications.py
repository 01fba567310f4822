"""The notification outbox: rows written in the transaction of the change that causes them,
delivered after the commit."""

from collections.abc import Sequence
from dataclasses import dataclass

from domain.enums import GoalStatus
from domain.models import ContributorGoal, Goal


@dataclass(frozen=True, slots=True)
class Outcome:
    """A milestone (``milestone_index``) or a whole contributor goal (None) that became final."""

    contributor_goal_id: int
    milestone_index: int | None
    status: GoalStatus


async def record_goal_assigned(
    goal: Goal, contributor_goals: Sequence[ContributorGoal], change_id: str
) -> list[int]:
    """Outbox rows for GOAL_ASSIGNED, when the goal turned it on. Returns the new row ids."""
    return []


async def record_targets_changed(
    goal: Goal, contributor_goal_ids: Sequence[int], change_id: str
) -> list[int]:
    """Outbox rows for TARGETS_CHANGED, when the goal turned it on. Returns the new row ids."""
    return []


async def record_outcomes(account_id: int, outcomes: Sequence[Outcome]) -> list[int]:
    """Outbox rows for MILESTONE_ACHIEVED / MILESTONE_MISSED / GOAL_COMPLETED."""
    return []


async def after_commit(notification_ids: Sequence[int]) -> None:
    """Hand new outbox rows to the delivery workers; call after the transaction commits.
    Never raises: rows left pending are picked up by the periodic sweep."""
    return None

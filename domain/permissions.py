"""Who reaches whom: the one place that decides what a user may see and change."""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import cast

from domain.enums import GoalPermission, Seat
from domain.errors import ErrorCode, ValidationFailed
from domain.models import TeamMembership, User


class AdminOnly(Enum):
    """What only an account's admins may do, each with the words that refuse anyone else.

    A command refuses with FORBIDDEN on its whole input, a query with an error; a field of an
    object others may read (the webhook URL) reads as null for them instead. Anyone's own
    tokens are theirs to manage: another user's token or user is, to a non-admin, NOT_FOUND
    like anything out of reach.
    """

    CHANGE_SETTINGS = "Only account admins change its settings."
    SYNC = "Only account admins may sync the directory."
    LIST_FAILED_NOTIFICATIONS = "Only admins can list failed notifications."
    READ_WEBHOOK_URL = "Only admins read the webhook URL."
    MANAGE_OTHERS_TOKENS = "Only admins manage other users' tokens."


def may(user: User, operation: AdminOnly) -> bool:
    return user.is_admin


def require_admin(user: User, operation: AdminOnly) -> None:
    """Raises ValidationFailed (FORBIDDEN on ``input``) unless ``user`` is an admin."""
    if not may(user, operation):
        raise ValidationFailed.one(("input",), ErrorCode.FORBIDDEN, operation.value)


@dataclass(frozen=True, slots=True)
class Reach:
    """The contributors a user may manage. ``everyone`` covers the whole account."""

    everyone: bool
    user_ids: frozenset[int]
    team_ids: frozenset[int]

    def has_user(self, user_id: int) -> bool:
        return self.everyone or user_id in self.user_ids

    def has_team(self, team_id: int) -> bool:
        return self.everyone or team_id in self.team_ids

    def has_contributor(self, user_id: int | None, team_id: int | None) -> bool:
        if user_id is not None:
            return self.has_user(user_id)
        return team_id is not None and self.has_team(team_id)


async def reach_of(user: User) -> Reach:
    """OWN: themselves. TEAM: their teams and those teams' members. ALL and admins: everyone."""
    if user.is_admin or user.goal_permission == GoalPermission.ALL:
        return Reach(everyone=True, user_ids=frozenset(), team_ids=frozenset())
    if user.goal_permission == GoalPermission.OWN:
        return Reach(everyone=False, user_ids=frozenset({user.id}), team_ids=frozenset())
    # A flat values_list yields the values themselves; Tortoise types it as a list of tuples.
    team_ids = cast(
        list[int], await TeamMembership.filter(user_id=user.id).values_list("team_id", flat=True)
    )
    member_ids = cast(
        list[int],
        await TeamMembership.filter(team_id__in=team_ids).values_list("user_id", flat=True),
    )
    return Reach(
        everyone=False,
        user_ids=frozenset({user.id, *member_ids}),
        team_ids=frozenset(team_ids),
    )


def can_view_goals(user: User) -> bool:
    return user.is_admin or user.seat == Seat.PAID


def can_edit_goals(user: User) -> bool:
    return user.is_admin or user.seat == Seat.PAID


def all_within_reach(reach: Reach, contributors: Iterable[tuple[int | None, int | None]]) -> bool:
    return all(reach.has_contributor(u, t) for u, t in contributors)


class GoalAccess(IntEnum):
    """What a user may do with one goal; each level includes the ones below it."""

    NONE = 0
    VIEW = 1
    EDIT = 2


def goal_access(
    user: User,
    reach: Reach,
    *,
    created_by_id: int | None,
    contributors: Iterable[tuple[int | None, int | None]],
) -> GoalAccess:
    """VIEW: a PAID seat (admins always), and the user created the goal or reaches one of its
    contributors. EDIT (also refresh and delete): a PAID seat and every contributor in reach."""
    if not can_view_goals(user):
        return GoalAccess.NONE
    in_reach = [reach.has_contributor(u, t) for u, t in contributors]
    if created_by_id != user.id and not any(in_reach):
        return GoalAccess.NONE
    if can_edit_goals(user) and all(in_reach):
        return GoalAccess.EDIT
    return GoalAccess.VIEW


def can_remove_contributor(
    user: User, reach: Reach, access: GoalAccess, user_id: int | None, team_id: int | None
) -> bool:
    """Deleting one contributor goal of a visible goal needs only that contributor in reach."""
    return (
        access >= GoalAccess.VIEW
        and can_edit_goals(user)
        and reach.has_contributor(user_id, team_id)
    )

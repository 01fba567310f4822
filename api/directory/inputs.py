"""Inputs of the directory sync: users, teams and pipelines keyed by the CRM's external ids."""

from typing import Any

import strawberry

from api.directory.types import GoalPermission, ObjectType, Seat


def allow_partial_field() -> Any:
    """The ``allowPartial`` flag of every batch upsert."""
    return strawberry.field(
        default=False, description="Apply the valid items even when others are invalid."
    )


@strawberry.input(description="A user; omitted optional fields keep their stored values.")
class UserInput:
    external_id: str
    email: str
    name: str
    seat: Seat | None = strawberry.field(
        default=None, description="A new user gets PAID when omitted."
    )
    goal_permission: GoalPermission | None = strawberry.field(
        default=None, description="A new user gets OWN when omitted."
    )
    is_admin: bool | None = strawberry.field(
        default=None, description="A new user is not an admin when omitted."
    )
    active: bool | None = strawberry.field(
        default=None, description="A new user is active when omitted."
    )


@strawberry.input
class TeamInput:
    external_id: str
    name: str
    member_external_ids: list[str] | None = strawberry.field(
        default=None,
        description="The members' external ids; replaces the membership. Omitted keeps it.",
    )


@strawberry.input
class PipelineInput:
    external_id: str
    object_type: ObjectType = strawberry.field(description="Cannot change once created.")
    name: str


@strawberry.input
class UpsertUsersInput:
    items: list[UserInput] = strawberry.field(description="1 to 1,000 users.")
    allow_partial: bool | None = allow_partial_field()


@strawberry.input
class UpsertTeamsInput:
    items: list[TeamInput] = strawberry.field(description="1 to 1,000 teams.")
    allow_partial: bool | None = allow_partial_field()


@strawberry.input
class UpsertPipelinesInput:
    items: list[PipelineInput] = strawberry.field(description="1 to 1,000 pipelines.")
    allow_partial: bool | None = allow_partial_field()

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
    external_id: str = strawberry.field(
        description="The CRM's id of the user; a second upsert of the same id updates it.",
    )
    email: str = strawberry.field(description="An email address, unique within the account.")
    name: str = strawberry.field(description="The user's full name.")
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


@strawberry.input(description="A team; its members are given by their external ids.")
class TeamInput:
    external_id: str = strawberry.field(
        description="The CRM's id of the team; a second upsert of the same id updates it.",
    )
    name: str = strawberry.field(description="The team's name.")
    member_external_ids: list[str] | None = strawberry.field(
        default=None,
        description="The members' external ids; replaces the membership. Omitted keeps it.",
    )


@strawberry.input(description="A pipeline of tickets or deals.")
class PipelineInput:
    external_id: str = strawberry.field(
        description="The CRM's id of the pipeline; a second upsert of the same id updates it.",
    )
    object_type: ObjectType = strawberry.field(description="Cannot change once created.")
    name: str = strawberry.field(description="The pipeline's name.")


@strawberry.input(description="Users to create or update, keyed by external id.")
class UpsertUsersInput:
    items: list[UserInput] = strawberry.field(description="1 to 1,000 users.")
    allow_partial: bool | None = allow_partial_field()


@strawberry.input(description="Teams to create or update, keyed by external id.")
class UpsertTeamsInput:
    items: list[TeamInput] = strawberry.field(description="1 to 1,000 teams.")
    allow_partial: bool | None = allow_partial_field()


@strawberry.input(description="Pipelines to create or update, keyed by external id.")
class UpsertPipelinesInput:
    items: list[PipelineInput] = strawberry.field(description="1 to 1,000 pipelines.")
    allow_partial: bool | None = allow_partial_field()

"""Directory sync for admins: batch upserts of users, teams and pipelines."""

import strawberry

from api.common.types import user_errors
from api.context import Info
from api.directory.inputs import UpsertPipelinesInput, UpsertTeamsInput, UpsertUsersInput
from api.directory.types import UpsertPayload
from domain import directory
from domain.batches import BatchOutcome
from domain.enums import GoalPermission, ObjectType, Seat


def upsert_payload(info: Info, outcome: BatchOutcome) -> UpsertPayload:
    if outcome.upserted_count:
        info.context.forget_loaded()
    return UpsertPayload(
        upserted_count=outcome.upserted_count, user_errors=user_errors(outcome.errors)
    )


@strawberry.type
class DirectoryMutation:
    @strawberry.mutation(description="Create or update users by external id (admins only).")
    async def upsert_users(self, info: Info, input: UpsertUsersInput) -> UpsertPayload:
        items = [
            directory.UserItem(
                external_id=item.external_id,
                email=item.email,
                name=item.name,
                seat=Seat(item.seat) if item.seat is not None else None,
                goal_permission=(
                    GoalPermission(item.goal_permission)
                    if item.goal_permission is not None
                    else None
                ),
                is_admin=item.is_admin,
                active=item.active,
            )
            for item in input.items
        ]
        outcome = await directory.upsert_users(
            info.context.viewer, items, allow_partial=bool(input.allow_partial)
        )
        return upsert_payload(info, outcome)

    @strawberry.mutation(
        description="Create or update teams by external id; member lists replace the "
        "membership (admins only)."
    )
    async def upsert_teams(self, info: Info, input: UpsertTeamsInput) -> UpsertPayload:
        items = [
            directory.TeamItem(
                external_id=item.external_id,
                name=item.name,
                member_external_ids=item.member_external_ids,
            )
            for item in input.items
        ]
        outcome = await directory.upsert_teams(
            info.context.viewer, items, allow_partial=bool(input.allow_partial)
        )
        return upsert_payload(info, outcome)

    @strawberry.mutation(description="Create or update pipelines by external id (admins only).")
    async def upsert_pipelines(self, info: Info, input: UpsertPipelinesInput) -> UpsertPayload:
        items = [
            directory.PipelineItem(
                external_id=item.external_id,
                object_type=ObjectType(item.object_type),
                name=item.name,
            )
            for item in input.items
        ]
        outcome = await directory.upsert_pipelines(
            info.context.viewer, items, allow_partial=bool(input.allow_partial)
        )
        return upsert_payload(info, outcome)

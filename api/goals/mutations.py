"""Creating, editing, deleting and refreshing goals. Each returns what it changed and the
problems of its input; the rules live in ``domain.goals``."""

import strawberry

from api.common.types import UserError, user_errors
from api.context import Info
from api.goals.inputs import (
    ApplyGoalTargetsInput,
    CreateGoalInput,
    UpdateGoalInput,
    decode_deletion,
    decode_id,
)
from api.goals.types import Goal
from api.ids import to_global_id
from domain.errors import ValidationFailed
from domain.goals import service


@strawberry.type
class CreateGoalPayload:
    goal: Goal | None
    user_errors: list[UserError]


@strawberry.type
class ApplyGoalTargetsPayload:
    goal: Goal | None
    user_errors: list[UserError]


@strawberry.type
class UpdateGoalPayload:
    goal: Goal | None
    user_errors: list[UserError]


@strawberry.type
class DeleteGoalsPayload:
    deleted_ids: list[strawberry.ID] = strawberry.field(
        description="The ids deleted, then any goal deleted with its last contributor goal."
    )
    user_errors: list[UserError]


@strawberry.type
class RefreshGoalProgressPayload:
    goal: Goal | None
    user_errors: list[UserError]


@strawberry.type
class GoalMutation:
    @strawberry.mutation(description="Create a goal for contributors within your reach.")
    async def create_goal(self, info: Info, input: CreateGoalInput) -> CreateGoalPayload:
        try:
            row = await service.create_goal(
                info.context.viewer, await info.context.reach(), input.to_draft()
            )
        except ValidationFailed as failed:
            return CreateGoalPayload(goal=None, user_errors=user_errors(failed.errors))
        info.context.forget_loaded()
        return CreateGoalPayload(goal=Goal(row=row), user_errors=[])

    @strawberry.mutation(description="Write one target to many milestones at once.")
    async def apply_goal_targets(
        self, info: Info, input: ApplyGoalTargetsInput
    ) -> ApplyGoalTargetsPayload:
        try:
            row = await service.apply_goal_targets(
                info.context.viewer, await info.context.reach(), input.to_application()
            )
        except ValidationFailed as failed:
            return ApplyGoalTargetsPayload(goal=None, user_errors=user_errors(failed.errors))
        info.context.forget_loaded()
        return ApplyGoalTargetsPayload(goal=Goal(row=row), user_errors=[])

    @strawberry.mutation(
        description="Rename, change notifications, edit targets, add or remove contributors."
    )
    async def update_goal(self, info: Info, input: UpdateGoalInput) -> UpdateGoalPayload:
        try:
            row = await service.update_goal(
                info.context.viewer, await info.context.reach(), input.to_edit()
            )
        except ValidationFailed as failed:
            return UpdateGoalPayload(goal=None, user_errors=user_errors(failed.errors))
        info.context.forget_loaded()
        return UpdateGoalPayload(goal=Goal(row=row), user_errors=[])

    @strawberry.mutation(description="Delete goals and single contributor goals, mixed.")
    async def delete_goals(self, info: Info, ids: list[strawberry.ID]) -> DeleteGoalsPayload:
        try:
            deleted = await service.delete_goals(
                info.context.viewer, await info.context.reach(), [decode_deletion(i) for i in ids]
            )
        except ValidationFailed as failed:
            return DeleteGoalsPayload(deleted_ids=[], user_errors=user_errors(failed.errors))
        info.context.forget_loaded()
        return DeleteGoalsPayload(
            deleted_ids=[to_global_id(ref.kind.value, ref.id) for ref in deleted], user_errors=[]
        )

    @strawberry.mutation(description="Recompute one goal's progress now and return it.")
    async def refresh_goal_progress(
        self, info: Info, id: strawberry.ID
    ) -> RefreshGoalProgressPayload:
        try:
            row = await service.refresh_goal_progress(
                info.context.viewer, await info.context.reach(), decode_id(id, "Goal")
            )
        except ValidationFailed as failed:
            return RefreshGoalProgressPayload(goal=None, user_errors=user_errors(failed.errors))
        info.context.forget_loaded()
        return RefreshGoalProgressPayload(goal=Goal(row=row), user_errors=[])

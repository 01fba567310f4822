"""Creating, editing, deleting and refreshing goals. Each returns what it changed and the
problems of its input; the rules live in ``domain.goals``."""

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import strawberry

from api.common.mutations import run_mutation
from api.common.types import UserError, user_errors_field
from api.context import Info
from api.goals.inputs import (
    ApplyGoalTargetsInput,
    CreateGoalInput,
    UpdateGoalInput,
    decode_deletions,
    decode_id,
)
from api.goals.types import Goal
from api.ids import to_global_id
from domain import models as m
from domain.goals import service
from domain.permissions import Reach, can_view_goals


@strawberry.type
class GoalPayload:
    # The fields of every mutation that changes one goal.
    goal: Goal | None = strawberry.field(
        default=None,
        description="The goal as the change left it; null when `userErrors` stopped the "
        "change, or when the caller may not view goals (a FREE seat creates goals it cannot "
        "see: with no `userErrors`, the goal was created all the same).",
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="What `createGoal` did.")
class CreateGoalPayload(GoalPayload):
    pass


@strawberry.type(description="What `applyGoalTargets` did.")
class ApplyGoalTargetsPayload(GoalPayload):
    changed_milestone_count: int = strawberry.field(
        default=0,
        description="How many milestones got the amount: without milestoneIndexes, final "
        "milestones (whose outcome was announced) are skipped; 0 when the input was refused.",
    )


@strawberry.type(description="What `updateGoal` did.")
class UpdateGoalPayload(GoalPayload):
    pass


@strawberry.type(description="What `deleteGoals` did; nothing is deleted when any id is refused.")
class DeleteGoalsPayload:
    deleted_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="The ids deleted, then any goal deleted with its last contributor goal.",
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="What `refreshGoalProgress` did.")
class RefreshGoalProgressPayload(GoalPayload):
    pass


Payload = TypeVar("Payload", bound=GoalPayload)
Change = TypeVar("Change")


async def change_goal(
    info: Info,
    payload_type: type[Payload],
    service_call: Callable[[m.User, Reach, Change], Awaitable[m.Goal]],
    change: Change,
) -> Payload:
    """The goal as the viewer's change left it, or the problems of the input that stopped it."""
    viewer = info.context.viewer

    def succeeded(row: m.Goal) -> Payload:
        return payload_type(goal=Goal(row=row) if can_view_goals(viewer) else None)

    command = service_call(viewer, await info.context.reach(), change)
    return await run_mutation(info, command, payload_type, succeeded)


@strawberry.type
class GoalMutation:
    @strawberry.mutation(description="Create a goal for contributors within your reach.")
    async def create_goal(
        self,
        info: Info,
        input: Annotated[
            CreateGoalInput, strawberry.argument(description="The goal and its contributors.")
        ],
    ) -> CreateGoalPayload:
        return await change_goal(info, CreateGoalPayload, service.create_goal, input.to_draft())

    @strawberry.mutation(
        description="Write one target to many milestones at once. A final milestone's target "
        "cannot change (IMMUTABLE when named in milestoneIndexes; skipped otherwise)."
    )
    async def apply_goal_targets(
        self,
        info: Info,
        input: Annotated[
            ApplyGoalTargetsInput,
            strawberry.argument(description="The goal, the amount and where it goes."),
        ],
    ) -> ApplyGoalTargetsPayload:
        command = service.apply_goal_targets(
            info.context.viewer, await info.context.reach(), input.to_application()
        )
        return await run_mutation(
            info,
            command,
            ApplyGoalTargetsPayload,
            lambda applied: ApplyGoalTargetsPayload(
                goal=Goal(row=applied.goal), changed_milestone_count=applied.changed_milestones
            ),
        )

    @strawberry.mutation(
        description="Rename, change notifications, edit targets, add or remove contributors. "
        "A final milestone's target cannot change (IMMUTABLE)."
    )
    async def update_goal(
        self,
        info: Info,
        input: Annotated[
            UpdateGoalInput, strawberry.argument(description="The goal and what to change.")
        ],
    ) -> UpdateGoalPayload:
        return await change_goal(info, UpdateGoalPayload, service.update_goal, input.to_edit())

    @strawberry.mutation(description="Delete goals and single contributor goals, mixed.")
    async def delete_goals(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="Goal and contributor-goal ids, at most 500."),
        ],
    ) -> DeleteGoalsPayload:
        command = service.delete_goals(
            info.context.viewer, await info.context.reach(), decode_deletions(ids)
        )
        return await run_mutation(
            info,
            command,
            DeleteGoalsPayload,
            lambda deleted: DeleteGoalsPayload(
                deleted_ids=[to_global_id(ref.kind.value, ref.id) for ref in deleted]
            ),
        )

    @strawberry.mutation(description="Recompute one goal's progress now and return it.")
    async def refresh_goal_progress(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The goal's global id.")],
    ) -> RefreshGoalProgressPayload:
        return await change_goal(
            info, RefreshGoalProgressPayload, service.refresh_goal_progress, decode_id(id, "Goal")
        )

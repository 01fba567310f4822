"""Input objects of the goal mutations, and their translation into the domain's drafts.

Global ids are decoded here; an id that names nothing of the expected type becomes
``UNKNOWN_ID`` so that the domain reports it as NOT_FOUND at its own path.
"""

import datetime
from decimal import Decimal

import strawberry

from api.goals.types import GoalCategory, GoalType, MilestonePeriod, NotificationKind
from api.ids import from_global_id
from domain.goals.changes import (
    Deletable,
    DeletionRef,
    GoalEdit,
    TargetApplication,
    TargetEdit,
)
from domain.goals.validation import UNKNOWN_ID, ContributorDraft, GoalDraft


def decode_id(global_id: str, type_name: str) -> int:
    pk = from_global_id(global_id, type_name)
    return UNKNOWN_ID if pk is None else pk


def decode_ids(global_ids: list[strawberry.ID] | None, type_name: str) -> list[int] | None:
    return None if global_ids is None else [decode_id(g, type_name) for g in global_ids]


def decode_deletions(global_ids: list[strawberry.ID]) -> list[DeletionRef]:
    """Goal and contributor-goal ids travel in one list; the id itself says which it is.

    Ids that name nothing become distinct ids no row has (0, -1, ...), one per distinct text,
    so each is NOT_FOUND and only a repeat of the same text is DUPLICATE."""
    unknown: dict[str, int] = {}
    refs = []
    for global_id in global_ids:
        for kind in (Deletable.GOAL, Deletable.CONTRIBUTOR_GOAL):
            pk = decode_id(global_id, kind.value)
            if pk != UNKNOWN_ID:
                refs.append(DeletionRef(kind, pk))
                break
        else:
            placeholder = unknown.setdefault(global_id, UNKNOWN_ID - len(unknown))
            refs.append(DeletionRef(Deletable.GOAL, placeholder))
    return refs


@strawberry.input(description="A user or a team (exactly one) with their targets.")
class ContributorInput:
    user_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A user of the account: active, PAID and within your reach.",
    )
    team_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A team of the account with at least one member, within your reach.",
    )
    targets: list[Decimal] | None = strawberry.field(
        default=None, description="One per milestone, in order; omitted means all 0."
    )
    milestone_pipeline_ids: list[list[strawberry.ID]] | None = strawberry.field(
        default=None,
        description="Per milestone, a non-empty subset of the goal's pipelines; default all.",
    )

    def to_draft(self) -> ContributorDraft:
        return ContributorDraft(
            user_id=None if self.user_id is None else decode_id(self.user_id, "User"),
            team_id=None if self.team_id is None else decode_id(self.team_id, "Team"),
            targets=self.targets,
            milestone_pipeline_ids=None
            if self.milestone_pipeline_ids is None
            else [
                [decode_id(p, "Pipeline") for p in subset] for subset in self.milestone_pipeline_ids
            ],
        )


@strawberry.input(description="A new goal: its definition and its contributors with their targets.")
class CreateGoalInput:
    name: str = strawberry.field(description="1 to 200 characters after trimming.")
    category: GoalCategory = strawberry.field(
        description="SALES or SERVICE; the type must belong to it.",
    )
    type: GoalType = strawberry.field(
        description="What the goal counts; decides the unit and the pipelines it needs.",
    )
    start_date: datetime.date = strawberry.field(
        description="The first day (inclusive), in the account's timezone; 1900 or later.",
    )
    end_date: datetime.date = strawberry.field(
        description=(
            "The last day (inclusive): not before startDate, at most 5 years after it, 9998 or "
            "earlier."
        ),
    )
    milestone_period: MilestonePeriod = strawberry.field(
        description="How the duration is cut into milestones (see milestonePreview).",
    )
    contributors: list[ContributorInput] = strawberry.field(
        description="1 to 500 users and teams, each at most once.",
    )
    align_to_fiscal_year: bool | None = strawberry.field(
        default=False,
        description=(
            "Start quarters and years at the account's fiscal year start month; default false."
        ),
    )
    pipeline_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description=(
            "One or more pipelines of the type's object (tickets for SERVICE types, deals for "
            "REVENUE and DEALS_CREATED); none for calls and meetings. Cannot change later."
        ),
    )
    notify: list[NotificationKind] | None = strawberry.field(
        default=None,
        description="The notification kinds the contributors receive; default none.",
    )

    def to_draft(self) -> GoalDraft:
        return GoalDraft(
            name=self.name,
            category=self.category,
            type=self.type,
            start_date=self.start_date,
            end_date=self.end_date,
            milestone_period=self.milestone_period,
            align_to_fiscal_year=bool(self.align_to_fiscal_year),
            pipeline_ids=decode_ids(self.pipeline_ids, "Pipeline"),
            notify=self.notify,
            contributors=[c.to_draft() for c in self.contributors],
        )


@strawberry.input(description="One amount for the chosen milestones of the chosen contributors.")
class ApplyGoalTargetsInput:
    goal_id: strawberry.ID = strawberry.field(
        description="The goal, which you must be allowed to edit.",
    )
    amount: Decimal = strawberry.field(
        description="The target each chosen milestone gets, in the goal's unit: >= 0.",
    )
    contributor_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Contributor-goal ids; null means all, an empty list is invalid."
    )
    milestone_indexes: list[int] | None = strawberry.field(
        default=None, description="Null means all; an empty list is invalid."
    )

    def to_application(self) -> TargetApplication:
        return TargetApplication(
            goal_id=decode_id(self.goal_id, "Goal"),
            amount=self.amount,
            contributor_goal_ids=decode_ids(self.contributor_ids, "ContributorGoal"),
            milestone_indexes=self.milestone_indexes,
        )


@strawberry.input(description="A new target for one milestone of one contributor goal.")
class TargetEditInput:
    contributor_id: strawberry.ID = strawberry.field(description="A contributor-goal id.")
    milestone_index: int = strawberry.field(
        description="The milestone's index, from 0; a final milestone's target cannot change.",
    )
    amount: Decimal = strawberry.field(description="The new target, in the goal's unit: >= 0.")

    def to_edit(self) -> TargetEdit:
        return TargetEdit(
            contributor_goal_id=decode_id(self.contributor_id, "ContributorGoal"),
            milestone_index=self.milestone_index,
            amount=self.amount,
        )


@strawberry.input(description="Changes to a goal; omitted parts stay as they are.")
class UpdateGoalInput:
    id: strawberry.ID = strawberry.field(description="The goal, which you must be allowed to edit.")
    name: str | None = strawberry.field(
        default=None,
        description="A new name, 1 to 200 characters after trimming.",
    )
    notify: list[NotificationKind] | None = strawberry.field(
        default=None,
        description="The notification kinds the contributors receive from now on.",
    )
    pipeline_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Pipelines cannot change; the current set is accepted."
    )
    targets: list[TargetEditInput] | None = strawberry.field(
        default=None,
        description="Target edits, at most 5,000 a call.",
    )
    add_contributors: list[ContributorInput] | None = strawberry.field(
        default=None,
        description="New users and teams within your reach, with their targets.",
    )
    remove_contributor_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Contributor-goal ids."
    )

    def to_edit(self) -> GoalEdit:
        return GoalEdit(
            goal_id=decode_id(self.id, "Goal"),
            name=self.name,
            notify=self.notify,
            pipeline_ids=decode_ids(self.pipeline_ids, "Pipeline"),
            targets=None if self.targets is None else [t.to_edit() for t in self.targets],
            add_contributors=None
            if self.add_contributors is None
            else [c.to_draft() for c in self.add_contributors],
            remove_contributor_goal_ids=decode_ids(self.remove_contributor_ids, "ContributorGoal"),
        )

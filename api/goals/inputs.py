"""Input objects of the goal mutations, and their translation into the domain's drafts.

Global ids are decoded here; an id that names nothing of the expected type becomes
``UNKNOWN_ID`` so that the domain reports it as NOT_FOUND at its own path.
"""

import datetime
from decimal import Decimal

import strawberry

from api.goals.types import GoalCategory, GoalType, MilestonePeriod, NotificationKind
from api.ids import from_global_id
from domain.goals.service import (
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
    user_id: strawberry.ID | None = None
    team_id: strawberry.ID | None = None
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


@strawberry.input
class CreateGoalInput:
    name: str
    category: GoalCategory
    type: GoalType
    start_date: datetime.date
    end_date: datetime.date
    milestone_period: MilestonePeriod
    contributors: list[ContributorInput]
    align_to_fiscal_year: bool | None = False
    pipeline_ids: list[strawberry.ID] | None = None
    notify: list[NotificationKind] | None = None

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
    goal_id: strawberry.ID
    amount: Decimal
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


@strawberry.input
class TargetEditInput:
    contributor_id: strawberry.ID = strawberry.field(description="A contributor-goal id.")
    milestone_index: int
    amount: Decimal

    def to_edit(self) -> TargetEdit:
        return TargetEdit(
            contributor_goal_id=decode_id(self.contributor_id, "ContributorGoal"),
            milestone_index=self.milestone_index,
            amount=self.amount,
        )


@strawberry.input(description="Changes to a goal; omitted parts stay as they are.")
class UpdateGoalInput:
    id: strawberry.ID
    name: str | None = None
    notify: list[NotificationKind] | None = None
    pipeline_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Pipelines cannot change; the current set is accepted."
    )
    targets: list[TargetEditInput] | None = None
    add_contributors: list[ContributorInput] | None = None
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

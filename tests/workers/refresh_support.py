"""Helpers for progress tests: goals created through the API, CRM records written as rows, and
the stored progress read back."""

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from api.ids import from_global_id, to_global_id
from domain.enums import CATEGORY_TYPES, EngagementKind, GoalCategory, GoalType
from domain.models import ContributorGoal, Deal, Engagement, Milestone, Pipeline, Ticket, User
from tests.helpers import op

_external = itertools.count(1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def category_of(goal_type: GoalType) -> GoalCategory:
    return next(c for c, types in CATEGORY_TYPES.items() if goal_type in types)


@dataclass
class CreatedGoal:
    id: int
    contributor_ids: list[int]  # contributor-goal ids, in the order given


async def create_goal(
    client: httpx.AsyncClient,
    token: str,
    goal_type: GoalType,
    *,
    start: str,
    end: str,
    period: str = "MONTHLY",
    pipelines: list[Pipeline] = (),  # type: ignore[assignment]
    users: list[User] = (),  # type: ignore[assignment]
    teams: list[Any] = (),
    targets: list[str] | None = None,
    milestone_pipelines: list[list[Pipeline]] | None = None,
    align_to_fiscal_year: bool = False,
) -> CreatedGoal:
    """Creates a goal through createGoal; every contributor gets the same targets."""

    def contributor(key: str, gid: str) -> dict[str, Any]:
        item: dict[str, Any] = {key: gid}
        if targets is not None:
            item["targets"] = targets
        if milestone_pipelines is not None:
            item["milestonePipelineIds"] = [
                [to_global_id("Pipeline", p.id) for p in subset] for subset in milestone_pipelines
            ]
        return item

    contributors = [contributor("userId", to_global_id("User", u.id)) for u in users] + [
        contributor("teamId", to_global_id("Team", t.id)) for t in teams
    ]
    data = await op(
        client,
        token,
        "CreateGoal",
        {
            "input": {
                "name": f"{goal_type.value.title()} goal",
                "category": category_of(goal_type).value,
                "type": goal_type.value,
                "startDate": start,
                "endDate": end,
                "milestonePeriod": period,
                "alignToFiscalYear": align_to_fiscal_year,
                "pipelineIds": [to_global_id("Pipeline", p.id) for p in pipelines] or None,
                "notify": [],
                "contributors": contributors,
            }
        },
    )
    payload = data["createGoal"]
    assert payload["userErrors"] == [], payload["userErrors"]
    goal = payload["goal"]
    return CreatedGoal(
        id=from_global_id(goal["id"], "Goal"),
        contributor_ids=[from_global_id(c["id"], "ContributorGoal") for c in goal["contributors"]],
    )


async def ticket(
    owner: User,
    pipeline: Pipeline,
    created: datetime,
    *,
    responded: datetime | None = None,
    closed: datetime | None = None,
) -> Ticket:
    return await Ticket.create(
        account_id=owner.account_id,
        external_id=f"t{next(_external)}",
        pipeline=pipeline,
        owner=owner,
        created_at=created,
        first_responded_at=responded,
        closed_at=closed,
    )


async def deal(
    owner: User,
    pipeline: Pipeline,
    created: datetime,
    *,
    amount: str = "0",
    won: datetime | None = None,
) -> Deal:
    return await Deal.create(
        account_id=owner.account_id,
        external_id=f"d{next(_external)}",
        pipeline=pipeline,
        owner=owner,
        amount=Decimal(amount),
        created_at=created,
        closed_won_at=won,
    )


async def engagement(owner: User, kind: EngagementKind, at: datetime) -> Engagement:
    return await Engagement.create(
        account_id=owner.account_id,
        external_id=f"e{next(_external)}",
        kind=kind,
        owner=owner,
        occurred_at=at,
    )


async def milestone_values(contributor_goal_id: int) -> list[Decimal | None]:
    return [
        m.value
        for m in await Milestone.filter(contributor_goal_id=contributor_goal_id).order_by("index")
    ]


async def contributor_goal(contributor_goal_id: int) -> ContributorGoal:
    return await ContributorGoal.get(id=contributor_goal_id)


def dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)

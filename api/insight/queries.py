"""Reading one milestone by id, for the records behind its value."""

from typing import Annotated

import strawberry
from tortoise.expressions import Subquery

from api.context import Info
from api.goals.types import Milestone
from api.ids import from_global_id
from domain import models as m
from domain.goals import queries as goal_queries


@strawberry.type
class InsightQuery:
    @strawberry.field(
        description="A milestone of a goal the viewer may see (as `goal(id)`); null for an "
        "unknown id, another account's, another type's or one the viewer may not see."
    )
    async def milestone(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The milestone's global id.")],
    ) -> Milestone | None:
        pk = from_global_id(id, "Milestone")
        if pk is None:
            return None
        account_id = info.context.account_id
        visible = goal_queries.visible_goals(
            account_id, info.context.viewer, await info.context.reach()
        )
        row = (
            await m.Milestone.filter(
                id=pk,
                contributor_goal__account_id=account_id,
                contributor_goal__goal_id__in=Subquery(visible.values("id")),
            )
            .select_related("contributor_goal__goal")
            .first()
        )
        if row is None:
            return None
        return Milestone(row=row, goal_row=row.contributor_goal.goal)

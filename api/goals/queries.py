"""Reading goals: the filtered, ordered list, one goal, and the milestone preview."""

import asyncio
import datetime
from typing import Annotated

import strawberry

from api.common.pagination import AfterArgument, FirstArgument, page_size
from api.common.types import Connection, Edge, PageInfo
from api.context import Info
from api.goals import loaders
from api.goals.filters import (
    GoalFilter,
    GoalOrder,
    contributor_criteria,
    decode_cursor,
    encode_cursor,
    filter_range,
    goal_criteria,
    goal_order,
)
from api.goals.types import Goal, MilestonePeriod, MilestoneWindow, local_today
from api.ids import from_global_id
from domain.goals import queries as goal_queries
from domain.goals.validation import preview_milestones


@strawberry.type
class GoalQuery:
    @strawberry.field(
        description="Visible goals matching the filter's goal-level fields that have at least "
        "one contributor goal matching its contributor-level fields. Newest first by default."
    )
    async def goals(
        self,
        info: Info,
        filter: Annotated[
            GoalFilter | None,
            strawberry.argument(description="Which goals; null: every visible goal."),
        ] = None,
        first: FirstArgument = None,
        after: AfterArgument = None,
        order_by: Annotated[
            GoalOrder | None, strawberry.argument(description="The order; null: newest first.")
        ] = None,
    ) -> Connection[Goal]:
        limit = page_size(first)
        account_id = info.context.account_id
        field, descending = goal_order(order_by)
        date_range = filter_range(filter)
        goals = goal_queries.filter_goals(
            goal_queries.visible_goals(account_id, info.context.viewer, await info.context.reach()),
            account_id,
            goal_criteria(filter),
            contributor_criteria(filter, local_today(info)),
        )
        page = goal_queries.order_goals(goals, field, descending, date_range, local_today(info))
        if after is not None:
            value, pk = decode_cursor(after, field, descending)
            page = page.filter(
                goal_queries.after_position(field, descending, value, pk, date_range)
            )
        # The count and the page at once: two statements, one wait.
        total, rows = await asyncio.gather(
            goals.count(), goal_queries.fetch_ordered(page.limit(limit + 1), field, date_range)
        )
        goal_loader = info.context.loader(loaders.load_goals)
        edges = []
        for row in rows[:limit]:
            goal_loader.prime(row.id, row)
            value = goal_queries.sort_value(row, field, date_range)
            cursor = encode_cursor(field, descending, value, row.id)
            edges.append(Edge(cursor=cursor, node=Goal(row=row)))
        return Connection(
            total_count=total,
            page_info=PageInfo(
                has_next_page=len(rows) > limit,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            edges=edges,
        )

    @strawberry.field(description="A visible goal; null for an unknown or invisible id.")
    async def goal(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The goal's global id.")],
    ) -> Goal | None:
        pk = from_global_id(id, "Goal")
        if pk is None:
            return None
        visible = goal_queries.visible_goals(
            info.context.account_id, info.context.viewer, await info.context.reach()
        )
        row = await visible.filter(id=pk).first()
        return None if row is None else Goal(row=row)

    @strawberry.field(
        description="The milestones a goal created with these dates, period and alignment "
        "would get, in the account's fiscal year."
    )
    def milestone_preview(
        self,
        info: Info,
        start_date: Annotated[
            datetime.date, strawberry.argument(description="The goal's first day, 1900 or later.")
        ],
        end_date: Annotated[
            datetime.date,
            strawberry.argument(
                description="The goal's last day: not before startDate, at most 5 years after it."
            ),
        ],
        milestone_period: Annotated[
            MilestonePeriod, strawberry.argument(description="How the duration is cut.")
        ],
        align_to_fiscal_year: Annotated[
            bool | None,
            strawberry.argument(
                description=(
                    "Start quarters and years at the fiscal year start month; default false."
                )
            ),
        ] = False,
    ) -> list[MilestoneWindow]:
        periods = preview_milestones(
            start_date,
            end_date,
            milestone_period,
            align_to_fiscal_year=bool(align_to_fiscal_year),
            fiscal_year_start_month=info.context.account.fiscal_year_start_month,
        )
        return [
            MilestoneWindow(index=p.index, start_date=p.start_date, end_date=p.end_date)
            for p in periods
        ]

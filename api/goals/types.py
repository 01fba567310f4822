"""Goals, contributor goals, milestones and their progress as GraphQL types."""

import datetime
from collections.abc import Awaitable
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import strawberry
from strawberry.utils.await_maybe import AwaitableOrValue

from api.common.enums import described_enum
from api.common.errors import PublicError
from api.common.futures import then
from api.common.numbers import percent_number, plain_decimal
from api.common.pagination import page_size
from api.common.types import GLOBAL_ID_DESCRIPTION, Connection, Node, from_row
from api.context import Info
from api.directory import loaders as directory_loaders
from api.directory.types import Pipeline, Team, User
from api.goals import loaders
from api.goals.ranges import DateRangeInput, date_range_of
from api.ids import to_global_id
from api.insight import records
from api.insight.leaderboard import (
    LEADERBOARD_DESCRIPTION,
    LeaderboardEntry,
    load_leaderboards,
    prime_contributors,
)
from api.insight.pace import PACE_DESCRIPTION, Pace
from domain import enums
from domain import models as m
from domain.history import MAX_HISTORY_DAYS, history_dates
from domain.ranges import NO_RANGE_MILESTONES, DateRange, GoalOverRange, RangeProgress
from domain.rollup import Level
from domain.sql import quantize4
from domain.status import percent_of_target, status_within

if TYPE_CHECKING:
    from api.goals.filters import GoalFilter

GoalCategory = enums.GoalCategory
described_enum(
    GoalCategory,
    name="GoalCategory",
    description="Whether a goal counts sales or service work; it decides the types it may have.",
    values={
        "SALES": "REVENUE, DEALS_CREATED, CALLS_LOGGED or MEETINGS_BOOKED.",
        "SERVICE": "CLOSED_TICKETS, AVG_TICKET_RESPONSE_TIME or AVG_TICKET_RESOLUTION_TIME.",
    },
)
GoalType = enums.GoalType
described_enum(
    GoalType,
    name="GoalType",
    description="What a goal counts, from the records in its pipelines within each milestone's "
    "dates (in the account's timezone) owned by the contributor (a team: by its members).",
    values={
        "REVENUE": "Sum of the amounts of deals won (`closedWonAt`), in the account's "
        "currency. SALES; deal pipelines.",
        "DEALS_CREATED": "Deals created (`createdAt`). SALES; deal pipelines.",
        "CALLS_LOGGED": "Calls that took place (`occurredAt`). SALES; no pipelines.",
        "MEETINGS_BOOKED": "Meetings that took place (`occurredAt`). SALES; no pipelines.",
        "CLOSED_TICKETS": "Tickets closed (`closedAt`). SERVICE; ticket pipelines.",
        "AVG_TICKET_RESPONSE_TIME": "Mean seconds from `createdAt` to `firstRespondedAt` of "
        "the tickets created with a response; lower is better. SERVICE; ticket pipelines.",
        "AVG_TICKET_RESOLUTION_TIME": "Mean seconds from `createdAt` to `closedAt` of the "
        "tickets closed; lower is better. SERVICE; ticket pipelines.",
    },
)
Unit = enums.Unit
described_enum(
    Unit,
    name="Unit",
    description="The unit of a goal's values and targets, given by its type.",
    values={
        "CURRENCY": "An amount in the account's currency (REVENUE).",
        "SECONDS": "A duration in seconds (the two ticket averages).",
        "COUNT": "A number of records (the other types).",
    },
)
MilestonePeriod = enums.MilestonePeriod
described_enum(
    MilestonePeriod,
    name="MilestonePeriod",
    description="How a goal's duration is cut into milestones; the first and last are clipped "
    "to the goal's dates.",
    values={
        "WEEKLY": "ISO weeks, Monday to Sunday.",
        "MONTHLY": "Calendar months.",
        "QUARTERLY": "Quarters of the calendar year, or of the fiscal year when aligned to it.",
        "YEARLY": "Calendar years, or fiscal years when aligned to them.",
    },
)
GoalStatus = enums.GoalStatus
described_enum(
    GoalStatus,
    name="GoalStatus",
    description="Where a goal, contributor goal or milestone stands on today's date in the "
    "account's timezone. Where the percent is null because of a zero, a value equal to the "
    "target is ACHIEVED and any other EXCEEDED.",
    values={
        "PENDING": "It has not started yet.",
        "IN_PROGRESS": "Today is within its dates.",
        "ACHIEVED": "It has ended at exactly 100 percent.",
        "EXCEEDED": "It has ended above 100 percent.",
        "MISSED": "It has ended below 100 percent, or with no value.",
    },
)
NotificationKind = enums.NotificationKind
described_enum(
    NotificationKind,
    name="NotificationKind",
    description="What a notification is about; a goal's `notify` lists the kinds its "
    "contributors (a team's: each member) receive.",
    values={
        "GOAL_ASSIGNED": "The recipient became a contributor of the goal.",
        "TARGETS_CHANGED": "The recipient's targets were edited.",
        "MILESTONE_ACHIEVED": "A milestone became final, ACHIEVED or EXCEEDED.",
        "MILESTONE_MISSED": "A milestone became final, MISSED.",
        "GOAL_COMPLETED": "The whole contributor goal became final, with its status.",
    },
)

Contributor = Annotated[
    User | Team,
    strawberry.union(
        "Contributor", description="Whom a contributor goal belongs to: a user or a team."
    ),
]


def local_today(info: Info) -> datetime.date:
    """Today in the account's timezone, read once per request so every status agrees."""
    state = info.context.request.state
    today: datetime.date | None = getattr(state, "goals_today", None)
    if today is None:
        zone = ZoneInfo(info.context.account.timezone)
        today = state.goals_today = datetime.datetime.now(zone).date()
    return today


def status_today(
    info: Info,
    period: m.Goal | m.Milestone,
    progress: m.Goal | m.ContributorGoal | m.Milestone,
    percent: Decimal | None,
) -> enums.GoalStatus:
    """Where ``progress`` stands on the account's today, within the dates of ``period``."""
    return status_within(period, progress, percent, local_today(info))


@strawberry.type(description="Where a goal, contributor goal or milestone stands.")
class Progress:
    value: Decimal | None = strawberry.field(
        description="Null until the first refresh, or for an average with nothing to average."
    )
    target: Decimal = strawberry.field(
        description="The target in the goal's unit; 0 when none was set.",
    )
    percent: float | None = strawberry.field(
        description="Percent of target, rounded half-up to two decimals; null on a zero divisor."
    )
    refreshed_at: datetime.datetime | None = strawberry.field(
        description="When the refresh last computed these figures; null until the first refresh.",
    )

    @classmethod
    def of(cls, row: m.Goal | m.ContributorGoal) -> "Progress":
        return cls(
            value=plain_decimal(row.value),
            target=plain_decimal(row.target) or Decimal(0),
            percent=percent_number(row.percent),
            refreshed_at=row.refreshed_at,
        )

    @classmethod
    def over_range(cls, level: Level, row: m.Goal | m.ContributorGoal) -> "Progress":
        """Figures rolled up from the range milestones, refreshed when ``row`` was; the value to
        four places, as stored values are."""
        return cls(
            value=plain_decimal(quantize4(level.value)),
            target=plain_decimal(level.target) or Decimal(0),
            percent=percent_number(level.percent),
            refreshed_at=row.refreshed_at,
        )


RANGE_DESCRIPTION = (
    "Read the goal for a period: only the milestones whose dates overlap these dates count, "
    "rolled up as for the whole goal. Omitted: the whole duration."
)
RangeArgument = Annotated[
    DateRangeInput | None, strawberry.argument(name="range", description=RANGE_DESCRIPTION)
]


def range_of(date_range: DateRangeInput | None) -> DateRange | None:
    return None if date_range is None else date_range_of(date_range, "range")


async def over_range(info: Info, goal: m.Goal, date_range: DateRange) -> GoalOverRange[m.Milestone]:
    """The goal read for the range: its progress, and each contributor goal's."""
    return await info.context.loader(loaders.load_goals_over_range).load(
        (goal.id, goal.type, date_range)
    )


@strawberry.type(description="A contributor goal's progress as of one day's last refresh.")
class ProgressPoint:
    date: datetime.date = strawberry.field(
        description="The local date of the snapshot, in the account's timezone.",
    )
    value: Decimal | None = strawberry.field(
        description=(
            "The value as of that day's last refresh; null for an average with nothing to average."
        ),
    )
    percent: float | None = strawberry.field(
        description=(
            "Percent of target that day, rounded half-up to two decimals; null on a zero divisor."
        ),
    )


@strawberry.type(description="One period of a goal's duration, as milestonePreview returns it.")
class MilestoneWindow:
    index: int = strawberry.field(description="The milestone's position, from 0.")
    start_date: datetime.date = strawberry.field(
        description="Its first day (inclusive), in the account's timezone.",
    )
    end_date: datetime.date = strawberry.field(
        description="Its last day (inclusive), in the account's timezone.",
    )


def _pipelines(info: Info, ids: Awaitable[list[int]]) -> AwaitableOrValue[list[Pipeline]]:
    """The pipelines of these ids, once the ids are loaded."""
    loader = info.context.loader(directory_loaders.load_pipelines)

    def rows_of(loaded_ids: list[int]) -> AwaitableOrValue[list[Pipeline]]:
        return then(
            loader.load_many(loaded_ids),
            lambda rows: [Pipeline(row=p) for p in rows if p is not None],
        )

    return then(ids, rows_of)


@strawberry.type(
    description="One period of a contributor goal, with its own target and value; numbered "
    "from 0, its dates fixed at creation."
)
class Milestone(Node):
    row: strawberry.Private[m.Milestone]
    goal_row: strawberry.Private[m.Goal]

    @strawberry.field(description=GLOBAL_ID_DESCRIPTION)
    def id(self) -> strawberry.ID:
        return to_global_id("Milestone", self.row.id)

    index = from_row("index", int, description="Its position in the contributor goal, from 0.")

    start_date = from_row(
        "start_date",
        datetime.date,
        description="Its first day (inclusive), in the account's timezone; fixed at creation.",
    )

    end_date = from_row(
        "end_date",
        datetime.date,
        description="Its last day (inclusive), in the account's timezone; fixed at creation.",
    )

    @strawberry.field(
        description="The contributor's target for this milestone, in the goal's unit."
    )
    def target(self) -> Decimal:
        return plain_decimal(self.row.target) or Decimal(0)

    @strawberry.field(
        description=(
            "What the contributor reached in it, in the goal's unit; null until the first "
            "refresh, or for an average with nothing to average."
        )
    )
    def value(self) -> Decimal | None:
        return plain_decimal(self.row.value)

    @cached_property
    def _percent(self) -> Decimal | None:
        """Computed once for percent and status."""
        return percent_of_target(
            self.row.value, self.row.target, enums.higher_is_better(self.goal_row.type)
        )

    @strawberry.field(
        description=(
            "Percent of target, rounded half-up to two decimals (target / value for "
            "lower-is-better types); null on a zero divisor."
        )
    )
    def percent(self) -> float | None:
        return percent_number(self._percent)

    @strawberry.field(
        description="Where the milestone stands on today's date in the account's timezone."
    )
    def status(self, info: Info) -> GoalStatus:
        return status_today(info, self.row, self.row, self._percent)

    final = from_row(
        "final", bool, description="True once the value is frozen after the milestone's end."
    )

    @strawberry.field(
        graphql_type=list[Pipeline],
        description=(
            "The pipelines whose records count towards it: a subset of the goal's, set at creation."
        ),
    )
    def pipelines(self, info: Info) -> AwaitableOrValue[list[Pipeline]]:
        loader = info.context.loader(loaders.load_pipeline_ids_of_milestones)
        return _pipelines(info, loader.load(self.row.id))

    @strawberry.field(description=records.RECORDS_DESCRIPTION)
    async def records(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description=records.FIRST_DESCRIPTION)
        ] = None,
        after: Annotated[
            str | None, strawberry.argument(description=records.AFTER_DESCRIPTION)
        ] = None,
    ) -> Connection[records.MilestoneRecord]:
        return await records.milestone_records(info, self.row, self.goal_row, first, after)


@strawberry.type(description="One contributor's share of a goal.")
class ContributorGoal(Node):
    row: strawberry.Private[m.ContributorGoal]
    # The goal, when the caller has it: status and progress over the whole duration then
    # answer without waiting for the goal's loader.
    goal_row: strawberry.Private[m.Goal | None] = None

    @strawberry.field(description=GLOBAL_ID_DESCRIPTION)
    def id(self) -> strawberry.ID:
        return to_global_id("ContributorGoal", self.row.id)

    async def _goal_row(self, info: Info) -> m.Goal:
        goal = await info.context.loader(loaders.load_goals).load(self.row.goal_id)
        if goal is None:  # deleted under our feet
            raise PublicError("The goal of this contributor no longer exists.")
        return goal

    @strawberry.field(
        graphql_type=Contributor, description="The user or team this share belongs to."
    )
    def contributor(self, info: Info) -> AwaitableOrValue[User | Team]:
        if self.row.user_id is not None:
            user = info.context.loader(directory_loaders.load_users).load(self.row.user_id)
            return then(user, lambda row: User(row=row))
        team = info.context.loader(directory_loaders.load_teams).load(self.row.team_id)
        return then(team, lambda row: Team(row=row))

    async def _range_progress(
        self, info: Info, goal: m.Goal, date_range: DateRange
    ) -> RangeProgress:
        read = await over_range(info, goal, date_range)
        return read.contributors.get(self.row.id, NO_RANGE_MILESTONES)

    @strawberry.field(
        graphql_type=GoalStatus,
        description="Status over the whole duration, or with `range` over the milestones in "
        "it: PENDING before the first starts, IN_PROGRESS until the last has ended, then by "
        "the range percent (the status without a range when no milestone is in it).",
    )
    def status(
        self, info: Info, date_range: RangeArgument = None
    ) -> AwaitableOrValue[enums.GoalStatus]:
        chosen = range_of(date_range)
        if chosen is None and self.goal_row is not None:
            return status_today(info, self.goal_row, self.row, self.row.percent)
        return self._status(info, chosen)

    async def _status(self, info: Info, chosen: DateRange | None) -> enums.GoalStatus:
        goal = await self._goal_row(info)
        whole = status_today(info, goal, self.row, self.row.percent)
        if chosen is None:
            return whole
        progress = await self._range_progress(info, goal, chosen)
        return progress.status(local_today(info), without_range=whole)

    @strawberry.field(
        graphql_type=Progress,
        description="Progress over the whole duration, or with `range` rolled up from the "
        "milestones in it (value and percent null, target 0 when none is).",
    )
    def progress(self, info: Info, date_range: RangeArgument = None) -> AwaitableOrValue[Progress]:
        chosen = range_of(date_range)
        if chosen is None:
            return Progress.of(self.row)
        return self._progress_over(info, chosen)

    async def _progress_over(self, info: Info, chosen: DateRange) -> Progress:
        progress = await self._range_progress(info, await self._goal_row(info), chosen)
        return Progress.over_range(progress.level, self.row)

    @strawberry.field(description=PACE_DESCRIPTION)
    async def pace(self, info: Info) -> Pace | None:
        return Pace.of(self.row, await self._goal_row(info), local_today(info))

    @strawberry.field(
        description="The milestones in order; with `range`, only those whose dates overlap it."
    )
    async def milestones(self, info: Info, date_range: RangeArgument = None) -> list[Milestone]:
        goal = await self._goal_row(info)
        chosen = range_of(date_range)
        if chosen is None:
            rows = await info.context.loader(loaders.load_milestones_of_contributor_goals).load(
                self.row.id
            )
        else:
            rows = list((await over_range(info, goal, chosen)).milestones.get(self.row.id, []))
        return [Milestone(row=row, goal_row=goal) for row in rows]

    @strawberry.field(
        description=(
            "Daily snapshots of progress, oldest first, between two inclusive dates: by default "
            "the 90 days ending today (or starting at `from`, or ending at `to`); at most "
            f"{MAX_HISTORY_DAYS} days a call."
        )
    )
    async def history(
        self,
        info: Info,
        from_: Annotated[
            datetime.date | None,
            strawberry.argument(name="from", description="The first day, inclusive."),
        ] = None,
        to: Annotated[
            datetime.date | None, strawberry.argument(description="The last day, inclusive.")
        ] = None,
    ) -> list[ProgressPoint]:
        first, last = history_dates(from_, to, local_today(info))
        rows = await info.context.loader(loaders.load_snapshots).load((self.row.id, first, last))
        return [
            ProgressPoint(
                date=row.date,
                value=plain_decimal(row.value),
                percent=percent_number(row.percent),
            )
            for row in rows
        ]

    @strawberry.field(description="The goal this contributor goal is part of.")
    async def goal(self, info: Info) -> "Goal":
        return Goal(row=await self._goal_row(info))


@strawberry.type(description="A quota set in one go for several contributors.")
class Goal(Node):
    row: strawberry.Private[m.Goal]

    @strawberry.field(description=GLOBAL_ID_DESCRIPTION)
    def id(self) -> strawberry.ID:
        return to_global_id("Goal", self.row.id)

    name = from_row("name", str, description="1 to 200 characters.")

    category = from_row(
        "category", GoalCategory, description="SALES or SERVICE; the type belongs to it."
    )

    type = from_row("type", GoalType, description="What the goal counts; fixed at creation.")

    @strawberry.field(description="The unit of values and targets, given by the type.")
    def unit(self) -> Unit:
        return enums.unit_of(self.row.type)

    @strawberry.field(
        description="False for the two ticket averages, where a lower value beats the target."
    )
    def higher_is_better(self) -> bool:
        return enums.higher_is_better(self.row.type)

    milestone_period = from_row(
        "milestone_period", MilestonePeriod, description="How the duration is cut into milestones."
    )

    start_date = from_row(
        "start_date",
        datetime.date,
        description="The first day (inclusive), in the account's timezone.",
    )

    end_date = from_row(
        "end_date",
        datetime.date,
        description=(
            "The last day (inclusive), in the account's timezone; at most 5 years after the start."
        ),
    )

    align_to_fiscal_year = from_row(
        "align_to_fiscal_year",
        bool,
        description=(
            "Whether quarters and years start at the account's fiscal year start month instead of "
            "January."
        ),
    )

    @strawberry.field(
        graphql_type=bool, description="False for goals over several pipelines or by year."
    )
    def forecastable(self, info: Info) -> AwaitableOrValue[bool]:
        period = self.row.milestone_period
        if not enums.forecastable(period, 0):
            return False  # whatever its pipelines: no need to load them
        ids = info.context.loader(loaders.load_pipeline_ids_of_goals).load(self.row.id)
        return then(ids, lambda loaded: enums.forecastable(period, len(loaded)))

    @strawberry.field(description="The notification kinds the contributors receive.")
    def notify(self) -> list[NotificationKind]:
        return [enums.NotificationKind(kind) for kind in self.row.notify or []]

    created_at = from_row("created_at", datetime.datetime, description="When the goal was created.")

    updated_at = from_row(
        "updated_at", datetime.datetime, description="When the goal was last changed."
    )

    @strawberry.field(description="Who created the goal; null when that user no longer exists.")
    async def created_by(self, info: Info) -> User | None:
        if self.row.created_by_id is None:
            return None
        user = await info.context.loader(directory_loaders.load_users).load(self.row.created_by_id)
        return None if user is None else User(row=user)

    @strawberry.field(
        graphql_type=list[Pipeline],
        description=(
            "The pipelines whose records count (none for calls and meetings); fixed at creation."
        ),
    )
    def pipelines(self, info: Info) -> AwaitableOrValue[list[Pipeline]]:
        loader = info.context.loader(loaders.load_pipeline_ids_of_goals)
        return _pipelines(info, loader.load(self.row.id))

    @strawberry.field(
        graphql_type=GoalStatus,
        description="Status over the whole duration, or with `range` over the milestones in "
        "it: PENDING before the first starts, IN_PROGRESS until the last has ended, then by "
        "the range percent (the status without a range when the goal does not overlap it).",
    )
    def status(
        self, info: Info, date_range: RangeArgument = None
    ) -> AwaitableOrValue[enums.GoalStatus]:
        whole = status_today(info, self.row, self.row, self.row.percent)
        chosen = range_of(date_range)
        if chosen is None:
            return whole
        return self._status_over(info, chosen, whole)

    async def _status_over(
        self, info: Info, chosen: DateRange, whole: enums.GoalStatus
    ) -> enums.GoalStatus:
        read = await over_range(info, self.row, chosen)
        return read.progress.status(local_today(info), without_range=whole)

    @strawberry.field(
        graphql_type=Progress,
        description="Progress over the whole duration, or with `range` rolled up from every "
        "contributor goal's milestones in it (value and percent null, target 0 when the goal "
        "does not overlap it).",
    )
    def progress(self, info: Info, date_range: RangeArgument = None) -> AwaitableOrValue[Progress]:
        chosen = range_of(date_range)
        if chosen is None:
            return Progress.of(self.row)
        return self._progress_over(info, chosen)

    async def _progress_over(self, info: Info, chosen: DateRange) -> Progress:
        read = await over_range(info, self.row, chosen)
        return Progress.over_range(read.progress.level, self.row)

    @strawberry.field(description=PACE_DESCRIPTION)
    def pace(self, info: Info) -> Pace | None:
        return Pace.of(self.row, self.row, local_today(info))

    @strawberry.field(description=LEADERBOARD_DESCRIPTION)
    async def leaderboard(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="How many entries, 0 to 100 (default 20).")
        ] = None,
    ) -> list[LeaderboardEntry]:
        limit = page_size(first)
        key = (self.row.id, await info.context.reach())
        standings = await info.context.loader(load_leaderboards).load(key)
        prime_contributors(info, [s.entry for s in standings])
        return [LeaderboardEntry(rank=s.rank, row=s.entry) for s in standings[:limit]]

    @strawberry.field(
        graphql_type=list[ContributorGoal],
        description="Contributor goals, oldest first; only the contributor-level fields of the "
        "filter (users, teams, statuses, progress) apply.",
    )
    def contributors(
        self,
        info: Info,
        filter: Annotated[
            Annotated["GoalFilter", strawberry.lazy("api.goals.filters")] | None,
            strawberry.argument(
                description="The same filter as `goals(filter)`; null: every contributor goal."
            ),
        ] = None,
    ) -> AwaitableOrValue[list[ContributorGoal]]:
        from api.goals.filters import contributor_criteria

        goal = self.row
        info.context.loader(loaders.load_goals).prime(goal.id, goal)
        criteria = contributor_criteria(filter, local_today(info))
        rows = info.context.loader(loaders.load_contributor_goals_of_goals).load(
            (goal.id, criteria)
        )
        return then(rows, lambda loaded: [ContributorGoal(row=r, goal_row=goal) for r in loaded])

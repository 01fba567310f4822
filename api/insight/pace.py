"""Pace on goals and contributor goals: stored by the refresh (domain/pace_rollup.py), shown
while the goal is in progress."""

import datetime
from decimal import Decimal

import strawberry

from api.common.enums import described_enum
from api.common.numbers import plain_decimal
from domain import enums
from domain import models as m
from domain.pace import pace_shown

PaceStatus = enums.PaceStatus
described_enum(
    PaceStatus,
    name="PaceStatus",
    description="Where progress stands against the share of the target due so far, by `ratio`.",
    values={
        "AHEAD": "ratio of 1.10 or more.",
        "ON_TRACK": "ratio from 0.95 to below 1.10, or no ratio (nothing was due yet).",
        "BEHIND": "ratio from 0.80 to below 0.95.",
        "AT_RISK": "ratio below 0.80.",
    },
)


@strawberry.type(
    description="Whether a goal or contributor goal is on track before its period ends, as of "
    "its last refresh (\"today\" is that refresh's date in the account's timezone). Counts and "
    "sums: `expected` accrues milestone by milestone and day by day; the two averages compare "
    "the value with the whole target. Figures in the goal's unit, rounded half-up to four "
    "places."
)
class Pace:
    expected: Decimal = strawberry.field(
        description="Counts and sums: the targets of the milestones that ended before today plus "
        "the current milestone's target x its days elapsed (today included) / its days; for a "
        "goal, the sum over its contributor goals. Averages: the whole target."
    )
    projected: Decimal | None = strawberry.field(
        description="Where the value ends if it keeps this pace: value + (whole target - "
        "expected) x ratio (the value when ratio is null); for a goal, the sum over its "
        "contributor goals. Averages: the value. Null while the value is."
    )
    ratio: Decimal | None = strawberry.field(
        description="value / expected, rounded half-up to four places (at most "
        "99999999999.9999); null when expected is 0. Averages: percent / 100."
    )
    status: PaceStatus = strawberry.field(description="The ratio's band.")

    @classmethod
    def of(
        cls, row: m.Goal | m.ContributorGoal, goal: m.Goal, today: datetime.date
    ) -> "Pace | None":
        """The stored pace of ``row`` (a goal, or a contributor goal of ``goal``), or None
        unless the goal is in progress on ``today`` and has been refreshed."""
        shown = pace_shown(
            start_date=goal.start_date,
            end_date=goal.end_date,
            today=today,
            refreshed=row.pace_status is not None,
        )
        if not shown or row.pace_expected is None or row.pace_status is None:
            return None
        return cls(
            expected=plain_decimal(row.pace_expected) or Decimal(0),
            projected=plain_decimal(row.pace_projected),
            ratio=plain_decimal(row.pace_ratio),
            status=enums.PaceStatus(row.pace_status),
        )


PACE_DESCRIPTION = (
    "Pace as of the last refresh; null unless the goal is IN_PROGRESS and has been refreshed. "
    "Readable by whoever may view the goal."
)

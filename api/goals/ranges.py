"""The date range a goal is read for: the input, and its translation into the domain's range."""

import datetime

import strawberry

from api.common.errors import PublicError
from domain.ranges import DateRange


@strawberry.input(
    description="Inclusive dates in the account's timezone; a null bound is open. As "
    "`GoalFilter.dateRange` a goal matches when its duration overlaps them; as the `range` "
    "argument of status, progress and milestones it chooses the milestones that overlap them."
)
class DateRangeInput:
    from_: datetime.date | None = strawberry.field(
        default=None, name="from", description="First day; null: no lower bound."
    )
    to: datetime.date | None = strawberry.field(
        default=None, description="Last day, inclusive; null: no upper bound."
    )


def date_range_of(date_range: DateRangeInput, name: str) -> DateRange:
    """The domain's range; a range that ends before it starts is refused."""
    first, last = date_range.from_, date_range.to
    if first is not None and last is not None and first > last:
        raise PublicError(f"`{name}.from` must not be after `{name}.to`.")
    return DateRange(first, last)

"""Percent and status: pure functions of values, targets, dates and "today"."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from domain.enums import GoalStatus

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def percent_of_target(
    value: Decimal | None, target: Decimal, higher_is_better: bool
) -> Decimal | None:
    """Percent of target from unrounded numbers, rounded half-up to two decimals.

    None when the value is unknown or the denominator is zero.
    """
    if value is None:
        return None
    numerator, denominator = (value, target) if higher_is_better else (target, value)
    if denominator == 0:
        return None
    return (numerator / denominator * HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def status_of(
    *,
    start_date: date,
    end_date: date,
    today: date,
    value: Decimal | None,
    target: Decimal,
    percent: Decimal | None,
) -> GoalStatus:
    if today < start_date:
        return GoalStatus.PENDING
    if today <= end_date:
        return GoalStatus.IN_PROGRESS
    if percent is None:
        if value is None:
            return GoalStatus.MISSED
        # The denominator is zero: a zero target, or (lower is better) a zero value.
        return GoalStatus.ACHIEVED if value == target else GoalStatus.EXCEEDED
    if percent > HUNDRED:
        return GoalStatus.EXCEEDED
    if percent == HUNDRED:
        return GoalStatus.ACHIEVED
    return GoalStatus.MISSED

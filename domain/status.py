"""Percent and status: pure functions of values, targets, dates and "today"."""

import math
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from domain.enums import GoalStatus

HUNDRED = Decimal(100)


Number = Decimal | Fraction


def percent_of_target(
    value: Number | None, target: Number, higher_is_better: bool
) -> Decimal | None:
    """Percent of target from unrounded numbers, rounded half-up to two decimals.

    None when the value is unknown or the denominator is zero. Exact: value and target may be
    fractions (an average is a sum over a count), and the quotient is rounded once, so the SQL
    forms of this rule, which work on integers, give the same cents at every boundary.
    """
    if value is None:
        return None
    numerator, denominator = (value, target) if higher_is_better else (target, value)
    if denominator == 0:
        return None
    return round_percent(Fraction(numerator) / Fraction(denominator) * 100)


def round_percent(percent: Fraction) -> Decimal:
    """Half-up (away from zero) to two decimals, exactly."""
    cents = math.floor(abs(percent) * 100 + Fraction(1, 2))
    return Decimal(-cents if percent < 0 else cents).scaleb(-2)


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


class Dated(Protocol):
    """A goal, milestone or range: the first and last day it counts."""

    @property
    def start_date(self) -> date: ...
    @property
    def end_date(self) -> date: ...


class Measured(Protocol):
    """Stored or computed progress: a value against a target."""

    @property
    def value(self) -> Decimal | None: ...
    @property
    def target(self) -> Decimal: ...


def status_within(
    period: Dated, progress: Measured, percent: Decimal | None, today: date
) -> GoalStatus:
    """Where ``progress`` stands on ``today``, within the dates of ``period``."""
    return status_of(
        start_date=period.start_date,
        end_date=period.end_date,
        today=today,
        value=progress.value,
        target=progress.target,
        percent=percent,
    )

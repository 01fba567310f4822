"""Wider levels of progress: a contributor goal from its milestones, a goal from its contributor
goals. Pure functions of plain numbers, used by refreshes and target edits alike."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from domain.status import percent_of_target


@dataclass(frozen=True, slots=True)
class Level:
    value: Decimal | None
    target: Decimal
    percent: Decimal | None
    # For averages: the exact numerator and denominator behind ``value``.
    value_sum: Decimal | None = None
    value_count: int | None = None
    # For averages: value and target as exact fractions (a decimal cannot hold a third), which
    # the percent and the wider level are computed from.
    exact_value: Fraction | None = None
    exact_target: Fraction | None = None

    def fractions(self) -> tuple[Fraction | None, Fraction]:
        """(value, target), unrounded."""
        if self.exact_target is not None:
            return self.exact_value, self.exact_target
        return (None if self.value is None else Fraction(self.value)), Fraction(self.target)


@dataclass(frozen=True, slots=True)
class MilestoneNumbers:
    target: Decimal
    value: Decimal | None
    value_sum: Decimal | None = None
    value_count: int | None = None


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return sum(values, Decimal(0)) / len(values) if values else None


def _exact_mean(values: Sequence[Fraction]) -> Fraction | None:
    return sum(values, Fraction(0)) / len(values) if values else None


def contributor_level(
    milestones: Sequence[MilestoneNumbers], *, average: bool, higher_is_better: bool
) -> Level:
    """Counts and sums add over milestones (targets too); an average is total sum / total count
    against the mean of the milestone targets."""
    if average:
        target = _mean([m.target for m in milestones]) or Decimal(0)
        counted = [m for m in milestones if m.value_count is not None]
        total_sum = sum((m.value_sum or Decimal(0) for m in counted), Decimal(0))
        total_count = sum(m.value_count or 0 for m in counted)
        value = total_sum / total_count if total_count else None
        exact_value = Fraction(total_sum) / total_count if total_count else None
        exact_target = _exact_mean([Fraction(m.target) for m in milestones]) or Fraction(0)
        return Level(
            value=value,
            target=target,
            percent=percent_of_target(exact_value, exact_target, higher_is_better),
            value_sum=total_sum if counted else None,
            value_count=total_count if counted else None,
            exact_value=exact_value,
            exact_target=exact_target,
        )
    target = sum((m.target for m in milestones), Decimal(0))
    known = [m.value for m in milestones if m.value is not None]
    value = sum(known, Decimal(0)) if known else None
    return Level(
        value=value, target=target, percent=percent_of_target(value, target, higher_is_better)
    )


def goal_level(contributors: Sequence[Level], *, average: bool, higher_is_better: bool) -> Level:
    """Counts and sums add over contributor goals; averages take the mean of the contributor
    goals' values (nulls left out) against the mean of their targets, the percent from the
    exact means."""
    if average:
        value = _mean([c.value for c in contributors if c.value is not None])
        target = _mean([c.target for c in contributors]) or Decimal(0)
        exact = [c.fractions() for c in contributors]
        exact_value = _exact_mean([v for v, _ in exact if v is not None])
        exact_target = _exact_mean([t for _, t in exact]) or Fraction(0)
        return Level(
            value=value,
            target=target,
            percent=percent_of_target(exact_value, exact_target, higher_is_better),
            exact_value=exact_value,
            exact_target=exact_target,
        )
    known = [c.value for c in contributors if c.value is not None]
    value = sum(known, Decimal(0)) if known else None
    target = sum((c.target for c in contributors), Decimal(0))
    return Level(
        value=value, target=target, percent=percent_of_target(value, target, higher_is_better)
    )

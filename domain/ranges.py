"""Progress and status over a date range: the manage page read for a period ("July", "this
quarter"), whose statuses are those of the milestones in that period.

A contributor goal's range milestones are its milestones whose dates overlap the range; they
roll up by the wider-level rules of ``domain.rollup``, and a goal's range progress rolls up its
contributor goals' range progress the same way. Pure functions of plain values, shared by the
API and anything else that reports a period; the SQL form that filters and orders by the same
figures is ``domain.goals.range_sql``.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

from domain.enums import AVERAGE_TYPES, GoalStatus, GoalType, higher_is_better
from domain.pace import MilestoneTarget
from domain.rollup import Level, MilestoneNumbers, contributor_level, goal_level
from domain.status import status_of


@dataclass(frozen=True, slots=True)
class DateRange:
    """Inclusive dates; a None bound is open."""

    first: date | None = None
    last: date | None = None

    def overlaps(self, start_date: date, end_date: date) -> bool:
        """Whether [start_date, end_date] shares at least one day with the range."""
        return (self.first is None or end_date >= self.first) and (
            self.last is None or start_date <= self.last
        )


class MilestoneFigures(MilestoneTarget, Protocol):
    """What the range roll-up reads of a milestone (a ``domain.models.Milestone`` has it)."""

    @property
    def value(self) -> Decimal | None: ...
    @property
    def value_sum(self) -> Decimal | None: ...
    @property
    def value_count(self) -> int | None: ...


M = TypeVar("M", bound=MilestoneFigures)


@dataclass(frozen=True, slots=True)
class RangeProgress:
    """Progress over a range, and the dates of its first and last range milestones (None when
    the range misses every milestone: value and percent null, target 0)."""

    level: Level
    start_date: date | None = None
    end_date: date | None = None

    def status(self, today: date, *, without_range: GoalStatus) -> GoalStatus:
        """PENDING before the first range milestone starts, IN_PROGRESS until the last one has
        ended, then by the range percent; ``without_range`` when no milestone is in range."""
        if self.start_date is None or self.end_date is None:
            return without_range
        return status_of(
            start_date=self.start_date,
            end_date=self.end_date,
            today=today,
            value=self.level.value,
            target=self.level.target,
            percent=self.level.percent,
        )


NO_RANGE_MILESTONES = RangeProgress(Level(value=None, target=Decimal(0), percent=None))


def in_range(milestones: Iterable[M], date_range: DateRange) -> list[M]:
    return [m for m in milestones if date_range.overlaps(m.start_date, m.end_date)]


def contributor_range_progress(
    milestones: Iterable[MilestoneFigures], date_range: DateRange, goal_type: GoalType
) -> RangeProgress:
    """A contributor goal's progress over its milestones that overlap ``date_range``."""
    chosen = in_range(milestones, date_range)
    if not chosen:
        return NO_RANGE_MILESTONES
    level = contributor_level(
        [MilestoneNumbers(m.target, m.value, m.value_sum, m.value_count) for m in chosen],
        average=goal_type in AVERAGE_TYPES,
        higher_is_better=higher_is_better(goal_type),
    )
    return RangeProgress(level, min(m.start_date for m in chosen), max(m.end_date for m in chosen))


def goal_range_progress(
    contributors: Sequence[RangeProgress], goal_type: GoalType
) -> RangeProgress:
    """A goal's progress over a range from its contributor goals' range progress."""
    chosen = [c for c in contributors if c.start_date is not None and c.end_date is not None]
    if not chosen:
        return NO_RANGE_MILESTONES
    level = goal_level(
        [c.level for c in chosen],
        average=goal_type in AVERAGE_TYPES,
        higher_is_better=higher_is_better(goal_type),
    )
    return RangeProgress(
        level,
        min(c.start_date for c in chosen if c.start_date is not None),
        max(c.end_date for c in chosen if c.end_date is not None),
    )


@dataclass(frozen=True, slots=True)
class GoalOverRange(Generic[M]):
    """A goal read for a range: its progress, and each contributor goal's progress and range
    milestones, by contributor goal id."""

    progress: RangeProgress
    contributors: Mapping[int, RangeProgress]
    milestones: Mapping[int, Sequence[M]]


def goal_over_range(
    milestones: Mapping[int, Iterable[M]], date_range: DateRange, goal_type: GoalType
) -> GoalOverRange[M]:
    """From every contributor goal's milestones (by contributor goal id), those in range and
    the figures over them."""
    chosen = {cg_id: in_range(rows, date_range) for cg_id, rows in milestones.items()}
    contributors = {
        cg_id: contributor_range_progress(rows, date_range, goal_type)
        for cg_id, rows in chosen.items()
    }
    return GoalOverRange(
        goal_range_progress(list(contributors.values()), goal_type), contributors, chosen
    )

"""Pace: whether a goal is on track before its period ends, from the share of the target due
by now. Pure functions of plain numbers; "today" is an argument (the date of the last refresh,
in the account's timezone).

For counts and sums, ``expected`` is the targets of the milestones that ended before today plus
the current milestone's target times the share of its days elapsed (today included); ``ratio``
is value / expected (null when expected is 0) and ``projected`` is value + (whole target -
expected) x ratio: where the value ends if it keeps its pace. For the two averages there is
nothing to accrue: expected is the whole target, ratio is percent / 100 and projected is the
value. A goal's pace adds its contributor goals' expected and projected (counts and sums) or
reads its own value, target and percent (averages).

Every figure is computed from exact fractions and rounded once, half-up, to four places. The
status reads the rounded ratio, so that what a client shows and what the filters select agree.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from domain.enums import PaceStatus

AHEAD_FROM = Decimal("1.10")
ON_TRACK_FROM = Decimal("0.95")
BEHIND_FROM = Decimal("0.80")
# A ratio keeps at most 15 significant digits (a double holds them exactly, so SQLite orders
# stored ratios as PostgreSQL does); a larger one, from a tiny share due so far, is held here.
RATIO_CEILING = Decimal("99999999999.9999")
# The largest figure a value column holds (28 digits, 4 of them decimals).
FIGURE_CEILING = Decimal(10) ** 24 - Decimal("0.0001")
HUNDRED = 100


class MilestoneTarget(Protocol):
    """What pace reads of a milestone (a ``domain.models.Milestone`` has it)."""

    @property
    def start_date(self) -> date: ...
    @property
    def end_date(self) -> date: ...
    @property
    def target(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class Pace:
    """Figures rounded half-up to four places; ``projected`` is null while the value is."""

    expected: Decimal
    projected: Decimal | None
    ratio: Decimal | None
    status: PaceStatus


@dataclass(frozen=True, slots=True)
class ContributorPace:
    """A contributor goal's pace, and its unrounded expected and projected, which a goal adds."""

    pace: Pace
    exact_expected: Fraction
    exact_projected: Fraction | None


def round_half_up(number: Fraction, places: int = 4) -> Decimal:
    """Half-up (away from zero) to ``places`` decimals, exactly (in integers: a refresh rounds
    three figures for each of its contributor goals)."""
    numerator, denominator = abs(number.numerator), number.denominator
    units = (2 * numerator * 10**places + denominator) // (2 * denominator)
    return Decimal(-units if number < 0 else units).scaleb(-places)


def pace_status(ratio: Decimal | None) -> PaceStatus:
    """AHEAD from 1.10, ON_TRACK from 0.95, BEHIND from 0.80, else AT_RISK; a null ratio
    (nothing was due yet) is ON_TRACK."""
    if ratio is None or ON_TRACK_FROM <= ratio < AHEAD_FROM:
        return PaceStatus.ON_TRACK
    if ratio >= AHEAD_FROM:
        return PaceStatus.AHEAD
    return PaceStatus.BEHIND if ratio >= BEHIND_FROM else PaceStatus.AT_RISK


def pace_shown(*, start_date: date, end_date: date, today: date, refreshed: bool) -> bool:
    """Pace shows while the goal is IN_PROGRESS on ``today`` (the reader's date, as for its
    status) and once a refresh has computed it."""
    return refreshed and start_date <= today <= end_date


def share_due(milestone: MilestoneTarget | None, today: date) -> Fraction:
    """Of the milestone that ``today`` falls in, its target x (its days elapsed, today
    included) / (its days); 0 without one."""
    if milestone is None or not milestone.start_date <= today <= milestone.end_date:
        return Fraction(0)
    elapsed = (today - milestone.start_date).days + 1
    days = (milestone.end_date - milestone.start_date).days + 1
    return Fraction(milestone.target) * elapsed / days


def expected_to_date(milestones: Iterable[MilestoneTarget], today: date) -> Fraction:
    """The targets of the milestones that ended before ``today``, plus the share due of the
    current one."""
    ended = Decimal(0)  # four-place decimals add exactly
    current: MilestoneTarget | None = None
    for milestone in milestones:
        if milestone.end_date < today:
            ended += milestone.target
        elif milestone.start_date <= today:
            current = milestone
    return Fraction(ended) + share_due(current, today)


def _figures(expected: Fraction, projected: Fraction | None, ratio: Fraction | None) -> Pace:
    rounded_ratio = None if ratio is None else min(round_half_up(ratio), RATIO_CEILING)
    return Pace(
        expected=round_half_up(expected),
        projected=None if projected is None else min(round_half_up(projected), FIGURE_CEILING),
        ratio=rounded_ratio,
        status=pace_status(rounded_ratio),
    )


def _accrued(value: Decimal | None, target: Fraction, expected: Fraction) -> ContributorPace:
    """Counts and sums: the ratio of value to what was due, and the value that pace leads to."""
    if value is None:
        return ContributorPace(_figures(expected, None, None), expected, None)
    if expected == 0:
        projected = Fraction(value)
        return ContributorPace(_figures(expected, projected, None), expected, projected)
    ratio = Fraction(value) / expected
    projected = Fraction(value) + (target - expected) * ratio
    return ContributorPace(_figures(expected, projected, ratio), expected, projected)


def _averaged(value: Decimal | None, target: Decimal, percent: Decimal | None) -> Pace:
    """The two averages: nothing accrues, so the pace is the percent of the whole target."""
    ratio = None if percent is None else Fraction(percent) / HUNDRED
    projected = None if value is None else Fraction(value)
    return _figures(Fraction(target), projected, ratio)


def contributor_pace(
    *,
    expected: Fraction,
    value: Decimal | None,
    target: Decimal,
    percent: Decimal | None,
    average: bool,
) -> ContributorPace:
    """A contributor goal's pace from its value, whole target and percent, and for counts and
    sums what was due (``expected_to_date``; the averages ignore it)."""
    if average:
        pace = _averaged(value, target, percent)
        exact_projected = None if value is None else Fraction(value)
        return ContributorPace(pace, Fraction(target), exact_projected)
    return _accrued(value, Fraction(target), expected)


def goal_pace(
    contributors: Sequence[ContributorPace],
    *,
    value: Decimal | None,
    target: Decimal,
    percent: Decimal | None,
    average: bool,
) -> Pace:
    """A goal's pace from its contributor goals' (counts and sums: expected and projected add,
    ratio = the goal's value / expected), or from its own figures (averages)."""
    if average:
        return _averaged(value, target, percent)
    expected = sum((c.exact_expected for c in contributors), Fraction(0))
    known = [c.exact_projected for c in contributors if c.exact_projected is not None]
    projected = sum(known, Fraction(0)) if known else None
    if value is None or expected == 0:
        return _figures(expected, projected, None)
    return _figures(expected, projected, Fraction(value) / expected)

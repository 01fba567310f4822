"""A goal's leaderboard: contributor goals by percent, best first, with competition ranks.
A pure function of plain values."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Standing(Generic[T]):
    rank: int
    entry: T


def ranked(
    entries: Iterable[T],
    *,
    percent: Callable[[T], Decimal | None],
    name: Callable[[T], str],
    tiebreak: Callable[[T], int],
) -> list[Standing[T]]:
    """Percent descending, a null percent last, then by name (and ``tiebreak``, an id, so the
    order is total). Competition ranks: entries with the same percent share a rank and the next
    rank skips as many places (1, 1, 3); the null percents share the last rank."""
    ordered = sorted(
        entries,
        key=lambda e: (percent(e) is None, -(percent(e) or 0), name(e), tiebreak(e)),
    )
    standings: list[Standing[T]] = []
    for place, entry in enumerate(ordered, start=1):
        if standings and percent(standings[-1].entry) == percent(entry):
            rank = standings[-1].rank
        else:
            rank = place
        standings.append(Standing(rank, entry))
    return standings

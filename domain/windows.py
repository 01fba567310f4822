"""Where a milestone's local dates meet the records' instants: windows in the account's
timezone, the freeze rule and the daily refresh schedule. Pure functions; "now" is an argument."""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open interval of UTC instants: [start, end)."""

    start: datetime
    end: datetime


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``tz``.

    Where a zone skips midnight (a daylight-saving gap), the day begins at the first local time
    that exists, which is the instant of the transition; fold=0 gives exactly that instant.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def milestone_window(start_date: date, end_date: date, tz: ZoneInfo) -> Window:
    """[start 00:00, end 24:00) local, as UTC instants; the length follows DST (23 h or 25 h
    days included)."""
    return Window(day_start(start_date, tz), day_start(end_date + timedelta(days=1), tz))


def local_date(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def is_frozen(end_date: date, tz: ZoneInfo, now: datetime, freeze_after_hours: int) -> bool:
    """A milestone's value is final once ``freeze_after_hours`` have passed since its end."""
    end = day_start(end_date + timedelta(days=1), tz)
    return now >= end + timedelta(hours=freeze_after_hours)


def refresh_due(
    now: datetime, tz: ZoneInfo, refresh_hour: int, last_refresh_date: date | None
) -> date | None:
    """The local date to refresh for, when the account's refresh hour has come today and no
    refresh has run for today yet; otherwise None."""
    local_now = now.astimezone(tz)
    today = local_now.date()
    if local_now.hour < refresh_hour:
        return None
    if last_refresh_date is not None and last_refresh_date >= today:
        return None
    return today


@dataclass(frozen=True, slots=True)
class Buckets:
    """The sorted distinct boundary instants of a set of windows.

    A record at instant ``t`` with ``boundaries[0] <= t < boundaries[-1]`` falls into bucket
    ``k`` (1-based) when ``boundaries[k-1] <= t < boundaries[k]``, which is what PostgreSQL's
    ``width_bucket(t, boundaries)`` returns; a window covers the buckets ``first..last``.
    """

    boundaries: tuple[datetime, ...]

    @classmethod
    def of(cls, windows: Iterable[Window]) -> "Buckets":
        instants: set[datetime] = set()
        for window in windows:
            instants.add(window.start)
            instants.add(window.end)
        return cls(tuple(sorted(instants)))

    def span(self, window: Window) -> tuple[int, int]:
        """The first and last bucket of ``window``; first > last for an empty window."""
        first = bisect_left(self.boundaries, window.start) + 1
        last = bisect_left(self.boundaries, window.end)
        return first, last

    def bucket_of(self, instant: datetime) -> int | None:
        """The bucket of an instant, None outside every window's range."""
        if not self.boundaries or not self.boundaries[0] <= instant < self.boundaries[-1]:
            return None
        # The number of boundaries at or before the instant.
        return bisect_right(self.boundaries, instant)

"""The dates a contributor goal's progress history covers when asked for it."""

from datetime import date, timedelta

from domain.errors import Refused

DEFAULT_HISTORY_DAYS = 90
MAX_HISTORY_DAYS = 366


def days_after(day: date, days: int) -> date:
    """``day`` moved by ``days``, stopping at the first or last date there is."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def history_dates(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The inclusive dates to read: the 90 days ending today, or starting at ``first``, or
    ending at ``last``; both given, those. Refused when they are reversed or more than
    MAX_HISTORY_DAYS apart."""
    last = last or (days_after(first, DEFAULT_HISTORY_DAYS - 1) if first is not None else today)
    first = first or days_after(last, 1 - DEFAULT_HISTORY_DAYS)
    if first > last:
        raise Refused("`from` must not be after `to`.")
    if (last - first).days + 1 > MAX_HISTORY_DAYS:
        raise Refused(f"History covers at most {MAX_HISTORY_DAYS} days per call.")
    return first, last

"""Pace stored beside the roll-up, so that reading, filtering and ordering by pace read no
milestone: every refresh writes it for the goals not yet ended on its local date (today = that
date), and a change of targets or contributors rewrites it for the goals changed (today = the
date of their last refresh, which is what pace is as of). Computed by ``domain.pace`` in a
bounded number of statements per call, whatever the number of goals.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.enums import AVERAGE_TYPES, GoalType
from domain.pace import ContributorPace, Pace, contributor_pace, expected_to_date, goal_pace
from domain.sql import Params, bulk_update, connection, is_postgres, to_date, to_decimal
from domain.windows import local_date

PACE_COLUMNS = [
    ("pace_expected", "numeric"),
    ("pace_projected", "numeric"),
    ("pace_ratio", "numeric"),
    ("pace_status", "text"),
]


@dataclass(frozen=True, slots=True)
class _Row:
    """One contributor goal of a goal in scope, with the figures pace reads."""

    goal_id: int
    id: int
    goal_type: GoalType
    value: Decimal | None
    target: Decimal
    percent: Decimal | None
    today: date | None  # the local date of its last refresh; None: never refreshed


@dataclass(frozen=True, slots=True)
class _Span:
    start_date: date
    end_date: date
    target: Decimal


def _instant(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


async def store_refreshed_pace(
    account_id: int, goal_ids: Sequence[int] | None, today: date
) -> None:
    """After a refresh's roll-up, in its transaction: the pace of the goals in scope that have
    not ended by ``today``, the refresh's local date (an ended goal has no pace)."""
    p = Params(is_postgres(connection()))
    scope = f"g.account_id = {p(account_id, 'int')} AND g.end_date >= {p.day(today)}"
    if goal_ids is not None:
        scope += f" AND g.id IN ({p.ids(goal_ids)})"
    await _store(p, scope, today)


async def store_edited_pace(goal_ids: Sequence[int]) -> None:
    """In the transaction that changed these goals' targets or contributors: their pace again,
    as of their last refresh."""
    if not goal_ids:
        return
    p = Params(is_postgres(connection()))
    await _store(p, f"g.id IN ({p.ids(goal_ids)})", None)


async def _store(p: Params, scope: str, today: date | None) -> None:
    conn = connection()
    _, found = await conn.execute_query(
        "SELECT g.id, cg.id, g.type, cg.value, cg.target, cg.percent, cg.refreshed_at, "
        "g.value, g.target, g.percent, g.refreshed_at, a.timezone "
        "FROM goal g JOIN account a ON a.id = g.account_id "
        f"JOIN contributor_goal cg ON cg.goal_id = g.id WHERE {scope} ORDER BY g.id, cg.id",
        p.values,
    )
    if not found:
        return
    zones: dict[str, ZoneInfo] = {}

    def day_of(refreshed_at: object, timezone: str) -> date | None:
        instant = _instant(refreshed_at)
        if instant is None:
            return None
        if today is not None:
            return today
        zone = zones.get(timezone) or zones.setdefault(timezone, ZoneInfo(timezone or "UTC"))
        return local_date(instant, zone)

    rows: list[_Row] = []
    goals: dict[int, tuple[Decimal | None, Decimal, Decimal | None, date | None]] = {}
    for (
        goal_id,
        cg_id,
        gtype,
        value,
        target,
        percent,
        cg_at,
        g_value,
        g_target,
        g_percent,
        g_at,
        tz,
    ) in found:
        rows.append(
            _Row(
                goal_id,
                cg_id,
                GoalType(gtype),
                to_decimal(value),
                to_decimal(target) or Decimal(0),
                to_decimal(percent),
                day_of(cg_at, tz),
            )
        )
        goals[goal_id] = (
            to_decimal(g_value),
            to_decimal(g_target) or Decimal(0),
            to_decimal(g_percent),
            day_of(g_at, tz),
        )
    due = await _spans_due([r for r in rows if r.today and r.goal_type not in AVERAGE_TYPES])

    by_goal: dict[int, list[ContributorPace]] = defaultdict(list)
    cg_out: list[list[object]] = []
    for row in rows:
        if row.today is None:
            cg_out.append([row.id, None, None, None, None])
            continue
        figures = contributor_pace(
            expected=expected_to_date(due.get(row.id, []), row.today),
            value=row.value,
            target=row.target,
            percent=row.percent,
            average=row.goal_type in AVERAGE_TYPES,
        )
        by_goal[row.goal_id].append(figures)
        cg_out.append([row.id, *_columns(figures.pace)])
    goal_out: list[list[object]] = []
    types = {row.goal_id: row.goal_type for row in rows}
    for goal_id, (value, target, percent, refreshed_on) in goals.items():
        if refreshed_on is None:
            goal_out.append([goal_id, None, None, None, None])
            continue
        pace = goal_pace(
            by_goal[goal_id],
            value=value,
            target=target,
            percent=percent,
            average=types[goal_id] in AVERAGE_TYPES,
        )
        goal_out.append([goal_id, *_columns(pace)])
    await bulk_update("contributor_goal", ("id", "int"), PACE_COLUMNS, cg_out)
    await bulk_update("goal", ("id", "int"), PACE_COLUMNS, goal_out)


def _columns(pace: Pace) -> list[object]:
    return [pace.expected, pace.projected, pace.ratio, pace.status.value]


async def _spans_due(rows: Sequence[_Row]) -> dict[int, list[_Span]]:
    """The milestones of these contributor goals that began by each one's date: the ones that
    count towards what was due."""
    if not rows:
        return {}
    conn = connection()
    p = Params(is_postgres(conn))
    if p.postgres:
        days = (
            f"SELECT * FROM unnest({p([r.id for r in rows], 'bigint[]')}, "
            f"{p([r.today for r in rows], 'date[]')})"
        )
    else:
        pairs = "[" + ",".join(f'[{r.id},"{r.today}"]' for r in rows) + "]"
        days = (
            "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') "
            f"FROM json_each({p(pairs)})"
        )
    _, found = await conn.execute_query(
        f"WITH day(cg_id, today) AS ({days}) "
        "SELECT m.contributor_goal_id, m.start_date, m.end_date, m.target "
        "FROM milestone m JOIN day d ON d.cg_id = m.contributor_goal_id "
        "WHERE m.start_date <= d.today",
        p.values,
    )
    spans: dict[int, list[_Span]] = defaultdict(list)
    for cg_id, start, end, target in found:
        spans[cg_id].append(_Span(to_date(start), to_date(end), to_decimal(target) or Decimal(0)))
    return spans

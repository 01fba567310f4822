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
from typing import Any
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


Stored = tuple[Decimal | None, Decimal | None, Decimal | None, str | None]


@dataclass(frozen=True, slots=True)
class _Row:
    """A goal or one of its contributor goals, with the figures pace reads and the pace stored."""

    goal_id: int
    id: int
    goal_type: GoalType
    value: Decimal | None
    target: Decimal
    percent: Decimal | None
    today: date | None  # the local date of its last refresh; None: never refreshed
    stored: Stored


READ_COLUMNS = ["value", "target", "percent", "refreshed_at", *(n for n, _ in PACE_COLUMNS)]


def _read(table: str) -> str:
    return ", ".join(f"{table}.{column}" for column in READ_COLUMNS)


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
    """The pace of the goals ``scope`` selects and of their contributor goals, written where it
    changed."""
    figures = ", ".join(
        f"{{t}}.{name}"
        for name, _ in [("value", 0), ("target", 0), ("percent", 0), ("refreshed_at", 0)]
        + PACE_COLUMNS
    )
    _, found = await connection().execute_query(
        f"SELECT g.id, cg.id, g.type, a.timezone, {figures.format(t='cg')}, "
        f"{figures.format(t='g')} FROM goal g JOIN account a ON a.id = g.account_id "
        f"JOIN contributor_goal cg ON cg.goal_id = g.id WHERE {scope} ORDER BY g.id, cg.id",
        p.values,
    )
    zones: dict[str, ZoneInfo] = {}

    def row(
        goal_id: int, row_id: int, goal_type: GoalType, tz: str, numbers: Sequence[Any]
    ) -> _Row:
        value, target, percent, refreshed_at, expected, projected, ratio, status = numbers
        instant = _instant(refreshed_at)
        day = None if instant is None else today
        if instant is not None and day is None:
            zone = zones.get(tz) or zones.setdefault(tz, ZoneInfo(tz or "UTC"))
            day = local_date(instant, zone)
        stored = (to_decimal(expected), to_decimal(projected), to_decimal(ratio), status)
        return _Row(
            goal_id,
            row_id,
            goal_type,
            to_decimal(value),
            to_decimal(target) or Decimal(0),
            to_decimal(percent),
            day,
            stored,
        )

    width = len(READ_COLUMNS)
    contributor_goals: list[_Row] = []
    goals: dict[int, _Row] = {}
    for goal_id, cg_id, gtype, tz, *numbers in found:
        goal_type = GoalType(gtype)
        contributor_goals.append(row(goal_id, cg_id, goal_type, tz, numbers[:width]))
        if goal_id not in goals:
            goals[goal_id] = row(goal_id, goal_id, goal_type, tz, numbers[width:])
    due = await _spans_due(
        [r for r in contributor_goals if r.today and r.goal_type not in AVERAGE_TYPES]
    )

    by_goal: dict[int, list[ContributorPace]] = defaultdict(list)
    cg_out: list[list[object]] = []
    for cg in contributor_goals:
        pace = None
        if cg.today is not None:
            computed = contributor_pace(
                expected=expected_to_date(due.get(cg.id, []), cg.today),
                value=cg.value,
                target=cg.target,
                percent=cg.percent,
                average=cg.goal_type in AVERAGE_TYPES,
            )
            by_goal[cg.goal_id].append(computed)
            pace = computed.pace
        _write_if_changed(cg_out, cg, pace)
    goal_out: list[list[object]] = []
    for goal in goals.values():
        pace = None
        if goal.today is not None:
            pace = goal_pace(
                by_goal[goal.id],
                value=goal.value,
                target=goal.target,
                percent=goal.percent,
                average=goal.goal_type in AVERAGE_TYPES,
            )
        _write_if_changed(goal_out, goal, pace)
    await bulk_update("contributor_goal", ("id", "int"), PACE_COLUMNS, cg_out)
    await bulk_update("goal", ("id", "int"), PACE_COLUMNS, goal_out)


def _write_if_changed(out: list[list[object]], row: _Row, pace: Pace | None) -> None:
    """Queue ``row``'s new pace unless it is what is stored (a live refresh changes a few)."""
    columns = [None, None, None, None] if pace is None else _columns(pace)
    if tuple(columns) != row.stored:
        out.append([row.id, *columns])


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

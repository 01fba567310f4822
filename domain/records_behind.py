"""The records behind a milestone's value: the tickets, deals or engagements it counts, each with
what it contributed.

A live milestone's records are found by the refresh's own rules (``domain.milestone_values``:
the window in the account's timezone, the contributor's owners — a team's members now — the
milestone's pipelines and the metric's instant and condition), so that with no record changed
since the last refresh they add up (or average) to its value. When a milestone becomes final, the
refresh keeps its records in ``milestone_record`` in the same transaction, set-based, as they
counted then: a final milestone lists those, whatever happens to the records later.

Pages are newest ``counted_at`` first, ties by external id (byte order on both backends), read
by keyset: a page never repeats a record of an earlier one.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.enums import GoalType, RecordKind
from domain.milestone_values import (
    METRIC_OF,
    SOURCES,
    Metric,
    contribution_sql,
    owners_select,
    record_condition,
)
from domain.sql import Params, connection, is_postgres, to_date, to_decimal
from domain.windows import milestone_window

KIND_OF_METRIC = {
    Metric.TICKETS_CLOSED: RecordKind.TICKET,
    Metric.TICKETS_RESPONDED: RecordKind.TICKET,
    Metric.DEALS_WON: RecordKind.DEAL,
    Metric.DEALS_CREATED: RecordKind.DEAL,
    Metric.CALLS: RecordKind.CALL,
    Metric.MEETINGS: RecordKind.MEETING,
}
COLUMNS = "mid, kind, record_id, external_id, owner_id, pipeline_id, counted_at, contribution"


@dataclass(frozen=True, slots=True)
class RecordedMilestone:
    """What finding a milestone's records needs to know of it."""

    id: int
    goal_type: GoalType
    start_date: date
    end_date: date
    final: bool


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page ends: the last record's instant and external id."""

    counted_at: datetime
    external_id: str


@dataclass(frozen=True, slots=True)
class CountedRecord:
    milestone_id: int
    kind: RecordKind
    record_id: int
    external_id: str
    owner_id: int
    pipeline_id: int | None
    counted_at: datetime
    contribution: Decimal

    @property
    def position(self) -> Position:
        return Position(self.counted_at, self.external_id)


@dataclass(frozen=True, slots=True)
class RecordsPage:
    """``total`` records in all; ``records`` from the position asked for, at most the limit."""

    total: int
    records: list[CountedRecord]


def _instant(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _contribution(goal_type: GoalType, postgres: bool) -> str:
    """What a record adds, as a number (PostgreSQL) or exact decimal text (SQLite)."""
    expression, scale = contribution_sql(goal_type, postgres)
    if postgres:
        return f"CAST({expression} AS NUMERIC)"
    if scale == 1:
        return f"CAST({expression} AS TEXT)"
    # Amounts and durations are never negative: whole units, then the remainder padded.
    places = len(str(scale)) - 1
    return f"printf('%d.%0{places}d', ({expression}) / {scale}, ({expression}) % {scale})"


def _live_branch(p: Params, account: str, goal_type: GoalType) -> str:
    """The records that count towards the ``want`` milestones of ``goal_type``."""
    metric = METRIC_OF[goal_type]
    source = SOURCES[metric]
    pipeline = "t.pipeline_id" if source.has_pipeline else "CAST(NULL AS INTEGER)"
    pipelines = (
        "JOIN milestone_pipeline mp ON mp.milestone_id = w.mid AND mp.pipeline_id = t.pipeline_id"
        if source.has_pipeline
        else ""
    )
    contribution = _contribution(goal_type, p.postgres)
    counted = record_condition(metric, account, "w.lo", "w.hi")
    return f"""
        SELECT w.mid, '{KIND_OF_METRIC[metric].value}' AS kind, t.id AS record_id,
               t.external_id, t.owner_id, {pipeline} AS pipeline_id,
               t.{source.instant} AS counted_at, {contribution} AS contribution
        FROM want w
        JOIN owners o ON o.cg_id = w.cg_id
        JOIN {source.table} t ON t.owner_id = o.owner_id
        {pipelines}
        WHERE w.gtype = '{goal_type.value}' AND {counted}"""


def _records_ctes(
    p: Params,
    account_id: int,
    kept: Sequence[RecordedMilestone],
    live: Sequence[RecordedMilestone],
    tz: ZoneInfo,
) -> str:
    """CTEs ending in ``rec`` (the columns of COLUMNS): the records kept for ``kept`` and the
    records that count now towards ``live``, by the refresh's rules."""
    ctes: list[str] = []
    branches: list[str] = []
    if kept:
        branches.append(
            "SELECT milestone_id AS mid, kind, record_id, external_id, owner_id, pipeline_id, "
            "counted_at, contribution FROM milestone_record "
            f"WHERE milestone_id IN ({p.ids([m.id for m in kept])})"
        )
    if live:
        dates = sorted({(m.start_date, m.end_date) for m in live})
        windows = [milestone_window(start, end, tz) for start, end in dates]
        if p.postgres:
            win = (
                "SELECT * FROM unnest("
                f"{p([d[0] for d in dates], 'date[]')}, {p([d[1] for d in dates], 'date[]')}, "
                f"{p([w.start for w in windows], 'timestamptz[]')}, "
                f"{p([w.end for w in windows], 'timestamptz[]')})"
            )
        else:
            rows = ", ".join(
                f"({p.day(start)}, {p.day(end)}, {p.instant(w.start)}, {p.instant(w.end)})"
                for (start, end), w in zip(dates, windows, strict=True)
            )
            win = f"VALUES {rows}"
        ctes += [
            f"win(start_date, end_date, lo, hi) AS ({win})",
            f"""want AS (
                SELECT m.id AS mid, m.contributor_goal_id AS cg_id, g.type AS gtype, w.lo, w.hi
                FROM milestone m
                JOIN contributor_goal cg ON cg.id = m.contributor_goal_id
                JOIN goal g ON g.id = cg.goal_id
                JOIN win w ON w.start_date = m.start_date AND w.end_date = m.end_date
                WHERE m.id IN ({p.ids([m.id for m in live])})
            )""",
            f"owners(cg_id, owner_id) AS ({owners_select('cg.id IN (SELECT cg_id FROM want)')})",
        ]
        account = p(account_id, "int")
        branches += [_live_branch(p, account, t) for t in sorted({m.goal_type for m in live})]
    ctes.append(f"rec AS ({' UNION ALL '.join(branches)})")
    return ", ".join(ctes)


def _external_id(p: Params, column: str) -> str:
    """External ids compare byte by byte, as SQLite does, whatever PostgreSQL's collation."""
    return f'{column} COLLATE "C"' if p.postgres else column


async def _read_pages(
    p: Params, ctes: str, *, limit: int, after: Position | None
) -> dict[int, RecordsPage]:
    conn = connection()
    _, counts = await conn.execute_query(
        f"WITH {ctes} SELECT mid, count(*) FROM rec GROUP BY mid", p.values
    )
    pages = {mid: RecordsPage(total, []) for mid, total in counts}
    if not pages or limit <= 0:
        return pages
    beyond = "1 = 1"
    if after is not None:
        at = p.instant(after.counted_at)
        external_id = _external_id(p, "external_id")
        beyond = (
            f"(counted_at < {at} OR counted_at = {at} AND {external_id} > {p(after.external_id)})"
        )
    order = f"counted_at DESC, {_external_id(p, 'external_id')}"
    _, rows = await conn.execute_query(
        f"WITH {ctes}, paged AS (SELECT rec.*, row_number() OVER "
        f"(PARTITION BY mid ORDER BY {order}) AS rn FROM rec WHERE {beyond}) "
        f"SELECT {COLUMNS} FROM paged WHERE rn <= {int(limit)} ORDER BY mid, rn",
        p.values,
    )
    for mid, kind, record_id, external_id, owner_id, pipeline_id, counted_at, amount in rows:
        contribution = to_decimal(amount)
        pages[mid].records.append(
            CountedRecord(
                mid,
                RecordKind(kind),
                record_id,
                external_id,
                owner_id,
                pipeline_id,
                _instant(counted_at),
                contribution or Decimal(0),
            )
        )
    return pages


async def records_behind(
    account_id: int,
    milestones: Sequence[RecordedMilestone],
    tz: ZoneInfo,
    *,
    limit: int,
    after: Position | None = None,
) -> dict[int, RecordsPage]:
    """Each milestone's records from ``after`` on, at most ``limit`` of them, and how many it has
    in all; by milestone id (one with no record is left out). Two statements, whatever the
    milestones: final ones read what was kept, live ones what counts now."""
    if not milestones:
        return {}
    p = Params(is_postgres(connection()))
    kept = [m for m in milestones if m.final]
    live = [m for m in milestones if not m.final]
    ctes = _records_ctes(p, account_id, kept, live, tz)
    return await _read_pages(p, ctes, limit=limit, after=after)


async def keep_records(account_id: int, milestone_ids: Sequence[int], tz: ZoneInfo) -> None:
    """In the refresh's transaction, right after these milestones became final: keep the records
    that made their values, as they count now. One statement per goal type."""
    if not milestone_ids:
        return
    conn = connection()
    p = Params(is_postgres(conn))
    _, rows = await conn.execute_query(
        "SELECT m.id, g.type, m.start_date, m.end_date FROM milestone m "
        "JOIN contributor_goal cg ON cg.id = m.contributor_goal_id "
        f"JOIN goal g ON g.id = cg.goal_id WHERE m.id IN ({p.ids(sorted(milestone_ids))})",
        p.values,
    )
    milestones = [
        RecordedMilestone(milestone_id, GoalType(gtype), to_date(start), to_date(end), True)
        for milestone_id, gtype, start, end in rows
    ]
    p = Params(is_postgres(conn))
    ctes = _records_ctes(p, account_id, [], milestones, tz)
    await conn.execute_query(
        f"WITH {ctes} INSERT INTO milestone_record (milestone_id, kind, record_id, external_id, "
        f"owner_id, pipeline_id, counted_at, contribution) SELECT {COLUMNS} FROM rec",
        p.values,
    )

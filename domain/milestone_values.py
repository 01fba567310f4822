"""The values of every live milestone of an account, in a bounded number of aggregate statements.

Records are bucketed once by the distinct boundary instants of the live milestones' windows and
summed per (metric, owner, pipeline, bucket); a milestone's value is the sum of the buckets its
window covers, over its contributor's owners (a team: its members now) and its pipelines (the
milestone's own, stored for every milestone of a pipeline type; engagements have none).
PostgreSQL buckets with ``width_bucket`` and writes with one ``UPDATE ... FROM`` in the same
statement, values never leaving the database. SQLite, the embedded backend, joins records to the
bucket ranges and the values are written from Python; sums there are exact integers (amounts in
ten-thousandths, durations in microseconds), so both backends give the same numbers.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import IntEnum

from domain.enums import AVERAGE_TYPES, GoalType
from domain.sql import FOUR_PLACES, Params, connection, is_postgres, sqlite_value, to_decimal
from domain.windows import Buckets


class Metric(IntEnum):
    """What a record contributes to: one aggregate per metric serves all goal types using it."""

    TICKETS_CLOSED = 1
    TICKETS_RESPONDED = 2
    DEALS_WON = 3
    DEALS_CREATED = 4
    CALLS = 5
    MEETINGS = 6


METRIC_OF: dict[GoalType, Metric] = {
    GoalType.CLOSED_TICKETS: Metric.TICKETS_CLOSED,
    GoalType.AVG_TICKET_RESOLUTION_TIME: Metric.TICKETS_CLOSED,
    GoalType.AVG_TICKET_RESPONSE_TIME: Metric.TICKETS_RESPONDED,
    GoalType.REVENUE: Metric.DEALS_WON,
    GoalType.DEALS_CREATED: Metric.DEALS_CREATED,
    GoalType.CALLS_LOGGED: Metric.CALLS,
    GoalType.MEETINGS_BOOKED: Metric.MEETINGS,
}
COUNTED_TYPES = frozenset(
    {
        GoalType.CLOSED_TICKETS,
        GoalType.DEALS_CREATED,
        GoalType.CALLS_LOGGED,
        GoalType.MEETINGS_BOOKED,
    }
)
ENGAGEMENT_METRICS = (Metric.CALLS, Metric.MEETINGS)


def _sqlite_micros(column: str) -> str:
    return (
        f"(CASE WHEN substr({column}, 20, 1) = '.' "
        f"THEN CAST(substr({column}, 21, 6) AS INTEGER) ELSE 0 END)"
    )


def _sqlite_duration(end: str, start: str) -> str:
    """Microseconds between two stored instants, exactly."""
    return (
        f"((CAST(strftime('%s', {end}) AS INTEGER) - CAST(strftime('%s', {start}) AS INTEGER))"
        f" * 1000000 + {_sqlite_micros(end)} - {_sqlite_micros(start)})"
    )


def _sqlite_amount(column: str) -> str:
    """A stored decimal text in ten-thousandths, exactly (whatever its number of places)."""
    return (
        f"(CASE WHEN instr({column}, '.') = 0 THEN CAST({column} AS INTEGER) * 10000 "
        f"ELSE CAST(replace(substr({column} || '0000', 1, instr({column}, '.') + 4), '.', '')"
        f" AS INTEGER) END)"
    )


@dataclass(frozen=True, slots=True)
class Source:
    table: str
    instant: str
    condition: str
    has_pipeline: bool
    pg_total: str
    sqlite_total: str
    # SQLite totals are integers: this many units make one (microseconds, ten-thousandths).
    sqlite_scale: int


SOURCES: dict[Metric, Source] = {
    Metric.TICKETS_CLOSED: Source(
        "ticket",
        "closed_at",
        "",
        True,
        "EXTRACT(EPOCH FROM (t.closed_at - t.created_at))",
        _sqlite_duration("t.closed_at", "t.created_at"),
        1_000_000,
    ),
    Metric.TICKETS_RESPONDED: Source(
        "ticket",
        "created_at",
        "AND t.first_responded_at IS NOT NULL",
        True,
        "EXTRACT(EPOCH FROM (t.first_responded_at - t.created_at))",
        _sqlite_duration("t.first_responded_at", "t.created_at"),
        1_000_000,
    ),
    Metric.DEALS_WON: Source(
        "deal", "closed_won_at", "", True, "t.amount", _sqlite_amount("t.amount"), 10_000
    ),
    Metric.DEALS_CREATED: Source("deal", "created_at", "", True, "0", "0", 1),
    Metric.CALLS: Source("engagement", "occurred_at", "AND t.kind = 'CALL'", False, "0", "0", 1),
    Metric.MEETINGS: Source(
        "engagement", "occurred_at", "AND t.kind = 'MEETING'", False, "0", "0", 1
    ),
}


@dataclass(frozen=True, slots=True)
class WindowSpan:
    """The milestones with these dates cover buckets ``first..last``; ``final`` when this
    refresh freezes them."""

    start_date: date
    end_date: date
    first: int
    last: int
    final: bool


@dataclass(frozen=True, slots=True)
class ValuesResult:
    computed: int
    changed: int
    finalized_ids: list[int]


def contribution_sql(goal_type: GoalType, postgres: bool) -> tuple[str, int]:
    """What one record ``t`` adds to a milestone of ``goal_type``, and the units it is in per one:
    1 for a count; else what the metric sums (the amount, or a duration's seconds), on SQLite as
    an exact integer of 1/scale units."""
    if goal_type in COUNTED_TYPES:
        return "1", 1
    source = SOURCES[METRIC_OF[goal_type]]
    return (source.pg_total, 1) if postgres else (source.sqlite_total, source.sqlite_scale)


def milestone_numbers(
    goal_type: GoalType, count: int | None, total: Decimal | None
) -> tuple[Decimal | None, Decimal | None, int | None]:
    """(value, value_sum, value_count) of a milestone from its records' count and total."""
    count = count or 0
    total = total or Decimal(0)
    if goal_type in COUNTED_TYPES:
        return Decimal(count), None, None
    if goal_type not in AVERAGE_TYPES:
        return total.quantize(FOUR_PLACES, ROUND_HALF_UP), None, None
    value_sum = total.quantize(FOUR_PLACES, ROUND_HALF_UP)
    if count == 0:
        return None, value_sum, 0
    return (total / count).quantize(FOUR_PLACES, ROUND_HALF_UP), value_sum, count


def _goal_filter(p: Params, goal_ids: Sequence[int] | None, column: str) -> str:
    return "" if goal_ids is None else f"AND {column} IN ({p.ids(goal_ids)})"


def _windows_cte(p: Params, spans: Sequence[WindowSpan], days: "_Days") -> str:
    """``win``: each window with its freeze flag."""
    if p.postgres:
        return (
            "win(start_date, end_date, fin) AS (SELECT * FROM unnest("
            f"{p([s.start_date for s in spans], 'date[]')}, "
            f"{p([s.end_date for s in spans], 'date[]')}, "
            f"{p([s.final for s in spans], 'bool[]')}))"
        )
    windows = ", ".join(f"({days[s][0]}, {days[s][1]}, {p(int(s.final))})" for s in spans)
    return f"win(start_date, end_date, fin) AS (VALUES {windows})"


def _window_buckets_cte(p: Params, spans: Sequence[WindowSpan], days: "_Days") -> str:
    """``win_bucket``: each window with each bucket it covers (equality joins, which the
    planner estimates well)."""
    covered = [(s, k) for s in spans for k in range(s.first, s.last + 1)]
    if p.postgres:
        return (
            "win_bucket(start_date, end_date, k) AS (SELECT * FROM unnest("
            f"{p([s.start_date for s, _ in covered], 'date[]')}, "
            f"{p([s.end_date for s, _ in covered], 'date[]')}, "
            f"{p([k for _, k in covered], 'int[]')}))"
        )
    buckets = ", ".join(f"({days[s][0]}, {days[s][1]}, {p(k)})" for s, k in covered)
    return f"win_bucket(start_date, end_date, k) AS (VALUES {buckets})"


# SQLite: each window's dates as placeholders, shared by the CTEs that list windows.
_Days = dict[WindowSpan, tuple[str, str]]


def _days(p: Params, spans: Sequence[WindowSpan]) -> _Days:
    return {} if p.postgres else {s: (p.day(s.start_date), p.day(s.end_date)) for s in spans}


def _buckets_cte(p: Params, buckets: Buckets) -> str:
    """SQLite's bucketing: a record joins the bucket whose range holds its instant."""
    bounds = buckets.boundaries
    rows = ", ".join(
        f"({p(k)}, {p.instant(bounds[k - 1])}, {p.instant(bounds[k])})"
        for k in range(1, len(bounds))
    )
    return f"bucket(k, lo, hi) AS (VALUES {rows}),"


def record_condition(metric: Metric, account: str, lo: str, hi: str) -> str:
    """The records ``t`` of the account that count towards ``metric`` in the window [lo, hi)
    (SQL expressions): the instant that counts, and the metric's own condition."""
    source = SOURCES[metric]
    column = f"t.{source.instant}"
    return f"t.account_id = {account} AND {column} >= {lo} AND {column} < {hi} {source.condition}"


def owners_select(contributor_goals: str) -> str:
    """(cg_id, owner_id) of the contributor goals ``cg`` that ``contributor_goals`` (a condition
    on ``cg``) selects: a user contributor owns their records; a team, its members' now."""
    return f"""
        SELECT cg.id, cg.user_id FROM contributor_goal cg
        WHERE cg.user_id IS NOT NULL AND {contributor_goals}
        UNION ALL
        SELECT cg.id, tm.user_id FROM contributor_goal cg
        JOIN team_membership tm ON tm.team_id = cg.team_id
        WHERE {contributor_goals}"""


def _facts_select(
    p: Params,
    metric: Metric,
    account: str,
    buckets: Buckets,
    boundaries: str,
    narrowed: bool,
) -> str:
    source = SOURCES[metric]
    column = f"t.{source.instant}"
    pipeline = "t.pipeline_id" if source.has_pipeline else "0"
    grouped = "t.owner_id, t.pipeline_id" if source.has_pipeline else "t.owner_id"
    owners = "AND t.owner_id IN (SELECT owner_id FROM owners)" if narrowed else ""
    counted = record_condition(
        metric, account, p.instant(buckets.boundaries[0]), p.instant(buckets.boundaries[-1])
    )
    if p.postgres:
        bucket = f"width_bucket({column}, {boundaries})"
        return (
            f"SELECT {int(metric)} AS metric, t.owner_id, {pipeline} AS pipeline_id, "
            f"{bucket} AS bucket, count(*) AS cnt, sum({source.pg_total}) AS total "
            f"FROM {source.table} t "
            f"WHERE {counted} {owners} "
            f"GROUP BY {grouped}, {bucket}"
        )
    return (
        f"SELECT {int(metric)} AS metric, t.owner_id, {pipeline} AS pipeline_id, "
        f"k.k AS bucket, count(*) AS cnt, sum({source.sqlite_total}) AS total "
        f"FROM {source.table} t JOIN bucket k ON {column} >= k.lo AND {column} < k.hi "
        f"WHERE {counted} {owners} "
        f"GROUP BY {grouped}, k.k"
    )


def _metric_case() -> str:
    arms = " ".join(f"WHEN '{t.value}' THEN {int(m)}" for t, m in METRIC_OF.items())
    return f"CASE g.type {arms} END"


def _live_select(p: Params, account: str, goal_ids: Sequence[int] | None) -> str:
    """The live milestones in scope, with what the computation needs of their goal (SQLite,
    which compares in Python, their stored numbers too)."""
    stored = (
        ""
        if p.postgres
        else ", m.value AS old_value, m.value_sum AS old_sum, m.value_count AS old_count"
    )
    return f"""
        SELECT m.id, m.contributor_goal_id AS cg_id, m.start_date, m.end_date,
               g.type AS gtype, {_metric_case()} AS metric, w.fin{stored}
        FROM milestone m
        JOIN contributor_goal cg ON cg.id = m.contributor_goal_id
        JOIN goal g ON g.id = cg.goal_id
        JOIN win w ON w.start_date = m.start_date AND w.end_date = m.end_date
        WHERE cg.account_id = {account} AND NOT m.final
        {_goal_filter(p, goal_ids, "cg.goal_id")}"""


async def _stage_live(
    account_id: int, goal_ids: Sequence[int] | None, spans: Sequence[WindowSpan]
) -> None:
    """PostgreSQL: the live milestones into ``live``, a temporary table dropped at commit, and
    analysed. Every later join starts from this set; with its true size and distinct values
    known, the planner's choices no longer hang on the statistics of the account's tables,
    which may be missing (never analysed) or may not describe this account (a first import)."""
    conn = connection()
    p = Params(True)
    await conn.execute_query(
        "CREATE TEMPORARY TABLE live ON COMMIT DROP AS "
        f"WITH {_windows_cte(p, spans, {})} {_live_select(p, p(account_id, 'int'), goal_ids)}",
        p.values,
    )
    # A small sample is plenty for its size and distinct values, and keeps ANALYZE cheap.
    await conn.execute_script("SET LOCAL default_statistics_target = 10; ANALYZE live")


def _shared_ctes(
    p: Params,
    account_id: int,
    goal_ids: Sequence[int] | None,
    spans: Sequence[WindowSpan],
    buckets: Buckets,
    metrics: set[Metric],
) -> str:
    account = p(account_id, "int")
    boundaries = p(list(buckets.boundaries), "timestamptz[]") if p.postgres else ""
    engagement = ", ".join(str(int(m)) for m in ENGAGEMENT_METRICS)
    facts = " UNION ALL ".join(
        _facts_select(p, metric, account, buckets, boundaries, goal_ids is not None)
        for metric in sorted(metrics)
    )
    # PostgreSQL reads ``live`` from the staged table (_stage_live). It materialises the two
    # sides of the final join, so that however the planner judges their sizes it joins them
    # once, on all four keys.
    materialized = "MATERIALIZED" if p.postgres else ""
    days = _days(p, spans)
    live = (
        ""
        if p.postgres
        else f"{_windows_cte(p, spans, days)}, {_buckets_cte(p, buckets)} "
        f"live AS ({_live_select(p, account, goal_ids)}),"
    )
    return f"""
    {live}
    {_window_buckets_cte(p, spans, days)},
    owners(cg_id, owner_id) AS ({owners_select("cg.id IN (SELECT cg_id FROM live)")}),
    wanted AS {materialized} (
        SELECT l.id, l.metric, o.owner_id, mp.pipeline_id, wb.k AS bucket
        FROM live l
        JOIN milestone_pipeline mp ON mp.milestone_id = l.id
        JOIN owners o ON o.cg_id = l.cg_id
        JOIN win_bucket wb ON wb.start_date = l.start_date AND wb.end_date = l.end_date
        WHERE l.metric NOT IN ({engagement})
        UNION ALL
        SELECT l.id, l.metric, o.owner_id, 0, wb.k
        FROM live l
        JOIN owners o ON o.cg_id = l.cg_id
        JOIN win_bucket wb ON wb.start_date = l.start_date AND wb.end_date = l.end_date
        WHERE l.metric IN ({engagement})
    ),
    facts(metric, owner_id, pipeline_id, bucket, cnt, total) AS {materialized} ({facts}),
    agg AS (
        SELECT w.id, sum(f.cnt) AS cnt, sum(f.total) AS total
        FROM wanted w
        JOIN facts f ON f.metric = w.metric AND f.owner_id = w.owner_id
                    AND f.pipeline_id = w.pipeline_id AND f.bucket = w.bucket
        GROUP BY w.id
    )"""


def _types_sql(types: frozenset[GoalType]) -> str:
    return ", ".join(f"'{t.value}'" for t in sorted(types))


async def compute_milestone_values(
    account_id: int,
    *,
    goal_ids: Sequence[int] | None,
    spans: Sequence[WindowSpan],
    buckets: Buckets,
    metrics: set[Metric],
    now: datetime,
) -> ValuesResult:
    """Compute and store the value of every live milestone in scope; freeze those whose window
    is final. Only rows whose numbers change (or that freeze) are written. Call once per
    transaction (the refresh's): on PostgreSQL it stages a temporary table dropped at commit."""
    if not spans or not metrics:
        return ValuesResult(0, 0, [])
    conn = connection()
    p = Params(is_postgres(conn))
    if p.postgres:
        await _stage_live(account_id, goal_ids, spans)
    ctes = _shared_ctes(p, account_id, goal_ids, spans, buckets, metrics)
    if p.postgres:
        counted = _types_sql(COUNTED_TYPES)
        averaged = _types_sql(AVERAGE_TYPES)
        sql = f"""
        WITH {ctes},
        calc AS (
            SELECT l.id, l.fin,
                CASE WHEN l.gtype IN ({counted}) THEN COALESCE(a.cnt, 0)::numeric
                     WHEN l.gtype NOT IN ({averaged}) THEN round(COALESCE(a.total, 0), 4)
                     WHEN COALESCE(a.cnt, 0) = 0 THEN NULL
                     ELSE round(a.total / a.cnt, 4) END AS value,
                CASE WHEN l.gtype IN ({averaged}) THEN round(COALESCE(a.total, 0), 4) END
                    AS value_sum,
                CASE WHEN l.gtype IN ({averaged}) THEN COALESCE(a.cnt, 0) END AS value_count
            FROM live l LEFT JOIN agg a ON a.id = l.id
        ),
        upd AS (
            UPDATE milestone AS m
            SET value = c.value, value_sum = c.value_sum, value_count = c.value_count,
                final = c.fin, refreshed_at = {p.instant(now)}
            FROM calc c
            WHERE m.id = c.id AND NOT m.final
              AND (c.fin OR m.value IS DISTINCT FROM c.value
                   OR m.value_sum IS DISTINCT FROM c.value_sum
                   OR m.value_count IS DISTINCT FROM c.value_count)
            RETURNING m.id, m.final
        )
        SELECT (SELECT count(*) FROM live), (SELECT count(*) FROM upd),
               (SELECT array_agg(id) FROM upd WHERE final)
        """
        _, rows = await conn.execute_query(sql, p.values)
        computed, changed, finalized = rows[0]
        return ValuesResult(computed, changed, list(finalized or []))

    sql = f"""
    WITH {ctes}
    SELECT l.id, l.gtype, l.fin, l.old_value, l.old_sum, l.old_count, a.cnt, a.total
    FROM live l LEFT JOIN agg a ON a.id = l.id
    """
    _, rows = await conn.execute_query(sql, p.values)
    scales = {t: SOURCES[m].sqlite_scale for t, m in METRIC_OF.items()}
    writes: list[list[object]] = []
    frozen: list[int] = []
    for milestone_id, gtype, fin, old_value, old_sum, old_count, count, total in rows:
        goal_type = GoalType(gtype)
        exact_total = None if total is None else Decimal(total) / scales[goal_type]
        numbers = milestone_numbers(goal_type, count, exact_total)
        old = (to_decimal(old_value), to_decimal(old_sum), old_count)
        if fin or numbers != old:
            writes.append([*(sqlite_value(n) for n in numbers), int(bool(fin)), now, milestone_id])
        if fin:
            frozen.append(milestone_id)
    if writes:
        await conn.execute_many(
            "UPDATE milestone SET value = ?, value_sum = ?, value_count = ?, final = ?, "
            "refreshed_at = ? WHERE id = ? AND NOT final",
            [[sqlite_value(v) for v in row] for row in writes],
        )
    return ValuesResult(len(rows), len(writes), frozen)

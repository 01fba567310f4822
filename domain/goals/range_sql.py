"""The SQL form of ``domain.ranges``: contributor goals selected by their status and percent over
a date range, and goals ordered by their percent over it, computed by the database in the
statement that lists them.

Percents are compared as whole cents, computed exactly as ``domain.status.percent_of_target``
rounds them: half-up from the unrounded quotient. PostgreSQL works in ``numeric`` with ``div``;
SQLite stores decimals as text, so amounts are read as integers in ten-thousandths and divided
by integer long division, never through binary floats. The one inexact figure is the mean of
several contributor goals' averages (a goal's value for the two average types), which only
orders goals: PostgreSQL truncates each average at 40 decimal places, SQLite uses floating
point, and both lean towards the higher percent so that a quotient exactly on a half cent
rounds up as the rule does.

The statements embed their few values as literals written from typed Python values (ids,
dates, integers), never from text a client sent.
"""

from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from domain.enums import AVERAGE_TYPES, GoalStatus
from domain.ranges import DateRange
from domain.sql import connection, is_postgres

# Cents, orders of magnitude beyond any percent: where a null percent sorts.
NULL_PERCENT_KEY = 9 * 10**18
HUNDRED_PERCENT = 10_000  # in cents
# PostgreSQL: the scale at which a mean of averages is truncated.
_SCALE = 10**40


def _postgres() -> bool:
    return is_postgres(connection())


def day_literal(day: date, postgres: bool) -> str:
    return f"DATE '{day.isoformat()}'" if postgres else f"'{day.isoformat()}'"


def units(column: str, postgres: bool) -> str:
    """A stored decimal as a number the database adds exactly: PostgreSQL's numeric itself;
    SQLite's text as an integer of ten-thousandths (values are stored with at most four
    places; a number once written in exponent form is read through a double, exact below
    10^11)."""
    if postgres:
        return column
    return (
        f"(CASE WHEN instr(upper({column}), 'E') > 0 "
        f"THEN CAST(round(CAST({column} AS REAL) * 10000) AS INTEGER) "
        f"WHEN instr({column}, '.') = 0 THEN CAST({column} AS INTEGER) * 10000 "
        f"ELSE CAST(replace(substr({column} || '0000', 1, instr({column}, '.') + 4), '.', '')"
        f" AS INTEGER) END)"
    )


def _cents(p: str, q: str, postgres: bool) -> str:
    """round_half_up(100 * p / q, 2) in cents, exactly, for q <> 0."""
    if postgres:
        return f"(sign({p}) * sign({q}) * div(20000 * abs({p}) + abs({q}), 2 * abs({q})))"
    # Long division in two steps of two digits keeps every product below 2^63.
    a, b = f"abs({p})", f"abs({q})"
    r2 = f"((({a} % {b}) * 100) % {b})"
    whole = (
        f"({a} / {b}) * 10000 + ((({a} % {b}) * 100) / {b}) * 100 + (({r2} * 100) / {b})"
        f" + (CASE WHEN 2 * (({r2} * 100) % {b}) >= {b} THEN 1 ELSE 0 END)"
    )
    return f"((CASE WHEN ({p} < 0) <> ({q} < 0) THEN -1 ELSE 1 END) * ({whole}))"


def _average(type_column: str) -> str:
    return f"{type_column} IN ({', '.join(repr(t.value) for t in sorted(AVERAGE_TYPES))})"


def _milestone_totals(scope: str, date_range: DateRange, postgres: bool) -> str:
    """One row per contributor goal in ``scope`` that has milestones in the range: their dates
    and the sums the range roll-up needs."""
    overlap = []
    if date_range.first is not None:
        overlap.append(f"m.end_date >= {day_literal(date_range.first, postgres)}")
    if date_range.last is not None:
        overlap.append(f"m.start_date <= {day_literal(date_range.last, postgres)}")
    where = " AND ".join([scope, *overlap])
    return (
        "SELECT m.contributor_goal_id AS cg_id, g.type AS gtype, "
        "min(m.start_date) AS first_start, max(m.end_date) AS last_end, count(*) AS n, "
        f"sum({units('m.target', postgres)}) AS t, sum({units('m.value', postgres)}) AS v, "
        f"count(m.value) AS v_known, COALESCE(sum({units('m.value_sum', postgres)}), 0) AS s, "
        "COALESCE(sum(m.value_count), 0) AS c "
        "FROM milestone m JOIN contributor_goal cg ON cg.id = m.contributor_goal_id "
        f"JOIN goal g ON g.id = cg.goal_id WHERE {where} "
        "GROUP BY m.contributor_goal_id, g.type"
    )


def _contributor_figures(account_id: int, date_range: DateRange, postgres: bool) -> str:
    """Per contributor goal: dates, ``known`` (a value exists), ``q = 0`` (a zero denominator),
    ``eq`` (value equals target) and ``cents``, by ``domain.rollup.contributor_level``'s
    rules: sums add; an average is s/c against t/n, so its percent is (t*c) / (n*s)."""
    totals = _milestone_totals(f"cg.account_id = {int(account_id)}", date_range, postgres)
    average = _average("r.gtype")
    shaped = (
        "SELECT r.cg_id, r.first_start, r.last_end, "
        f"CASE WHEN {average} THEN r.c > 0 ELSE r.v_known > 0 END AS known, "
        f"CASE WHEN {average} THEN r.t * r.c ELSE r.v END AS p, "
        f"CASE WHEN {average} THEN r.n * r.s ELSE r.t END AS q, "
        f"CASE WHEN {average} THEN r.s * r.n = r.t * r.c ELSE r.v = r.t END AS eq "
        f"FROM ({totals}) r"
    )
    cents = _cents("x.p", "x.q", postgres)
    return f"SELECT x.*, CASE WHEN x.known AND x.q <> 0 THEN {cents} END AS cents FROM ({shaped}) x"


def _status_sql(status: GoalStatus, today: str) -> str:
    """``domain.status.status_of`` over the range milestones' dates and the range figures."""
    if status is GoalStatus.PENDING:
        return f"f.first_start > {today}"
    if status is GoalStatus.IN_PROGRESS:
        return f"(f.first_start <= {today} AND f.last_end >= {today})"
    zero_denominator = "(f.known AND f.q = 0"
    if status is GoalStatus.EXCEEDED:
        numbers = f"f.cents > {HUNDRED_PERCENT} OR {zero_denominator} AND NOT f.eq)"
    elif status is GoalStatus.ACHIEVED:
        numbers = f"f.cents = {HUNDRED_PERCENT} OR {zero_denominator} AND f.eq)"
    else:
        numbers = f"f.cents < {HUNDRED_PERCENT} OR NOT f.known"
    return f"(f.last_end < {today} AND ({numbers}))"


def contributor_goals_in_range(
    account_id: int,
    date_range: DateRange,
    *,
    statuses: tuple[GoalStatus, ...] | None,
    percent_min: Decimal | None,
    percent_max: Decimal | None,
    today: date | None,
) -> str:
    """A parenthesised SELECT of the ids of the account's contributor goals whose range status
    is one of ``statuses`` and whose range percent lies within the bounds (inclusive; a null
    percent never matches). A contributor goal without range milestones never matches."""
    postgres = _postgres()
    conditions = []
    if statuses is not None:
        if today is None:
            raise ValueError("filtering by status needs today's date")
        day = day_literal(today, postgres)
        conditions.append(
            "(" + " OR ".join(_status_sql(s, day) for s in statuses) + ")" if statuses else "1 = 0"
        )
    if percent_min is not None:
        conditions.append(f"f.cents >= {int((percent_min * 100).to_integral_value(ROUND_CEILING))}")
    if percent_max is not None:
        conditions.append(f"f.cents <= {int((percent_max * 100).to_integral_value(ROUND_FLOOR))}")
    where = " AND ".join(conditions) or "1 = 1"
    return (
        f"(SELECT f.cg_id FROM ({_contributor_figures(account_id, date_range, postgres)}) f "
        f"WHERE {where})"
    )


def goal_percent_key(date_range: DateRange, *, descending: bool) -> str:
    """A parenthesised scalar subquery, correlated with the listed ``goal`` row: its range
    percent in cents by ``domain.rollup.goal_level``'s rules, or ``NULL_PERCENT_KEY`` (negated
    when descending) so that goals without a percent come last either way."""
    postgres = _postgres()
    totals = _milestone_totals('cg.goal_id = "goal"."id"', date_range, postgres)
    average = _average("min(r.gtype)")
    counted = "sum(CASE WHEN r.c > 0 THEN 1 ELSE 0 END)"
    if postgres:
        means = f"sum(CASE WHEN r.c > 0 THEN div(r.s * {_SCALE}, r.c) END)"
        scale = f" * {_SCALE}"
    else:
        means = "sum(CASE WHEN r.c > 0 THEN CAST(r.s AS REAL) / r.c END)"
        scale = ""
    # Sums: value = sum(v), target = sum(t). Averages: value = the mean of s/c over the k
    # contributor goals with a value, target = sum(t) / (n * K): percent = sum(t) * k over
    # n * K * (the sum of the means).
    shaped = (
        f"SELECT {average} AS average, "
        f"CASE WHEN {average} THEN {counted} > 0 ELSE sum(r.v_known) > 0 END AS known, "
        f"CASE WHEN {average} THEN sum(r.t) * {counted}{scale} ELSE sum(r.v) END AS p, "
        f"CASE WHEN {average} THEN max(r.n) * count(*) * {means} ELSE sum(r.t) END AS q "
        f"FROM ({totals}) r"
    )
    cents = _cents("y.p", "y.q", postgres)
    if not postgres:
        # The means are doubles here: nudged up by far less than a cent and more than a
        # double's error, so that a quotient exactly on a half cent still rounds up.
        real = "CAST(abs(y.p) AS REAL) * 10000 / abs(y.q) * (1 + 1e-12) + 0.5"
        sign = "(CASE WHEN (y.p < 0) <> (y.q < 0) THEN -1 ELSE 1 END)"
        cents = f"(CASE WHEN y.average THEN {sign} * CAST({real} AS INTEGER) ELSE {cents} END)"
    null_key = -NULL_PERCENT_KEY if descending else NULL_PERCENT_KEY
    return (
        f"(SELECT COALESCE(CASE WHEN y.known AND y.q <> 0 THEN {cents} END, {null_key}) "
        f"FROM ({shaped}) y)"
    )


def percent_of_key(key: int) -> Decimal | None:
    """The percent a goal was ordered by, from its key."""
    return None if abs(key) == NULL_PERCENT_KEY else Decimal(key).scaleb(-2)


def key_of_percent(percent: Decimal | None, *, descending: bool) -> int:
    """The key of a position given as a percent (from a cursor). Beyond any real percent it is
    held just inside the null keys, which keeps its place and a bound both backends take."""
    if percent is None:
        return -NULL_PERCENT_KEY if descending else NULL_PERCENT_KEY
    key = int((percent * 100).to_integral_value())
    return max(-NULL_PERCENT_KEY + 1, min(NULL_PERCENT_KEY - 1, key))

"""The SQL form of ordering goals by their pace ratio (``domain.pace``).

Pace is stored by the refresh (``domain.pace_rollup``) and shows only while the goal is
IN_PROGRESS on the reader's date (``domain.pace.pace_shown``). Ratios are ordered as whole
ten-thousandths: PostgreSQL's numeric scaled, SQLite's stored text read as an integer
(``range_sql.units``), so both backends order exactly alike.
"""

from datetime import date
from decimal import Decimal

from domain.goals.range_sql import day_literal, units
from domain.sql import connection, is_postgres

# Ten-thousandths, orders of magnitude beyond any stored ratio: where a goal without one sorts.
NULL_RATIO_KEY = 9 * 10**18
RATIO_SCALE = 10_000


def goal_pace_key(today: date, *, descending: bool) -> str:
    """An expression over the listed ``goal`` row: its pace ratio in ten-thousandths while its
    pace shows on ``today``, else ``NULL_RATIO_KEY`` (negated when descending) so that goals
    without a ratio come last either way."""
    postgres = is_postgres(connection())
    day = day_literal(today, postgres)
    ratio = '"goal"."pace_ratio"'
    key = f"CAST({ratio} * {RATIO_SCALE} AS BIGINT)" if postgres else units(ratio, False)
    null_key = -NULL_RATIO_KEY if descending else NULL_RATIO_KEY
    shown = f'"goal"."start_date" <= {day} AND "goal"."end_date" >= {day}'
    return f"(CASE WHEN {shown} AND {ratio} IS NOT NULL THEN {key} ELSE {null_key} END)"


def ratio_of_key(key: int) -> Decimal | None:
    """The ratio a goal was ordered by, from its key."""
    return None if abs(key) == NULL_RATIO_KEY else Decimal(key).scaleb(-4)


def key_of_ratio(ratio: Decimal | None, *, descending: bool) -> int:
    """The key of a position given as a ratio (from a cursor), held inside the null keys."""
    if ratio is None:
        return -NULL_RATIO_KEY if descending else NULL_RATIO_KEY
    key = int((ratio * RATIO_SCALE).to_integral_value())
    return max(-NULL_RATIO_KEY + 1, min(NULL_RATIO_KEY - 1, key))

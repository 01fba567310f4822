"""Benchmark of the progress refresh on PostgreSQL against the best bare SQL for the same numbers.

    python -m bench.refresh --tickets 1000000 2000000

For each size: rebuilds the database (default ``goals_bench``), generates with set-based SQL an
account of 2,000 users and 400 teams, 10,000 contributor goals (100 goals of five types, one or
two pipelines each, 90 users and 10 teams each) x 12 monthly milestones, the tickets and a fifth
as many deals; then times the first full refresh (every milestone computed and written, in a
fresh process whose peak RSS is reported) and a hand-written query computing the same values,
checks that both agree, and prints a table.

With ``--freeze``, the same account then meets the refreshes that make milestones final, each in
a fresh process: one after the end of January (a month's milestones freeze), and, with every
milestone live again, one after the end of the year (all milestones and contributor goals
freeze at once); every goal notifies MILESTONE_ACHIEVED, MILESTONE_MISSED and GOAL_COMPLETED,
so each prints the outcomes recorded, the time spent recording them, the outbox rows written
and peak RSS. The year's outcomes are then recorded a second time, which must add no row.
"""

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/goals_bench"
DEFAULT_NOW = "2024-01-20T03:00:00+00:00"
# More than 24 hours after the end of January, and after the end of the year.
MONTH_END_NOW = "2024-02-02T03:00:00+00:00"
YEAR_END_NOW = "2025-01-02T03:00:00+00:00"
USERS = 2000
TEAMS = 400
TEAM_SIZE = 5
GOALS = 100
USERS_PER_GOAL = 90
TEAMS_PER_GOAL = 10
TYPES = [
    "CLOSED_TICKETS",
    "AVG_TICKET_RESPONSE_TIME",
    "AVG_TICKET_RESOLUTION_TIME",
    "REVENUE",
    "DEALS_CREATED",
]


def _dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def _recreate_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(_dsn(url.rsplit("/", 1)[0] + "/postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    from domain.db import migrate_db

    await migrate_db(url)


GENERATE = """
INSERT INTO account (id, name, timezone, fiscal_year_start_month, currency, created_at)
VALUES (1, 'Bench', 'UTC', 1, 'USD', now());

INSERT INTO app_user (id, account_id, external_id, email, name, seat, goal_permission, is_admin,
                      active, created_at)
SELECT g, 1, 'u' || g, 'u' || g || '@bench.test', 'User ' || g, 'PAID', 'OWN', false, true, now()
FROM generate_series(1, {users}) g;

INSERT INTO team (id, account_id, external_id, name, created_at)
SELECT g, 1, 't' || g, 'Team ' || g, now() FROM generate_series(1, {teams}) g;

INSERT INTO team_membership (account_id, team_id, user_id)
SELECT 1, t, ((t - 1) * {team_size} + j) % {users} + 1
FROM generate_series(1, {teams}) t, generate_series(0, {team_size} - 1) j;

INSERT INTO pipeline (id, account_id, external_id, object_type, name) VALUES
  (1, 1, 'p1', 'TICKET', 'Support'), (2, 1, 'p2', 'TICKET', 'Escalations'),
  (3, 1, 'p3', 'TICKET', 'Billing'), (4, 1, 'p4', 'DEAL', 'New business'),
  (5, 1, 'p5', 'DEAL', 'Renewals');

INSERT INTO goal (id, account_id, name, category, type, start_date, end_date, milestone_period,
                  align_to_fiscal_year, notify, created_at, updated_at, target)
SELECT g, 1, 'Goal ' || g,
       CASE WHEN g % 5 < 3 THEN 'SERVICE' ELSE 'SALES' END,
       (ARRAY{types})[g % 5 + 1],
       '2024-01-01', '2024-12-31', 'MONTHLY', false,
       '["MILESTONE_ACHIEVED", "MILESTONE_MISSED", "GOAL_COMPLETED"]', now(), now(), 0
FROM generate_series(1, {goals}) g;

-- Ticket goals take pipeline 1 (and 2 for every other goal); deal goals 4 (and 5).
INSERT INTO goal_pipeline (goal_id, pipeline_id)
SELECT g.id, p FROM goal g,
  LATERAL (SELECT CASE WHEN g.category = 'SERVICE' THEN 1 ELSE 4 END AS p
           UNION ALL
           SELECT CASE WHEN g.category = 'SERVICE' THEN 2 ELSE 5 END WHERE g.id % 2 = 0) x;

INSERT INTO contributor_goal (account_id, goal_id, user_id, team_id, created_at, target, final)
SELECT 1, g, ((g * {users_per_goal} + k) % {users}) + 1, NULL, now(), 0, false
FROM generate_series(1, {goals}) g, generate_series(0, {users_per_goal} - 1) k
UNION ALL
SELECT 1, g, NULL, ((g * {teams_per_goal} + k) % {teams}) + 1, now(), 0, false
FROM generate_series(1, {goals}) g, generate_series(0, {teams_per_goal} - 1) k;

INSERT INTO milestone (contributor_goal_id, "index", start_date, end_date, target, final)
SELECT cg.id, i, (date '2024-01-01' + make_interval(months => i))::date,
       (date '2024-01-01' + make_interval(months => i + 1) - interval '1 day')::date,
       (10 + (cg.id + i) % 50) * CASE WHEN g.type = 'REVENUE' THEN 1000 ELSE 1 END, false
FROM contributor_goal cg JOIN goal g ON g.id = cg.goal_id, generate_series(0, 11) i;

INSERT INTO milestone_pipeline (milestone_id, pipeline_id)
SELECT m.id, gp.pipeline_id FROM milestone m
JOIN contributor_goal cg ON cg.id = m.contributor_goal_id
JOIN goal_pipeline gp ON gp.goal_id = cg.goal_id;

SELECT setseed(0.42);

INSERT INTO ticket (account_id, external_id, pipeline_id, owner_id, created_at,
                    first_responded_at, closed_at)
SELECT 1, 't' || g, 1 + (random() * 2.999)::int % 3, 1 + (random() * ({users} - 1))::int,
       created,
       CASE WHEN random() < 0.7 THEN created + random() * interval '1 day' END,
       CASE WHEN random() < 0.8 THEN created + random() * interval '10 days' END
FROM (SELECT g, timestamptz '2024-01-01' + random() * interval '366 days' AS created
      FROM generate_series(1, {tickets}) g) s;

INSERT INTO deal (account_id, external_id, pipeline_id, owner_id, amount, created_at,
                  closed_won_at)
SELECT 1, 'd' || g, 4 + (random() < 0.5)::int, 1 + (random() * ({users} - 1))::int,
       round((random() * 10000)::numeric, 2), created,
       CASE WHEN random() < 0.3 THEN created + random() * interval '30 days' END
FROM (SELECT g, timestamptz '2024-01-01' + random() * interval '366 days' AS created
      FROM generate_series(1, {deals}) g) s;
"""


async def _generate(url: str, tickets: int, deals: int, *, analyze: bool = True) -> None:
    conn = await asyncpg.connect(_dsn(url))
    try:
        types = "[" + ", ".join(f"'{t}'" for t in TYPES) + "]"
        await conn.execute(
            GENERATE.format(
                users=USERS,
                teams=TEAMS,
                team_size=TEAM_SIZE,
                goals=GOALS,
                users_per_goal=USERS_PER_GOAL,
                teams_per_goal=TEAMS_PER_GOAL,
                types=types,
                tickets=tickets,
                deals=deals,
            )
        )
        for table in ("app_user", "team", "goal", "contributor_goal", "milestone"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        if analyze:
            await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


# The hand-written reference: records bucketed once by month with width_bucket, grouped by
# (owner, pipeline, month); team members summed once per team; milestones joined on the
# month (their index). Same value rules as the refresh.
BARE_SQL = """
CREATE TEMP TABLE bare AS
WITH b AS (
    SELECT array_agg(d ORDER BY d) AS arr
    FROM generate_series(timestamptz '2024-01-01', timestamptz '2025-01-01', interval '1 month') d
),
facts AS (
    SELECT 1 AS metric, owner_id, pipeline_id, width_bucket(closed_at, b.arr) AS k,
           count(*) AS cnt, sum(extract(epoch FROM closed_at - created_at)) AS total
    FROM ticket, b
    WHERE account_id = 1 AND closed_at >= '2024-01-01' AND closed_at < '2025-01-01'
    GROUP BY 2, 3, 4
    UNION ALL
    SELECT 2, owner_id, pipeline_id, width_bucket(created_at, b.arr),
           count(*), sum(extract(epoch FROM first_responded_at - created_at))
    FROM ticket, b
    WHERE account_id = 1 AND created_at >= '2024-01-01' AND created_at < '2025-01-01'
      AND first_responded_at IS NOT NULL
    GROUP BY 2, 3, 4
    UNION ALL
    SELECT 3, owner_id, pipeline_id, width_bucket(closed_won_at, b.arr), count(*), sum(amount)
    FROM deal, b
    WHERE account_id = 1 AND closed_won_at >= '2024-01-01' AND closed_won_at < '2025-01-01'
    GROUP BY 2, 3, 4
    UNION ALL
    SELECT 4, owner_id, pipeline_id, width_bucket(created_at, b.arr), count(*), 0
    FROM deal, b
    WHERE account_id = 1 AND created_at >= '2024-01-01' AND created_at < '2025-01-01'
    GROUP BY 2, 3, 4
),
team_facts AS (
    SELECT f.metric, tm.team_id, f.pipeline_id, f.k, sum(f.cnt) AS cnt, sum(f.total) AS total
    FROM facts f JOIN team_membership tm ON tm.user_id = f.owner_id
    GROUP BY 1, 2, 3, 4
),
ms AS (
    SELECT m.id, cg.user_id, cg.team_id, g.type, m."index" + 1 AS k,
           CASE g.type WHEN 'CLOSED_TICKETS' THEN 1 WHEN 'AVG_TICKET_RESOLUTION_TIME' THEN 1
                WHEN 'AVG_TICKET_RESPONSE_TIME' THEN 2 WHEN 'REVENUE' THEN 3 ELSE 4 END AS metric
    FROM milestone m JOIN contributor_goal cg ON cg.id = m.contributor_goal_id
    JOIN goal g ON g.id = cg.goal_id
    WHERE cg.account_id = 1
),
agg AS (
    SELECT ms.id, sum(f.cnt) AS cnt, sum(f.total) AS total
    FROM ms JOIN milestone_pipeline mp ON mp.milestone_id = ms.id
    JOIN facts f ON f.metric = ms.metric AND f.owner_id = ms.user_id
                AND f.pipeline_id = mp.pipeline_id AND f.k = ms.k
    GROUP BY ms.id
    UNION ALL
    SELECT ms.id, sum(f.cnt), sum(f.total)
    FROM ms JOIN milestone_pipeline mp ON mp.milestone_id = ms.id
    JOIN team_facts f ON f.metric = ms.metric AND f.team_id = ms.team_id
                     AND f.pipeline_id = mp.pipeline_id AND f.k = ms.k
    GROUP BY ms.id
)
SELECT ms.id,
       CASE WHEN ms.type IN ('CLOSED_TICKETS', 'DEALS_CREATED') THEN COALESCE(a.cnt, 0)::numeric
            WHEN ms.type = 'REVENUE' THEN COALESCE(a.total, 0)
            WHEN COALESCE(a.cnt, 0) = 0 THEN NULL
            ELSE round(a.total / a.cnt, 4) END AS value
FROM ms LEFT JOIN agg a ON a.id = ms.id
"""

COMPARE_SQL = """
SELECT count(*) FILTER (WHERE m.value IS DISTINCT FROM b.value), count(*),
       count(*) FILTER (WHERE m.value IS NOT NULL AND m.value <> 0)
FROM milestone m JOIN bare b ON b.id = m.id
"""


async def _bare(url: str) -> tuple[float, int, int, int]:
    conn = await asyncpg.connect(_dsn(url))
    try:
        # The same session settings as the refresh gives itself.
        await conn.execute("SET jit = off; SET work_mem = '64MB'")
        started = time.perf_counter()
        await conn.execute(BARE_SQL)
        elapsed = time.perf_counter() - started
        mismatched, compared, nonzero = await conn.fetchrow(COMPARE_SQL)
        return elapsed, mismatched, compared, nonzero
    finally:
        await conn.close()


async def _refresh_in_this_process(url: str, now: str, record_again: bool) -> dict[str, Any]:
    from tortoise.transactions import in_transaction

    from domain.db import close_db, init_db
    from domain.models import Notification
    from domain.notifications import outbox
    from domain.progress import refresh_account

    recording: list[float] = []
    record_outcomes = outbox.record_outcomes

    async def timed_record_outcomes(
        account_id: int, outcomes: Sequence[outbox.Outcome]
    ) -> list[int]:
        started = time.perf_counter()
        try:
            return await record_outcomes(account_id, outcomes)
        finally:
            recording.append(time.perf_counter() - started)

    outbox.record_outcomes = timed_record_outcomes  # type: ignore[assignment]
    await init_db(url)
    try:
        started = time.perf_counter()
        result = await refresh_account(1, now=datetime.fromisoformat(now))
        elapsed = time.perf_counter() - started
        again: dict[str, Any] = {}
        if record_again and result.outcomes:
            before = await Notification.all().count()
            started = time.perf_counter()
            async with in_transaction():
                new_ids = await record_outcomes(1, result.outcomes)
            again = {
                "again_seconds": time.perf_counter() - started,
                "again_ids": len(new_ids),
                "again_rows": await Notification.all().count() - before,
            }
    finally:
        await close_db()
    return {
        "seconds": elapsed,
        "computed": result.milestones_computed,
        "changed": result.milestones_changed,
        "finalized": result.milestones_finalized,
        "outcomes": len(result.outcomes),
        "recording_seconds": sum(recording),
        "to_deliver": len(result.notification_ids),
        # Linux reports kilobytes.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **again,
    }


def _refresh_in_fresh_process(
    url: str, now: str, record_again: bool = False, timeout: float | None = None
) -> dict[str, Any]:
    """A new process, as a worker would be, so its peak memory is the refresh's own. Past
    ``timeout`` seconds the process is killed and subprocess.TimeoutExpired raised."""
    command = [sys.executable, "-m", "bench.refresh", "--child", "--database-url", url]
    command += ["--now", now, *(["--record-again"] if record_again else [])]
    output = subprocess.run(
        command, check=True, capture_output=True, text=True, timeout=timeout
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


async def _outbox_rows(url: str) -> int:
    conn = await asyncpg.connect(_dsn(url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM notification"))
    finally:
        await conn.close()


async def _make_live_again(url: str) -> None:
    """Every milestone and contributor goal live again, and an empty outbox."""
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute(
            "UPDATE milestone SET final = false; UPDATE contributor_goal SET final = false; "
            "TRUNCATE notification"
        )
        await conn.execute("VACUUM ANALYZE milestone, contributor_goal, notification")
    finally:
        await conn.close()


def _freeze_cases(url: str) -> list[tuple[str, dict[str, Any], int]]:
    """(case, the refresh's numbers, outbox rows after it) for a month's and a year's freeze."""
    cases = []
    month = _refresh_in_fresh_process(url, MONTH_END_NOW)
    cases.append(("month end", month, asyncio.run(_outbox_rows(url))))
    asyncio.run(_make_live_again(url))
    year = _refresh_in_fresh_process(url, YEAR_END_NOW, record_again=True)
    rows = asyncio.run(_outbox_rows(url))
    cases.append(("year end", year, rows))
    if "again_seconds" in year:
        again = {
            "seconds": year["again_seconds"],
            "finalized": 0,
            "outcomes": year["outcomes"],
            "recording_seconds": year["again_seconds"],
            "to_deliver": year["again_ids"],
            "peak_rss_mb": year["peak_rss_mb"],
        }
        cases.append(("year again", again, year["again_rows"]))
    return cases


def _print_freeze_table(tickets: int, cases: list[tuple[str, dict[str, Any], int]]) -> None:
    header = (
        f"{'tickets':>10} {'case':<10} {'finalized':>9} {'outcomes':>8} {'refresh s':>9} "
        f"{'recording s':>11} {'rows':>8} {'to deliver':>10} {'peak RSS MB':>11}"
    )
    print()
    print(header)
    print("-" * len(header))
    for case, numbers, rows in cases:
        print(
            f"{tickets:>10,} {case:<10} {numbers['finalized']:>9,} {numbers['outcomes']:>8,} "
            f"{numbers['seconds']:>9.2f} {numbers['recording_seconds']:>11.2f} {rows:>8,} "
            f"{numbers['to_deliver']:>10,} {numbers['peak_rss_mb']:>11.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tickets",
        type=int,
        nargs="+",
        help="sizes to build (default: 1,000,000 and 2,000,000; with --cold-stats 1,000,000)",
    )
    parser.add_argument("--deals-per-ticket", type=float, default=0.2)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--now", default=DEFAULT_NOW, help="the refresh's clock (ISO 8601)")
    parser.add_argument(
        "--freeze",
        action="store_true",
        help="then time the refreshes that freeze a month and a whole year, with notifications",
    )
    parser.add_argument(
        "--cold-stats",
        action="store_true",
        help="instead: the first refresh of never-analysed tables against the same after ANALYZE, "
        "at a 36,000-milestone account and at each --tickets size (see bench/cold_stats.py)",
    )
    parser.add_argument(
        "--limit-seconds",
        type=float,
        default=600,
        help="with --cold-stats: stop a refresh after this long (%(default)s)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--record-again", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        numbers = _refresh_in_this_process(args.database_url, args.now, args.record_again)
        print(json.dumps(asyncio.run(numbers)))
        return
    if args.cold_stats:
        from bench import cold_stats

        tickets = args.tickets or [1_000_000]
        cold_stats.run(
            args.database_url, tickets, args.deals_per_ticket, args.now, args.limit_seconds
        )
        return
    args.tickets = args.tickets or [1_000_000, 2_000_000]

    rows = []
    freezes = []
    for tickets in args.tickets:
        deals = int(tickets * args.deals_per_ticket)
        print(f"generating {tickets:,} tickets and {deals:,} deals ...", file=sys.stderr)
        asyncio.run(_recreate_database(args.database_url))
        asyncio.run(_generate(args.database_url, tickets, deals))
        refresh = _refresh_in_fresh_process(args.database_url, args.now)
        bare_seconds, mismatched, compared, nonzero = asyncio.run(_bare(args.database_url))
        rows.append((tickets, deals, refresh, bare_seconds, mismatched, compared, nonzero))
        if args.freeze:
            freezes.append((tickets, _freeze_cases(args.database_url)))

    header = (
        f"{'tickets':>10} {'deals':>8} {'milestones':>10} {'refresh s':>10} {'bare SQL s':>10} "
        f"{'ratio':>6} {'peak RSS MB':>11} {'mismatches':>10}"
    )
    print(header)
    print("-" * len(header))
    for tickets, deals, refresh, bare_seconds, mismatched, compared, _nonzero in rows:
        print(
            f"{tickets:>10,} {deals:>8,} {refresh['computed']:>10,} {refresh['seconds']:>10.2f} "
            f"{bare_seconds:>10.2f} {refresh['seconds'] / bare_seconds:>6.2f} "
            f"{refresh['peak_rss_mb']:>11.0f} {mismatched:>6}/{compared}"
        )
    if len(rows) > 1:
        print(
            f"\n{rows[-1][0]:,} vs {rows[0][0]:,} tickets: refresh takes "
            f"{rows[-1][2]['seconds'] / rows[0][2]['seconds']:.2f}x as long"
        )
    for tickets, cases in freezes:
        _print_freeze_table(tickets, cases)


if __name__ == "__main__":
    main()

"""The first refresh of a freshly loaded database whose tables were never analysed, against the
same refresh after ANALYZE (``python -m bench.refresh --cold-stats``).

For each size the data is loaded once, without ANALYZE, into the benchmark database, and a
second database is copied from it (``CREATE DATABASE ... TEMPLATE``), so that both start from
the same pages. The first gets its first refresh as loaded ("never analysed"); the second is
analysed, then refreshed. Each refresh runs in a fresh process, as a worker's job would, and is
stopped after ``--limit-seconds``.

The sizes: ``account``, shaped like an account built through the API (200 users, 40 teams of
five, 1,000 goals x 3 contributors x 12 monthly milestones = 36,000 milestones, 20,000 tickets
and 5,000 deals over the first half of the year), refreshed in July, so that the first half's
milestones become final; and the ticket counts of ``--tickets``, the account of
``bench/refresh`` (120,000 milestones).
"""

import asyncio
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import asyncpg

from bench.refresh import _dsn, _generate, _recreate_database, _refresh_in_fresh_process

ACCOUNT_NOW = "2024-07-10T03:00:00+00:00"

# The account as the API writes it: one goal per createGoal (1 or 2 pipelines, two users and a
# team as contributors, a target per month), the records as upsertTickets/upsertDeals store them.
# Goals announce assignments only, so that the outbox (whose time does not hang on statistics)
# does not dilute the comparison.
ACCOUNT_SQL = """
INSERT INTO account (id, name, timezone, fiscal_year_start_month, currency, created_at)
VALUES (1, 'Northwind', 'Europe/Berlin', 1, 'USD', now());

INSERT INTO app_user (id, account_id, external_id, email, name, seat, goal_permission, is_admin,
                      active, created_at)
SELECT g, 1, 'u' || g, 'u' || g || '@northwind.test', 'User ' || g, 'PAID', 'OWN', g = 1, true,
       now()
FROM generate_series(1, 200) g;

INSERT INTO team (id, account_id, external_id, name, created_at)
SELECT g, 1, 't' || g, 'Team ' || g, now() FROM generate_series(1, 40) g;

INSERT INTO team_membership (account_id, team_id, user_id)
SELECT 1, t, (t - 1) * 5 + j FROM generate_series(1, 40) t, generate_series(1, 5) j;

INSERT INTO pipeline (id, account_id, external_id, object_type, name) VALUES
  (1, 1, 'p1', 'TICKET', 'Support'), (2, 1, 'p2', 'TICKET', 'Escalations'),
  (3, 1, 'p3', 'TICKET', 'Billing'), (4, 1, 'p4', 'DEAL', 'New business'),
  (5, 1, 'p5', 'DEAL', 'Renewals');

INSERT INTO goal (id, account_id, name, category, type, start_date, end_date, milestone_period,
                  align_to_fiscal_year, notify, created_by_id, created_at, updated_at, target)
SELECT g, 1, 'Goal ' || g,
       CASE WHEN g % 5 < 3 THEN 'SERVICE' ELSE 'SALES' END,
       (ARRAY['CLOSED_TICKETS', 'AVG_TICKET_RESPONSE_TIME', 'AVG_TICKET_RESOLUTION_TIME',
              'REVENUE', 'DEALS_CREATED'])[g % 5 + 1],
       '2024-01-01', '2024-12-31', 'MONTHLY', false,
       '["GOAL_ASSIGNED"]', 1,
       now(), now(), 0
FROM generate_series(1, 1000) g;

INSERT INTO goal_pipeline (goal_id, pipeline_id)
SELECT g.id, p FROM goal g,
  LATERAL (SELECT CASE WHEN g.category = 'SERVICE' THEN 1 + g.id % 3 ELSE 4 END AS p
           UNION ALL
           SELECT CASE WHEN g.category = 'SERVICE' THEN 1 + (g.id + 1) % 3 ELSE 5 END
           WHERE g.id % 2 = 0) x;

INSERT INTO contributor_goal (account_id, goal_id, user_id, team_id, created_at, target, final)
SELECT 1, g, CASE WHEN k < 2 THEN (g * 7 + k * 101) % 200 + 1 END,
       CASE WHEN k = 2 THEN g % 40 + 1 END, now(), 0, false
FROM generate_series(1, 1000) g, generate_series(0, 2) k
ORDER BY g, k;

INSERT INTO milestone (contributor_goal_id, "index", start_date, end_date, target, final)
SELECT cg.id, i, (date '2024-01-01' + make_interval(months => i))::date,
       (date '2024-01-01' + make_interval(months => i + 1) - interval '1 day')::date,
       CASE WHEN g.type = 'REVENUE' THEN 5000
            WHEN g.type LIKE 'AVG%' THEN 36000 ELSE 10 END, false
FROM contributor_goal cg JOIN goal g ON g.id = cg.goal_id, generate_series(0, 11) i
ORDER BY cg.id, i;

INSERT INTO milestone_pipeline (milestone_id, pipeline_id)
SELECT m.id, gp.pipeline_id FROM milestone m
JOIN contributor_goal cg ON cg.id = m.contributor_goal_id
JOIN goal_pipeline gp ON gp.goal_id = cg.goal_id
ORDER BY m.id, gp.pipeline_id;

SELECT setseed(0.42);

INSERT INTO ticket (account_id, external_id, pipeline_id, owner_id, created_at,
                    first_responded_at, closed_at)
SELECT 1, 't' || g, 1 + (random() * 2.999)::int % 3, 1 + (random() * 199)::int,
       created,
       CASE WHEN random() < 0.7 THEN created + random() * interval '1 day' END,
       CASE WHEN random() < 0.8 THEN created + random() * interval '10 days' END
FROM (SELECT g, timestamptz '2024-01-01' + random() * interval '190 days' AS created
      FROM generate_series(1, 20000) g) s;

INSERT INTO deal (account_id, external_id, pipeline_id, owner_id, amount, created_at,
                  closed_won_at)
SELECT 1, 'd' || g, 4 + (random() < 0.5)::int, 1 + (random() * 199)::int,
       round((random() * 10000)::numeric, 2), created,
       CASE WHEN random() < 0.3 THEN created + random() * interval '30 days' END
FROM (SELECT g, timestamptz '2024-01-01' + random() * interval '190 days' AS created
      FROM generate_series(1, 5000) g) s;
"""

SEQUENCES = ("app_user", "team", "goal", "contributor_goal", "milestone")


@dataclass
class Case:
    size: str
    milestones: int
    never_analysed: float | None  # None: stopped at the limit
    analysed: float | None


async def _load_account(url: str) -> None:
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute(ACCOUNT_SQL)
        for table in SEQUENCES:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    finally:
        await conn.close()


async def _admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(_dsn(url.rsplit("/", 1)[0] + "/postgres"))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def _name(url: str) -> str:
    return url.rsplit("/", 1)[1]


async def _copy(url: str, copy_url: str) -> None:
    await _admin(
        url,
        f'DROP DATABASE IF EXISTS "{_name(copy_url)}" WITH (FORCE)',
        f'CREATE DATABASE "{_name(copy_url)}" TEMPLATE "{_name(url)}"',
    )


async def _analyze(url: str) -> None:
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def _first_refresh(url: str, now: str, limit: float) -> tuple[float | None, int]:
    """(seconds, milestones computed) of the refresh; (None, 0) when stopped at the limit,
    after which the database's connections are ended, so that no statement keeps running."""
    try:
        numbers = _refresh_in_fresh_process(url, now, timeout=limit)
    except subprocess.TimeoutExpired:
        asyncio.run(
            _admin(
                url,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{_name(url)}'",
            )
        )
        return None, 0
    return numbers["seconds"], numbers["computed"]


def measure(url: str, size: str, load: Any, now: str, limit: float) -> Case:
    print(f"{size}: loading, no ANALYZE ...", file=sys.stderr)
    asyncio.run(_recreate_database(url))
    asyncio.run(load(url))
    copy_url = f"{url}_analysed"
    asyncio.run(_copy(url, copy_url))
    try:
        cold, computed = _first_refresh(url, now, limit)
        asyncio.run(_analyze(copy_url))
        warm, computed_warm = _first_refresh(copy_url, now, limit)
    finally:
        asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{_name(copy_url)}" WITH (FORCE)'))
    return Case(size, computed or computed_warm, cold, warm)


def run(url: str, tickets: list[int], deals_per_ticket: float, now: str, limit: float) -> None:
    cases = [measure(url, "account", _load_account, ACCOUNT_NOW, limit)]
    for count in tickets:
        deals = int(count * deals_per_ticket)

        async def load(target: str, count: int = count, deals: int = deals) -> None:
            await _generate(target, count, deals, analyze=False)

        cases.append(measure(url, f"{count:,} tickets", load, now, limit))
    print_table(cases, limit)


def _seconds(value: float | None, limit: float) -> str:
    return f"{value:.2f}" if value is not None else f">{limit:g}"


def print_table(cases: list[Case], limit: float) -> None:
    header = (
        f"{'size':<18} {'milestones':>10} {'never analysed s':>16} {'after ANALYZE s':>15} "
        f"{'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for case in cases:
        if case.never_analysed is not None and case.analysed:
            ratio = f"{case.never_analysed / case.analysed:.2f}"
        elif case.analysed:
            ratio = f">{limit / case.analysed:.0f}"
        else:
            ratio = "-"
        print(
            f"{case.size:<18} {case.milestones:>10,} "
            f"{_seconds(case.never_analysed, limit):>16} {_seconds(case.analysed, limit):>15} "
            f"{ratio:>6}"
        )

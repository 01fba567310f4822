"""Benchmark of the contributor picker on PostgreSQL, with and without its trigram indexes.

    python -m bench.picker --users 100000

Rebuilds the database (default ``goals_bench``) through the committed migrations, generates with
set-based SQL an account of that many users (names from common first and last names, emails on
a few hundred company domains, one in eight on a FREE seat, one in 23 deactivated) and a
fiftieth as many teams, then runs the client's ``PickContributors`` operation in-process through
the schema, as the demo admin would, for a few searches: each is timed over ``--runs`` runs
(the median, after a warm-up run) with the indexes of migration 0002, then again after dropping
them (and the indexes are put back). Prints a table of the matches and the two timings.
"""

import argparse
import asyncio
import statistics
import sys
import time
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from bench.refresh import DEFAULT_URL, _dsn, _recreate_database

# (what the person types, why)
SEARCHES = [
    ("maria", "a common first name"),
    ("garcia", "a common last name"),
    ("zyx", "nothing matches"),
    ("acme42.example", "part of an email domain"),
    ("user77777", "one email"),
    ("an", "two letters: most users"),
]
FIRST = [
    "Maria", "James", "Anna", "John", "Sofia", "David", "Emma", "Lucas", "Olivia", "Noah",
    "Mia", "Liam", "Ava", "Ethan", "Zoe", "Mateo", "Hana", "Omar", "Lena", "Ivan",
]  # fmt: skip
LAST = [
    "Garcia", "Smith", "Muller", "Rossi", "Kowalski", "Nguyen", "Silva", "Johnson", "Martin",
    "Novak", "Jensen", "Tanaka", "Dubois", "Schmidt", "Larsen", "Costa", "Horvat", "Peeters",
    "Lopez", "Brown",
]  # fmt: skip


ACCOUNT = """
INSERT INTO account (id, name, timezone, fiscal_year_start_month, currency, created_at)
VALUES (1, 'Bench', 'UTC', 1, 'USD', now())
"""
USERS = """
INSERT INTO app_user (id, account_id, external_id, email, name, seat, goal_permission, is_admin,
                      active, created_at)
SELECT g, 1, 'u' || g,
       lower(f.name) || '.' || lower(l.name) || '.user' || g || '@acme' || (g % 300) || '.example',
       f.name || ' ' || l.name,
       CASE WHEN g % 8 = 3 THEN 'FREE' ELSE 'PAID' END, 'ALL', g = 1, g % 23 <> 0, now()
FROM generate_series(1, $1::int) g
JOIN unnest($2::text[]) WITH ORDINALITY f(name, n) ON f.n = g % cardinality($2::text[]) + 1
JOIN unnest($3::text[]) WITH ORDINALITY l(name, n)
  ON l.n = (g / cardinality($2::text[])) % cardinality($3::text[]) + 1
"""
TEAMS = """
INSERT INTO team (id, account_id, external_id, name, created_at)
SELECT g, 1, 't' || g, l.name || ' team ' || g, now()
FROM generate_series(1, greatest($1::int / 50, 1)) g
JOIN unnest($2::text[]) WITH ORDINALITY l(name, n) ON l.n = g % cardinality($2::text[]) + 1
"""


async def _generate(url: str, users: int) -> None:
    conn = await asyncpg.connect(_dsn(url))
    try:
        async with conn.transaction():
            await conn.execute(ACCOUNT)
            await conn.execute(USERS, users, FIRST, LAST)
            await conn.execute(TEAMS, users, LAST)
        await conn.execute("ANALYZE app_user; ANALYZE team")
    finally:
        await conn.close()


async def _set_indexes(url: str, present: bool) -> None:
    """Drop the migration's trigram indexes, or create them again with its own statements."""
    import importlib

    migration = importlib.import_module("domain.migrations.0002_directory_search")
    (operation,) = migration.Migration.operations
    statements = operation.sql[1:] if present else operation.reverse_sql
    conn = await asyncpg.connect(_dsn(url))
    try:
        for statement in statements:
            await conn.execute(statement)
        await conn.execute("ANALYZE app_user; ANALYZE team")
    finally:
        await conn.close()


async def _time_searches(url: str, runs: int) -> list[tuple[str, int, int, float]]:
    """(search, users matched, teams matched, median milliseconds) per search."""
    from api.context import Context
    from api.schema import schema
    from domain.db import close_db, init_db
    from domain.models import User
    from tests.helpers import contract_operation

    document = contract_operation("PickContributors")
    await init_db(url)
    try:
        admin = await User.get(id=1).select_related("account")
        results = []
        for search, _ in SEARCHES:
            timings = []
            data: dict[str, Any] = {}
            for run in range(runs + 1):
                scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": []}
                context = Context(request=Request(scope), response=Response(), viewer=admin)
                started = time.perf_counter()
                result = await schema.execute(
                    document,
                    variable_values={"search": search, "first": 20},
                    context_value=context,
                )
                elapsed = time.perf_counter() - started
                assert not result.errors, result.errors
                data = result.data or {}
                if run:  # the first run warms caches up
                    timings.append(elapsed * 1000)
            users, teams = data["users"]["totalCount"], data["teams"]["totalCount"]
            results.append((search, users, teams, statistics.median(timings)))
        return results
    finally:
        await close_db()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per search")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()

    print(f"generating {args.users:,} users ...", file=sys.stderr)
    asyncio.run(_recreate_database(args.database_url))
    asyncio.run(_generate(args.database_url, args.users))
    indexed = asyncio.run(_time_searches(args.database_url, args.runs))
    asyncio.run(_set_indexes(args.database_url, present=False))
    try:
        bare = asyncio.run(_time_searches(args.database_url, args.runs))
    finally:
        asyncio.run(_set_indexes(args.database_url, present=True))

    header = (
        f"{'search':<16} {'what':<26} {'users':>7} {'teams':>6} {'indexed ms':>10} "
        f"{'no index ms':>11} {'ratio':>6}"
    )
    print(f"PickContributors, first 20, {args.users:,} users, median of {args.runs} runs")
    print(header)
    print("-" * len(header))
    for (search, what), with_index, without in zip(SEARCHES, indexed, bare, strict=True):
        _, users, teams, fast = with_index
        slow = without[3]
        print(
            f"{search:<16} {what:<26} {users:>7,} {teams:>6,} {fast:>10.1f} {slow:>11.1f} "
            f"{slow / fast:>6.1f}"
        )


if __name__ == "__main__":
    main()

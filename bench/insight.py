"""What pace, the records kept at a freeze and a live refresh cost, on bench/refresh's account.

    python -m bench.insight --tickets 1000000

Builds ``bench.refresh``'s account (10,000 contributor goals x 12 monthly milestones over the
given tickets and a fifth as many deals) in a PostgreSQL database of its own, then runs, each in
a fresh process as a worker's job would: the first refresh (mid-January); a live refresh after
one more ticket, five minutes later; the refresh after January's end (10,000 milestones freeze
and keep their records); and, with every milestone live again, the refresh after the year's
end (all 120,000 freeze). For each it prints the refresh's time, the part spent storing pace and
keeping records, the records kept and peak RSS.
"""

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from datetime import datetime
from typing import Any

import asyncpg

from bench.refresh import (
    DEFAULT_NOW,
    MONTH_END_NOW,
    YEAR_END_NOW,
    _dsn,
    _generate,
    _make_live_again,
    _recreate_database,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/goals_insight_bench"
LIVE_NOW = "2024-01-20T03:05:00+00:00"


async def _child(url: str, now: str, change_a_record: bool) -> dict[str, Any]:
    from domain import live, progress
    from domain.db import close_db, init_db

    spent: dict[str, float] = {"pace": 0.0, "kept": 0.0}

    def timed(name: str, work: Any) -> Any:
        async def run(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await work(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started

        return run

    progress.store_refreshed_pace = timed("pace", progress.store_refreshed_pace)  # type: ignore[assignment]
    progress.keep_records = timed("kept", progress.keep_records)  # type: ignore[assignment]
    await init_db(url)
    try:
        if change_a_record:
            from tortoise.transactions import in_transaction

            from domain.models import Ticket

            # What an upsert of one ticket does: the row, and the change counted with it.
            async with in_transaction():
                await Ticket.create(
                    account_id=1,
                    external_id="live-1",
                    pipeline_id=1,
                    owner_id=1,
                    created_at=datetime.fromisoformat("2024-01-19T10:00:00+00:00"),
                    closed_at=datetime.fromisoformat("2024-01-19T11:00:00+00:00"),
                )
                await live.mark_records_changed(1)
        started = time.perf_counter()
        due = await live.is_due(1)
        result = await progress.refresh_account(1, now=datetime.fromisoformat(now))
        seconds = time.perf_counter() - started
        still_due = await live.is_due(1)
    finally:
        await close_db()
    return {
        "seconds": seconds,
        "pace_seconds": spent["pace"],
        "kept_seconds": spent["kept"],
        "computed": result.milestones_computed,
        "changed": result.milestones_changed,
        "finalized": result.milestones_finalized,
        "due_before": due,
        "due_after": still_due,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _fresh(url: str, now: str, change_a_record: bool = False) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.insight", "--child", "--database-url", url]
    command += ["--now", now, *(["--change-a-record"] if change_a_record else [])]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


async def _kept_rows(url: str, *, clear: bool = False) -> int:
    conn = await asyncpg.connect(_dsn(url))
    try:
        rows = int(await conn.fetchval("SELECT count(*) FROM milestone_record"))
        if clear:
            await conn.execute("TRUNCATE milestone_record")
        return rows
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--deals-per-ticket", type=float, default=0.2)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--now", default=DEFAULT_NOW)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--change-a-record", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        numbers = _child(args.database_url, args.now, args.change_a_record)
        print(json.dumps(asyncio.run(numbers)))
        return
    url = args.database_url
    deals = int(args.tickets * args.deals_per_ticket)
    print(f"generating {args.tickets:,} tickets and {deals:,} deals ...", file=sys.stderr)
    asyncio.run(_recreate_database(url))
    asyncio.run(_generate(url, args.tickets, deals))
    cases = [("first refresh", _fresh(url, DEFAULT_NOW), 0)]
    cases.append(("live, 1 ticket", _fresh(url, LIVE_NOW, change_a_record=True), 0))
    month = _fresh(url, MONTH_END_NOW)
    cases.append(("month end", month, asyncio.run(_kept_rows(url, clear=True))))
    asyncio.run(_make_live_again(url))
    year = _fresh(url, YEAR_END_NOW)
    cases.append(("year end", year, asyncio.run(_kept_rows(url))))

    header = (
        f"{'case':<15} {'finalized':>9} {'changed':>8} {'refresh s':>9} {'pace s':>7} "
        f"{'kept s':>7} {'records kept':>12} {'due after':>9} {'peak RSS MB':>11}"
    )
    print(header)
    print("-" * len(header))
    for case, n, kept in cases:
        print(
            f"{case:<15} {n['finalized']:>9,} {n['changed']:>8,} {n['seconds']:>9.2f} "
            f"{n['pace_seconds']:>7.2f} {n['kept_seconds']:>7.2f} {kept:>12,} "
            f"{str(n['due_after']):>9} {n['peak_rss_mb']:>11.0f}"
        )


if __name__ == "__main__":
    main()

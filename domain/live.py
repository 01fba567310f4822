"""Live progress: record upserts make their account due a refresh within minutes instead of at
the next daily one.

Every record upsert counts a change for its account in ``live_progress``, in its own
transaction, so the mark is never lost (Redis may be down; the process may die after the
commit). A refresh of the whole account notes, before it reads anything, how many changes it
will see, and records that count when it commits; more changes than that (some committed while
it ran, or after) leave the account due. After its commit the upsert queues a live refresh,
``live-refresh:<account>:<bucket start>``, deferred to the end of the current time bucket of
``live_refresh_minutes``: every upsert of a bucket names the same job, so an account is
refreshed at most once per bucket, at its end, whichever process or worker queued it. A
periodic sweep queues the same job for every account still due, which catches what Redis lost.
The job runs ``refresh_account`` itself: freezing, snapshots and notifications are the daily
refresh's.
"""

import math
from datetime import UTC, datetime, timedelta

from domain import jobs
from domain.settings import get_settings
from domain.sql import Params, connection, is_postgres

LIVE_REFRESH_JOB = "live_refresh"


async def mark_records_changed(account_id: int) -> None:
    """Inside the transaction that upserted records: one more change for the account. Run it
    last, so the row stays locked (upserts of one account wait for each other) only until the
    commit."""
    conn = connection()
    p = Params(is_postgres(conn))
    await conn.execute_query(
        "INSERT INTO live_progress (account_id, record_changes, refreshed_changes) "
        f"VALUES ({p(account_id, 'int')}, 1, 0) ON CONFLICT (account_id) "
        "DO UPDATE SET record_changes = live_progress.record_changes + 1",
        p.values,
    )


async def changes_seen(account_id: int) -> int:
    """At the start of a refresh of the whole account: the changes it is about to see."""
    conn = connection()
    p = Params(is_postgres(conn))
    _, rows = await conn.execute_query(
        f"SELECT record_changes FROM live_progress WHERE account_id = {p(account_id, 'int')}",
        p.values,
    )
    return int(rows[0][0]) if rows else 0


async def mark_refreshed(account_id: int, seen: int) -> None:
    """At the end of that refresh, in its transaction: it saw ``seen`` changes."""
    if not seen:
        return
    conn = connection()
    p = Params(is_postgres(conn))
    await conn.execute_query(
        f"UPDATE live_progress SET refreshed_changes = {p(seen, 'bigint')} "
        f"WHERE account_id = {p(account_id, 'int')} AND refreshed_changes < {p(seen, 'bigint')}",
        p.values,
    )


async def due_accounts() -> list[int]:
    """The accounts with record changes that no refresh has seen yet."""
    _, rows = await connection().execute_query(
        "SELECT account_id FROM live_progress WHERE record_changes > refreshed_changes "
        "ORDER BY account_id"
    )
    return [int(row[0]) for row in rows]


async def is_due(account_id: int) -> bool:
    conn = connection()
    p = Params(is_postgres(conn))
    _, rows = await conn.execute_query(
        "SELECT 1 FROM live_progress WHERE record_changes > refreshed_changes "
        f"AND account_id = {p(account_id, 'int')}",
        p.values,
    )
    return bool(rows)


def bucket_start(now: datetime, minutes: float) -> datetime:
    """The start of the time bucket of ``minutes`` that ``now`` falls in (buckets are counted
    from the Unix epoch, so every process agrees on them)."""
    seconds = minutes * 60
    return datetime.fromtimestamp(math.floor(now.timestamp() / seconds) * seconds, UTC)


def live_refresh(account_id: int, now: datetime, minutes: float) -> jobs.Job:
    """The account's live refresh for the bucket of ``now``, to run at the bucket's end."""
    start = bucket_start(now, minutes)
    return jobs.Job(
        LIVE_REFRESH_JOB,
        (account_id, start.isoformat()),
        f"live-refresh:{account_id}:{start.isoformat()}",
        defer_until=start + timedelta(minutes=minutes),
    )


async def after_records_changed(account_id: int, now: datetime | None = None) -> None:
    """After the upsert's commit: queue the account's live refresh (unless turned off)."""
    minutes = get_settings().live_refresh_minutes
    if minutes > 0:
        await jobs.after_commit([live_refresh(account_id, now or datetime.now(UTC), minutes)])

"""A refresh statement that runs past GOALS_REFRESH_STATEMENT_TIMEOUT_SECONDS is cancelled by the
database; the refresh writes nothing, and its job reports the failure and is retried."""

import asyncio
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker
from prometheus_client import REGISTRY

from domain import progress
from domain.enums import GoalType, ObjectType
from domain.models import (
    Account,
    ContributorGoal,
    Goal,
    Milestone,
    Notification,
    ProgressSnapshot,
)
from domain.notifications import outbox
from domain.progress import RefreshTimeout, refresh_account
from domain.settings import get_settings
from domain.sql import connection, is_postgres
from tests.helpers import make_tenant
from tests.workers.refresh_support import create_goal, ticket, utc
from workers import refresh
from workers.refresh import REFRESH_JOB, refresh_job_id

LIMIT_SECONDS = 0.5
# Statements that run far longer than the limit unless the database stops them.
ENDLESS = {
    "postgres": "SELECT pg_sleep(60)",
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
    "SELECT count(*) FROM n",
}


@pytest.fixture
def short_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[float]:
    monkeypatch.setenv("GOALS_REFRESH_STATEMENT_TIMEOUT_SECONDS", str(LIMIT_SECONDS))
    get_settings.cache_clear()
    yield LIMIT_SECONDS
    monkeypatch.delenv("GOALS_REFRESH_STATEMENT_TIMEOUT_SECONDS")
    get_settings.cache_clear()


async def _endless_statement() -> None:
    conn = connection()
    await conn.execute_query(ENDLESS["postgres" if is_postgres(conn) else "sqlite"])


async def _account_with_progress(client) -> tuple[int, int]:
    """An account refreshed once in January, with records since; (account id, goal id)."""
    tenant = await make_tenant()
    ann = await tenant.add_user("ann")
    bob = await tenant.add_user("bob")
    support = await tenant.add_pipeline("support", ObjectType.TICKET)
    goal = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CLOSED_TICKETS,
        start="2024-01-01",
        end="2024-03-31",
        pipelines=[support],
        users=[ann, bob],
        targets=["2", "2", "2"],
    )
    await Goal.filter(id=goal.id).update(notify=["MILESTONE_ACHIEVED", "MILESTONE_MISSED"])
    await ticket(ann, support, utc(2024, 1, 2), closed=utc(2024, 1, 3))
    await refresh_account(tenant.account.id, now=utc(2024, 1, 20))
    for day in (21, 22, 23):
        await ticket(ann, support, utc(2024, 1, day), closed=utc(2024, 1, day))
        await ticket(bob, support, utc(2024, 1, day), closed=utc(2024, 1, day))
    return tenant.account.id, goal.id


async def _stored_state() -> dict[str, list[dict[str, Any]]]:
    return {
        "milestones": await Milestone.all()
        .order_by("id")
        .values("id", "value", "value_sum", "value_count", "final", "refreshed_at"),
        "contributor_goals": await ContributorGoal.all()
        .order_by("id")
        .values("id", "value", "target", "percent", "final", "refreshed_at"),
        "goals": await Goal.all().order_by("id").values("id", "value", "percent", "refreshed_at"),
        "snapshots": await ProgressSnapshot.all()
        .order_by("id")
        .values("id", "contributor_goal_id", "date", "value", "percent"),
        "outbox": await Notification.all().order_by("id").values("id", "kind", "state"),
        "accounts": await Account.all().order_by("id").values("id", "last_refresh_date"),
    }


async def test_a_cancelled_refresh_leaves_nothing_half_written(
    client, short_limit, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id, _ = await _account_with_progress(client)
    before = await _stored_state()
    record_outcomes = outbox.record_outcomes

    async def slow_record_outcomes(account: int, outcomes) -> list[int]:
        # By now the refresh has written milestone values, contributor goals and snapshots.
        await _endless_statement()
        return await record_outcomes(account, outcomes)

    monkeypatch.setattr(outbox, "record_outcomes", slow_record_outcomes)
    started = time.monotonic()
    with pytest.raises(RefreshTimeout) as raised:
        # January ended more than a day before: its milestones freeze and notify.
        await refresh_account(account_id, now=utc(2024, 2, 5))
    elapsed = time.monotonic() - started

    assert raised.value.account_id == account_id
    assert raised.value.limit_seconds == short_limit
    assert "nothing was written" in str(raised.value)
    assert elapsed < 15, elapsed
    assert await _stored_state() == before
    conn = connection()
    if is_postgres(conn):
        # Cancelled in the server, not just abandoned by this process.
        _, running = await conn.execute_query(
            "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' "
            "AND state = 'active' AND pid <> pg_backend_pid() AND datname = current_database()"
        )
        assert list(running) == []

    # Nothing is left behind on the connection: the next refresh runs and writes.
    monkeypatch.setattr(outbox, "record_outcomes", record_outcomes)
    result = await refresh_account(account_id, now=utc(2024, 2, 5))
    assert result.milestones_finalized == 2
    after = await _stored_state()
    assert after["milestones"] != before["milestones"]
    assert len(after["outbox"]) > len(before["outbox"])


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class _RecordingLog:
    """Stands in for the refresh job's structlog logger: (level, event, fields) of each line."""

    def __init__(self, events: list | None = None, **bound: Any) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = [] if events is None else events
        self.bound = bound

    def bind(self, **fields: Any) -> "_RecordingLog":
        return _RecordingLog(self.events, **self.bound, **fields)

    def __getattr__(self, level: str):
        def record(event: str, **fields: Any) -> None:
            self.events.append((level, event, {**self.bound, **fields}))

        return record


@pytest.fixture
def job_log(monkeypatch: pytest.MonkeyPatch) -> _RecordingLog:
    log = _RecordingLog()
    monkeypatch.setattr(refresh, "log", log)
    return log


async def _run_worker(redis_settings: RedisSettings) -> None:
    worker = Worker(
        functions=refresh.FUNCTIONS,
        redis_settings=redis_settings,
        burst=True,
        poll_delay=0.02,
        handle_signals=False,
        ctx={"refresh_retry_seconds": 0.05},
    )
    try:
        await asyncio.wait_for(worker.main(), timeout=60)
    finally:
        await worker.close()


async def _refresh_job(redis_settings: RedisSettings, arq_redis: ArqRedis, account_id: int):
    """Queue today's refresh of the account, run a worker until the queue is empty; the job's
    result."""
    today = date.today()
    job_id = refresh_job_id(account_id, today)
    await arq_redis.enqueue_job(REFRESH_JOB, account_id, today.isoformat(), _job_id=job_id)
    await _run_worker(redis_settings)
    (result,) = [r for r in await arq_redis.all_job_results() if r.job_id == job_id]
    return result


async def test_a_timed_out_job_is_logged_counted_and_retried(
    client, short_limit, redis_settings, arq_redis, job_log, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id, _ = await _account_with_progress(client)
    compute = progress.compute_milestone_values
    calls = 0

    async def slow_first_time(*args: Any, **kwargs: Any):
        nonlocal calls
        calls += 1
        if calls == 1:
            await _endless_statement()
        return await compute(*args, **kwargs)

    monkeypatch.setattr(progress, "compute_milestone_values", slow_first_time)
    timeouts = _sample("goals_refresh_failures_total", {"reason": "timeout"})

    result = await _refresh_job(redis_settings, arq_redis, account_id)
    assert result.success and result.result == "refreshed" and result.job_try == 2
    assert _sample("goals_refresh_failures_total", {"reason": "timeout"}) == timeouts + 1
    level, event, fields = job_log.events[0]
    assert (level, event) == ("error", "refresh timed out")
    assert fields["account_id"] == account_id
    assert fields["seconds"] >= short_limit and fields["limit_seconds"] == short_limit
    assert fields["attempt"] == 1 and fields["retry_in_seconds"] == 0.05
    assert job_log.events[1][1] == "account refreshed"
    assert (await Account.get(id=account_id)).last_refresh_date == date.today()


async def test_a_job_that_always_times_out_fails_after_its_tries(
    client, short_limit, redis_settings, arq_redis, job_log, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id, _ = await _account_with_progress(client)
    compute = progress.compute_milestone_values

    async def always_slow(*args: Any, **kwargs: Any):
        await _endless_statement()
        return await compute(*args, **kwargs)

    monkeypatch.setattr(progress, "compute_milestone_values", always_slow)
    timeouts = _sample("goals_refresh_failures_total", {"reason": "timeout"})
    timed = _sample("goals_refresh_seconds_count", {"outcome": "timeout"})

    result = await _refresh_job(redis_settings, arq_redis, account_id)
    assert not result.success and isinstance(result.result, RefreshTimeout)
    assert result.job_try == refresh.MAX_TRIES
    assert _sample("goals_refresh_failures_total", {"reason": "timeout"}) == timeouts + 3
    assert _sample("goals_refresh_seconds_count", {"outcome": "timeout"}) == timed + 3
    assert [f["attempt"] for _, _, f in job_log.events] == [1, 2, 3]
    assert [f["retry_in_seconds"] for _, _, f in job_log.events] == [0.05, 0.1, None]
    assert (await Account.get(id=account_id)).last_refresh_date == date(2024, 1, 20)

"""Live progress: an upserted record moves a number within the live interval, through a real
worker; the account stays due while Redis is away, and a refresh that missed a change leaves it
due."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker

from domain import live
from domain.enums import GoalType, ObjectType
from domain.jobs import install_job_queue
from domain.models import ProgressSnapshot
from domain.progress import refresh_account
from domain.settings import get_settings
from tests.helpers import Tenant, gid, gql, make_tenant, op
from tests.workers.refresh_support import create_goal, ticket
from workers import goal_refresh
from workers import live as live_worker
from workers.goal_refresh import ArqJobQueue

# Three seconds: long enough to see the job wait for its bucket's end, short enough to wait.
INTERVAL_MINUTES = 0.05
INTERVAL_SECONDS = INTERVAL_MINUTES * 60

PROGRESS = """query($id: ID!) { goal(id: $id) { progress { value refreshedAt } } }"""


@pytest.fixture
def live_interval(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GOALS_LIVE_REFRESH_MINUTES", str(INTERVAL_MINUTES))
    get_settings.cache_clear()
    yield INTERVAL_MINUTES
    get_settings.cache_clear()


async def run_worker(redis_settings: RedisSettings) -> None:
    """A worker with the live jobs, until nothing is queued (deferred jobs included)."""
    worker = Worker(
        functions=[*live_worker.FUNCTIONS, *goal_refresh.FUNCTIONS],
        redis_settings=redis_settings,
        burst=True,
        poll_delay=0.05,
        handle_signals=False,
    )
    try:
        await asyncio.wait_for(worker.main(), timeout=30)
    finally:
        await worker.close()


def this_month() -> tuple[str, str]:
    today = datetime.now(UTC).date()
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first.isoformat(), (following - timedelta(days=1)).isoformat()


async def live_tenant(client) -> tuple[Tenant, int]:
    """Ann's closed tickets this month, one already closed and refreshed."""
    tenant = await make_tenant()
    ann = await tenant.add_user("ann")
    support = await tenant.add_pipeline("support", ObjectType.TICKET)
    start, end = this_month()
    goal = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CLOSED_TICKETS,
        start=start,
        end=end,
        pipelines=[support],
        users=[ann],
    )
    moment = datetime.now(UTC) - timedelta(minutes=1)
    await ticket(ann, support, moment, closed=moment)
    await refresh_account(tenant.account.id)
    return tenant, goal.id


async def upsert_ticket(client, tenant: Tenant, external_id: str) -> None:
    moment = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    data = await op(
        client,
        tenant.admin_token,
        "UpsertTickets",
        {
            "items": [
                {
                    "externalId": external_id,
                    "pipelineExternalId": "ext-support",
                    "ownerExternalId": "ext-ann",
                    "createdAt": moment,
                    "closedAt": moment,
                }
            ]
        },
    )
    assert data["upsertTickets"]["userErrors"] == []


async def value_of(client, tenant: Tenant, goal_id: int) -> str:
    data = await gql(client, tenant.admin_token, PROGRESS, {"id": gid("Goal", goal_id)})
    return data["data"]["goal"]["progress"]["value"]


async def test_an_upserted_ticket_moves_the_number_within_the_interval(
    client, live_interval, job_queue, redis_settings, arq_redis: ArqRedis
):
    tenant, goal_id = await live_tenant(client)
    assert await value_of(client, tenant, goal_id) == "1"
    assert not await live.is_due(tenant.account.id)

    upserted = time.monotonic()
    await upsert_ticket(client, tenant, "live-1")
    await upsert_ticket(client, tenant, "live-2")
    assert await live.is_due(tenant.account.id)
    await job_queue.close()  # hands over what is still on its way
    queued = [j for j in await arq_redis.queued_jobs() if j.function == "live_refresh"]
    # Both upserts of the bucket named the same job, deferred to the bucket's end.
    assert len(queued) in (1, 2)  # two only when the upserts fell on both sides of a boundary
    assert all(job.job_id.startswith(f"live-refresh:{tenant.account.id}:") for job in queued)
    assert await value_of(client, tenant, goal_id) == "1"

    await run_worker(redis_settings)

    assert await value_of(client, tenant, goal_id) == "3"
    assert time.monotonic() - upserted < 2 * INTERVAL_SECONDS + 5
    assert not await live.is_due(tenant.account.id)
    results = [r for r in await arq_redis.all_job_results() if r.function == "live_refresh"]
    assert results and results[0].result == "refreshed"
    # As the daily refresh does: the day's snapshot shows the new number.
    snapshot = await ProgressSnapshot.filter(date=datetime.now(UTC).date()).first()
    assert snapshot is not None and snapshot.value == 3


async def test_with_redis_away_the_account_stays_due_and_the_sweep_queues_it(
    client, live_interval, redis_settings, arq_redis: ArqRedis
):
    tenant, goal_id = await live_tenant(client)
    unreachable = ArqJobQueue("redis://127.0.0.1:1/5")
    previous = install_job_queue(unreachable)
    try:
        await upsert_ticket(client, tenant, "while-away")
    finally:
        install_job_queue(previous)
        await unreachable.close()
    assert await live.is_due(tenant.account.id)
    assert await arq_redis.queued_jobs() == []

    # Redis is back: the sweep finds the account, and queues its bucket's job once.
    assert await live_worker.enqueue_live_refreshes({"redis": arq_redis}) == 1
    assert await live_worker.enqueue_live_refreshes({"redis": arq_redis}) == 0
    await run_worker(redis_settings)
    assert await value_of(client, tenant, goal_id) == "2"
    assert await live_worker.enqueue_live_refreshes({"redis": arq_redis}) == 0


async def test_a_refresh_leaves_the_account_due_for_changes_it_did_not_see(db):
    tenant = await make_tenant()
    account_id = tenant.account.id
    await live.mark_records_changed(account_id)
    seen = await live.changes_seen(account_id)
    await live.mark_records_changed(account_id)  # committed while that refresh ran
    await live.mark_refreshed(account_id, seen)
    assert await live.due_accounts() == [account_id]
    await refresh_account(account_id)
    assert await live.due_accounts() == []


async def test_off_queues_nothing(client, monkeypatch, job_queue, arq_redis: ArqRedis):
    monkeypatch.setenv("GOALS_LIVE_REFRESH_MINUTES", "0")
    get_settings.cache_clear()
    try:
        tenant, _ = await live_tenant(client)
        await upsert_ticket(client, tenant, "off")
        await job_queue.close()
        assert [j.function for j in await arq_redis.queued_jobs()] == ["refresh_goal"]
        assert await live_worker.enqueue_live_refreshes({"redis": arq_redis}) == 0
        # The change is still counted: turning live progress on catches up with it.
        assert await live.is_due(tenant.account.id)
    finally:
        get_settings.cache_clear()


def test_buckets_are_the_same_for_every_process():
    moment = datetime(2026, 3, 1, 10, 7, 42, tzinfo=UTC)
    assert live.bucket_start(moment, 5) == datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
    job = live.live_refresh(7, moment, 5)
    assert job.job_id == "live-refresh:7:2026-03-01T10:05:00+00:00"
    assert job.defer_until == datetime(2026, 3, 1, 10, 10, tzinfo=UTC)
    assert live.live_refresh(7, moment + timedelta(minutes=2), 5).job_id == job.job_id

"""The daily refresh run by real arq workers on Redis, in burst mode."""

import asyncio
from datetime import date

from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker

from domain.enums import GoalType, ObjectType
from domain.models import Account, ProgressSnapshot
from domain.progress import due_accounts
from tests.helpers import make_tenant
from tests.workers.refresh_support import create_goal, milestone_values, ticket, utc
from workers import refresh
from workers.refresh import REFRESH_JOB, enqueue_due_refreshes, refresh_job_id


async def _run_workers(redis_settings: RedisSettings, count: int) -> None:
    workers = [
        Worker(
            functions=refresh.FUNCTIONS,
            redis_settings=redis_settings,
            burst=True,
            poll_delay=0.02,
            handle_signals=False,
        )
        for _ in range(count)
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*(w.main() for w in workers)), timeout=30)
    finally:
        for worker in workers:
            await worker.close()


async def _tenant_with_goal(client, name: str, timezone: str = "UTC"):
    tenant = await make_tenant(name=name, timezone=timezone)
    ann = await tenant.add_user("ann")
    support = await tenant.add_pipeline("support", ObjectType.TICKET)
    goal = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CLOSED_TICKETS,
        start="2024-01-01",
        end="2024-02-29",
        pipelines=[support],
        users=[ann],
    )
    await ticket(ann, support, utc(2024, 1, 1), closed=utc(2024, 1, 2))
    await ticket(ann, support, utc(2024, 1, 1), closed=utc(2024, 2, 2))
    await ticket(ann, support, utc(2024, 1, 1), closed=utc(2024, 2, 3))
    return tenant, goal


async def test_due_accounts_follow_local_hour_and_last_refresh(db) -> None:
    tokyo = await Account.create(name="Tokyo", timezone="Asia/Tokyo")
    warsaw = await Account.create(name="Warsaw", timezone="Europe/Warsaw", refresh_hour=5)
    done = await Account.create(name="Done", last_refresh_date=date(2024, 3, 11))
    # 01:30 UTC: 10:30 in Tokyo (after 02:00), 02:30 in Warsaw (before 05:00), 01:30 UTC.
    assert await due_accounts(utc(2024, 3, 11, 1, 30)) == [(tokyo.id, date(2024, 3, 11))]
    # 04:00 UTC: 05:00 in Warsaw; "Done" already has 11 March.
    assert await due_accounts(utc(2024, 3, 11, 4)) == [
        (tokyo.id, date(2024, 3, 11)),
        (warsaw.id, date(2024, 3, 11)),
    ]
    await Account.filter(id=tokyo.id).update(last_refresh_date=date(2024, 3, 11))
    assert done.id not in [a for a, _ in await due_accounts(utc(2024, 3, 11, 23))]
    # 23:30 UTC is already 12 March in Tokyo: due again.
    assert (tokyo.id, date(2024, 3, 12)) in await due_accounts(utc(2024, 3, 11, 23, 30))


async def test_cron_queues_and_a_worker_refreshes(client, redis_settings, arq_redis) -> None:
    tenant, goal = await _tenant_with_goal(client, "Acme")
    await Account.filter(id=tenant.account.id).update(refresh_hour=0)

    queued = await enqueue_due_refreshes({"redis": arq_redis})
    assert queued == 1
    await _run_workers(redis_settings, count=1)

    assert await milestone_values(goal.contributor_ids[0]) == [1, 2]
    account = await Account.get(id=tenant.account.id)
    today = account.last_refresh_date
    assert today is not None
    assert await ProgressSnapshot.filter(contributor_goal_id=goal.contributor_ids[0]).count() == 1
    job = await _results(arq_redis)
    assert [(r.job_id, r.result) for r in job] == [
        (refresh_job_id(tenant.account.id, today), "refreshed")
    ]


async def _results(redis: ArqRedis):
    return [r for r in await redis.all_job_results() if r.function == REFRESH_JOB]


async def test_two_workers_refresh_each_account_once(client, redis_settings, arq_redis) -> None:
    tenants = [(await _tenant_with_goal(client, f"Tenant{i}"))[0] for i in range(4)]
    await Account.all().update(refresh_hour=0)

    # Two workers' crons fire in the same hour: the second queues nothing new.
    assert await enqueue_due_refreshes({"redis": arq_redis}) == 4
    assert await enqueue_due_refreshes({"redis": arq_redis}) == 0
    await _run_workers(redis_settings, count=2)

    results = await _results(arq_redis)
    assert sorted(r.args[0] for r in results) == sorted(t.account.id for t in tenants)
    assert all(r.success and r.result == "refreshed" for r in results)
    # Queued again later the same day (the job's result expired): the job does nothing.
    await arq_redis.delete(*[f"arq:result:{r.job_id}" for r in results])
    day = (await Account.get(id=tenants[0].account.id)).last_refresh_date
    await arq_redis.enqueue_job(
        REFRESH_JOB,
        tenants[0].account.id,
        day.isoformat(),
        _job_id=refresh_job_id(tenants[0].account.id, day),
    )
    await _run_workers(redis_settings, count=1)
    assert [r.result for r in await _results(arq_redis)] == ["done already"]

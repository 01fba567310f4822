"""Progress right after a change: the API queues the goal's refresh after the commit and a real
arq worker computes it, without any refresh call; with Redis unreachable the change is as fast
and the daily refresh catches up."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker

from domain.enums import Channel, DeliveryState, GoalType, ObjectType
from domain.jobs import REFRESH_GOAL_JOB, install_job_queue
from domain.models import Notification
from domain.notifications.dispatch import install_dispatcher
from domain.progress import refresh_account
from tests.helpers import Tenant, gid, make_tenant, op
from tests.notification_helpers import create_goal as create_notifying_goal
from tests.workers.refresh_support import CreatedGoal, create_goal, ticket, utc
from workers import goal_refresh
from workers.dispatch import ENQUEUE_TIMEOUT_SECONDS, ArqDispatcher
from workers.goal_refresh import ArqJobQueue

GOAL = """query($id: ID!) { goal(id: $id) {
  progress { value target refreshedAt }
  contributors { milestones { value } }
} }"""


async def run_worker(redis_settings: RedisSettings) -> None:
    worker = Worker(
        functions=goal_refresh.FUNCTIONS,
        redis_settings=redis_settings,
        burst=True,
        poll_delay=0.02,
        handle_signals=False,
    )
    try:
        await asyncio.wait_for(worker.main(), timeout=30)
    finally:
        await worker.close()


async def tickets_tenant() -> Tenant:
    """Ann closed one ticket in January 2024 and two in February."""
    tenant = await make_tenant()
    ann = await tenant.add_user("ann")
    support = await tenant.add_pipeline("support", ObjectType.TICKET)
    await ticket(ann, support, utc(2024, 1, 1), closed=utc(2024, 1, 2))
    await ticket(ann, support, utc(2024, 1, 1), closed=utc(2024, 2, 2))
    await ticket(ann, support, utc(2024, 1, 1), closed=utc(2024, 2, 3))
    return tenant


async def ann_goal(client, tenant: Tenant, **targets: list[str]) -> CreatedGoal:
    """Ann's closed tickets in January and February 2024, created through createGoal."""
    return await create_goal(
        client,
        tenant.admin_token,
        GoalType.CLOSED_TICKETS,
        start="2024-01-01",
        end="2024-02-29",
        pipelines=[tenant.pipelines["support"]],
        users=[tenant.users["ann"]],
        **targets,
    )


async def shown(client, tenant: Tenant, goal_id: int) -> dict:
    from tests.helpers import gql

    variables = {"id": gid("Goal", goal_id)}
    return (await gql(client, tenant.admin_token, GOAL, variables))["data"]["goal"]


async def test_a_created_goal_is_computed_by_a_worker_without_a_refresh_call(
    client, redis_settings, arq_redis: ArqRedis, job_queue
):
    tenant = await tickets_tenant()
    goal = await ann_goal(client, tenant, targets=["1", "3"])
    before = await shown(client, tenant, goal.id)
    assert before["progress"]["refreshedAt"] is None
    assert before["contributors"][0]["milestones"] == [{"value": None}, {"value": None}]

    await job_queue.close()  # hands over what is still on its way
    await run_worker(redis_settings)

    after = await shown(client, tenant, goal.id)
    assert after["progress"]["value"] == "3"
    assert after["progress"]["refreshedAt"] is not None
    assert after["contributors"][0]["milestones"] == [{"value": "1"}, {"value": "2"}]
    results = [r for r in await arq_redis.all_job_results() if r.function == REFRESH_GOAL_JOB]
    assert len(results) == 1
    prefix = f"refresh-goal:{goal.id}:"
    assert results[0].job_id.startswith(prefix) and len(results[0].job_id) > len(prefix)
    assert (results[0].success, results[0].result) == (True, "refreshed")


async def test_edits_queue_a_refresh_each_and_a_repeat_is_harmless(
    client, redis_settings, arq_redis: ArqRedis, job_queue
):
    tenant = await tickets_tenant()
    bea = await tenant.add_user("bea")
    goal = await ann_goal(client, tenant)
    goal_id = gid("Goal", goal.id)
    cg_id = gid("ContributorGoal", goal.contributor_ids[0])
    await op(
        client,
        tenant.admin_token,
        "UpdateGoal",
        {"input": {"id": goal_id, "addContributors": [{"userId": gid("User", bea.id)}]}},
    )
    await op(client, tenant.admin_token, "UpdateGoal", {"input": {"id": goal_id, "name": "N"}})
    await op(
        client,
        tenant.admin_token,
        "ApplyGoalTargets",
        {"input": {"goalId": goal_id, "contributorIds": [cg_id], "amount": "2"}},
    )
    await job_queue.close()
    queued = await arq_redis.queued_jobs()
    # Created, contributor added, targets applied; a rename needs no refresh.
    assert len(queued) == 3
    assert all(job.args == (tenant.account.id, goal.id) for job in queued)
    assert len({job.job_id for job in queued}) == 3
    await run_worker(redis_settings)
    after = await shown(client, tenant, goal.id)
    assert after["progress"]["value"] == "3"  # Bea closed nothing
    assert after["progress"]["target"] == "4"


@pytest.fixture
async def silent_redis() -> AsyncIterator[str]:
    """An address that accepts connections and never answers, like a Redis that hangs."""

    async def ignore(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(ignore, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.close()


@pytest.mark.parametrize("where", ["refused", "hanging"])
async def test_with_redis_unreachable_a_change_is_as_fast_and_the_daily_refresh_catches_up(
    client, silent_redis, where
):
    tenant = await tickets_tenant()
    url = "redis://127.0.0.1:1/5" if where == "refused" else silent_redis
    unreachable = ArqJobQueue(url)
    previous = install_job_queue(unreachable)
    try:
        goal = await ann_goal(client, tenant)
        if where == "hanging":
            # The mutation answered while its job was still being handed over: connecting to
            # a Redis that hangs takes a second (the connection timeout) and nobody waited.
            assert unreachable._sending
    finally:
        install_job_queue(previous)
        await unreachable.close()
    assert (await shown(client, tenant, goal.id))["progress"]["value"] is None
    await refresh_account(tenant.account.id)
    assert (await shown(client, tenant, goal.id))["progress"]["value"] == "3"


async def test_notifications_give_up_on_a_redis_that_never_answers(client, silent_redis):
    tenant = await tickets_tenant()
    hanging = ArqDispatcher(silent_redis)
    previous = install_dispatcher(hanging)
    try:
        started = time.monotonic()
        await create_notifying_goal(
            client, tenant.admin_token, user_ids=[tenant.users["ann"].id], notify=["GOAL_ASSIGNED"]
        )
        assert time.monotonic() - started < ENQUEUE_TIMEOUT_SECONDS + 1
    finally:
        install_dispatcher(previous)
        await hanging.close()
    # Left for the sweep.
    emails = await Notification.filter(channel=Channel.EMAIL).values_list("state", flat=True)
    assert emails == [DeliveryState.PENDING]

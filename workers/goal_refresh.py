"""A goal's progress recomputed right after a change (creation, added contributors, edited
targets), so that a client sees real values within seconds instead of after the daily refresh.
The API queues the job after its transaction commits; a job lost with Redis is no loss, the
daily refresh computes the same numbers."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
from arq.connections import ArqRedis
from arq.worker import Function, func

from domain.jobs import REFRESH_GOAL_JOB, Job, install_job_queue
from domain.models import Account
from domain.progress import refresh_account
from workers.dispatch import ArqConnection

log = structlog.get_logger("goals.refresh")

JOB_TIMEOUT_SECONDS = 300
CLOSE_TIMEOUT_SECONDS = 5.0


async def refresh_goal_job(ctx: dict[str, Any], account_id: int, goal_id: int) -> str:
    """Recompute one goal through the same code as refreshGoalProgress. Running it twice, or
    for a goal deleted since, is harmless."""
    if not await Account.exists(id=account_id):
        return "gone"
    result = await refresh_account(account_id, goal_ids=[goal_id])
    log.info(
        "goal refreshed",
        account_id=account_id,
        goal_id=goal_id,
        milestones=result.milestones_computed,
        changed=result.milestones_changed,
    )
    return "refreshed"


async def enqueue_jobs(redis: ArqRedis, jobs: Sequence[Job]) -> int:
    """Queue each job under its id; returns how many were not queued already."""
    queued = 0
    for job in jobs:
        queued += (
            await redis.enqueue_job(
                job.name, *job.args, _job_id=job.job_id, _defer_until=job.defer_until
            )
            is not None
        )
    return queued


class ArqJobQueue(ArqConnection):
    """The API's job queue: hands jobs to Redis in the background, so that a mutation returns
    as fast with Redis down as with it up (the jobs are then dropped, with a warning)."""

    def __init__(self, redis_url: str, *, retry_after: float = 5.0) -> None:
        super().__init__(redis_url, retry_after=retry_after)
        self._sending: set[asyncio.Task[None]] = set()

    async def __call__(self, jobs: Sequence[Job]) -> None:
        task = asyncio.create_task(self.send(lambda pool: enqueue_jobs(pool, jobs), "jobs"))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def close(self) -> None:
        """Lets jobs being handed over finish (briefly), then closes the pool."""
        if self._sending:
            await asyncio.wait(set(self._sending), timeout=CLOSE_TIMEOUT_SECONDS)
        await super().close()


@asynccontextmanager
async def queued_jobs(redis_url: str | None) -> AsyncIterator[None]:
    """While the block runs, jobs that changes ask for after their commit go to Redis (the
    API). Without Redis they are dropped, and the daily refresh catches up."""
    if not redis_url:
        yield
        return
    queue = ArqJobQueue(redis_url)
    previous = install_job_queue(queue)
    try:
        yield
    finally:
        install_job_queue(previous)
        await queue.close()


FUNCTIONS: list[Function] = [
    func(refresh_goal_job, name=REFRESH_GOAL_JOB, timeout=JOB_TIMEOUT_SECONDS, max_tries=3),
]

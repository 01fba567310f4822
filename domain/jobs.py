"""Background jobs that a change asks for once it has committed: the domain's side of the job
queue, which ``workers/`` implements on arq.

The domain names the job and its unique id; whatever queue is installed takes it from there.
Queueing never fails the change that asked: without a queue, or when it is unreachable, the job
is dropped with a warning, and the periodic work it would have hurried (the daily refresh)
catches up.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

log = structlog.get_logger("goals.jobs")

REFRESH_GOAL_JOB = "refresh_goal"


@dataclass(frozen=True, slots=True)
class Job:
    """A job by its function name; ``job_id`` makes a second queueing of the same one a no-op.
    With ``defer_until`` it runs no earlier than that instant."""

    name: str
    args: tuple[Any, ...]
    job_id: str
    defer_until: datetime | None = None


JobQueue = Callable[[Sequence[Job]], Awaitable[None]]

_queue: JobQueue | None = None


def install_job_queue(queue: JobQueue | None) -> JobQueue | None:
    """Set what ``after_commit`` hands jobs to; returns the previous one, to put it back."""
    global _queue
    previous, _queue = _queue, queue
    return previous


async def after_commit(jobs: Sequence[Job]) -> None:
    """Queue ``jobs``; call after the transaction that asked for them has committed. Never
    raises and never waits for the jobs themselves."""
    if not jobs or _queue is None:
        return
    try:
        await _queue(list(jobs))
    except Exception as error:  # noqa: BLE001 - the change is done; the job only hurries it
        log.warning(
            "jobs not queued",
            jobs=[job.job_id for job in jobs],
            error=f"{type(error).__name__}: {error}",
        )


def refresh_goal(account_id: int, goal_id: int, change_id: str) -> Job:
    """Recompute one goal's progress, right after a change made its numbers stale."""
    return Job(REFRESH_GOAL_JOB, (account_id, goal_id), f"refresh-goal:{goal_id}:{change_id}")

"""Live progress on arq: the refresh an upsert queued for the end of its time bucket, and the
sweep that queues it again for accounts still due when Redis lost it (domain/live.py)."""

import time
from datetime import UTC, datetime
from typing import Any

import structlog
from arq.connections import ArqRedis
from arq.cron import CronJob, cron
from arq.worker import Function, func

from domain import live
from domain.models import Account
from domain.progress import refresh_account
from domain.settings import get_settings
from workers.goal_refresh import enqueue_jobs

log = structlog.get_logger("goals.live")

# A live refresh is the daily refresh of the whole account; the next bucket retries a failure.
JOB_TIMEOUT_SECONDS = 1800


async def live_refresh_job(ctx: dict[str, Any], account_id: int, bucket: str) -> str:
    """Refresh an account whose records changed; one that a refresh has caught up with since
    (the daily one, or this job run twice) is left alone."""
    if not await Account.exists(id=account_id):
        return "gone"
    if not await live.is_due(account_id):
        return "up to date"
    started = time.monotonic()
    try:
        result = await refresh_account(account_id)
    except Exception as error:
        log.error(
            "live refresh failed; the account stays due",
            account_id=account_id,
            bucket=bucket,
            error=f"{type(error).__name__}: {error}",
        )
        raise
    seconds = time.monotonic() - started
    log.info(
        "account refreshed live",
        account_id=account_id,
        bucket=bucket,
        seconds=round(seconds, 3),
        changed=result.milestones_changed,
        finalized=result.milestones_finalized,
    )
    return "refreshed"


async def enqueue_live_refreshes(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Queue the live refresh of every account still due (each under its bucket's job id, so
    a job already queued is not queued twice); returns how many were new."""
    minutes = get_settings().live_refresh_minutes
    if minutes <= 0:
        return 0
    now = now or datetime.now(UTC)
    redis: ArqRedis = ctx["redis"]
    jobs = [live.live_refresh(account_id, now, minutes) for account_id in await live.due_accounts()]
    queued = await enqueue_jobs(redis, jobs)
    if queued:
        log.info("live refreshes queued by the sweep", count=queued)
    return queued


FUNCTIONS: list[Function] = [
    func(live_refresh_job, name=live.LIVE_REFRESH_JOB, timeout=JOB_TIMEOUT_SECONDS, max_tries=1),
]
CRON_JOBS: list[CronJob] = [
    cron(enqueue_live_refreshes, name="enqueue_live_refreshes", second=30, unique=True),
]

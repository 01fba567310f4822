"""The daily progress refresh on arq: an hourly cron queues one job per account whose local
refresh hour has come, under a job id that makes the day's job unique across workers."""

from datetime import UTC, date, datetime
from typing import Any

import structlog
from arq.connections import ArqRedis
from arq.cron import CronJob, cron
from arq.worker import Function, func

from domain.models import Account
from domain.progress import due_accounts, refresh_account

log = structlog.get_logger("goals.refresh")

REFRESH_JOB = "refresh_account"
# A big account takes seconds; leave room for one several times larger.
JOB_TIMEOUT_SECONDS = 1800


def refresh_job_id(account_id: int, day: date) -> str:
    return f"refresh:{account_id}:{day.isoformat()}"


async def enqueue_due_refreshes(ctx: dict[str, Any], now: datetime | None = None) -> int:
    """Queue the refreshes that are due; returns how many were not queued already."""
    redis: ArqRedis = ctx["redis"]
    queued = 0
    for account_id, day in await due_accounts(now or datetime.now(UTC)):
        job = await redis.enqueue_job(
            REFRESH_JOB, account_id, day.isoformat(), _job_id=refresh_job_id(account_id, day)
        )
        queued += job is not None
    if queued:
        log.info("refreshes queued", count=queued)
    return queued


async def refresh_account_job(ctx: dict[str, Any], account_id: int, day: str) -> str:
    """Refresh one account for one local date; a repeat for a date already done does nothing,
    so a job that Redis runs twice (or a re-queue after its result expired) is harmless."""
    account = await Account.get_or_none(id=account_id)
    if account is None:
        return "gone"
    if account.last_refresh_date is not None and account.last_refresh_date >= date.fromisoformat(
        day
    ):
        return "done already"
    result = await refresh_account(account_id)
    log.info(
        "account refreshed",
        account_id=account_id,
        date=day,
        milestones=result.milestones_computed,
        changed=result.milestones_changed,
        finalized=result.milestones_finalized,
    )
    return "refreshed"


FUNCTIONS: list[Function] = [
    func(refresh_account_job, name=REFRESH_JOB, timeout=JOB_TIMEOUT_SECONDS, max_tries=3),
]
CRON_JOBS: list[CronJob] = [
    cron(enqueue_due_refreshes, name="enqueue_due_refreshes", minute=0, unique=True),
]

"""The daily progress refresh on arq: an hourly cron queues one job per account whose local
refresh hour has come, under a job id that makes the day's job unique across workers."""

import time
from datetime import UTC, date, datetime
from typing import Any

import structlog
from arq import Retry
from arq.connections import ArqRedis
from arq.cron import CronJob, cron
from arq.worker import Function, func

from domain.models import Account
from domain.progress import RefreshTimeout, due_accounts, refresh_account
from workers.metrics import REFRESH_FAILURES, REFRESH_SECONDS

log = structlog.get_logger("goals.refresh")

REFRESH_JOB = "refresh_account"
# A big account takes seconds; leave room for one several times larger.
JOB_TIMEOUT_SECONDS = 1800
# A refresh the database cancelled (GOALS_REFRESH_STATEMENT_TIMEOUT_SECONDS) runs again after
# 5, then 10 minutes; after the last try the job fails, and the hourly cron queues the account
# again once that failure's result has expired (an hour).
MAX_TRIES = 3
RETRY_SECONDS = 300.0


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
    job_log = log.bind(account_id=account_id, date=day)
    started = time.monotonic()
    try:
        result = await refresh_account(account_id)
    except RefreshTimeout as error:
        attempt: int = ctx.get("job_try", 1)
        delay = ctx.get("refresh_retry_seconds", RETRY_SECONDS) * 2 ** (attempt - 1)
        retry = attempt < MAX_TRIES
        job_log.error(
            "refresh timed out",
            seconds=_observe("timeout", started),
            limit_seconds=error.limit_seconds,
            attempt=attempt,
            retry_in_seconds=delay if retry else None,
        )
        if retry:
            raise Retry(defer=delay) from error
        raise
    except Exception as error:
        job_log.error(
            "refresh failed",
            seconds=_observe("error", started),
            error=f"{type(error).__name__}: {error}",
        )
        raise
    job_log.info(
        "account refreshed",
        seconds=_observe("refreshed", started),
        milestones=result.milestones_computed,
        changed=result.milestones_changed,
        finalized=result.milestones_finalized,
    )
    return "refreshed"


def _observe(outcome: str, started: float) -> float:
    """Count a refresh job's outcome and duration; returns the duration, rounded for logs."""
    seconds = time.monotonic() - started
    REFRESH_SECONDS.labels(outcome).observe(seconds)
    if outcome != "refreshed":
        REFRESH_FAILURES.labels(outcome).inc()
    return round(seconds, 3)


FUNCTIONS: list[Function] = [
    func(refresh_account_job, name=REFRESH_JOB, timeout=JOB_TIMEOUT_SECONDS, max_tries=MAX_TRIES),
]
CRON_JOBS: list[CronJob] = [
    cron(enqueue_due_refreshes, name="enqueue_due_refreshes", minute=0, unique=True),
]

"""arq jobs that deliver the outbox: one job per row, retried with exponential backoff, and a
sweep every minute for rows whose job Redis never got or lost.

A row is claimed (PENDING -> SENDING, atomically) before anything is sent, so a job that runs
twice, or two jobs for the same row, send it once."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import structlog
from arq import Retry, cron, func
from arq.cron import CronJob
from arq.worker import Function
from tortoise.timezone import now as utc_now

from domain.enums import Channel
from domain.models import Notification
from domain.notifications.delivery import (
    claim_for_delivery,
    due_for_sweep,
    mark_failed,
    mark_sent,
    release_for_retry,
)
from domain.settings import Settings, get_settings
from workers.channels import PermanentDeliveryError, email, in_app, webhook
from workers.dispatch import DELIVER_JOB, enqueue_deliveries

log = structlog.get_logger("goals.delivery")

Sender = Callable[[Notification, Settings], Awaitable[None]]
SENDERS: dict[Channel, Sender] = {
    Channel.IN_APP: in_app.send,
    Channel.EMAIL: email.send,
    Channel.WEBHOOK: webhook.send,
}

BACKOFF_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 3600.0
PENDING_FOR = timedelta(minutes=1)
# Longer than a delivery job may run (JOB_TIMEOUT): such a claim's worker is gone.
STALE_CLAIM = timedelta(minutes=5)
JOB_TIMEOUT_SECONDS = 60
SWEEP_LIMIT = 5000


def backoff_seconds(attempt: int, base: float = BACKOFF_SECONDS) -> float:
    """Wait before attempt ``attempt + 1``: base, 2 x base, 4 x base... capped at an hour."""
    return min(base * 2 ** max(attempt - 1, 0), MAX_BACKOFF_SECONDS)


def _settings(ctx: dict[str, Any]) -> Settings:
    settings: Settings | None = ctx.get("settings")
    return settings or get_settings()


async def deliver_notification(ctx: dict[str, Any], notification_id: int) -> str:
    settings = _settings(ctx)
    row = await claim_for_delivery(notification_id, utc_now())
    if row is None:
        return "not pending"
    try:
        await SENDERS[row.channel](row, settings)
    except PermanentDeliveryError as error:
        await mark_failed(row.id, row.account_id, str(error))
        log.warning("notification failed", id=row.id, channel=str(row.channel), error=str(error))
        return "failed"
    except Exception as error:  # noqa: BLE001 - every other failure is worth another attempt
        message = f"{type(error).__name__}: {error}"
        if row.attempts >= settings.delivery_max_attempts:
            await mark_failed(row.id, row.account_id, message)
            log.warning("notification failed", id=row.id, attempts=row.attempts, error=message)
            return "failed"
        await release_for_retry(row.id, message)
        delay = backoff_seconds(row.attempts, ctx.get("delivery_backoff_seconds", BACKOFF_SECONDS))
        log.info("notification retry", id=row.id, attempts=row.attempts, delay=delay, error=message)
        raise Retry(defer=delay) from error
    await mark_sent(row.id, utc_now())
    return "sent"


async def sweep_notifications(ctx: dict[str, Any]) -> int:
    """Queue rows left PENDING for more than a minute and give back stale SENDING claims."""
    ids = await due_for_sweep(
        utc_now(), pending_for=PENDING_FOR, stale_claim=STALE_CLAIM, limit=SWEEP_LIMIT
    )
    queued = await enqueue_deliveries(ctx["redis"], ids)
    if queued:
        log.info("sweep queued notifications", count=queued)
    return queued


FUNCTIONS: list[Function] = [
    # No result kept: a finished job must not block the sweep from queueing its row again.
    # Attempts are counted on the row (settings.delivery_max_attempts), not by arq.
    func(
        deliver_notification,
        name=DELIVER_JOB,
        keep_result=0,
        max_tries=1000,
        timeout=JOB_TIMEOUT_SECONDS,
    ),
]
CRON_JOBS: list[CronJob] = [
    cron(sweep_notifications, name="sweep_notifications", unique=True, keep_result=0),
]

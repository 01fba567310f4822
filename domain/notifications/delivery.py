"""The delivery states of an outbox row: PENDING, claimed as SENDING by one attempt, then SENT,
FAILED, or PENDING again for a retry. Every move is one conditional UPDATE, so that of two
deliveries of the same row only one sends it."""

from datetime import datetime, timedelta

from tortoise.expressions import F, Q

from domain.data_version import account_write
from domain.enums import DeliveryState
from domain.models import Notification
from domain.sql import column


async def claim_for_delivery(notification_id: int, now: datetime) -> Notification | None:
    """Take a PENDING row for one delivery attempt, atomically: of two deliveries of the same
    row only one gets it. Returns the row (with account and recipient) or None."""
    claimed = await Notification.filter(id=notification_id, state=DeliveryState.PENDING).update(
        state=DeliveryState.SENDING, attempts=F("attempts") + 1, claimed_at=now
    )
    if not claimed:
        return None
    return await Notification.get(id=notification_id).select_related("account", "recipient")


async def mark_sent(notification_id: int, now: datetime) -> None:
    await Notification.filter(id=notification_id, state=DeliveryState.SENDING).update(
        state=DeliveryState.SENT, sent_at=now, last_error=None
    )


async def mark_failed(notification_id: int, account_id: int, error: str) -> None:
    """Admins list failed deliveries: the account's answers change."""
    async with account_write(account_id):
        await Notification.filter(id=notification_id, state=DeliveryState.SENDING).update(
            state=DeliveryState.FAILED, last_error=error[:2000]
        )


async def release_for_retry(notification_id: int, error: str) -> None:
    """Give a claimed row back after a failed attempt, so that the retry can claim it again."""
    await Notification.filter(id=notification_id, state=DeliveryState.SENDING).update(
        state=DeliveryState.PENDING, last_error=error[:2000]
    )


async def due_for_sweep(
    now: datetime, *, pending_for: timedelta, stale_claim: timedelta, limit: int
) -> list[int]:
    """Rows whose delivery may have been lost: PENDING for longer than ``pending_for`` (Redis was
    down at commit time, or dropped the job), and SENDING claims older than ``stale_claim``
    (their worker died mid-attempt), which are given back first."""
    await Notification.filter(state=DeliveryState.SENDING, claimed_at__lt=now - stale_claim).update(
        state=DeliveryState.PENDING
    )
    cutoff = now - pending_for
    return await column(
        Notification.filter(state=DeliveryState.PENDING, created_at__lt=cutoff)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=cutoff))
        .order_by("id")
        .limit(limit),
        "id",
    )

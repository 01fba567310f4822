"""What a user reads of their notifications: the in-app messages, marking them read, and (for
admins) the deliveries that gave up."""

from collections.abc import Sequence
from datetime import datetime

from domain.data_version import account_write
from domain.enums import Channel, DeliveryState
from domain.errors import ErrorCode, Errors
from domain.models import Notification
from domain.sql import chunks, column

MAX_MARK_READ = 1000


async def in_app_page(
    account_id: int, recipient_id: int, *, unread_only: bool, offset: int, limit: int
) -> tuple[list[Notification], int]:
    """A page of a user's in-app notifications, newest first, fetched with one extra row to
    tell whether more follow; and their total count."""
    rows = Notification.filter(
        account_id=account_id, recipient_id=recipient_id, channel=Channel.IN_APP
    )
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    total = await rows.count()
    page = await rows.order_by("-id").offset(offset).limit(limit + 1)
    return list(page), total


async def failed_page(
    account_id: int, *, offset: int, limit: int
) -> tuple[list[Notification], int]:
    """Deliveries that gave up, newest first (with one extra row), and their total count."""
    rows = Notification.filter(account_id=account_id, state=DeliveryState.FAILED)
    total = await rows.count()
    page = await rows.order_by("-id").offset(offset).limit(limit + 1)
    return list(page), total


async def mark_read(
    account_id: int, recipient_id: int, ids: Sequence[int | None], now: datetime
) -> tuple[int, Errors]:
    """Mark the recipient's own in-app notifications read. Every id must be one of them (None
    stands for an id that did not decode); nothing changes when any is not. Returns how many
    were unread until now."""
    errors = Errors()
    if len(ids) > MAX_MARK_READ:
        errors.add(["ids"], ErrorCode.TOO_MANY, f"At most {MAX_MARK_READ} ids a call.")
        return 0, errors
    known = [i for i in ids if i is not None]
    own: set[int] = set()
    for chunk in chunks(sorted(set(known))):
        own.update(
            await column(
                Notification.filter(
                    account_id=account_id,
                    recipient_id=recipient_id,
                    channel=Channel.IN_APP,
                    id__in=chunk,
                ),
                "id",
            )
        )
    for position, notification_id in enumerate(ids):
        if notification_id is None or notification_id not in own:
            errors.add(["ids", position], ErrorCode.NOT_FOUND, "No such notification.")
    if errors or not own:
        return 0, errors
    updated = 0
    async with account_write(account_id):
        for chunk in chunks(sorted(own)):
            updated += await Notification.filter(id__in=chunk, read_at__isnull=True).update(
                read_at=now
            )
    return updated, errors

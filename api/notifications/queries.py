"""Reading notifications: the viewer's own in-app list, and failed deliveries for admins."""

import strawberry

from api.common.errors import admin_only
from api.common.pagination import (
    AfterArgument,
    FirstArgument,
    decode_offset,
    offset_connection,
    page_size,
)
from api.common.types import Connection
from api.context import Info
from api.notifications.types import Notification, NotificationConnection, NotificationDelivery
from domain import models as m
from domain.notifications.inbox import failed_page, in_app_page
from domain.permissions import AdminOnly


async def notifications_of(
    info: Info, user: m.User, first: int | None, after: str | None, unread_only: bool | None
) -> NotificationConnection | None:
    """A user's notifications are readable by that user alone: null for anyone else."""
    viewer = info.context.viewer
    if user.id != viewer.id or user.account_id != viewer.account_id:
        return None
    limit, offset = page_size(first), decode_offset(after)
    rows, total = await in_app_page(
        viewer.account_id, viewer.id, unread_only=bool(unread_only), offset=offset, limit=limit
    )
    page = offset_connection(
        rows, offset=offset, limit=limit, total=total, node=lambda row: Notification(row=row)
    )
    return NotificationConnection(
        total_count=page.total_count, page_info=page.page_info, edges=page.edges
    )


@strawberry.type
class NotificationQuery:
    @strawberry.field(
        description="Notifications whose delivery gave up after its retries, newest first. "
        "Admins only."
    )
    async def failed_notifications(
        self, info: Info, first: FirstArgument = None, after: AfterArgument = None
    ) -> Connection[NotificationDelivery]:
        admin_only(info.context.viewer, AdminOnly.LIST_FAILED_NOTIFICATIONS)
        limit, offset = page_size(first), decode_offset(after)
        rows, total = await failed_page(info.context.account_id, offset=offset, limit=limit)
        return offset_connection(
            rows,
            offset=offset,
            limit=limit,
            total=total,
            node=lambda row: NotificationDelivery(row=row),
        )

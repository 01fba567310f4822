"""Marking the viewer's notifications read."""

from typing import Annotated

import strawberry
from tortoise.timezone import now as utc_now

from api.common.types import UserError, user_errors, user_errors_field
from api.context import Info
from api.ids import from_global_ids
from domain.notifications.inbox import mark_read


@strawberry.type(
    description="What `markNotificationsRead` did; nothing changes when any id is refused."
)
class MarkNotificationsReadPayload:
    updated_count: int = strawberry.field(
        description="How many of the notifications were unread until now."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(
        description="Mark some of the viewer's own notifications read; any other id is "
        "NOT_FOUND and then nothing changes."
    )
    async def mark_notifications_read(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="Your in-app notifications' ids.")
        ],
    ) -> MarkNotificationsReadPayload:
        viewer = info.context.viewer
        updated, errors = await mark_read(
            viewer.account_id, viewer.id, from_global_ids(ids, "Notification"), utc_now()
        )
        return MarkNotificationsReadPayload(
            updated_count=updated, user_errors=user_errors(errors.items)
        )

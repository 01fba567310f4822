"""Notifications as GraphQL types: the viewer's in-app messages, and deliveries that failed."""

import datetime

import strawberry

from api.common.enums import described_enum
from api.common.types import GLOBAL_ID_DESCRIPTION, Connection, Node, from_row
from api.context import Info
from api.directory import loaders as directory_loaders
from api.directory.types import User
from api.goals.loaders import load_visible_goals
from api.goals.types import Goal, NotificationKind
from api.ids import to_global_id
from domain import enums
from domain import models as m
from domain.notification_messages import summary

NotificationChannel = enums.Channel
described_enum(
    NotificationChannel,
    name="NotificationChannel",
    description="How a notification reaches its recipient.",
    values={
        "IN_APP": "Listed in the recipient's `notifications`.",
        "EMAIL": "An email to the recipient's address.",
        "WEBHOOK": "A signed POST to the account's webhook URL.",
    },
)
DeliveryState = enums.DeliveryState
described_enum(
    DeliveryState,
    name="DeliveryState",
    description="Where a notification's delivery stands.",
    values={
        "PENDING": "Waiting to be sent, or to be retried.",
        "SENDING": "A worker is sending it.",
        "SENT": "Delivered.",
        "FAILED": "Given up after its retries.",
    },
)


async def _goal(info: Info, row: m.Notification) -> Goal | None:
    if row.goal_id is None:
        return None
    reach = await info.context.reach()
    key = (row.goal_id, info.context.viewer, reach)
    goal = await info.context.loader(load_visible_goals).load(key)
    return Goal(row=goal) if goal is not None else None


@strawberry.type(description="A message to the viewer about one of their goals.")
class Notification(Node):
    row: strawberry.Private[m.Notification]

    @strawberry.field(description=GLOBAL_ID_DESCRIPTION)
    def id(self) -> strawberry.ID:
        return to_global_id("Notification", self.row.id)

    @strawberry.field(description="What the message is about.")
    def kind(self) -> NotificationKind:
        return enums.NotificationKind(self.row.kind)

    created_at = from_row(
        "created_at", datetime.datetime, description="When the notification was written."
    )

    read_at = from_row(
        "read_at",
        datetime.datetime | None,
        description="When the viewer marked it read; null while unread.",
    )

    @strawberry.field(description="One sentence naming the goal, milestone, value and target.")
    def message(self) -> str:
        return summary(self.row.kind, self.row.payload)

    milestone_index = from_row(
        "milestone_index",
        int | None,
        description="The milestone (from 0) the message is about, if any.",
    )

    @strawberry.field(description="Null when the goal was deleted or the viewer cannot see it.")
    async def goal(self, info: Info) -> Goal | None:
        return await _goal(info, self.row)


@strawberry.type(description="A notification the service gave up delivering.")
class NotificationDelivery(Node):
    row: strawberry.Private[m.Notification]

    @strawberry.field(description=GLOBAL_ID_DESCRIPTION)
    def id(self) -> strawberry.ID:
        return to_global_id("Notification", self.row.id)

    @strawberry.field(description="What the notification is about.")
    def kind(self) -> NotificationKind:
        return enums.NotificationKind(self.row.kind)

    @strawberry.field(description="How it was to be delivered.")
    def channel(self) -> NotificationChannel:
        return enums.Channel(self.row.channel)

    @strawberry.field(description="FAILED: the service gave up on it.")
    def state(self) -> DeliveryState:
        return enums.DeliveryState(self.row.state)

    attempts = from_row("attempts", int, description="How many times delivery was tried.")

    last_error = from_row(
        "last_error",
        str | None,
        description="What went wrong the last time; null if nothing was recorded.",
    )

    created_at = from_row(
        "created_at", datetime.datetime, description="When the notification was written."
    )

    @strawberry.field(description="One sentence naming the goal, milestone, value and target.")
    def message(self) -> str:
        return summary(self.row.kind, self.row.payload)

    milestone_index = from_row(
        "milestone_index",
        int | None,
        description="The milestone (from 0) the notification is about, if any.",
    )

    @strawberry.field(description="Whom it was for; null when that user no longer exists.")
    async def recipient(self, info: Info) -> User | None:
        user = await info.context.loader(directory_loaders.load_users).load(self.row.recipient_id)
        return User(row=user) if user is not None else None

    @strawberry.field(description="Null when the goal was deleted or the viewer cannot see it.")
    async def goal(self, info: Info) -> Goal | None:
        return await _goal(info, self.row)


@strawberry.type(description="A page of the viewer's notifications.")
class NotificationConnection(Connection[Notification]):
    """Named, so that the User type can refer to it lazily without an import cycle."""

"""Users, teams and pipelines as GraphQL types."""

from typing import TYPE_CHECKING, Annotated

import strawberry

from api.common.types import GLOBAL_ID_DESCRIPTION, Node, UserError
from api.context import Info
from api.directory import loaders
from api.ids import to_global_id
from domain import enums
from domain import models as m

if TYPE_CHECKING:
    from api.account.types import Account
    from api.notifications.types import NotificationConnection

Seat = strawberry.enum(enums.Seat, name="Seat")
GoalPermission = strawberry.enum(enums.GoalPermission, name="GoalPermission")
ObjectType = strawberry.enum(enums.ObjectType, name="ObjectType")


@strawberry.type
class Pipeline(Node):
    row: strawberry.Private[m.Pipeline]

    @strawberry.field(description=GLOBAL_ID_DESCRIPTION)
    def id(self) -> strawberry.ID:
        return to_global_id("Pipeline", self.row.id)

    @strawberry.field
    def external_id(self) -> str:
        return self.row.external_id

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def object_type(self) -> ObjectType:
        return self.row.object_type


@strawberry.type
class Team(Node):
    row: strawberry.Private[m.Team]

    @strawberry.field(description=GLOBAL_ID_DESCRIPTION)
    def id(self) -> strawberry.ID:
        return to_global_id("Team", self.row.id)

    @strawberry.field
    def external_id(self) -> str | None:
        return self.row.external_id

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    async def members(self, info: Info) -> list["User"]:
        ids = await info.context.loader(loaders.load_member_ids_of_teams).load(self.row.id)
        users = await info.context.loader(loaders.load_users).load_many(ids)
        return [User(row=u) for u in users if u is not None]


@strawberry.type
class User(Node):
    row: strawberry.Private[m.User]

    @strawberry.field(description=GLOBAL_ID_DESCRIPTION)
    def id(self) -> strawberry.ID:
        return to_global_id("User", self.row.id)

    @strawberry.field
    def external_id(self) -> str | None:
        return self.row.external_id

    @strawberry.field
    def email(self) -> str:
        return self.row.email

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def seat(self) -> Seat:
        return self.row.seat

    @strawberry.field
    def goal_permission(self) -> GoalPermission:
        return self.row.goal_permission

    @strawberry.field
    def is_admin(self) -> bool:
        return self.row.is_admin

    @strawberry.field
    def active(self) -> bool:
        return self.row.active

    @strawberry.field
    async def teams(self, info: Info) -> list[Team]:
        ids = await info.context.loader(loaders.load_team_ids_of_users).load(self.row.id)
        teams = await info.context.loader(loaders.load_teams).load_many(ids)
        return [Team(row=t) for t in teams if t is not None]

    @strawberry.field
    async def account(
        self, info: Info
    ) -> Annotated["Account", strawberry.lazy("api.account.types")]:
        from api.account.types import Account

        return Account(row=info.context.account)

    @strawberry.field(
        description="The user's in-app notifications, newest first: only for the user "
        "themselves (null for anyone else)."
    )
    async def notifications(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        unread_only: bool | None = False,
    ) -> Annotated["NotificationConnection", strawberry.lazy("api.notifications.types")] | None:
        from api.notifications.queries import notifications_of

        return await notifications_of(info, self.row, first, after, unread_only)


@strawberry.type(description="What a batch upsert applied and what it refused.")
class UpsertPayload:
    upserted_count: int = strawberry.field(
        description="Items created or updated; 0 when anything was refused without allowPartial."
    )
    user_errors: list[UserError]

"""Users, teams and pipelines as GraphQL types."""

from typing import TYPE_CHECKING, Annotated

import strawberry

from api.common.enums import described_enum
from api.common.pagination import AfterArgument, FirstArgument
from api.common.types import GLOBAL_ID_DESCRIPTION, Node, UserError, from_row, user_errors_field
from api.context import Info
from api.directory import loaders
from api.ids import to_global_id
from domain import enums
from domain import models as m

if TYPE_CHECKING:
    from api.account.types import Account
    from api.notifications.types import NotificationConnection

Seat = enums.Seat
described_enum(
    Seat,
    name="Seat",
    description="A user's licence.",
    values={
        "PAID": "May view goals and be a user contributor.",
        "FREE": "May create goals for contributors in reach, but not view goals or contribute.",
    },
)
GoalPermission = enums.GoalPermission
described_enum(
    GoalPermission,
    name="GoalPermission",
    description="A user's reach: the contributors whose goals they may create, view and edit. "
    "Admins reach everyone whatever their permission.",
    values={
        "OWN": "Themselves.",
        "TEAM": "Their teams and the members of those teams.",
        "ALL": "Every user and team of the account.",
    },
)
ObjectType = enums.ObjectType
described_enum(
    ObjectType,
    name="ObjectType",
    description="The kind of CRM record a pipeline holds.",
    values={"TICKET": "Support tickets.", "DEAL": "Sales deals."},
)


@strawberry.type(
    description="A CRM pipeline of tickets or deals, synced by admins; goals count the records "
    "in theirs."
)
class Pipeline(Node):
    row: strawberry.Private[m.Pipeline]

    @strawberry.field(description=GLOBAL_ID_DESCRIPTION)
    def id(self) -> strawberry.ID:
        return to_global_id("Pipeline", self.row.id)

    external_id = from_row(
        "external_id", str, description="The CRM's id of the pipeline, unique within the account."
    )

    name = from_row("name", str, description="The pipeline's name in the CRM.")

    object_type = from_row(
        "object_type",
        ObjectType,
        description="Whether it holds tickets or deals; fixed once created.",
    )


@strawberry.type(description="A group of users, synced by admins; it may be a goal contributor.")
class Team(Node):
    row: strawberry.Private[m.Team]

    @strawberry.field(description=GLOBAL_ID_DESCRIPTION)
    def id(self) -> strawberry.ID:
        return to_global_id("Team", self.row.id)

    external_id = from_row(
        "external_id",
        str | None,
        description=(
            "The CRM's id of the team, unique within the account; null when not synced from it."
        ),
    )

    name = from_row("name", str, description="The team's name.")

    @strawberry.field(description="The team's users, by id.")
    async def members(self, info: Info) -> list["User"]:
        ids = await info.context.loader(loaders.load_member_ids_of_teams).load(self.row.id)
        users = await info.context.loader(loaders.load_users).load_many(ids)
        return [User(row=u) for u in users if u is not None]


@strawberry.type(
    description="A person of the account, synced by admins; every user of the account may list "
    "them."
)
class User(Node):
    row: strawberry.Private[m.User]

    @strawberry.field(description=GLOBAL_ID_DESCRIPTION)
    def id(self) -> strawberry.ID:
        return to_global_id("User", self.row.id)

    external_id = from_row(
        "external_id",
        str | None,
        description=(
            "The CRM's id of the user, unique within the account; null when not synced from it."
        ),
    )

    email = from_row("email", str, description="Unique within the account.")

    name = from_row("name", str, description="The user's full name.")

    seat = from_row(
        "seat", Seat, description="PAID may view goals and contribute; FREE may only create goals."
    )

    goal_permission = from_row(
        "goal_permission",
        GoalPermission,
        description="Whose goals the user may manage: their own, their teams' or all.",
    )

    is_admin = from_row(
        "is_admin",
        bool,
        description=(
            "Admins manage the account, its directory, records and tokens, and reach everyone."
        ),
    )

    active = from_row(
        "active",
        bool,
        description=(
            "False for a deactivated user: their tokens stop working and they cannot be added as a "
            "contributor."
        ),
    )

    @strawberry.field(description="The teams the user is a member of, by id.")
    async def teams(self, info: Info) -> list[Team]:
        ids = await info.context.loader(loaders.load_team_ids_of_users).load(self.row.id)
        teams = await info.context.loader(loaders.load_teams).load_many(ids)
        return [Team(row=t) for t in teams if t is not None]

    @strawberry.field(description="The account (tenant) the user belongs to.")
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
        first: FirstArgument = None,
        after: AfterArgument = None,
        unread_only: Annotated[
            bool | None, strawberry.argument(description="Only the unread ones; default false.")
        ] = False,
    ) -> Annotated["NotificationConnection", strawberry.lazy("api.notifications.types")] | None:
        from api.notifications.queries import notifications_of

        return await notifications_of(info, self.row, first, after, unread_only)


@strawberry.type(description="What a batch upsert applied and what it refused.")
class UpsertPayload:
    upserted_count: int = strawberry.field(
        default=0,
        description="Items created or updated; 0 when anything was refused without allowPartial.",
    )
    user_errors: list[UserError] = user_errors_field()

"""The account (tenant) and its API tokens as GraphQL types."""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.common.types import GLOBAL_ID_DESCRIPTION, Node, UserError, from_row, user_errors_field
from api.context import Info
from api.directory import loaders
from api.ids import to_global_id
from domain import models as m
from domain.permissions import AdminOnly, may

if TYPE_CHECKING:
    from api.directory.types import User


@strawberry.type(description="The tenant: every user, goal and record belongs to one account.")
class Account(Node):
    row: strawberry.Private[m.Account]

    @strawberry.field(description=GLOBAL_ID_DESCRIPTION)
    def id(self) -> strawberry.ID:
        return to_global_id("Account", self.row.id)

    name = from_row("name", str, description="The account's name.")

    timezone = from_row(
        "timezone", str, description="IANA time zone; dates and milestones are read in it."
    )

    fiscal_year_start_month = from_row(
        "fiscal_year_start_month",
        int,
        description=(
            "The month (1 January to 12 December) in which the fiscal year starts; quarters and "
            "years of goals aligned to it start there."
        ),
    )

    currency = from_row("currency", str, description="ISO 4217 code of revenue amounts.")

    @strawberry.field(description="Where notifications are POSTed; only admins read it.")
    def webhook_url(self, info: Info) -> str | None:
        return (
            self.row.webhook_url if may(info.context.viewer, AdminOnly.READ_WEBHOOK_URL) else None
        )

    refresh_hour = from_row(
        "refresh_hour", int | None, description="Local hour (0-23) of the daily progress refresh."
    )


@strawberry.type(description="An API token; its secret value is shown only once, at creation.")
class ApiToken(Node):
    row: strawberry.Private[m.ApiToken]

    @strawberry.field(description=GLOBAL_ID_DESCRIPTION)
    def id(self) -> strawberry.ID:
        return to_global_id("ApiToken", self.row.id)

    name = from_row("name", str, description="What the token is for, as given at creation.")

    created_at = from_row("created_at", datetime, description="When the token was created.")

    last_used_at = from_row(
        "last_used_at", datetime | None, description="Precise to about a minute."
    )

    revoked_at = from_row(
        "revoked_at",
        datetime | None,
        description="When the token was revoked; null while it works.",
    )

    @strawberry.field(description="Whom the token authenticates.")
    async def user(self, info: Info) -> Annotated["User", strawberry.lazy("api.directory.types")]:
        from api.directory.types import User

        row = await info.context.loader(loaders.load_users).load(self.row.user_id)
        return User(row=row)


@strawberry.type(
    description="What `updateAccountSettings` did; nothing changes when any field is refused."
)
class UpdateAccountSettingsPayload:
    account: Account | None = strawberry.field(
        default=None, description="Null when nothing was changed."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The new token, shown once.")
class CreateApiTokenPayload:
    token: str | None = strawberry.field(
        default=None,
        description="The secret to send as `Authorization: Bearer <token>`; shown only here.",
    )
    api_token: ApiToken | None = strawberry.field(
        default=None,
        description="The token's record (without its secret); null when refused.",
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="What `revokeApiToken` did.")
class RevokeApiTokenPayload:
    revoked_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The revoked token's id; null when refused.",
    )
    user_errors: list[UserError] = user_errors_field()

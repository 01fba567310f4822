"""The account (tenant) as a GraphQL type."""

import strawberry

from api.context import Info
from api.ids import to_global_id
from domain import models as m


@strawberry.type
class Account:
    row: strawberry.Private[m.Account]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return to_global_id("Account", self.row.id)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field(description="IANA time zone; dates and milestones are read in it.")
    def timezone(self) -> str:
        return self.row.timezone

    @strawberry.field
    def fiscal_year_start_month(self) -> int:
        return self.row.fiscal_year_start_month

    @strawberry.field(description="ISO 4217 code of revenue amounts.")
    def currency(self) -> str:
        return self.row.currency

    @strawberry.field(description="Where notifications are POSTed; only admins read it.")
    def webhook_url(self, info: Info) -> str | None:
        return self.row.webhook_url if info.context.viewer.is_admin else None

    @strawberry.field(description="Local hour (0-23) of the daily progress refresh.")
    def refresh_hour(self) -> int | None:
        return self.row.refresh_hour

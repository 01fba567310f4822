"""Inputs of the account settings and API tokens."""

import strawberry


@strawberry.input(description="Omitted fields stay as they are.")
class UpdateAccountSettingsInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The account's new name.",
    )
    timezone: str | None = strawberry.field(
        default=strawberry.UNSET, description="An IANA name such as Europe/Warsaw."
    )
    fiscal_year_start_month: int | None = strawberry.field(
        default=strawberry.UNSET, description="1 (January) to 12."
    )
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description="An ISO 4217 code such as EUR."
    )
    webhook_url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="An absolute https URL that receives notifications; null removes it.",
    )
    webhook_secret: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="16 to 500 characters that sign the webhook calls; never readable.",
    )
    refresh_hour: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Local hour (0-23) of the daily refresh; null restores the default.",
    )


@strawberry.input(description="A new API token for you or, as an admin, another user.")
class CreateApiTokenInput:
    name: str = strawberry.field(description="What the token is for, 1 to 200 characters.")
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Another user of the account (admins only); default: you."
    )

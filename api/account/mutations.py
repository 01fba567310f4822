"""Account settings and API tokens."""

from typing import Annotated, Any

import strawberry

from api.account.inputs import CreateApiTokenInput, UpdateAccountSettingsInput
from api.account.types import (
    Account,
    ApiToken,
    CreateApiTokenPayload,
    RevokeApiTokenPayload,
    UpdateAccountSettingsPayload,
)
from api.common.mutations import run_mutation
from api.context import Info
from api.ids import from_global_id
from domain import account as account_rules
from domain import models as m


def _given(value: Any) -> Any:
    return account_rules.KEEP if value is strawberry.UNSET else value


@strawberry.type
class AccountMutation:
    @strawberry.mutation(description="Change the account's settings (admins only).")
    async def update_account_settings(
        self,
        info: Info,
        input: Annotated[
            UpdateAccountSettingsInput, strawberry.argument(description="The settings to change.")
        ],
    ) -> UpdateAccountSettingsPayload:
        change = account_rules.SettingsChange(
            name=_given(input.name),
            timezone=_given(input.timezone),
            fiscal_year_start_month=_given(input.fiscal_year_start_month),
            currency=_given(input.currency),
            webhook_url=_given(input.webhook_url),
            webhook_secret=_given(input.webhook_secret),
            refresh_hour=_given(input.refresh_hour),
        )
        settings = info.context.request.app.state.settings
        viewer = info.context.viewer

        def succeeded(updated: m.Account) -> UpdateAccountSettingsPayload:
            viewer.account = updated
            return UpdateAccountSettingsPayload(account=Account(row=updated))

        command = account_rules.update_account_settings(
            viewer, change, allow_private_webhook=settings.webhook_allow_private
        )
        return await run_mutation(info, command, UpdateAccountSettingsPayload, succeeded)

    @strawberry.mutation(
        description="A new API token for you, or as an admin for another user of the account."
    )
    async def create_api_token(
        self,
        info: Info,
        input: Annotated[
            CreateApiTokenInput, strawberry.argument(description="The new token's name and owner.")
        ],
    ) -> CreateApiTokenPayload:
        user_id = None
        if input.user_id is not None:
            user_id = from_global_id(input.user_id, "User") or 0
        command = account_rules.create_api_token(
            info.context.viewer, name=input.name, user_id=user_id
        )
        return await run_mutation(
            info,
            command,
            CreateApiTokenPayload,
            lambda issued: CreateApiTokenPayload(
                token=issued[0], api_token=ApiToken(row=issued[1])
            ),
        )

    @strawberry.mutation(
        description="Revoke one of your tokens, or as an admin any token of the account."
    )
    async def revoke_api_token(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The token's global id.")],
    ) -> RevokeApiTokenPayload:
        command = account_rules.revoke_api_token(
            info.context.viewer, from_global_id(id, "ApiToken")
        )
        return await run_mutation(
            info, command, RevokeApiTokenPayload, lambda _: RevokeApiTokenPayload(revoked_id=id)
        )

from typing import Annotated

import strawberry

from api.account.types import ApiToken
from api.context import Info
from api.directory.types import User
from api.ids import from_global_id
from domain import account as account_rules


@strawberry.type
class AccountQuery:
    @strawberry.field(description="The user the API token belongs to.")
    def viewer(self, info: Info) -> User:
        return User(row=info.context.viewer)

    @strawberry.field(
        description="Live API tokens, newest first: yours, or as an admin another user's."
    )
    async def api_tokens(
        self,
        info: Info,
        user_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Another user of the account (admins only); null: you."
            ),
        ] = None,
    ) -> list[ApiToken]:
        owner_id = None if user_id is None else from_global_id(user_id, "User") or 0
        rows = await account_rules.live_api_tokens(info.context.viewer, owner_id)
        return [ApiToken(row=row) for row in rows]

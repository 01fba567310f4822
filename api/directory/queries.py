"""The account's directory: every authenticated user of the account may list it."""

import strawberry

from api.common.pagination import decode_offset, offset_connection, page_size
from api.common.types import Connection
from api.context import Info
from api.directory.types import Pipeline, Team, User
from domain import directory


@strawberry.type
class DirectoryQuery:
    @strawberry.field(description="The account's users by name, then id.")
    async def users(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[User]:
        limit, offset = page_size(first), decode_offset(after)
        rows, total = await directory.list_users(
            info.context.account_id, offset=offset, limit=limit
        )
        return offset_connection(
            rows, offset=offset, limit=limit, total=total, node=lambda row: User(row=row)
        )

    @strawberry.field(description="The account's teams by name, then id.")
    async def teams(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Team]:
        limit, offset = page_size(first), decode_offset(after)
        rows, total = await directory.list_teams(
            info.context.account_id, offset=offset, limit=limit
        )
        return offset_connection(
            rows, offset=offset, limit=limit, total=total, node=lambda row: Team(row=row)
        )

    @strawberry.field(description="The account's pipelines by name, then id.")
    async def pipelines(self, info: Info) -> list[Pipeline]:
        return [
            Pipeline(row=row) for row in await directory.list_pipelines(info.context.account_id)
        ]

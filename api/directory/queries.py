"""The account's directory: every authenticated user of the account may list it."""

from typing import Annotated

import strawberry

from api.common.pagination import (
    AfterArgument,
    FirstArgument,
    decode_offset,
    offset_connection,
    page_size,
)
from api.common.types import Connection
from api.context import Info
from api.directory.filters import TeamFilter, UserFilter, clean_search
from api.directory.types import Pipeline, Team, User
from domain import directory


@strawberry.type
class DirectoryQuery:
    @strawberry.field(
        description="The account's users by name, then id; with a filter, only those that "
        'match it (a contributor picker: `{search: "ann", seats: [PAID], active: true}`). '
        "totalCount counts the matches."
    )
    async def users(
        self,
        info: Info,
        first: FirstArgument = None,
        after: AfterArgument = None,
        filter: Annotated[
            UserFilter | None,
            strawberry.argument(description="Only the users that match; null: every user."),
        ] = None,
    ) -> Connection[User]:
        limit, offset = page_size(first), decode_offset(after)
        rows, total = await directory.list_users(
            info.context.account_id,
            offset=offset,
            limit=limit,
            matching=None if filter is None else filter.to_domain(),
        )
        return offset_connection(
            rows, offset=offset, limit=limit, total=total, node=lambda row: User(row=row)
        )

    @strawberry.field(
        description="The account's teams by name, then id; with a filter, only those that "
        "match it. totalCount counts the matches."
    )
    async def teams(
        self,
        info: Info,
        first: FirstArgument = None,
        after: AfterArgument = None,
        filter: Annotated[
            TeamFilter | None,
            strawberry.argument(description="Only the teams that match; null: every team."),
        ] = None,
    ) -> Connection[Team]:
        limit, offset = page_size(first), decode_offset(after)
        rows, total = await directory.list_teams(
            info.context.account_id,
            offset=offset,
            limit=limit,
            search=None if filter is None else clean_search(filter.search),
        )
        return offset_connection(
            rows, offset=offset, limit=limit, total=total, node=lambda row: Team(row=row)
        )

    @strawberry.field(description="The account's pipelines by name, then id.")
    async def pipelines(self, info: Info) -> list[Pipeline]:
        return [
            Pipeline(row=row) for row in await directory.list_pipelines(info.context.account_id)
        ]

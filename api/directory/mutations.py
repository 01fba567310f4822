"""Directory sync for admins: batch upserts of users, teams and pipelines."""

import dataclasses
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar

import strawberry

from api.common.mutations import run_mutation
from api.common.types import user_errors
from api.context import Info
from api.directory.inputs import UpsertPipelinesInput, UpsertTeamsInput, UpsertUsersInput
from api.directory.types import UpsertPayload
from domain import directory
from domain.batches import Upserted

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Item = TypeVar("Item", bound="DataclassInstance")


class UpsertInput(Protocol):
    items: list[Any]
    allow_partial: bool | None


async def upsert(
    info: Info,
    upsert_items: Callable[..., Awaitable[Upserted]],
    item_type: type[Item],
    input: UpsertInput,
) -> UpsertPayload:
    """Runs a batch upsert as the viewer.

    An item input carries its domain item's fields under the same names (enums included: the
    GraphQL enums are the domain's), so each item is read into ``item_type`` field by field.
    """
    names = [field.name for field in dataclasses.fields(item_type)]
    items = [item_type(**{name: getattr(item, name) for name in names}) for item in input.items]
    command = upsert_items(info.context.viewer, items, allow_partial=bool(input.allow_partial))
    return await run_mutation(
        info,
        command,
        UpsertPayload,
        lambda written: UpsertPayload(
            upserted_count=written.count, user_errors=user_errors(written.skipped)
        ),
    )


@strawberry.type
class DirectoryMutation:
    @strawberry.mutation(description="Create or update users by external id (admins only).")
    async def upsert_users(
        self,
        info: Info,
        input: Annotated[
            UpsertUsersInput,
            strawberry.argument(description="The users and whether to apply a partly valid batch."),
        ],
    ) -> UpsertPayload:
        return await upsert(info, directory.upsert_users, directory.UserItem, input)

    @strawberry.mutation(
        description="Create or update teams by external id; member lists replace the "
        "membership (admins only)."
    )
    async def upsert_teams(
        self,
        info: Info,
        input: Annotated[
            UpsertTeamsInput,
            strawberry.argument(description="The teams and whether to apply a partly valid batch."),
        ],
    ) -> UpsertPayload:
        return await upsert(info, directory.upsert_teams, directory.TeamItem, input)

    @strawberry.mutation(description="Create or update pipelines by external id (admins only).")
    async def upsert_pipelines(
        self,
        info: Info,
        input: Annotated[
            UpsertPipelinesInput,
            strawberry.argument(
                description="The pipelines and whether to apply a partly valid batch."
            ),
        ],
    ) -> UpsertPayload:
        return await upsert(info, directory.upsert_pipelines, directory.PipelineItem, input)

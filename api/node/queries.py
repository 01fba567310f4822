"""Any object by its global id (Relay's `node` and `nodes`), as far as the viewer may see it.

Every kind of object is read through a per-request DataLoader, so `nodes` sends one statement
per kind of id it was given, however many ids there are."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, TypeVar

import strawberry

from api.account.types import Account, ApiToken
from api.common.errors import PublicError
from api.common.types import Node
from api.context import Info
from api.directory import loaders as directory_loaders
from api.directory.types import Pipeline, Team, User
from api.goals import loaders as goal_loaders
from api.goals.loaders import VisibleKey
from api.goals.types import ContributorGoal, Goal, Milestone
from api.ids import from_global_id
from api.limits import MAX_NODES
from api.node.loaders import load_api_tokens, load_notifications
from api.notifications.types import Notification, NotificationDelivery
from domain import enums

Resolve = Callable[[Info, int], Awaitable[Node | None]]
R = TypeVar("R")


async def _visible(
    info: Info,
    batch_load: Callable[[int, Sequence[VisibleKey]], Awaitable[Sequence[R | None]]],
    pk: int,
) -> R | None:
    key = (pk, info.context.viewer, await info.context.reach())
    return await info.context.loader(batch_load).load(key)


async def _goal(info: Info, pk: int) -> Node | None:
    row = await _visible(info, goal_loaders.load_visible_goals, pk)
    return None if row is None else Goal(row=row)


async def _contributor_goal(info: Info, pk: int) -> Node | None:
    row = await _visible(info, goal_loaders.load_visible_contributor_goals, pk)
    return None if row is None else ContributorGoal(row=row)


async def _milestone(info: Info, pk: int) -> Node | None:
    row = await _visible(info, goal_loaders.load_visible_milestones, pk)
    return None if row is None else Milestone(row=row, goal_row=row.contributor_goal.goal)


async def _user(info: Info, pk: int) -> Node | None:
    row = await info.context.loader(directory_loaders.load_users).load(pk)
    return None if row is None else User(row=row)


async def _team(info: Info, pk: int) -> Node | None:
    row = await info.context.loader(directory_loaders.load_teams).load(pk)
    return None if row is None else Team(row=row)


async def _pipeline(info: Info, pk: int) -> Node | None:
    row = await info.context.loader(directory_loaders.load_pipelines).load(pk)
    return None if row is None else Pipeline(row=row)


async def _account(info: Info, pk: int) -> Node | None:
    return Account(row=info.context.account) if pk == info.context.account_id else None


async def _api_token(info: Info, pk: int) -> Node | None:
    """The viewer's own tokens; an admin's, any of the account's (as `apiTokens`)."""
    row = await info.context.loader(load_api_tokens).load(pk)
    viewer = info.context.viewer
    if row is None or not (row.user_id == viewer.id or viewer.is_admin):
        return None
    return ApiToken(row=row)


async def _notification(info: Info, pk: int) -> Node | None:
    """The viewer's own in-app notifications; for an admin, also deliveries that failed."""
    row = await info.context.loader(load_notifications).load(pk)
    viewer = info.context.viewer
    if row is None:
        return None
    if row.channel == enums.Channel.IN_APP and row.recipient_id == viewer.id:
        return Notification(row=row)
    if row.state == enums.DeliveryState.FAILED and viewer.is_admin:
        return NotificationDelivery(row=row)
    return None


# The type name a global id carries, and how to read an object of that type for the viewer.
RESOLVERS: dict[str, Resolve] = {
    "Goal": _goal,
    "ContributorGoal": _contributor_goal,
    "Milestone": _milestone,
    "User": _user,
    "Team": _team,
    "Pipeline": _pipeline,
    "Account": _account,
    "ApiToken": _api_token,
    "Notification": _notification,
}


async def resolve_node(info: Info, global_id: str) -> Node | None:
    for type_name, resolve in RESOLVERS.items():
        pk = from_global_id(global_id, type_name)
        if pk is not None:
            return await resolve(info, pk)
    return None


NOT_FOUND = (
    "Null when the id is malformed, unknown, of another account or of an object the viewer "
    "may not see (a goal, contributor goal or milestone outside their reach, another user's "
    "token or notification), without saying which."
)


@strawberry.type
class NodeQuery:
    @strawberry.field(description=f"The object with this global id, of any type. {NOT_FOUND}")
    async def node(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="A global id, as `id` returns it.")
        ],
    ) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(
        description="The objects with these global ids, in the order given (an id given twice "
        f"appears twice). Each entry: {NOT_FOUND} A bounded number of statements however many "
        "ids."
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description=f"Global ids, at most {MAX_NODES}."),
        ],
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise PublicError(f"At most {MAX_NODES} ids a call.")
        return list(await asyncio.gather(*(resolve_node(info, global_id) for global_id in ids)))

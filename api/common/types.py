"""Types every feature shares: user errors, Relay pages and the scalars' enums."""

from typing import Generic, TypeVar

import strawberry

from domain.errors import ErrorCode as DomainErrorCode
from domain.errors import UserError as DomainUserError

T = TypeVar("T")

ErrorCode = strawberry.enum(DomainErrorCode, name="ErrorCode")


GLOBAL_ID_DESCRIPTION = (
    "Global id, unique among all objects of every type; pass it to `node(id)` to fetch the "
    "object again."
)


@strawberry.interface(
    description="An object with a global id, which `node(id)` and `nodes(ids)` fetch again "
    "(Relay's object identification, for clients that normalise their cache by id)."
)
class Node:
    @strawberry.field(description=GLOBAL_ID_DESCRIPTION)
    def id(self) -> strawberry.ID:
        """Each implementing type encodes its own row's id."""
        raise NotImplementedError


@strawberry.type(description="A problem with one part of a mutation's input.")
class UserError:
    field: list[str] = strawberry.field(description="Path from the argument to the bad input.")
    code: ErrorCode
    message: str

    @classmethod
    def from_domain(cls, error: DomainUserError) -> "UserError":
        return cls(field=list(error.field), code=error.code, message=error.message)


def user_errors(errors: list[DomainUserError]) -> list[UserError]:
    return [UserError.from_domain(e) for e in errors]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="One item of a page and its position in the list.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Pass it as `after` to continue the list after this item."
    )
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="One page of a list (Relay connection).")
class Connection(Generic[T]):
    total_count: int = strawberry.field(description="How many items the whole list holds.")
    page_info: PageInfo = strawberry.field(description="Where this page stands in the list.")
    edges: list[Edge[T]] = strawberry.field(description="This page's items, in order.")

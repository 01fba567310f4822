"""Types every feature shares: user errors, Relay pages and the scalars' enums."""

from typing import Generic, TypeVar

import strawberry

from domain.errors import ErrorCode as DomainErrorCode
from domain.errors import UserError as DomainUserError

T = TypeVar("T")

ErrorCode = strawberry.enum(DomainErrorCode, name="ErrorCode")


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

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


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    total_count: int
    page_info: PageInfo
    edges: list[Edge[T]]

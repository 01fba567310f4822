"""Types every feature shares: user errors, Relay pages and the scalars' enums."""

from typing import Any, Generic, TypeVar

import strawberry
from strawberry.utils.str_converters import to_camel_case

from api.common.enums import described_enum
from domain.errors import ErrorCode as DomainErrorCode
from domain.errors import UserError as DomainUserError

T = TypeVar("T")

ErrorCode = DomainErrorCode
described_enum(
    ErrorCode,
    name="ErrorCode",
    description="Why a part of a mutation's input was refused; stable, for clients to branch on.",
    values={
        "INVALID": "The value breaks a rule (a length, a range, a date order); see the message.",
        "REQUIRED": "A value that must be given is missing or empty.",
        "NOT_FOUND": "The id is unknown, of another account or type, or out of your reach.",
        "FORBIDDEN": "You may see the object but not change it this way.",
        "IMMUTABLE": "The value can no longer change (pipelines, final milestones' targets).",
        "DUPLICATE": "The same item appears twice, or already exists.",
        "TOO_MANY": "The list is longer than its limit.",
    },
)


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
    code: ErrorCode = strawberry.field(description="Why it was refused, for a client to branch on.")
    message: str = strawberry.field(description="A sentence for a person, in English.")

    @classmethod
    def from_domain(cls, error: DomainUserError) -> "UserError":
        """The domain names input fields in snake_case; the client knows them as the schema
        spells them."""
        return cls(
            field=[to_camel_case(part) for part in error.field],
            code=error.code,
            message=error.message,
        )


def from_row(attribute: str, shown_as: Any, *, description: str) -> Any:
    """A field that shows ``attribute`` of the object's ``row`` as it is, as the GraphQL type of
    ``shown_as``: a declaration in place of a resolver that only returns ``self.row.<x>``."""

    def resolve(root: Any) -> Any:
        return getattr(root.row, attribute)

    return strawberry.field(resolver=resolve, graphql_type=shown_as, description=description)


def user_errors_field() -> Any:
    """The ``userErrors`` field of every mutation payload."""
    return strawberry.field(
        default_factory=list,
        description="The refused parts of the input, each at its path; empty when nothing was "
        "refused.",
    )


def user_errors(errors: list[DomainUserError]) -> list[UserError]:
    return [UserError.from_domain(e) for e in errors]


@strawberry.type(description="Where a page stands in its list (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether items follow this page; pass `endCursor` as `after` to read them.",
    )
    has_previous_page: bool = strawberry.field(
        description="Whether this page was asked for with `after` (items came before it).",
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the page's first item; null for an empty page.",
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last item; null for an empty page.",
    )


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

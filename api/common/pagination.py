"""Offset cursors over a stable ordering, and the page-size cap."""

import base64
from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

import strawberry

from api.common.errors import PublicError
from api.common.types import Connection, Edge, PageInfo
from domain.settings import get_settings

N = TypeVar("N")
R = TypeVar("R")
DEFAULT_PAGE_SIZE = 20

FirstArgument = Annotated[
    int | None,
    strawberry.argument(
        description="How many items: 0 to 100 (the server's page-size limit), default 20."
    ),
]
AfterArgument = Annotated[
    str | None,
    strawberry.argument(description="The `endCursor` of the previous page; null: from the start."),
]


def page_size(first: int | None) -> int:
    limit = get_settings().max_page_size
    if first is None:
        return min(DEFAULT_PAGE_SIZE, limit)
    if first < 0 or first > limit:
        raise PublicError(f"`first` must be between 0 and {limit}.")
    return first


def encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def decode_offset(cursor: str | None) -> int:
    """The position after ``cursor``; 0 for no cursor."""
    if cursor is None:
        return 0
    try:
        kind, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "offset" and number.isdigit() and len(number) < 10:
            return int(number) + 1
    except ValueError:
        pass
    raise PublicError("`after` is not a cursor this list gave out.")


def offset_connection(
    rows: Sequence[R], *, offset: int, limit: int, total: int, node: Callable[[R], N]
) -> Connection[N]:
    """A page from ``rows`` (fetched with one extra row to tell whether more follow)."""
    page = list(rows[:limit])
    edges = [Edge(cursor=encode_offset(offset + i), node=node(row)) for i, row in enumerate(page)]
    return Connection(
        total_count=total,
        page_info=PageInfo(
            has_next_page=len(rows) > limit,
            has_previous_page=offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        edges=edges,
    )

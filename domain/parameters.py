"""How many values one SQL statement may bind: asyncpg refuses more than 32,767 parameters and
SQLite more than 32,766, so a list of ids that grows with the data (`id IN (...)` binds one
parameter per id) is sent in pieces. Bulk inserts are not concerned: the drivers run them as
one prepared statement per row."""

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

# Well below both drivers' limits, leaving room for the other parameters of the statement.
IDS_PER_STATEMENT = 10_000


def in_pieces(items: Sequence[T], size: int = IDS_PER_STATEMENT) -> Iterator[Sequence[T]]:
    """``items`` in consecutive pieces of at most ``size``; nothing for an empty list."""
    for start in range(0, len(items), size):
        yield items[start : start + size]

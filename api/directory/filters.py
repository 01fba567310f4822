"""The contributor picker's filters on the directory listings."""

import strawberry

from api.common.errors import PublicError
from api.directory.types import Seat
from domain import directory

MAX_SEARCH_LENGTH = 200


def clean_search(search: str | None) -> str | None:
    """The search text without surrounding spaces; None when nothing is left."""
    text = (search or "").strip()
    if len(text) > MAX_SEARCH_LENGTH:
        raise PublicError(f"`search` takes at most {MAX_SEARCH_LENGTH} characters.")
    return text or None


@strawberry.input(description="Which users to list; every given field must hold.")
class UserFilter:
    search: str | None = strawberry.field(
        default=None,
        description="A case-insensitive part of the name or the email "
        f"(at most {MAX_SEARCH_LENGTH} characters).",
    )
    seats: list[Seat] | None = strawberry.field(
        default=None, description="Any of these seats; null or empty: any seat."
    )
    active: bool | None = strawberry.field(
        default=None,
        description="true: users who can sign in and be added as contributors; false: "
        "deactivated ones; null: both.",
    )

    def to_domain(self) -> directory.UserFilter:
        return directory.UserFilter(
            search=clean_search(self.search),
            seats=tuple(sorted(set(self.seats))) if self.seats else None,
            active=self.active,
        )


@strawberry.input(description="Which teams to list.")
class TeamFilter:
    search: str | None = strawberry.field(
        default=None,
        description=f"A case-insensitive part of the name (at most {MAX_SEARCH_LENGTH} "
        "characters).",
    )

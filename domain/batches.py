"""What every batch upsert shares: the admin gate, the size cap, per-item error collection.

A batch either applies completely or not at all (ValidationFailed says why), unless the caller
allows a partial apply, in which case the items without errors go through and the others are
reported as skipped.
"""

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from tortoise.models import Model

from domain.data_version import account_write
from domain.errors import ErrorCode, Errors, UserError, ValidationFailed
from domain.models import User
from domain.permissions import AdminOnly, require_admin

MAX_ITEMS = 1000
MAX_EXTERNAL_ID = 200
MAX_NAME = 200
ITEMS_PATH = ("input", "items")
# Synced rows are unique per account by the CRM's external id; upserts conflict on it.
EXTERNAL_KEY = ("account_id", "external_id")


@dataclass(frozen=True, slots=True)
class Upserted:
    """A batch written: how many items, and the problems of the items a partial apply skipped."""

    count: int
    skipped: list[UserError]


@dataclass
class ItemErrors:
    """Errors of a batch, remembering which items they disqualify."""

    errors: Errors = field(default_factory=Errors)
    bad: set[int] = field(default_factory=set)

    def add(
        self, index: int, field_name: str | Iterable[str | int], code: ErrorCode, message: str
    ) -> None:
        names = [field_name] if isinstance(field_name, str) else list(field_name)
        self.errors.add((*ITEMS_PATH, index, *names), code, message)
        self.bad.add(index)

    def good(self, count: int) -> list[int]:
        return [i for i in range(count) if i not in self.bad]

    def refuse_unless_applicable(self, allow_partial: bool) -> None:
        """Raises ValidationFailed when the invalid items hold the whole batch back."""
        if not allow_partial:
            self.errors.raise_if_any()

    def written(self, count: int) -> Upserted:
        return Upserted(count=count, skipped=list(self.errors.items))


def refuse_batch(actor: User, count: int) -> None:
    """Raises ValidationFailed for a batch refused as a whole: not an admin, empty, too big."""
    require_admin(actor, AdminOnly.SYNC)
    if count == 0:
        raise ValidationFailed.one(ITEMS_PATH, ErrorCode.INVALID, "Send at least one item.")
    if count > MAX_ITEMS:
        raise ValidationFailed.one(
            ITEMS_PATH, ErrorCode.TOO_MANY, f"Send at most {MAX_ITEMS} items per call ({count})."
        )


def start_batch(actor: User, external_ids: list[str]) -> ItemErrors:
    """The errors of a batch, its external ids checked; raises for a batch refused whole."""
    refuse_batch(actor, len(external_ids))
    problems = ItemErrors()
    check_external_ids(problems, external_ids)
    return problems


async def write_batch(
    problems: ItemErrors,
    allow_partial: bool,
    model: type[Model],
    rows: Sequence[Model],
    update_fields: Sequence[str],
    *,
    account_id: int,
    also: Callable[[], Awaitable[None]] | None = None,
) -> Upserted:
    """Upserts the rows of the valid items in one statement, unless the invalid ones hold the
    batch back; ``also`` runs last in the same transaction."""
    problems.refuse_unless_applicable(allow_partial)
    if rows:
        async with account_write(account_id):
            await model.bulk_create(rows, on_conflict=EXTERNAL_KEY, update_fields=update_fields)
            if also is not None:
                await also()
    return problems.written(len(rows))


def lookup_keys(values: Iterable[str], max_length: int = MAX_EXTERNAL_ID) -> set[str]:
    """The values worth looking up: longer ones match no row (and the ORM refuses them)."""
    return {v for v in values if len(v) <= max_length}


def check_external_ids(problems: ItemErrors, external_ids: list[str]) -> None:
    """Each item needs its own external id: present, bounded, once per batch."""
    seen: dict[str, int] = {}
    for index, external_id in enumerate(external_ids):
        if not external_id.strip():
            problems.add(index, "external_id", ErrorCode.REQUIRED, "The external id is empty.")
        elif len(external_id) > MAX_EXTERNAL_ID:
            problems.add(
                index,
                "external_id",
                ErrorCode.INVALID,
                f"The external id is longer than {MAX_EXTERNAL_ID} characters.",
            )
        elif external_id in seen:
            problems.add(
                index,
                "external_id",
                ErrorCode.DUPLICATE,
                f"The external id {external_id!r} is also item {seen[external_id]}.",
            )
        else:
            seen[external_id] = index


def check_reference(
    problems: ItemErrors,
    index: int,
    field_name: str | Iterable[str | int],
    external_id: str,
    what: str,
) -> bool:
    """A reference by external id must be a plausible key before it is looked up."""
    if not external_id.strip():
        problems.add(index, field_name, ErrorCode.REQUIRED, f"Name the {what} by its external id.")
        return False
    if len(external_id) > MAX_EXTERNAL_ID:
        problems.add(index, field_name, ErrorCode.NOT_FOUND, f"No {what} has this external id.")
        return False
    return True


async def user_ids_by_external_id(account_id: int, external_ids: Iterable[str]) -> dict[str, int]:
    """The account's users among these external ids, by external id."""
    return dict(
        await User.filter(
            account_id=account_id, external_id__in=lookup_keys(external_ids)
        ).values_list("external_id", "id")
    )


def find_user(
    problems: ItemErrors,
    index: int,
    field_name: str | Iterable[str | int],
    external_id: str,
    user_ids: dict[str, int],
) -> int | None:
    """The id of the user an item names by external id, looked up in ``user_ids``."""
    if not check_reference(problems, index, field_name, external_id, "user"):
        return None
    user_id = user_ids.get(external_id)
    if user_id is None:
        problems.add(
            index,
            field_name,
            ErrorCode.NOT_FOUND,
            f"No user of the account has the external id {external_id!r}.",
        )
    return user_id


def clean_name(problems: ItemErrors, index: int, name: str) -> str:
    trimmed = name.strip()
    if not trimmed:
        problems.add(index, "name", ErrorCode.REQUIRED, "The name is empty.")
    elif len(trimmed) > MAX_NAME:
        problems.add(
            index, "name", ErrorCode.INVALID, f"The name is longer than {MAX_NAME} characters."
        )
    return trimmed


def to_utc(
    problems: ItemErrors, index: int, field_name: str, value: datetime | None
) -> datetime | None:
    """Timestamps must carry their offset: a naive one would be read in an unknown zone."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        problems.add(
            index,
            field_name,
            ErrorCode.INVALID,
            "Give the timestamp with its UTC offset, e.g. 2026-03-02T09:00:00+01:00.",
        )
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        problems.add(
            index, field_name, ErrorCode.INVALID, "The timestamp falls outside the calendar in UTC."
        )
        return None


def check_not_before(
    problems: ItemErrors,
    index: int,
    field_name: str,
    value: datetime | None,
    start: datetime | None,
    message: str,
) -> None:
    if value is not None and start is not None and value < start:
        problems.add(index, field_name, ErrorCode.INVALID, message)


def check_amount(
    problems: ItemErrors,
    index: int,
    field_name: str,
    value: Decimal,
    *,
    places: int = 4,
    integer_digits: int = 16,
) -> Decimal | None:
    """A finite, non-negative decimal that the column stores exactly."""
    if not value.is_finite():
        problems.add(index, field_name, ErrorCode.INVALID, "The amount must be a finite number.")
        return None
    if value < 0:
        problems.add(index, field_name, ErrorCode.INVALID, "The amount must not be negative.")
        return None
    if value >= Decimal(10) ** integer_digits:
        problems.add(index, field_name, ErrorCode.INVALID, "The amount is too large.")
        return None
    exponent = int(value.as_tuple().exponent)  # finite, so an int
    if exponent < -places and value != value.quantize(Decimal(1).scaleb(-places)):
        problems.add(
            index,
            field_name,
            ErrorCode.INVALID,
            f"The amount has more than {places} decimal places.",
        )
        return None
    return value

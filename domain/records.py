"""CRM records (tickets, deals, engagements) upserted in batches by the account's external ids.

Set-based: the owners and pipelines a batch names are looked up in one query each and the
batch is written with one INSERT ... ON CONFLICT (account, external id) DO UPDATE, so a
thousand items cost the same few statements as one.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from tortoise.models import Model

from domain import live
from domain.batches import (
    ItemErrors,
    Upserted,
    check_amount,
    check_not_before,
    check_reference,
    find_user,
    lookup_keys,
    start_batch,
    to_utc,
    user_ids_by_external_id,
    write_batch,
)
from domain.enums import EngagementKind, ObjectType
from domain.errors import ErrorCode
from domain.models import Deal, Engagement, Pipeline, Ticket, User


@dataclass(frozen=True, slots=True)
class TicketItem:
    external_id: str
    pipeline_external_id: str
    owner_external_id: str
    created_at: datetime
    first_responded_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DealItem:
    external_id: str
    pipeline_external_id: str
    owner_external_id: str
    amount: Decimal
    created_at: datetime
    closed_won_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EngagementItem:
    external_id: str
    kind: EngagementKind
    owner_external_id: str
    occurred_at: datetime


async def _write_records(
    problems: ItemErrors,
    allow_partial: bool,
    model: type[Model],
    rows: Sequence[Model],
    update_fields: Sequence[str],
    account_id: int,
) -> Upserted:
    """Write the batch and count the change for live progress in its transaction; once it has
    committed, queue the account's live refresh."""
    mark = partial(live.mark_records_changed, account_id)
    written = await write_batch(
        problems, allow_partial, model, rows, update_fields, account_id=account_id, also=mark
    )
    if written.count:
        await live.after_records_changed(account_id)
    return written


class _References:
    """The owners and pipelines a batch names, fetched once, resolved per item."""

    def __init__(
        self, owners: dict[str, int], pipelines: dict[str, tuple[int, ObjectType]]
    ) -> None:
        self.owners = owners
        self.pipelines = pipelines

    @classmethod
    async def load(
        cls, account_id: int, owner_ids: Sequence[str], pipeline_ids: Sequence[str] = ()
    ) -> "_References":
        owners = await user_ids_by_external_id(account_id, owner_ids)
        pipelines: dict[str, tuple[int, ObjectType]] = {}
        if pipeline_ids:
            for external_id, pk, object_type in await Pipeline.filter(
                account_id=account_id, external_id__in=lookup_keys(pipeline_ids)
            ).values_list("external_id", "id", "object_type"):
                pipelines[external_id] = (pk, ObjectType(object_type))
        return cls(owners, pipelines)

    def owner(self, problems: ItemErrors, index: int, external_id: str) -> int | None:
        return find_user(problems, index, "owner_external_id", external_id, self.owners)

    def pipeline(
        self, problems: ItemErrors, index: int, external_id: str, object_type: ObjectType
    ) -> int | None:
        field_name = "pipeline_external_id"
        if not check_reference(problems, index, field_name, external_id, "pipeline"):
            return None
        found = self.pipelines.get(external_id)
        if found is None:
            problems.add(
                index,
                field_name,
                ErrorCode.NOT_FOUND,
                f"No pipeline of the account has the external id {external_id!r}.",
            )
            return None
        pipeline_id, actual_type = found
        if actual_type != object_type:
            problems.add(
                index,
                field_name,
                ErrorCode.INVALID,
                f"Pipeline {external_id!r} holds {actual_type.lower()}s, "
                f"not {object_type.lower()}s.",
            )
            return None
        return pipeline_id


Item = TypeVar("Item", TicketItem, DealItem, EngagementItem)


async def _upsert_records(
    actor: User,
    items: Sequence[Item],
    allow_partial: bool,
    model: type[Model],
    fields_of: Callable[[ItemErrors, int, Item], dict[str, Any]],
    pipelines: tuple[ObjectType, Sequence[str]] | None = None,
) -> Upserted:
    """Checks each item into the fields of its row, then writes the rows; an item's fields are
    the columns an upsert updates.

    Every record names its owner, and with ``pipelines`` (the object type they must hold and
    each item's pipeline) a pipeline; ``fields_of`` checks the rest, recording the problems.
    """
    problems = start_batch(actor, [item.external_id for item in items])
    account_id = actor.account_id
    object_type, pipeline_ids = pipelines or (None, ())
    refs = await _References.load(
        account_id, [item.owner_external_id for item in items], pipeline_ids
    )
    rows: list[Model] = []
    fields: dict[str, Any] = {}
    for index, item in enumerate(items):
        fields = {}
        if object_type is not None:
            fields["pipeline_id"] = refs.pipeline(problems, index, pipeline_ids[index], object_type)
        fields["owner_id"] = refs.owner(problems, index, item.owner_external_id)
        fields.update(fields_of(problems, index, item))
        if index not in problems.bad:
            rows.append(model(account_id=account_id, external_id=item.external_id, **fields))
    return await _write_records(problems, allow_partial, model, rows, list(fields), account_id)


async def upsert_tickets(
    actor: User, items: Sequence[TicketItem], *, allow_partial: bool = False
) -> Upserted:
    pipelines = (ObjectType.TICKET, [item.pipeline_external_id for item in items])
    return await _upsert_records(actor, items, allow_partial, Ticket, _ticket_fields, pipelines)


def _ticket_fields(problems: ItemErrors, index: int, item: TicketItem) -> dict[str, Any]:
    created_at = to_utc(problems, index, "created_at", item.created_at)
    responded_at = to_utc(problems, index, "first_responded_at", item.first_responded_at)
    closed_at = to_utc(problems, index, "closed_at", item.closed_at)
    check_not_before(
        problems,
        index,
        "first_responded_at",
        responded_at,
        created_at,
        "firstRespondedAt is before createdAt.",
    )
    check_not_before(
        problems, index, "closed_at", closed_at, created_at, "closedAt is before createdAt."
    )
    return {"created_at": created_at, "first_responded_at": responded_at, "closed_at": closed_at}


async def upsert_deals(
    actor: User, items: Sequence[DealItem], *, allow_partial: bool = False
) -> Upserted:
    pipelines = (ObjectType.DEAL, [item.pipeline_external_id for item in items])
    return await _upsert_records(actor, items, allow_partial, Deal, _deal_fields, pipelines)


def _deal_fields(problems: ItemErrors, index: int, item: DealItem) -> dict[str, Any]:
    return {
        "amount": check_amount(problems, index, "amount", item.amount),
        "created_at": to_utc(problems, index, "created_at", item.created_at),
        "closed_won_at": to_utc(problems, index, "closed_won_at", item.closed_won_at),
    }


async def upsert_engagements(
    actor: User, items: Sequence[EngagementItem], *, allow_partial: bool = False
) -> Upserted:
    return await _upsert_records(actor, items, allow_partial, Engagement, _engagement_fields)


def _engagement_fields(problems: ItemErrors, index: int, item: EngagementItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "occurred_at": to_utc(problems, index, "occurred_at", item.occurred_at),
    }

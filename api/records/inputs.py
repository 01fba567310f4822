"""Inputs of the record ingest. Timestamps are ISO 8601 with an offset; amounts decimals."""

from datetime import datetime
from decimal import Decimal

import strawberry

from api.directory.inputs import allow_partial_field
from api.records.types import EngagementKind

OFFSET_NOTE = "ISO 8601 with a UTC offset; stored in UTC."


@strawberry.input
class TicketInput:
    external_id: str
    pipeline_external_id: str = strawberry.field(description="A TICKET pipeline.")
    owner_external_id: str
    created_at: datetime = strawberry.field(description=OFFSET_NOTE)
    first_responded_at: datetime | None = strawberry.field(
        default=None, description="Not before createdAt."
    )
    closed_at: datetime | None = strawberry.field(default=None, description="Not before createdAt.")


@strawberry.input
class DealInput:
    external_id: str
    pipeline_external_id: str = strawberry.field(description="A DEAL pipeline.")
    owner_external_id: str
    amount: Decimal = strawberry.field(
        description="In the account's currency: >= 0, at most 4 decimal places."
    )
    created_at: datetime = strawberry.field(description=OFFSET_NOTE)
    closed_won_at: datetime | None = None


@strawberry.input
class EngagementInput:
    external_id: str
    kind: EngagementKind
    owner_external_id: str
    occurred_at: datetime = strawberry.field(description=OFFSET_NOTE)


@strawberry.input
class UpsertTicketsInput:
    items: list[TicketInput] = strawberry.field(description="1 to 1,000 tickets.")
    allow_partial: bool | None = allow_partial_field()


@strawberry.input
class UpsertDealsInput:
    items: list[DealInput] = strawberry.field(description="1 to 1,000 deals.")
    allow_partial: bool | None = allow_partial_field()


@strawberry.input
class UpsertEngagementsInput:
    items: list[EngagementInput] = strawberry.field(description="1 to 1,000 engagements.")
    allow_partial: bool | None = allow_partial_field()

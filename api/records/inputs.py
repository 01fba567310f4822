"""Inputs of the record ingest. Timestamps are ISO 8601 with an offset; amounts decimals."""

from datetime import datetime
from decimal import Decimal

import strawberry

from api.directory.inputs import allow_partial_field
from api.records.types import EngagementKind

OFFSET_NOTE = "ISO 8601 with a UTC offset; stored in UTC."


@strawberry.input(description="A support ticket; counted by the SERVICE goal types.")
class TicketInput:
    external_id: str = strawberry.field(
        description="The CRM's id of the ticket; a second upsert of the same id updates it.",
    )
    pipeline_external_id: str = strawberry.field(description="A TICKET pipeline.")
    owner_external_id: str = strawberry.field(
        description="The external id of the user who owns it; an unknown user is an error.",
    )
    created_at: datetime = strawberry.field(description=OFFSET_NOTE)
    first_responded_at: datetime | None = strawberry.field(
        default=None, description="Not before createdAt."
    )
    closed_at: datetime | None = strawberry.field(default=None, description="Not before createdAt.")


@strawberry.input(description="A sales deal; counted by REVENUE and DEALS_CREATED goals.")
class DealInput:
    external_id: str = strawberry.field(
        description="The CRM's id of the deal; a second upsert of the same id updates it.",
    )
    pipeline_external_id: str = strawberry.field(description="A DEAL pipeline.")
    owner_external_id: str = strawberry.field(
        description="The external id of the user who owns it; an unknown user is an error.",
    )
    amount: Decimal = strawberry.field(
        description="In the account's currency: >= 0, at most 4 decimal places."
    )
    created_at: datetime = strawberry.field(description=OFFSET_NOTE)
    closed_won_at: datetime | None = strawberry.field(
        default=None,
        description="When the deal was won (ISO 8601 with a UTC offset); null while it is not.",
    )


@strawberry.input(
    description="A call or meeting; counted by CALLS_LOGGED and MEETINGS_BOOKED goals."
)
class EngagementInput:
    external_id: str = strawberry.field(
        description="The CRM's id of the engagement; a second upsert of the same id updates it.",
    )
    kind: EngagementKind = strawberry.field(description="CALL or MEETING.")
    owner_external_id: str = strawberry.field(
        description="The external id of the user who owns it; an unknown user is an error.",
    )
    occurred_at: datetime = strawberry.field(description=OFFSET_NOTE)


@strawberry.input(description="Tickets to create or update, keyed by external id.")
class UpsertTicketsInput:
    items: list[TicketInput] = strawberry.field(description="1 to 1,000 tickets.")
    allow_partial: bool | None = allow_partial_field()


@strawberry.input(description="Deals to create or update, keyed by external id.")
class UpsertDealsInput:
    items: list[DealInput] = strawberry.field(description="1 to 1,000 deals.")
    allow_partial: bool | None = allow_partial_field()


@strawberry.input(description="Calls and meetings to create or update, keyed by external id.")
class UpsertEngagementsInput:
    items: list[EngagementInput] = strawberry.field(description="1 to 1,000 engagements.")
    allow_partial: bool | None = allow_partial_field()

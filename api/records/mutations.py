"""Record ingest for admins: batch upserts of tickets, deals and engagements."""

import strawberry

from api.context import Info
from api.directory.mutations import upsert_payload
from api.directory.types import UpsertPayload
from api.records.inputs import UpsertDealsInput, UpsertEngagementsInput, UpsertTicketsInput
from domain import records
from domain.enums import EngagementKind


@strawberry.type
class RecordMutation:
    @strawberry.mutation(description="Create or update tickets by external id (admins only).")
    async def upsert_tickets(self, info: Info, input: UpsertTicketsInput) -> UpsertPayload:
        items = [
            records.TicketItem(
                external_id=item.external_id,
                pipeline_external_id=item.pipeline_external_id,
                owner_external_id=item.owner_external_id,
                created_at=item.created_at,
                first_responded_at=item.first_responded_at,
                closed_at=item.closed_at,
            )
            for item in input.items
        ]
        outcome = await records.upsert_tickets(
            info.context.viewer, items, allow_partial=bool(input.allow_partial)
        )
        return upsert_payload(info, outcome)

    @strawberry.mutation(description="Create or update deals by external id (admins only).")
    async def upsert_deals(self, info: Info, input: UpsertDealsInput) -> UpsertPayload:
        items = [
            records.DealItem(
                external_id=item.external_id,
                pipeline_external_id=item.pipeline_external_id,
                owner_external_id=item.owner_external_id,
                amount=item.amount,
                created_at=item.created_at,
                closed_won_at=item.closed_won_at,
            )
            for item in input.items
        ]
        outcome = await records.upsert_deals(
            info.context.viewer, items, allow_partial=bool(input.allow_partial)
        )
        return upsert_payload(info, outcome)

    @strawberry.mutation(
        description="Create or update calls and meetings by external id (admins only)."
    )
    async def upsert_engagements(self, info: Info, input: UpsertEngagementsInput) -> UpsertPayload:
        items = [
            records.EngagementItem(
                external_id=item.external_id,
                kind=EngagementKind(item.kind),
                owner_external_id=item.owner_external_id,
                occurred_at=item.occurred_at,
            )
            for item in input.items
        ]
        outcome = await records.upsert_engagements(
            info.context.viewer, items, allow_partial=bool(input.allow_partial)
        )
        return upsert_payload(info, outcome)

"""Record ingest for admins: batch upserts of tickets, deals and engagements."""

import strawberry

from api.context import Info
from api.directory.mutations import upsert
from api.directory.types import UpsertPayload
from api.records.inputs import UpsertDealsInput, UpsertEngagementsInput, UpsertTicketsInput
from domain import records


@strawberry.type
class RecordMutation:
    @strawberry.mutation(description="Create or update tickets by external id (admins only).")
    async def upsert_tickets(self, info: Info, input: UpsertTicketsInput) -> UpsertPayload:
        return await upsert(info, records.upsert_tickets, records.TicketItem, input)

    @strawberry.mutation(description="Create or update deals by external id (admins only).")
    async def upsert_deals(self, info: Info, input: UpsertDealsInput) -> UpsertPayload:
        return await upsert(info, records.upsert_deals, records.DealItem, input)

    @strawberry.mutation(
        description="Create or update calls and meetings by external id (admins only)."
    )
    async def upsert_engagements(self, info: Info, input: UpsertEngagementsInput) -> UpsertPayload:
        return await upsert(info, records.upsert_engagements, records.EngagementItem, input)

"""Record ingest for admins: batch upserts of tickets, deals and engagements."""

from typing import Annotated

import strawberry

from api.context import Info
from api.directory.mutations import upsert
from api.directory.types import UpsertPayload
from api.records.inputs import UpsertDealsInput, UpsertEngagementsInput, UpsertTicketsInput
from domain import records


@strawberry.type
class RecordMutation:
    @strawberry.mutation(description="Create or update tickets by external id (admins only).")
    async def upsert_tickets(
        self,
        info: Info,
        input: Annotated[
            UpsertTicketsInput,
            strawberry.argument(
                description="The tickets and whether to apply a partly valid batch."
            ),
        ],
    ) -> UpsertPayload:
        return await upsert(info, records.upsert_tickets, records.TicketItem, input)

    @strawberry.mutation(description="Create or update deals by external id (admins only).")
    async def upsert_deals(
        self,
        info: Info,
        input: Annotated[
            UpsertDealsInput,
            strawberry.argument(description="The deals and whether to apply a partly valid batch."),
        ],
    ) -> UpsertPayload:
        return await upsert(info, records.upsert_deals, records.DealItem, input)

    @strawberry.mutation(
        description="Create or update calls and meetings by external id (admins only)."
    )
    async def upsert_engagements(
        self,
        info: Info,
        input: Annotated[
            UpsertEngagementsInput,
            strawberry.argument(
                description="The calls and meetings and whether to apply a partly valid batch."
            ),
        ],
    ) -> UpsertPayload:
        return await upsert(info, records.upsert_engagements, records.EngagementItem, input)

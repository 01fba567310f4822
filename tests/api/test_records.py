"""CRM record ingest: tickets, deals and engagements upserted by external id."""

from datetime import UTC, datetime
from decimal import Decimal

from domain.enums import EngagementKind, GoalPermission, ObjectType
from domain.models import Deal, Engagement, Ticket
from tests.helpers import count_queries, make_tenant, op


def errors_of(payload: dict) -> list[tuple[tuple[str, ...], str]]:
    return [(tuple(e["field"]), e["code"]) for e in payload["userErrors"]]


async def crm_tenant(name: str = "Acme"):
    tenant = await make_tenant(name)
    await tenant.add_user("ana")
    await tenant.add_pipeline("support", ObjectType.TICKET)
    await tenant.add_pipeline("sales", ObjectType.DEAL)
    return tenant


def ticket(key: str, **overrides) -> dict:
    item = {
        "externalId": f"k-{key}",
        "pipelineExternalId": "ext-support",
        "ownerExternalId": "ext-ana",
        "createdAt": "2026-03-02T09:00:00+01:00",
        "firstRespondedAt": None,
        "closedAt": None,
    }
    return {**item, **overrides}


def deal(key: str, **overrides) -> dict:
    item = {
        "externalId": f"d-{key}",
        "pipelineExternalId": "ext-sales",
        "ownerExternalId": "ext-ana",
        "amount": "100",
        "createdAt": "2026-03-02T09:00:00Z",
        "closedWonAt": None,
    }
    return {**item, **overrides}


async def test_sync_shape_verbatim(client):
    tenant = await make_tenant()
    data = await op(client, tenant.admin_token, "SyncShape")
    assert data["upsertUsers"] == {"upsertedCount": 1, "userErrors": []}
    assert data["upsertTeams"] == {"upsertedCount": 1, "userErrors": []}
    assert data["upsertPipelines"] == {"upsertedCount": 1, "userErrors": []}
    assert data["upsertTickets"] == {"upsertedCount": 1, "userErrors": []}
    # The shape names a deal pipeline "p-2" that the same document never creates.
    assert data["upsertDeals"]["upsertedCount"] == 0
    assert errors_of(data["upsertDeals"]) == [
        (("input", "items", "0", "pipelineExternalId"), "NOT_FOUND")
    ]
    assert data["upsertEngagements"] == {"upsertedCount": 2, "userErrors": []}

    stored = await Ticket.get(account_id=tenant.account.id, external_id="k-1").prefetch_related(
        "owner", "pipeline"
    )
    assert (stored.owner.external_id, stored.pipeline.external_id) == ("u-1", "p-1")
    # 09:00 and 10:30 at +01:00 are 08:00 and 09:30 UTC.
    assert stored.created_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert stored.first_responded_at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert stored.closed_at is None
    kinds = await Engagement.filter(account_id=tenant.account.id).order_by("external_id")
    assert [(e.external_id, e.kind) for e in kinds] == [
        ("e-1", EngagementKind.CALL),
        ("e-2", EngagementKind.MEETING),
    ]
    assert await Deal.all().count() == 0


async def test_tickets_upsert_and_update_by_external_id(client):
    tenant = await crm_tenant()
    first = await op(client, tenant.admin_token, "UpsertTickets", {"items": [ticket("1")]})
    assert first["upsertTickets"] == {"upsertedCount": 1, "userErrors": []}
    closed = ticket("1", closedAt="2026-03-05T18:00:00-05:00")
    second = await op(client, tenant.admin_token, "UpsertTickets", {"items": [closed]})
    assert second["upsertTickets"] == {"upsertedCount": 1, "userErrors": []}
    rows = await Ticket.filter(account_id=tenant.account.id)
    assert len(rows) == 1
    assert rows[0].closed_at == datetime(2026, 3, 5, 23, 0, tzinfo=UTC)


async def test_ticket_errors_are_reported_per_item_and_nothing_applied(client):
    tenant = await crm_tenant()
    other = await crm_tenant("Globex")
    await other.add_user("zed")
    items = [
        ticket("ok"),
        ticket("naive", createdAt="2026-03-02T09:00:00"),
        ticket("deal-pipe", pipelineExternalId="ext-sales"),
        ticket("no-owner", ownerExternalId="ghost"),
        ticket("foreign-owner", ownerExternalId="ext-zed"),
        ticket("no-pipe", pipelineExternalId="ext-nowhere"),
        ticket("early-close", closedAt="2026-03-02T07:59:00Z"),
        ticket("early-reply", firstRespondedAt="2026-03-01T23:00:00Z"),
        ticket("ok"),
    ]
    data = await op(client, tenant.admin_token, "UpsertTickets", {"items": items})
    payload = data["upsertTickets"]
    assert payload["upsertedCount"] == 0
    assert errors_of(payload) == [
        (("input", "items", "8", "externalId"), "DUPLICATE"),
        (("input", "items", "1", "createdAt"), "INVALID"),
        (("input", "items", "2", "pipelineExternalId"), "INVALID"),
        (("input", "items", "3", "ownerExternalId"), "NOT_FOUND"),
        (("input", "items", "4", "ownerExternalId"), "NOT_FOUND"),
        (("input", "items", "5", "pipelineExternalId"), "NOT_FOUND"),
        (("input", "items", "6", "closedAt"), "INVALID"),
        (("input", "items", "7", "firstRespondedAt"), "INVALID"),
    ]
    assert await Ticket.all().count() == 0


async def test_allow_partial_applies_the_good_tickets(client):
    tenant = await crm_tenant()
    items = [ticket("a"), ticket("b", createdAt="2026-03-02T09:00:00"), ticket("c")]
    data = await op(
        client, tenant.admin_token, "UpsertTickets", {"items": items, "allowPartial": True}
    )
    assert data["upsertTickets"]["upsertedCount"] == 2
    assert errors_of(data["upsertTickets"]) == [(("input", "items", "1", "createdAt"), "INVALID")]
    stored = await Ticket.filter(account_id=tenant.account.id).values_list("external_id", flat=True)
    assert sorted(stored) == ["k-a", "k-c"]


async def test_deals_store_exact_amounts_and_reject_bad_ones(client):
    tenant = await crm_tenant()
    items = [
        deal("1", amount="1250.50", closedWonAt="2026-03-20T16:00:00Z"),
        deal("2", amount=99.1),
        deal("3", amount="-1"),
        deal("4", amount="0.00001"),
        deal("5", amount="NaN"),
        deal("6", amount="Infinity"),
        deal("7", amount="1e17"),
        deal("8", pipelineExternalId="ext-support"),
        deal("9", closedWonAt="2026-03-20T16:00:00"),
    ]
    data = await op(client, tenant.admin_token, "UpsertDeals", {"items": items})
    payload = data["upsertDeals"]
    assert payload["upsertedCount"] == 0
    assert errors_of(payload) == [
        (("input", "items", "2", "amount"), "INVALID"),
        (("input", "items", "3", "amount"), "INVALID"),
        (("input", "items", "4", "amount"), "INVALID"),
        (("input", "items", "5", "amount"), "INVALID"),
        (("input", "items", "6", "amount"), "INVALID"),
        (("input", "items", "7", "pipelineExternalId"), "INVALID"),
        (("input", "items", "8", "closedWonAt"), "INVALID"),
    ]
    good = await op(client, tenant.admin_token, "UpsertDeals", {"items": items[:2]})
    assert good["upsertDeals"] == {"upsertedCount": 2, "userErrors": []}
    amounts = dict(
        await Deal.filter(account_id=tenant.account.id).values_list("external_id", "amount")
    )
    assert amounts == {"d-1": Decimal("1250.5"), "d-2": Decimal("99.1")}
    won = await Deal.get(account_id=tenant.account.id, external_id="d-1")
    assert won.closed_won_at == datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
    # The second upsert of an id updates it, down to clearing the won date.
    await op(client, tenant.admin_token, "UpsertDeals", {"items": [deal("1", amount="7")]})
    won = await Deal.get(account_id=tenant.account.id, external_id="d-1")
    assert (won.amount, won.closed_won_at) == (Decimal("7"), None)


async def test_engagements_upsert_their_kind(client):
    tenant = await crm_tenant()
    items = [
        {
            "externalId": "e-1",
            "kind": "CALL",
            "ownerExternalId": "ext-ana",
            "occurredAt": "2026-03-02T09:00:00+02:00",
        },
        {
            "externalId": "e-2",
            "kind": "MEETING",
            "ownerExternalId": "nobody",
            "occurredAt": "2026-03-02T09:00:00Z",
        },
    ]
    data = await op(client, tenant.admin_token, "UpsertEngagements", {"items": items})
    assert errors_of(data["upsertEngagements"]) == [
        (("input", "items", "1", "ownerExternalId"), "NOT_FOUND")
    ]
    assert await Engagement.all().count() == 0
    items[1]["ownerExternalId"] = "ext-ana"
    items[0]["kind"] = "MEETING"
    data = await op(client, tenant.admin_token, "UpsertEngagements", {"items": items})
    assert data["upsertEngagements"] == {"upsertedCount": 2, "userErrors": []}
    first = await Engagement.get(account_id=tenant.account.id, external_id="e-1")
    assert (first.kind, first.occurred_at) == (
        EngagementKind.MEETING,
        datetime(2026, 3, 2, 7, 0, tzinfo=UTC),
    )


async def test_non_admins_cannot_ingest_records(client):
    tenant = await crm_tenant()
    await tenant.add_user("boss", permission=GoalPermission.ALL)
    token = tenant.tokens["boss"]
    engagement = {
        "externalId": "e-1",
        "kind": "CALL",
        "ownerExternalId": "ext-ana",
        "occurredAt": "2026-03-02T09:00:00Z",
    }
    tickets = await op(client, token, "UpsertTickets", {"items": [ticket("1")]})
    deals = await op(client, token, "UpsertDeals", {"items": [deal("1")]})
    engagements = await op(client, token, "UpsertEngagements", {"items": [engagement]})
    for payload in (
        tickets["upsertTickets"],
        deals["upsertDeals"],
        engagements["upsertEngagements"],
    ):
        assert payload["upsertedCount"] == 0
        assert errors_of(payload) == [(("input",), "FORBIDDEN")]
    assert await Ticket.all().count() == 0
    assert await Deal.all().count() == 0
    assert await Engagement.all().count() == 0


async def test_a_second_accounts_pipelines_are_not_found(client):
    tenant = await crm_tenant()
    other = await make_tenant("Globex")
    await other.add_pipeline("theirs", ObjectType.TICKET)
    data = await op(
        client,
        tenant.admin_token,
        "UpsertTickets",
        {"items": [ticket("1", pipelineExternalId="ext-theirs")]},
    )
    assert errors_of(data["upsertTickets"]) == [
        (("input", "items", "0", "pipelineExternalId"), "NOT_FOUND")
    ]


async def test_1001_tickets_are_too_many(client):
    tenant = await crm_tenant()
    items = [ticket(str(i)) for i in range(1001)]
    data = await op(
        client, tenant.admin_token, "UpsertTickets", {"items": items, "allowPartial": True}
    )
    assert data["upsertTickets"]["upsertedCount"] == 0
    assert errors_of(data["upsertTickets"]) == [(("input", "items"), "TOO_MANY")]
    assert await Ticket.all().count() == 0


async def test_a_thousand_records_take_as_many_statements_as_one(client):
    tenant = await crm_tenant()
    await op(client, tenant.admin_token, "Viewer")  # the token's lastUsedAt is written once
    with count_queries() as one:
        await op(client, tenant.admin_token, "UpsertTickets", {"items": [ticket("solo")]})
    items = [
        ticket(str(i), closedAt="2026-03-03T09:00:00Z" if i % 2 else None) for i in range(1000)
    ]
    with count_queries() as many:
        data = await op(client, tenant.admin_token, "UpsertTickets", {"items": items})
    assert data["upsertTickets"] == {"upsertedCount": 1000, "userErrors": []}
    assert len(many) == len(one)
    with count_queries() as again:
        await op(client, tenant.admin_token, "UpsertTickets", {"items": items})
    assert len(again) == len(one)
    assert await Ticket.filter(account_id=tenant.account.id).count() == 1001
    assert await Ticket.filter(closed_at__isnull=False).count() == 500

    deals = [deal(str(i), amount=f"{i}.25") for i in range(1000)]
    with count_queries() as deal_statements:
        data = await op(client, tenant.admin_token, "UpsertDeals", {"items": deals})
    assert data["upsertDeals"]["upsertedCount"] == 1000
    assert len(deal_statements) == len(one)
    total = sum(await Deal.filter(account_id=tenant.account.id).values_list("amount", flat=True))
    assert total == Decimal(999 * 1000 // 2) + Decimal("250")

"""Every write that can change an answer moves the account's data version in its transaction
(domain/data_version.py): cached answers rely on it, in every API process."""

import asyncio
import pathlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from api.schema import schema
from domain import progress
from domain.enums import Channel, GoalPermission, NotificationKind, ObjectType
from domain.models import Account, Notification
from domain.notifications.delivery import claim_for_delivery, mark_failed
from domain.progress import refresh_account
from tests.api.test_goal_queries import gid
from tests.helpers import Tenant, gql, make_tenant

ERRORS = "userErrors { code message }"
Variables = Callable[[Tenant, dict[str, Any]], dict[str, Any]]


def ticket_goal(tenant: Tenant, name: str, user: str) -> dict[str, Any]:
    """A goal of the tenant's "inbox" ticket pipeline for one user, over 2026."""
    return {
        "name": name,
        "category": "SERVICE",
        "type": "CLOSED_TICKETS",
        "startDate": "2026-01-01",
        "endDate": "2026-12-31",
        "milestonePeriod": "QUARTERLY",
        "pipelineIds": [gid("Pipeline", tenant.pipelines["inbox"].id)],
        "contributors": [{"userId": gid("User", tenant.users[user].id), "targets": [5] * 4}],
    }


def _items(*items: dict[str, Any]) -> Variables:
    return lambda tenant, state: {"input": {"items": list(items)}}


# Every mutation of the schema, in an order where each one succeeds: (field, its arguments'
# declaration, its arguments, the fields of its payload to keep, the variables).
WRITES: list[tuple[str, str, str, str, Variables]] = [
    (
        "updateAccountSettings",
        "$input: UpdateAccountSettingsInput!",
        "input: $input",
        "",
        lambda tenant, state: {"input": {"name": "Acme Renamed"}},
    ),
    (
        "createApiToken",
        "$input: CreateApiTokenInput!",
        "input: $input",
        "apiToken { id }",
        lambda tenant, state: {"input": {"name": "spare"}},
    ),
    (
        "revokeApiToken",
        "$id: ID!",
        "id: $id",
        "",
        lambda tenant, state: {"id": state["createApiToken"]["apiToken"]["id"]},
    ),
    (
        "upsertUsers",
        "$input: UpsertUsersInput!",
        "input: $input",
        "",
        _items({"externalId": "ext-cara", "email": "cara@acme.test", "name": "Cara"}),
    ),
    (
        "upsertTeams",
        "$input: UpsertTeamsInput!",
        "input: $input",
        "",
        _items({"externalId": "ext-red", "name": "Red", "memberExternalIds": ["ext-cara"]}),
    ),
    (
        "upsertPipelines",
        "$input: UpsertPipelinesInput!",
        "input: $input",
        "",
        _items({"externalId": "ext-deals", "objectType": "DEAL", "name": "Deals"}),
    ),
    (
        "upsertTickets",
        "$input: UpsertTicketsInput!",
        "input: $input",
        "",
        _items(
            {
                "externalId": "t-1",
                "pipelineExternalId": "ext-inbox",
                "ownerExternalId": "ext-ana",
                "createdAt": "2026-01-05T10:00:00Z",
                "closedAt": "2026-01-06T10:00:00Z",
            }
        ),
    ),
    (
        "upsertDeals",
        "$input: UpsertDealsInput!",
        "input: $input",
        "",
        _items(
            {
                "externalId": "d-1",
                "pipelineExternalId": "ext-deals",
                "ownerExternalId": "ext-ana",
                "amount": "100",
                "createdAt": "2026-01-05T10:00:00Z",
            }
        ),
    ),
    (
        "upsertEngagements",
        "$input: UpsertEngagementsInput!",
        "input: $input",
        "",
        _items(
            {
                "externalId": "e-1",
                "kind": "CALL",
                "ownerExternalId": "ext-ana",
                "occurredAt": "2026-01-05T10:00:00Z",
            }
        ),
    ),
    (
        "createGoal",
        "$input: CreateGoalInput!",
        "input: $input",
        "goal { id }",
        lambda tenant, state: {"input": ticket_goal(tenant, "Close tickets", "ana")},
    ),
    (
        "applyGoalTargets",
        "$input: ApplyGoalTargetsInput!",
        "input: $input",
        "",
        lambda tenant, state: {
            "input": {"goalId": state["createGoal"]["goal"]["id"], "amount": "5"}
        },
    ),
    (
        "updateGoal",
        "$input: UpdateGoalInput!",
        "input: $input",
        "",
        lambda tenant, state: {
            "input": {"id": state["createGoal"]["goal"]["id"], "name": "Close more tickets"}
        },
    ),
    (
        "refreshGoalProgress",
        "$id: ID!",
        "id: $id",
        "",
        lambda tenant, state: {"id": state["createGoal"]["goal"]["id"]},
    ),
    (
        "markNotificationsRead",
        "$ids: [ID!]!",
        "ids: $ids",
        "updatedCount",
        lambda tenant, state: {"ids": [gid("Notification", state["notification"])]},
    ),
    (
        "deleteGoals",
        "$ids: [ID!]!",
        "ids: $ids",
        "deletedIds",
        lambda tenant, state: {"ids": [state["createGoal"]["goal"]["id"]]},
    ),
]


async def version(tenant: Tenant) -> int:
    return (await Account.get(id=tenant.account.id)).data_version


async def in_app_notification(tenant: Tenant) -> int:
    row = await Notification.create(
        account=tenant.account,
        recipient=tenant.admin,
        kind=NotificationKind.GOAL_ASSIGNED,
        channel=Channel.IN_APP,
        dedupe_key=f"test-{tenant.account.id}",
        payload={"goal_name": "Close tickets"},
    )
    return row.id


def test_the_list_names_every_mutation_of_the_schema():
    mutation_type = schema._schema.mutation_type
    assert mutation_type is not None
    assert sorted(name for name, *_ in WRITES) == sorted(mutation_type.fields)


async def test_every_mutation_moves_the_version(client):
    tenant = await make_tenant()
    await tenant.add_user("ana", permission=GoalPermission.TEAM)
    await tenant.add_pipeline("inbox", ObjectType.TICKET)
    state: dict[str, Any] = {"notification": await in_app_notification(tenant)}
    for field, declared, arguments, keep, variables in WRITES:
        document = f"mutation ({declared}) {{ {field}({arguments}) {{ {keep} {ERRORS} }} }}"
        before = await version(tenant)
        body = await gql(client, tenant.admin_token, document, variables(tenant, state))
        payload = body["data"][field]
        assert payload["userErrors"] == [], (field, payload)
        state[field] = payload
        assert await version(tenant) > before, f"{field} left the data version where it was"
    assert state["markNotificationsRead"]["updatedCount"] == 1


async def test_a_refused_write_leaves_the_version(client):
    tenant = await make_tenant()
    before = await version(tenant)
    document = "mutation ($ids: [ID!]!) { deleteGoals(ids: $ids) { userErrors { code } } }"
    body = await gql(client, tenant.admin_token, document, {"ids": [gid("Goal", 999)]})
    assert body["data"]["deleteGoals"]["userErrors"]
    assert await version(tenant) == before


async def test_a_refresh_moves_the_version(db):
    tenant = await make_tenant()
    before = await version(tenant)
    await refresh_account(tenant.account.id)
    assert await version(tenant) > before


async def test_a_failed_delivery_moves_the_version(db):
    """Admins list the deliveries that gave up (failedNotifications)."""
    tenant = await make_tenant()
    notification_id = await in_app_notification(tenant)
    claimed = await claim_for_delivery(notification_id, datetime.now(UTC))
    assert claimed is not None
    before = await version(tenant)
    await mark_failed(notification_id, tenant.account.id, "the receiver said no")
    assert await version(tenant) > before


async def test_writes_of_another_account_leave_the_version(client):
    tenant = await make_tenant()
    other = await make_tenant("Globex")
    before = await version(tenant)
    document = "mutation ($input: UpdateAccountSettingsInput!) { updateAccountSettings(input: $input) { userErrors { code } } }"  # noqa: E501
    await gql(client, other.admin_token, document, {"input": {"name": "Globex 2"}})
    assert await version(tenant) == before


# A transaction opened directly would write without moving the version. These open one that
# writes no account data: the read that turns JIT off, and the creation of a new account.
PLAIN_TRANSACTIONS = {
    "domain/data_version.py": 1,
    "domain/goals/queries.py": 1,
    "domain/account.py": 1,
}


OPENED = re.compile(r"(?<![\w.])in_transaction\(")


@pytest.mark.parametrize("layer", ["domain", "workers", "api"])
def test_writes_open_their_transaction_through_account_write(layer):
    root = pathlib.Path(__file__).parents[2]
    found = {
        str(path.relative_to(root)): len(OPENED.findall(path.read_text()))
        for path in (root / layer).rglob("*.py")
        if "migrations" not in path.parts
    }
    assert {path: n for path, n in found.items() if n} == {
        path: n for path, n in PLAIN_TRANSACTIONS.items() if path.startswith(layer)
    }


async def test_a_write_does_not_wait_for_the_account_refresh(client, db, monkeypatch) -> None:
    if db != "postgres":
        pytest.skip("SQLite lets one transaction write at a time")
    tenant = await make_tenant()
    await tenant.add_user("ann")
    inside, release = asyncio.Event(), asyncio.Event()
    keep_records = progress.keep_records

    async def held(*args: Any) -> None:
        inside.set()
        await release.wait()
        await keep_records(*args)

    monkeypatch.setattr(progress, "keep_records", held)
    refreshing = asyncio.create_task(refresh_account(tenant.account.id))
    try:
        await asyncio.wait_for(inside.wait(), 30)
        # The refresh holds its transaction open; a write to the account goes through.
        body = await asyncio.wait_for(
            gql(
                client,
                tenant.admin_token,
                'mutation { createApiToken(input: {name: "during"}) { token } }',
            ),
            10,
        )
        assert body["data"]["createApiToken"]["token"]
        assert not refreshing.done()
    finally:
        release.set()
        await refreshing

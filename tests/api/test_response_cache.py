"""Repeated queries are answered from memory (api/response_cache.py), and never with an answer
that a write, a refresh, a change of reach or a revoked token made stale, nor with another
account's or viewer's answer, whichever API process wrote."""

import asyncio
import datetime
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from api import response_cache
from api.app import create_app
from api.response_cache import AnswerStore, CachedAnswer
from domain.enums import GoalPermission, ObjectType
from domain.progress import refresh_account
from domain.settings import Settings
from tests.api.test_data_version import ticket_goal
from tests.api.test_goal_queries import gid
from tests.helpers import Tenant, count_queries, gql, make_tenant

GOALS = "query Goals { goals(first: 50) { edges { node { id name status } } } }"
PROGRESS = "query Progress($id: ID!) { goal(id: $id) { progress { value refreshedAt } } }"
UPDATE_GOAL = """
mutation Rename($input: UpdateGoalInput!) { updateGoal(input: $input) { userErrors { code } } }
"""
UPSERT_USERS = """
mutation Users($input: UpsertUsersInput!) { upsertUsers(input: $input) { userErrors { code } } }
"""
UPSERT_TEAMS = """
mutation Teams($input: UpsertTeamsInput!) { upsertTeams(input: $input) { userErrors { code } } }
"""
UPSERT_TICKETS = """
mutation Tickets($input: UpsertTicketsInput!) {
  upsertTickets(input: $input) { userErrors { code } }
}
"""
CREATE_GOAL = """
mutation Create($input: CreateGoalInput!) {
  createGoal(input: $input) { goal { id } userErrors { code message } }
}
"""


@asynccontextmanager
async def api_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An API instance of its own (its own cache) on the test's database."""
    app = create_app(settings, manage_db=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://goals.test") as http:
        http.app = app  # type: ignore[attr-defined]
        yield http


async def team_floor(name: str = "Acme") -> Tenant:
    """An admin, a team lead who reaches her team, a rep in that team, a ticket pipeline."""
    tenant = await make_tenant(name)
    await tenant.add_user("ana", permission=GoalPermission.TEAM)
    await tenant.add_user("ben")
    await tenant.add_team("support", ["ana", "ben"])
    await tenant.add_pipeline("inbox", ObjectType.TICKET)
    return tenant


async def create_goal(client, tenant: Tenant, name: str, user: str = "ben") -> str:
    goal = ticket_goal(tenant, name, user)
    data = (await gql(client, tenant.admin_token, CREATE_GOAL, {"input": goal}))["data"]
    assert data["createGoal"]["userErrors"] == []
    return data["createGoal"]["goal"]["id"]


async def goal_names(client, token: str) -> list[str]:
    data = (await gql(client, token, GOALS))["data"]
    return [edge["node"]["name"] for edge in data["goals"]["edges"]]


async def statements_of(client, token: str, document: str, variables=None) -> tuple[int, dict]:
    with count_queries() as sent:
        body = await gql(client, token, document, variables)
    return len(sent), body


async def test_a_repeated_query_costs_the_token_check_and_nothing_else(client):
    tenant = await team_floor()
    await create_goal(client, tenant, "Close tickets")
    cold, first = await statements_of(client, tenant.admin_token, GOALS)
    warm, again = await statements_of(client, tenant.admin_token, GOALS)
    assert again == first
    assert first["data"]["goals"]["edges"][0]["node"]["name"] == "Close tickets"
    assert cold > 2
    assert warm <= 2


async def test_requests_that_miss_together_run_the_query_once(client):
    tenant = await team_floor()
    await create_goal(client, tenant, "Close tickets")
    await gql(client, tenant.admin_token, "{ viewer { id } }")
    # An unused variable makes another key: the same work, done cold.
    cold, _ = await statements_of(client, tenant.admin_token, GOALS, {"n": 1})
    together = 8
    with count_queries() as sent:
        bodies = await asyncio.gather(
            *(gql(client, tenant.admin_token, GOALS) for _ in range(together))
        )
    assert all(body == bodies[0] for body in bodies)
    assert len(sent) == together + cold - 1


async def test_a_rename_shows_at_once(client):
    tenant = await team_floor()
    goal_id = await create_goal(client, tenant, "Close tickets")
    assert await goal_names(client, tenant.admin_token) == ["Close tickets"]
    rename = {"input": {"id": goal_id, "name": "Close every ticket"}}
    await gql(client, tenant.admin_token, UPDATE_GOAL, rename)
    assert await goal_names(client, tenant.admin_token) == ["Close every ticket"]


async def test_a_refresh_shows_at_once(client):
    tenant = await team_floor()
    goal_id = await create_goal(client, tenant, "Close tickets")
    ticket = {
        "externalId": "t-1",
        "pipelineExternalId": "ext-inbox",
        "ownerExternalId": "ext-ben",
        "createdAt": "2026-01-05T10:00:00Z",
        "closedAt": "2026-01-06T10:00:00Z",
    }
    await gql(client, tenant.admin_token, UPSERT_TICKETS, {"input": {"items": [ticket]}})
    before = await gql(client, tenant.admin_token, PROGRESS, {"id": goal_id})
    assert before["data"]["goal"]["progress"]["refreshedAt"] is None
    await refresh_account(tenant.account.id)
    after = await gql(client, tenant.admin_token, PROGRESS, {"id": goal_id})
    assert after["data"]["goal"]["progress"]["refreshedAt"] is not None
    assert after["data"]["goal"]["progress"]["value"] == "1"


async def test_a_change_of_reach_shows_at_once(client):
    tenant = await team_floor()
    await create_goal(client, tenant, "Ben's goal")
    lead = tenant.tokens["ana"]
    assert await goal_names(client, lead) == ["Ben's goal"]
    without_ben = {"externalId": "ext-support", "name": "Support", "memberExternalIds": ["ext-ana"]}
    await gql(client, tenant.admin_token, UPSERT_TEAMS, {"input": {"items": [without_ben]}})
    assert await goal_names(client, lead) == []
    with_ben = {**without_ben, "memberExternalIds": ["ext-ana", "ext-ben"]}
    await gql(client, tenant.admin_token, UPSERT_TEAMS, {"input": {"items": [with_ben]}})
    assert await goal_names(client, lead) == ["Ben's goal"]
    own_only = {"externalId": "ext-ana", "email": "ana@acme.test", "name": "Ana"}
    own_only["goalPermission"] = "OWN"
    await gql(client, tenant.admin_token, UPSERT_USERS, {"input": {"items": [own_only]}})
    assert await goal_names(client, lead) == []


async def test_a_lost_seat_shows_at_once(client):
    tenant = await team_floor()
    await create_goal(client, tenant, "Ben's goal")
    assert await goal_names(client, tenant.tokens["ben"]) == ["Ben's goal"]
    free = {"externalId": "ext-ben", "email": "ben@acme.test", "name": "Ben", "seat": "FREE"}
    await gql(client, tenant.admin_token, UPSERT_USERS, {"input": {"items": [free]}})
    body = await gql(client, tenant.tokens["ben"], GOALS, expect_errors=True)
    assert "Ben's goal" not in str(body)


async def test_a_revoked_token_is_refused_at_once(client):
    tenant = await team_floor()
    await create_goal(client, tenant, "Ben's goal")
    assert await goal_names(client, tenant.tokens["ben"]) == ["Ben's goal"]
    tokens = await gql(
        client,
        tenant.admin_token,
        "query ($id: ID!) { apiTokens(userId: $id) { id } }",
        {"id": gid("User", tenant.users["ben"].id)},
    )
    revoke = "mutation ($id: ID!) { revokeApiToken(id: $id) { userErrors { code } } }"
    for token in tokens["data"]["apiTokens"]:
        await gql(client, tenant.admin_token, revoke, {"id": token["id"]})
    response = await client.post(
        "/graphql",
        json={"query": GOALS},
        headers={"Authorization": f"Bearer {tenant.tokens['ben']}"},
    )
    assert response.status_code == 401


async def test_another_account_and_another_viewer_get_their_own_answer(client):
    acme = await team_floor("Acme")
    globex = await team_floor("Globex")
    await acme.add_user("cid")
    await create_goal(client, acme, "Acme goal")
    await create_goal(client, globex, "Globex goal")
    assert await goal_names(client, acme.admin_token) == ["Acme goal"]
    assert await goal_names(client, globex.admin_token) == ["Globex goal"]
    # Ben and Cid hold the same seat and permission, at the same data version.
    assert await goal_names(client, acme.tokens["ben"]) == ["Acme goal"]
    assert await goal_names(client, acme.tokens["cid"]) == []


async def test_two_api_processes_never_serve_a_stale_answer(db, settings):
    async with api_client(settings) as first, api_client(settings) as second:
        tenant = await team_floor()
        goal_id = await create_goal(first, tenant, "Close tickets")
        assert await goal_names(first, tenant.admin_token) == ["Close tickets"]
        assert await goal_names(second, tenant.admin_token) == ["Close tickets"]
        rename = {"input": {"id": goal_id, "name": "Renamed by the other"}}
        await gql(second, tenant.admin_token, UPDATE_GOAL, rename)
        assert await goal_names(first, tenant.admin_token) == ["Renamed by the other"]
        await gql(
            first, tenant.admin_token, UPDATE_GOAL, {"input": {"id": goal_id, "name": "Back"}}
        )
        assert await goal_names(second, tenant.admin_token) == ["Back"]
        assert len(first.app.state.response_cache) >= 1  # type: ignore[attr-defined]


async def test_the_answer_follows_the_accounts_date(client, monkeypatch):
    """Statuses depend on today: an answer of yesterday is not one of today."""
    tenant = await team_floor()
    await create_goal(client, tenant, "Close tickets")
    statuses = []
    for today in (datetime.date(2025, 12, 31), datetime.date(2026, 1, 1)):
        monkeypatch.setattr(response_cache, "account_today", lambda timezone, today=today: today)
        data = (await gql(client, tenant.admin_token, GOALS))["data"]
        statuses.append(data["goals"]["edges"][0]["node"]["status"])
    assert statuses == ["PENDING", "IN_PROGRESS"]


async def test_mutations_run_every_time(client):
    tenant = await make_tenant()
    create = 'mutation { createApiToken(input: {name: "ci"}) { token userErrors { code } } }'
    first = await gql(client, tenant.admin_token, create)
    second = await gql(client, tenant.admin_token, create)
    assert first["data"]["createApiToken"]["token"] != second["data"]["createApiToken"]["token"]


async def test_answers_with_errors_or_a_tokens_last_use_are_not_kept(db, settings):
    """A token's lastUsedAt moves without moving the account's data version."""
    tenant = await make_tenant()
    async with api_client(settings) as client:
        store = client.app.state.response_cache  # type: ignore[attr-defined]
        for document in ("{ goals(first: 1000) { totalCount } }", "{ apiTokens { lastUsedAt } }"):
            await gql(client, tenant.admin_token, document, expect_errors=True)
        assert len(store) == 0
        tokens = await gql(client, tenant.admin_token, "{ apiTokens { id name } }")
        assert len(store) == 1
        last_use = "query ($id: ID!) { node(id: $id) { ... on ApiToken { lastUsedAt } } }"
        token_id = tokens["data"]["apiTokens"][0]["id"]
        await gql(client, tenant.admin_token, last_use, {"id": token_id})
        assert len(store) == 1


@pytest.mark.parametrize(
    "settings",
    [Settings(database_url="unused", redis_url=None, response_cache=False)],
)
async def test_the_cache_can_be_turned_off(client):
    tenant = await team_floor()
    await create_goal(client, tenant, "Close tickets")
    cold, _ = await statements_of(client, tenant.admin_token, GOALS)
    again, _ = await statements_of(client, tenant.admin_token, GOALS)
    assert again == cold > 2


@pytest.mark.parametrize(
    "settings",
    [Settings(database_url="unused", redis_url=None, response_cache_entries=1)],
)
async def test_a_full_cache_evicts_the_least_recently_used_answer(client):
    tenant = await team_floor()
    await create_goal(client, tenant, "Close tickets")
    viewer = "query Me { viewer { id } }"
    await gql(client, tenant.admin_token, GOALS)
    await gql(client, tenant.admin_token, viewer)
    evicted, _ = await statements_of(client, tenant.admin_token, GOALS)
    assert evicted > 2


def answer(size: int) -> CachedAnswer:
    return CachedAnswer(200, [], b"x" * size)


def test_the_store_keeps_the_most_recently_used_within_its_entries():
    store = AnswerStore(max_entries=2, max_bytes=10**6)
    store.put(("a",), answer(1))
    store.put(("b",), answer(1))
    assert store.get(("a",)) is not None
    store.put(("c",), answer(1))
    assert store.get(("b",)) is None
    assert store.get(("a",)) is not None
    assert store.get(("c",)) is not None
    assert len(store) == 2


def test_the_store_keeps_within_its_bytes():
    size = 1000
    store = AnswerStore(max_entries=100, max_bytes=3 * answer(size).size)
    for key in "abcde":
        store.put((key,), answer(size))
    assert len(store) == 3
    assert store.bytes == 3 * answer(size).size
    assert [store.get((k,)) is not None for k in "abcde"] == [False, False, True, True, True]
    store.put(("huge",), answer(5 * size))
    assert store.get(("huge",)) is None
    assert len(store) == 3


def test_replacing_an_answer_counts_its_bytes_once():
    store = AnswerStore(max_entries=10, max_bytes=10**6)
    store.put(("a",), answer(100))
    store.put(("a",), answer(300))
    assert store.bytes == answer(300).size
    assert len(store) == 1

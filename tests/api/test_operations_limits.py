"""What operators and clients see at the edges: health, readiness, metrics, limits, masking."""

import re

import pytest

import api.directory.loaders
import api.schema
from domain.settings import Settings
from tests.helpers import gql, make_tenant

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


async def test_healthz_answers_without_a_token(client) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_the_database(client) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.parametrize("settings", [Settings(database_url="unused", redis_url=UNREACHABLE_REDIS)])
async def test_readyz_shows_redis_degraded_while_the_database_answers(client) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "degraded: ConnectionError"}


async def test_metrics_count_requests(client) -> None:
    await client.get("/healthz")
    text = (await client.get("/metrics")).text
    counted = re.search(
        r'^goals_http_requests_total\{method="GET",path="/healthz",status="200"\} (\d+)',
        text,
        re.MULTILINE,
    )
    assert counted and float(counted.group(1)) >= 1, text[:500]


async def test_every_response_carries_a_request_id(client) -> None:
    own = await client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert own.headers["x-request-id"] == "trace-42"
    fresh = await client.get("/healthz")
    assert len(fresh.headers["x-request-id"]) == 32


def _nested_teams(levels: int) -> str:
    selection = "id"
    for _ in range(levels):
        selection = f"teams {{ members {{ {selection} }} }}"
    return f"{{ viewer {{ {selection} }} }}"


# Nested directory lists multiply fast; this test is about depth alone.
@pytest.mark.parametrize(
    "settings", [Settings(database_url="unused", redis_url=None, max_query_cost=10**24)]
)
async def test_query_depth_is_capped(client) -> None:
    tenant = await make_tenant()
    shallow = await gql(client, tenant.admin_token, _nested_teams(5))
    assert shallow["data"]["viewer"]["teams"] == []
    deep = await gql(client, tenant.admin_token, _nested_teams(7), expect_errors=True)
    assert deep["data"] is None
    assert "exceeds maximum operation depth of 12" in deep["errors"][0]["message"]


async def test_aliases_are_capped(client) -> None:
    tenant = await make_tenant()
    allowed = " ".join(f"a{i}: viewer {{ id }}" for i in range(30))
    assert len((await gql(client, tenant.admin_token, f"{{ {allowed} }}"))["data"]) == 30
    too_many = " ".join(f"a{i}: viewer {{ id }}" for i in range(31))
    body = await gql(client, tenant.admin_token, f"{{ {too_many} }}", expect_errors=True)
    assert body["data"] is None
    assert "aliases found. Allowed: 30" in body["errors"][0]["message"]


async def test_tokens_are_capped(client) -> None:
    tenant = await make_tenant()
    # "{ viewer {" + n × "id" + "} }": n + 4 tokens.
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { " + "id " * 5000 + "} }"},
        headers={"Authorization": f"Bearer {tenant.admin_token}"},
    )
    assert response.status_code != 500
    body = response.json()
    assert body.get("data") is None
    assert "more than 5000 tokens" in body["errors"][0]["message"]


async def test_page_size_over_100_is_refused_with_a_clear_message(client) -> None:
    tenant = await make_tenant()
    body = await gql(
        client, tenant.admin_token, "{ goals(first: 101) { totalCount } }", expect_errors=True
    )
    assert body["errors"][0]["message"] == "`first` must be between 0 and 100."
    assert body["errors"][0]["path"] == ["goals"]
    fine = await gql(client, tenant.admin_token, "{ goals(first: 100) { totalCount } }")
    assert fine["data"]["goals"]["totalCount"] == 0


class _RecordingLog:
    def __init__(self) -> None:
        self.errors: list[tuple[str, dict]] = []

    def error(self, event: str, **fields) -> None:
        self.errors.append((event, fields))

    def info(self, event: str, **fields) -> None:
        pass


async def test_unexpected_errors_are_masked_with_the_request_id(client, monkeypatch) -> None:
    tenant = await make_tenant()

    async def broken(account_id, user_ids):
        raise RuntimeError("secret connection string postgres://admin:hunter2@db")

    monkeypatch.setattr(api.directory.loaders, "load_team_ids_of_users", broken)
    log = _RecordingLog()
    monkeypatch.setattr(api.schema, "log", log)
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { email teams { id } } }"},
        headers={"Authorization": f"Bearer {tenant.admin_token}"},
    )
    request_id = response.headers["x-request-id"]
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == f"Unexpected error. Request id: {request_id}."
    assert "hunter2" not in response.text
    ((event, fields),) = log.errors
    assert fields["request_id"] == request_id
    assert "hunter2" in str(fields["exc_info"])


async def test_validation_errors_are_not_masked(client) -> None:
    tenant = await make_tenant()
    body = await gql(client, tenant.admin_token, "{ viewer { salary } }", expect_errors=True)
    assert body["errors"][0]["message"] == "Cannot query field 'salary' on type 'User'."


INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_is_on_by_default(client) -> None:
    tenant = await make_tenant()
    body = await gql(client, tenant.admin_token, INTROSPECTION)
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


@pytest.mark.parametrize(
    "settings", [Settings(database_url="unused", redis_url=None, introspection=False)]
)
async def test_introspection_can_be_turned_off(client) -> None:
    tenant = await make_tenant()
    body = await gql(client, tenant.admin_token, INTROSPECTION, expect_errors=True)
    assert body.get("data") is None
    assert "introspection" in body["errors"][0]["message"].lower()
    # Ordinary queries still work.
    assert (await gql(client, tenant.admin_token, "{ viewer { email } }"))["data"]["viewer"]


@pytest.mark.parametrize(
    "settings", [Settings(database_url="unused", redis_url=None, graphiql=False)]
)
async def test_graphiql_can_be_turned_off(client) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "graphiql" not in response.text.lower()


async def test_graphiql_is_served_without_a_token(client) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()

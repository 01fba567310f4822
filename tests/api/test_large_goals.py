"""Goals as large as the limits allow work end to end: no statement binds more parameters than
the database drivers accept (asyncpg 32,767, SQLite 32,766), whatever the goal's size."""

import time

import pytest

from api.ids import to_global_id
from domain.enums import ObjectType
from domain.models import ContributorGoal, Goal, Milestone, User
from domain.sql import Params, connection, is_postgres
from tests.conftest import POSTGRES_URL
from tests.helpers import Tenant, contract_operation, gql, make_tenant

# Monday 2026-01-05 to Sunday 2030-12-29: 260 weeks.
WEEKLY = {"startDate": "2026-01-05", "endDate": "2030-12-29", "milestonePeriod": "WEEKLY"}


async def _tenant_with_users(count: int) -> tuple[Tenant, list[str]]:
    tenant = await make_tenant()
    await tenant.add_pipeline("inbox", ObjectType.TICKET)
    await tenant.add_pipeline("escalations", ObjectType.TICKET)
    await User.bulk_create(
        [
            User(
                account=tenant.account,
                external_id=f"u{i}",
                email=f"u{i}@acme.test",
                name=f"User {i}",
            )
            for i in range(count)
        ]
    )
    ids = await User.filter(account=tenant.account, external_id__startswith="u").values_list(
        "id", flat=True
    )
    return tenant, [to_global_id("User", pk) for pk in sorted(ids)]


def _goal_input(tenant: Tenant, user_ids: list[str]) -> dict:
    return {
        "name": "Close tickets every week",
        "category": "SERVICE",
        "type": "CLOSED_TICKETS",
        "pipelineIds": [to_global_id("Pipeline", p.id) for p in tenant.pipelines.values()],
        "contributors": [{"userId": user_id} for user_id in user_ids],
        **WEEKLY,
    }


async def _create(client, tenant: Tenant, user_ids: list[str]) -> dict:
    body = await gql(
        client,
        tenant.admin_token,
        contract_operation("CreateGoal"),
        {"input": _goal_input(tenant, user_ids)},
    )
    return body["data"]["createGoal"]


async def test_create_goal_of_130_contributors_by_260_weeks_returns_it_all(client) -> None:
    tenant, user_ids = await _tenant_with_users(130)
    payload = await _create(client, tenant, user_ids)
    assert payload["userErrors"] == []
    contributors = payload["goal"]["contributors"]
    assert len(contributors) == 130
    assert all(len(c["milestones"]) == 260 for c in contributors)
    assert all(len(m["pipelines"]) == 2 for c in contributors for m in c["milestones"])
    assert await Goal.all().count() == 1
    assert await Milestone.all().count() == 130 * 260


@pytest.mark.skipif(not POSTGRES_URL, reason="asyncpg's parameter limit is what this covers")
@pytest.mark.parametrize("db", ["postgres"], indirect=True)
async def test_goal_details_of_500_contributors_by_260_weeks(client) -> None:
    tenant, user_ids = await _tenant_with_users(500)
    started = time.perf_counter()
    create = "mutation($input: CreateGoalInput!) { createGoal(input: $input) { goal { id } } }"
    body = await gql(client, tenant.admin_token, create, {"input": _goal_input(tenant, user_ids)})
    print(f"createGoal 500 x 260: {time.perf_counter() - started:.1f} s")
    goal_id = body["data"]["createGoal"]["goal"]["id"]
    assert await ContributorGoal.all().count() == 500
    started = time.perf_counter()
    body = await gql(
        client,
        tenant.admin_token,
        contract_operation("GoalDetails"),
        {"id": goal_id, "historyFrom": "2026-01-01", "historyTo": "2026-12-31"},
    )
    took = time.perf_counter() - started
    contributors = body["data"]["goal"]["contributors"]
    assert len(contributors) == 500
    assert sum(len(c["milestones"]) for c in contributors) == 500 * 260
    print(f"GoalDetails 500 x 260: {took:.1f} s")


async def test_an_id_list_longer_than_any_parameter_limit_is_one_parameter(db) -> None:
    tenant, _ = await _tenant_with_users(3)
    conn = connection()
    params = Params(is_postgres(conn))
    wanted = list(range(1, 40_001))
    rows = await conn.execute_query_dict(
        f"SELECT COUNT(*) AS n FROM app_user WHERE account_id = {params(tenant.account.id)} "
        f"AND id IN ({params.ids(wanted)})",
        params.values,
    )
    assert rows[0]["n"] == 4  # the admin and three users
    assert len(params.values) == 2

"""Every query of the web client's contract, over the demo tenant, answers the same whether the
level executor or graphql-core's own executor runs it."""

from datetime import date

import httpx
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from api.app import create_app
from api.cli.operator import new_token
from api.common.level_execution import LevelExecutor
from api.demo import seed_demo
from tests.helpers import contract_operations, op


async def test_contract_queries_answer_as_on_graphql_core(db, settings, monkeypatch, today) -> None:
    # Without the response cache, which would answer the second run from the first.
    app = create_app(settings.model_copy(update={"response_cache": False}), manage_db=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://goals.test"
    ) as client:
        await compare_executors(client, monkeypatch, today)


async def compare_executors(client: httpx.AsyncClient, monkeypatch, today: date) -> None:
    admin, _ = await seed_demo()
    token = await new_token(admin, "test")
    goals = (await op(client, token, "ManageGoals", {"first": 100}))["goals"]["edges"]
    goal_id = goals[0]["node"]["id"]
    year = {
        "from": today.replace(month=1, day=1).isoformat(),
        "to": today.isoformat(),
    }
    # Each operation takes the variables it declares.
    variables = {
        "id": goal_id,
        "ids": [goal_id, goals[1]["node"]["id"], "not-an-id"],
        "first": 20,
        "range": year,
        "filter": {"dateRange": year},
    }
    level = LevelExecutor.execute_operation
    queries = {n: d for n, d in contract_operations().items() if "mutation " + n not in d}
    assert {"ManageGoals", "GoalDetails", "ManageGoalsInRange", "GoalInsight"} <= set(queries)
    for name, document in queries.items():
        answers = []
        for execute in (level, StrawberryGraphQLCoreExecutionContext.execute_operation):
            monkeypatch.setattr(LevelExecutor, "execute_operation", execute)
            response = await client.post(
                "/graphql",
                json={"query": document, "operationName": name, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
            answers.append(response.json())
        assert answers[0] == answers[1], name
        if name in {"ManageGoals", "GoalDetails", "ManageGoalsInRange", "GoalInsight"}:
            assert "errors" not in answers[0] and answers[0]["data"], name

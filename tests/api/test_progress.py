"""Progress end to end: a goal created over GraphQL, records in the database, refreshGoalProgress,
and the values, statuses, freezing and history that GoalDetails then shows."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from api.ids import to_global_id
from domain.enums import GoalType, ObjectType
from tests.helpers import make_tenant, op
from tests.workers.refresh_support import create_goal, ticket, utc


async def test_refresh_goal_progress_shows_values_statuses_and_history(client) -> None:
    tenant = await make_tenant()
    ann = await tenant.add_user("ann")
    support = await tenant.add_pipeline("support", ObjectType.TICKET)
    goal = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CLOSED_TICKETS,
        start="2024-01-01",
        end="2024-02-29",
        pipelines=[support],
        users=[ann],
        targets=["2", "4"],
    )
    other = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CLOSED_TICKETS,
        start="2024-01-01",
        end="2024-02-29",
        pipelines=[support],
        users=[ann],
        targets=["1", "1"],
    )
    for closed in [utc(2024, 1, 3), utc(2024, 1, 31, 23), utc(2024, 2, 1), utc(2024, 3, 1)]:
        await ticket(ann, support, utc(2024, 1, 1), closed=closed)
    goal_id = to_global_id("Goal", goal.id)

    before = datetime.now(UTC)
    data = await op(client, tenant.admin_token, "RefreshGoalProgress", {"id": goal_id})
    payload = data["refreshGoalProgress"]
    assert payload["userErrors"] == []
    progress = payload["goal"]["progress"]
    # 2 + 1 closed against 2 + 4: 50 %.
    assert Decimal(progress["value"]) == 3 and Decimal(progress["target"]) == 6
    assert progress["percent"] == 50.0
    assert datetime.fromisoformat(progress["refreshedAt"]) >= before - timedelta(seconds=1)

    today = datetime.now(UTC).date()
    details = await op(
        client,
        tenant.admin_token,
        "GoalDetails",
        {"id": goal_id, "historyFrom": str(today - timedelta(days=1)), "historyTo": str(today)},
    )
    shown = details["goal"]
    assert shown["status"] == "MISSED"
    (contributor,) = shown["contributors"]
    assert contributor["status"] == "MISSED"
    milestones = [
        (Decimal(m["value"]), m["percent"], m["status"], m["final"])
        for m in contributor["milestones"]
    ]
    # Both months ended long ago: frozen at this first refresh.
    assert milestones == [(2, 100.0, "ACHIEVED", True), (1, 25.0, "MISSED", True)]
    assert [(h["date"], Decimal(h["value"]), h["percent"]) for h in contributor["history"]] == [
        (str(today), 3, 50.0)
    ]

    # Only the refreshed goal was computed.
    untouched = await op(
        client, tenant.admin_token, "GoalDetails", {"id": to_global_id("Goal", other.id)}
    )
    assert untouched["goal"]["progress"]["value"] is None
    assert untouched["goal"]["progress"]["refreshedAt"] is None

    # Frozen: later records do not move the value.
    await ticket(ann, support, utc(2024, 1, 1), closed=utc(2024, 2, 10))
    data = await op(client, tenant.admin_token, "RefreshGoalProgress", {"id": goal_id})
    assert Decimal(data["refreshGoalProgress"]["goal"]["progress"]["value"]) == 3


async def test_in_progress_goal_counts_todays_records(client) -> None:
    tenant = await make_tenant()
    ann = await tenant.add_user("ann")
    support = await tenant.add_pipeline("support", ObjectType.TICKET)
    now = datetime.now(UTC)
    today = now.date()
    goal = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CLOSED_TICKETS,
        start=str(today),
        end=str(today),
        period="YEARLY",
        pipelines=[support],
        users=[ann],
        targets=["4"],
    )
    await ticket(ann, support, now - timedelta(days=1), closed=now)
    data = await op(
        client, tenant.admin_token, "RefreshGoalProgress", {"id": to_global_id("Goal", goal.id)}
    )
    assert data["refreshGoalProgress"]["goal"]["progress"]["percent"] == 25.0
    details = await op(
        client, tenant.admin_token, "GoalDetails", {"id": to_global_id("Goal", goal.id)}
    )
    (contributor,) = details["goal"]["contributors"]
    assert details["goal"]["status"] == "IN_PROGRESS"
    assert [(m["status"], m["final"]) for m in contributor["milestones"]] == [
        ("IN_PROGRESS", False)
    ]

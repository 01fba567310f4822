"""The goal mutations over HTTP: what a manager sees after creating, editing and deleting goals."""

import time
from decimal import Decimal

import pytest

from api.ids import to_global_id
from domain.models import ContributorGoal, Goal, Milestone, MilestonePipeline, Notification
from domain.notifications import dispatch
from tests.helpers import (
    count_queries,
    gid,
    gql,
    made_goal,
    op,
    quarterly_ticket_goal,
    sales_floor,
    update_goal,
)


async def create(client, token: str, goal: dict) -> dict:
    data = await op(client, token, "CreateGoal", {"input": goal})
    return data["createGoal"]


async def details(client, token: str, goal_id: str) -> dict:
    return (await op(client, token, "GoalDetails", {"id": goal_id}))["goal"]


@pytest.fixture
def dispatched():
    """What the outbox hands to the delivery workers after each commit."""
    sent: list[list[int]] = []

    async def capture(ids):
        sent.append(list(ids))

    previous = dispatch.install_dispatcher(capture)
    yield sent
    dispatch.install_dispatcher(previous)


# ---------------------------------------------------------------- createGoal


async def test_create_goal_makes_quarterly_milestones_with_targets(client):
    tenant = await sales_floor()
    result = await create(client, tenant.admin_token, quarterly_ticket_goal(tenant))
    assert result["userErrors"] == []
    goal = result["goal"]
    assert goal["name"] == "Close more tickets"
    assert goal["forecastable"] is True
    ana, team = goal["contributors"]
    assert ana["contributor"] == {
        "__typename": "User",
        "id": gid("User", tenant.users["ana"].id),
        "name": "Ana",
        "email": "ana@acme.test",
    }
    assert team["contributor"]["__typename"] == "Team"
    inbox = [{"id": gid("Pipeline", tenant.pipelines["inbox"].id)}]
    assert ana["milestones"] == [
        {"index": 0, "startDate": "2026-01-01", "endDate": "2026-03-31", "target": "10",
         "pipelines": inbox},
        {"index": 1, "startDate": "2026-04-01", "endDate": "2026-06-30", "target": "12",
         "pipelines": inbox},
        {"index": 2, "startDate": "2026-07-01", "endDate": "2026-09-30", "target": "12",
         "pipelines": inbox},
        {"index": 3, "startDate": "2026-10-01", "endDate": "2026-12-31", "target": "15",
         "pipelines": inbox},
    ]  # fmt: skip
    assert [m["target"] for m in team["milestones"]] == ["40", "40", "40", "40"]

    shown = await details(client, tenant.admin_token, goal["id"])
    assert shown["category"] == "SERVICE"
    assert shown["type"] == "CLOSED_TICKETS"
    assert shown["unit"] == "COUNT"
    assert shown["createdBy"]["id"] == gid("User", tenant.admin.id)
    assert shown["notify"] == []
    assert shown["alignToFiscalYear"] is False
    # 10+12+12+15 for Ana, 4 x 40 for the team.
    assert [c["progress"]["target"] for c in shown["contributors"]] == ["49", "160"]
    assert shown["progress"]["target"] == "209"
    assert shown["progress"]["value"] is None


async def test_fiscal_quarters_start_in_the_fiscal_month(client):
    tenant = await sales_floor(fiscal_month=2)
    goal = quarterly_ticket_goal(tenant, alignToFiscalYear=True)
    goal["contributors"] = [{"userId": gid("User", tenant.users["ben"].id)}]
    result = await create(client, tenant.admin_token, goal)
    assert result["userErrors"] == []
    # Fiscal quarters from February: Nov-Jan, Feb-Apr, May-Jul, Aug-Oct, Nov-Jan.
    assert [
        (m["startDate"], m["endDate"], m["target"])
        for m in result["goal"]["contributors"][0]["milestones"]
    ] == [
        ("2026-01-01", "2026-01-31", "0"),
        ("2026-02-01", "2026-04-30", "0"),
        ("2026-05-01", "2026-07-31", "0"),
        ("2026-08-01", "2026-10-31", "0"),
        ("2026-11-01", "2026-12-31", "0"),
    ]


async def test_decimal_targets_are_kept_exactly(client):
    tenant = await sales_floor()
    goal = quarterly_ticket_goal(tenant, type="AVG_TICKET_RESPONSE_TIME")
    goal["contributors"] = [
        {"userId": gid("User", tenant.users["ana"].id), "targets": ["0.1", 0.1, "12.3456", 99999]}
    ]
    result = await create(client, tenant.admin_token, goal)
    assert result["userErrors"] == []
    targets = [m["target"] for m in result["goal"]["contributors"][0]["milestones"]]
    assert targets == ["0.1", "0.1", "12.3456", "99999"]
    stored = await Milestone.all().order_by("index").values_list("target", flat=True)
    assert stored[:3] == [Decimal("0.1"), Decimal("0.1"), Decimal("12.3456")]


async def test_milestone_pipelines_default_to_all_and_take_subsets(client):
    tenant = await sales_floor()
    inbox = gid("Pipeline", tenant.pipelines["inbox"].id)
    escalations = gid("Pipeline", tenant.pipelines["escalations"].id)
    goal = quarterly_ticket_goal(tenant, pipelineIds=[inbox, escalations])
    goal["contributors"][0]["milestonePipelineIds"] = [
        [inbox],
        [escalations],
        [inbox, escalations],
        [escalations, inbox],
    ]
    result = await create(client, tenant.admin_token, goal)
    assert result["userErrors"] == []
    assert result["goal"]["forecastable"] is False
    ana, team = result["goal"]["contributors"]
    assert [sorted(p["id"] for p in m["pipelines"]) for m in ana["milestones"]] == [
        [inbox],
        [escalations],
        sorted([inbox, escalations]),
        sorted([inbox, escalations]),
    ]
    assert all(
        sorted(p["id"] for p in m["pipelines"]) == sorted([inbox, escalations])
        for m in team["milestones"]
    )


async def test_calls_goal_takes_no_pipelines_and_remembers_notify(client):
    tenant = await sales_floor()
    result = await create(
        client,
        tenant.admin_token,
        {
            "name": "Dial",
            "category": "SALES",
            "type": "CALLS_LOGGED",
            "startDate": "2026-03-01",
            "endDate": "2026-03-31",
            "milestonePeriod": "WEEKLY",
            "notify": ["GOAL_COMPLETED", "GOAL_ASSIGNED", "GOAL_COMPLETED"],
            "contributors": [{"userId": gid("User", tenant.users["ben"].id)}],
        },
    )
    assert result["userErrors"] == []
    milestones = result["goal"]["contributors"][0]["milestones"]
    # ISO weeks from Monday, clipped to March: Sun 1, Mon 2 - Sun 8, ... Mon 30 - Tue 31.
    assert [(m["startDate"], m["endDate"]) for m in milestones] == [
        ("2026-03-01", "2026-03-01"),
        ("2026-03-02", "2026-03-08"),
        ("2026-03-09", "2026-03-15"),
        ("2026-03-16", "2026-03-22"),
        ("2026-03-23", "2026-03-29"),
        ("2026-03-30", "2026-03-31"),
    ]
    assert all(m["pipelines"] == [] for m in milestones)
    shown = await details(client, tenant.admin_token, result["goal"]["id"])
    assert shown["notify"] == ["GOAL_COMPLETED", "GOAL_ASSIGNED"]
    assert shown["pipelines"] == []


async def test_contract_shape_reports_every_unknown_id_at_its_path(client):
    tenant = await sales_floor()
    data = await op(client, tenant.admin_token, "CreateGoalShape")
    assert data["createGoal"]["goal"] is None
    errors = {tuple(e["field"]): e["code"] for e in data["createGoal"]["userErrors"]}
    assert errors == {
        ("input", "pipelineIds", "0"): "NOT_FOUND",
        ("input", "contributors", "0", "userId"): "NOT_FOUND",
        ("input", "contributors", "1", "teamId"): "NOT_FOUND",
    }
    assert await Goal.all().count() == 0


async def test_create_notifies_assigned_contributors_after_commit(client, dispatched):
    tenant = await sales_floor()
    goal = quarterly_ticket_goal(tenant, notify=["GOAL_ASSIGNED"])
    result = await create(client, tenant.admin_token, goal)
    assert result["userErrors"] == []
    rows = await Notification.filter(kind="GOAL_ASSIGNED").values_list(
        "recipient_id", "id", "channel"
    )
    # Ana directly and through the team, Ben through the team.
    assert {r for r, _, _ in rows} == {tenant.users["ana"].id, tenant.users["ben"].id}
    to_deliver = sorted(i for _, i, channel in rows if channel != "IN_APP")
    assert to_deliver
    assert sorted(i for batch in dispatched for i in batch) == to_deliver


async def test_failed_create_notifies_nobody(client, dispatched):
    tenant = await sales_floor()
    goal = quarterly_ticket_goal(tenant, notify=["GOAL_ASSIGNED"], endDate="2025-12-31")
    result = await create(client, tenant.admin_token, goal)
    assert result["userErrors"][0]["code"] == "INVALID"
    assert await Notification.all().count() == 0
    assert dispatched == []


async def test_large_goal_is_written_in_a_few_statements(client, db):
    """500 contributors x 60 monthly milestones x 2 pipelines: 30,000 milestones."""
    tenant = await sales_floor()
    for i in range(498):
        await tenant.add_user(f"rep{i:03}")
    users = [u for key, u in tenant.users.items() if key != "admin"]
    inbox = gid("Pipeline", tenant.pipelines["inbox"].id)
    escalations = gid("Pipeline", tenant.pipelines["escalations"].id)
    goal = {
        "name": "Five years of tickets",
        "category": "SERVICE",
        "type": "CLOSED_TICKETS",
        "startDate": "2026-01-01",
        "endDate": "2030-12-31",
        "milestonePeriod": "MONTHLY",
        "pipelineIds": [inbox, escalations],
        "contributors": [{"userId": gid("User", u.id), "targets": [5] * 60} for u in users],
    }
    assert len(goal["contributors"]) == 500
    query = """mutation ($input: CreateGoalInput!) {
        createGoal(input: $input) { goal { id } userErrors { code } }
    }"""
    started = time.perf_counter()
    with count_queries() as statements:
        body = await gql(client, tenant.admin_token, query, {"input": goal})
    elapsed = time.perf_counter() - started
    assert body["data"]["createGoal"]["userErrors"] == []
    assert await Milestone.all().count() == 30_000
    assert await MilestonePipeline.all().count() == 60_000
    inserts = [s for s in statements if s.upper().startswith("INSERT")]
    print(f"\n[{db}] 500 x 60 goal: {len(statements)} statements, {elapsed:.2f}s")
    assert len(inserts) < 20
    assert elapsed < 60


# ---------------------------------------------------------------- applyGoalTargets


async def apply(client, token: str, **input) -> dict:
    return (await op(client, token, "ApplyGoalTargets", {"input": input}))["applyGoalTargets"]


async def test_apply_targets_to_every_milestone_of_every_contributor(client):
    tenant = await sales_floor()
    goal = await made_goal(client, tenant)
    result = await apply(client, tenant.admin_token, goalId=goal["id"], amount="7.5")
    assert result["userErrors"] == []
    for contributor in result["goal"]["contributors"]:
        assert [m["target"] for m in contributor["milestones"]] == ["7.5"] * 4
    shown = await details(client, tenant.admin_token, goal["id"])
    assert shown["progress"]["target"] == "60"  # 2 contributors x 4 milestones x 7.5


async def test_apply_targets_to_chosen_contributors_and_milestones(client, dispatched):
    tenant = await sales_floor()
    goal = await made_goal(client, tenant, notify=["TARGETS_CHANGED"])
    team_cg = goal["contributors"][1]["id"]
    result = await apply(
        client,
        tenant.admin_token,
        goalId=goal["id"],
        contributorIds=[team_cg],
        milestoneIndexes=[0, 3],
        amount=25,
    )
    assert result["userErrors"] == []
    ana, team = result["goal"]["contributors"]
    assert [m["target"] for m in ana["milestones"]] == ["10", "12", "12", "15"]
    assert [m["target"] for m in team["milestones"]] == ["25", "40", "40", "25"]
    changed = await Notification.filter(kind="TARGETS_CHANGED").values_list(
        "contributor_goal_id", flat=True
    )
    team_row = await ContributorGoal.get(team_id=tenant.teams["support"].id)
    assert set(changed) == {team_row.id}
    assert dispatched, "the new outbox rows are handed to the workers"


async def test_apply_targets_refuses_empty_lists_and_bad_parts(client):
    tenant = await sales_floor()
    goal = await made_goal(client, tenant)
    before = await Milestone.all().values_list("id", "target")
    result = await apply(
        client,
        tenant.admin_token,
        goalId=goal["id"],
        contributorIds=[],
        milestoneIndexes=[],
        amount="-1",
    )
    assert result["goal"] is None
    assert {(tuple(e["field"]), e["code"]) for e in result["userErrors"]} == {
        (("input", "contributorIds"), "INVALID"),
        (("input", "milestoneIndexes"), "INVALID"),
        (("input", "amount"), "INVALID"),
    }
    result = await apply(
        client,
        tenant.admin_token,
        goalId=goal["id"],
        contributorIds=[goal["contributors"][0]["id"], to_global_id("ContributorGoal", 999)],
        milestoneIndexes=[1, 4],
        amount="1.23456",
    )
    assert {(tuple(e["field"]), e["code"]) for e in result["userErrors"]} == {
        (("input", "contributorIds", "1"), "NOT_FOUND"),
        (("input", "milestoneIndexes", "1"), "INVALID"),
        (("input", "amount"), "INVALID"),
    }
    assert await Milestone.all().values_list("id", "target") == before


async def test_apply_targets_shape_runs_verbatim(client):
    tenant = await sales_floor()
    data = await op(client, tenant.admin_token, "ApplyGoalTargetsShape")
    assert data["applyGoalTargets"]["userErrors"] == [
        {"field": ["input", "goalId"], "code": "NOT_FOUND", "message": "No such goal."}
    ]


# ---------------------------------------------------------------- updateGoal


async def test_update_goal_applies_every_part(client, dispatched):
    tenant = await sales_floor()
    await tenant.add_user("cleo")
    goal = await made_goal(client, tenant)
    ana_cg, team_cg = (c["id"] for c in goal["contributors"])
    shown_before = await details(client, tenant.admin_token, goal["id"])
    result = await update_goal(
        client,
        tenant.admin_token,
        id=goal["id"],
        name=" Renamed ",
        notify=["GOAL_ASSIGNED", "TARGETS_CHANGED"],
        pipelineIds=[gid("Pipeline", tenant.pipelines["inbox"].id)],
        targets=[
            {"contributorId": ana_cg, "milestoneIndex": 0, "amount": 11},
            {"contributorId": ana_cg, "milestoneIndex": 3, "amount": "0.5"},
            {"contributorId": team_cg, "milestoneIndex": 2, "amount": 11},
        ],
        addContributors=[{"userId": gid("User", tenant.users["cleo"].id), "targets": [1, 2, 3, 4]}],
        removeContributorIds=[team_cg],
    )
    assert result["userErrors"] == []
    updated = result["goal"]
    assert updated["name"] == "Renamed"
    assert updated["notify"] == ["GOAL_ASSIGNED", "TARGETS_CHANGED"]
    assert updated["updatedAt"] > shown_before["updatedAt"]
    assert [c["contributor"]["name"] for c in updated["contributors"]] == ["Ana", "Cleo"]
    ana, cleo = updated["contributors"]
    assert [m["target"] for m in ana["milestones"]] == ["11", "12", "12", "0.5"]
    assert [m["target"] for m in cleo["milestones"]] == ["1", "2", "3", "4"]

    shown = await details(client, tenant.admin_token, goal["id"])
    cleo_detail = shown["contributors"][1]
    # The added contributor takes the goal's milestone dates and all of its pipelines.
    assert [(m["startDate"], m["endDate"]) for m in cleo_detail["milestones"]] == [
        (m["startDate"], m["endDate"]) for m in shown_before["contributors"][0]["milestones"]
    ]
    assert all(
        m["pipelines"] == [{"id": gid("Pipeline", tenant.pipelines["inbox"].id)}]
        for m in cleo_detail["milestones"]
    )
    assert shown["progress"]["target"] == "45.5"  # 11+12+12+0.5 + 1+2+3+4
    assert await ContributorGoal.filter(team_id__not_isnull=True).count() == 0
    kinds = await Notification.all().values_list("kind", "recipient_id")
    assert ("GOAL_ASSIGNED", tenant.users["cleo"].id) in kinds
    assert ("TARGETS_CHANGED", tenant.users["ana"].id) in kinds
    assert dispatched


async def test_update_refuses_a_pipeline_change_and_removing_everyone(client):
    tenant = await sales_floor()
    goal = await made_goal(client, tenant)
    before = await Goal.all().values_list("name", "updated_at")
    result = await update_goal(
        client,
        tenant.admin_token,
        id=goal["id"],
        name="Never applied",
        pipelineIds=[gid("Pipeline", tenant.pipelines["escalations"].id)],
        removeContributorIds=[c["id"] for c in goal["contributors"]],
    )
    assert result["goal"] is None
    errors = {(tuple(e["field"]), e["code"]): e["message"] for e in result["userErrors"]}
    assert set(errors) == {
        (("input", "pipelineIds"), "IMMUTABLE"),
        (("input", "removeContributorIds"), "INVALID"),
    }
    assert "delete the goal instead" in errors[(("input", "removeContributorIds"), "INVALID")]
    assert await Goal.all().values_list("name", "updated_at") == before
    assert await ContributorGoal.all().count() == 2


async def test_update_shape_runs_verbatim(client):
    tenant = await sales_floor()
    data = await op(client, tenant.admin_token, "UpdateGoalShape")
    assert data["updateGoal"]["userErrors"][0]["field"] == ["input", "id"]
    assert data["updateGoal"]["userErrors"][0]["code"] == "NOT_FOUND"


# ---------------------------------------------------------------- deleteGoals


async def delete(client, token: str, ids: list[str]) -> dict:
    return (await op(client, token, "DeleteGoals", {"ids": ids}))["deleteGoals"]


async def test_delete_goals_and_contributor_goals_mixed(client):
    tenant = await sales_floor()
    first = await made_goal(client, tenant)
    second = await made_goal(client, tenant, name="Second")
    third = await made_goal(client, tenant, name="Third")
    third_ana, third_team = (c["id"] for c in third["contributors"])
    result = await delete(
        client,
        tenant.admin_token,
        [first["id"], second["contributors"][0]["id"], third_ana, third_team],
    )
    assert result["userErrors"] == []
    # Third lost its last contributor goal, so it went too, named after the requested ids.
    assert result["deletedIds"] == [
        first["id"],
        second["contributors"][0]["id"],
        third_ana,
        third_team,
        third["id"],
    ]
    assert await details(client, tenant.admin_token, first["id"]) is None
    assert await details(client, tenant.admin_token, third["id"]) is None
    remaining = await details(client, tenant.admin_token, second["id"])
    assert [c["id"] for c in remaining["contributors"]] == [second["contributors"][1]["id"]]
    assert remaining["progress"]["target"] == "160"  # only the team's 4 x 40 is left
    assert await Milestone.all().count() == 4


async def test_delete_validates_every_id_before_deleting_any(client):
    tenant = await sales_floor()
    goal = await made_goal(client, tenant)
    result = await delete(
        client,
        tenant.admin_token,
        [goal["id"], "not-an-id", to_global_id("Goal", 4242), goal["id"]],
    )
    assert result["deletedIds"] == []
    assert {(tuple(e["field"]), e["code"]) for e in result["userErrors"]} == {
        (("ids", "1"), "NOT_FOUND"),
        (("ids", "2"), "NOT_FOUND"),
        (("ids", "3"), "DUPLICATE"),
    }
    assert await Goal.all().count() == 1
    assert await Milestone.all().count() == 8


# ---------------------------------------------------------------- refreshGoalProgress


async def test_refresh_goal_progress_returns_the_goal(client):
    tenant = await sales_floor()
    goal = await made_goal(client, tenant)
    data = await op(client, tenant.admin_token, "RefreshGoalProgress", {"id": goal["id"]})
    payload = data["refreshGoalProgress"]
    assert payload["userErrors"] == []
    assert payload["goal"]["id"] == goal["id"]
    assert payload["goal"]["progress"]["refreshedAt"] is not None
    assert payload["goal"]["progress"]["target"] == "209"

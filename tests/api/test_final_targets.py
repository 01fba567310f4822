"""A final milestone's target is history: its outcome was announced, so editing it is refused
and nothing is written; applying to "all milestones" skips it and says how many it changed."""

import pytest

from domain import jobs
from domain.models import ContributorGoal, Goal, Milestone, Notification
from tests.helpers import gql, made_goal, sales_floor, update_goal

APPLY = """
mutation($input: ApplyGoalTargetsInput!) {
  applyGoalTargets(input: $input) {
    changedMilestoneCount
    goal { contributors { milestones { index target final } } }
    userErrors { field code message }
  }
}
"""


@pytest.fixture
def queued():
    """The jobs changes ask for after their commit."""
    asked: list[jobs.Job] = []

    async def capture(new_jobs):
        asked.extend(new_jobs)

    previous = jobs.install_job_queue(capture)
    yield asked
    jobs.install_job_queue(previous)


async def goal_with_two_final_quarters(client, tenant) -> dict:
    """A quarterly 2026 goal (Ana 10/12/12/15, the team 40 each) whose first two quarters a
    refresh has frozen."""
    goal = await made_goal(client, tenant, notify=["TARGETS_CHANGED"])
    await Milestone.filter(index__in=[0, 1]).update(final=True)
    return goal


async def snapshot() -> list:
    return [
        await Milestone.all().order_by("id").values_list("id", "target", "final"),
        await Goal.all().values_list("id", "target", "updated_at"),
        await ContributorGoal.all().order_by("id").values_list("id", "target"),
        await Notification.all().count(),
    ]


async def apply(client, tenant, **input) -> dict:
    body = await gql(client, tenant.admin_token, APPLY, {"input": input})
    return body["data"]["applyGoalTargets"]


def targets(payload: dict) -> list[list[str]]:
    return [[m["target"] for m in c["milestones"]] for c in payload["goal"]["contributors"]]


async def test_editing_a_final_target_is_refused_and_writes_nothing(client, queued):
    tenant = await sales_floor()
    goal = await goal_with_two_final_quarters(client, tenant)
    ana, team = (c["id"] for c in goal["contributors"])
    before = await snapshot()
    queued.clear()

    result = await update_goal(
        client,
        tenant.admin_token,
        id=goal["id"],
        name="Renamed",
        targets=[
            {"contributorId": ana, "milestoneIndex": 3, "amount": 20},  # live: fine alone
            {"contributorId": ana, "milestoneIndex": 1, "amount": 2},  # final
            {"contributorId": team, "milestoneIndex": 0, "amount": 41},  # final
        ],
    )
    assert result["goal"] is None
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        (["input", "targets", "1"], "IMMUTABLE"),
        (["input", "targets", "2"], "IMMUTABLE"),
    ]
    assert result["userErrors"][0]["message"].startswith("Milestone 1 is final")
    assert await snapshot() == before
    assert await Goal.filter(name="Renamed").count() == 0
    assert queued == []


async def test_repeating_a_final_target_is_not_a_change(client, queued):
    tenant = await sales_floor()
    goal = await goal_with_two_final_quarters(client, tenant)
    ana, team = (c["id"] for c in goal["contributors"])
    queued.clear()
    # A target grid sends every cell back: final ones unchanged, a live one edited.
    result = await update_goal(
        client,
        tenant.admin_token,
        id=goal["id"],
        targets=[
            {"contributorId": ana, "milestoneIndex": 0, "amount": "10.0"},
            {"contributorId": team, "milestoneIndex": 1, "amount": 40},
            {"contributorId": ana, "milestoneIndex": 2, "amount": 13},
        ],
    )
    assert result["userErrors"] == []
    ana_row, team_row = await ContributorGoal.all().order_by("id")
    assert [m["target"] for m in result["goal"]["contributors"][0]["milestones"]] == [
        "10",
        "12",
        "13",
        "15",
    ]
    # Only Ana's live target changed: only she hears about it.
    changed = await Notification.filter(kind="TARGETS_CHANGED").values_list(
        "contributor_goal_id", flat=True
    )
    assert set(changed) == {ana_row.id}
    assert [job.name for job in queued] == [jobs.REFRESH_GOAL_JOB]


async def test_applying_to_named_final_milestones_is_refused(client, queued):
    tenant = await sales_floor()
    goal = await goal_with_two_final_quarters(client, tenant)
    before = await snapshot()
    queued.clear()
    result = await apply(client, tenant, goalId=goal["id"], milestoneIndexes=[2, 1, 3], amount="9")
    assert result["goal"] is None
    assert result["changedMilestoneCount"] == 0
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        (["input", "milestoneIndexes", "1"], "IMMUTABLE")
    ]
    assert await snapshot() == before
    assert queued == []
    # The amount a final milestone already has is no change: allowed, and not counted.
    team = goal["contributors"][1]["id"]
    result = await apply(
        client, tenant, goalId=goal["id"], contributorIds=[team], milestoneIndexes=[0, 2],
        amount="40",
    )  # fmt: skip
    assert result["userErrors"] == []
    assert result["changedMilestoneCount"] == 1


async def test_applying_to_all_milestones_skips_final_ones(client, queued):
    tenant = await sales_floor()
    goal = await goal_with_two_final_quarters(client, tenant)
    queued.clear()
    result = await apply(client, tenant, goalId=goal["id"], amount="7")
    assert result["userErrors"] == []
    # Two contributors, two live quarters each.
    assert result["changedMilestoneCount"] == 4
    assert targets(result) == [["10", "12", "7", "7"], ["40", "40", "7", "7"]]
    assert (await Goal.get()).target == 10 + 12 + 7 + 7 + 40 + 40 + 7 + 7
    assert len(queued) == 1

    # Everything final: nothing to change, nobody notified, no refresh asked for.
    await Milestone.all().update(final=True)
    before = await snapshot()
    queued.clear()
    result = await apply(client, tenant, goalId=goal["id"], amount="8")
    assert (result["userErrors"], result["changedMilestoneCount"]) == ([], 0)
    assert targets(result) == [["10", "12", "7", "7"], ["40", "40", "7", "7"]]
    assert await snapshot() == before
    assert queued == []

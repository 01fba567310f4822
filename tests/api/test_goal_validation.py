"""Every bad input of a goal mutation comes back as a userError at its path, with its code, and
leaves the database exactly as it was."""

from collections.abc import Callable

import pytest

from api.ids import to_global_id
from domain.enums import GoalPermission, ObjectType, Seat
from domain.models import (
    ContributorGoal,
    Goal,
    GoalPipeline,
    Milestone,
    MilestonePipeline,
    Notification,
)
from tests.helpers import Tenant, contract_operation, gid, gql, make_tenant, op


async def row_counts() -> dict[str, int]:
    return {
        model.__name__: await model.all().count()
        for model in (
            Goal,
            GoalPipeline,
            ContributorGoal,
            Milestone,
            MilestonePipeline,
            Notification,
        )
    }


async def floor() -> Tenant:
    tenant = await make_tenant()
    await tenant.add_user("ana")
    await tenant.add_user("ben")
    await tenant.add_user("own", permission=GoalPermission.OWN)
    await tenant.add_user("free", seat=Seat.FREE)
    await tenant.add_user("gone", active=False)
    await tenant.add_team("support", ["ana", "ben"])
    await tenant.add_team("empty", [])
    await tenant.add_pipeline("inbox", ObjectType.TICKET)
    await tenant.add_pipeline("escalations", ObjectType.TICKET)
    await tenant.add_pipeline("new-business", ObjectType.DEAL)
    other = await make_tenant("Globex")
    await other.add_pipeline("their-inbox", ObjectType.TICKET)
    tenant.pipelines["foreign"] = other.pipelines["their-inbox"]
    return tenant


def valid_goal(tenant: Tenant) -> dict:
    """Monthly over one quarter: three milestones."""
    return {
        "name": "Close more tickets",
        "category": "SERVICE",
        "type": "CLOSED_TICKETS",
        "startDate": "2026-01-01",
        "endDate": "2026-03-31",
        "milestonePeriod": "MONTHLY",
        "pipelineIds": [gid("Pipeline", tenant.pipelines["inbox"].id)],
        "notify": ["GOAL_ASSIGNED"],
        "contributors": [
            {"userId": gid("User", tenant.users["ana"].id), "targets": [1, 2, 3]},
            {"teamId": gid("Team", tenant.teams["support"].id)},
        ],
    }


def user(tenant: Tenant, key: str, **extra) -> dict:
    return {"userId": gid("User", tenant.users[key].id), **extra}


Change = Callable[[Tenant, dict], None]


def set_field(name: str, value) -> Change:
    return lambda tenant, goal: goal.update({name: value})


def set_pipeline(key: str) -> Change:
    return lambda tenant, goal: goal.update(
        {"pipelineIds": [gid("Pipeline", tenant.pipelines[key].id)]}
    )


def set_contributors(*make: Callable[[Tenant], dict]) -> Change:
    return lambda tenant, goal: goal.update({"contributors": [m(tenant) for m in make]})


CREATE_CASES: dict[str, tuple[Change, list[tuple[tuple[str, ...], str]]]] = {
    "type outside its category": (
        set_field("category", "SALES"),
        [(("input", "type"), "INVALID")],
    ),
    "end before start": (
        set_field("endDate", "2025-12-31"),
        [(("input", "endDate"), "INVALID")],
    ),
    "more than five years": (
        set_field("endDate", "2031-01-01"),
        [(("input", "endDate"), "INVALID")],
    ),
    "unknown pipeline": (
        set_field("pipelineIds", [to_global_id("Pipeline", 987654)]),
        [(("input", "pipelineIds", "0"), "NOT_FOUND")],
    ),
    "pipeline of another account": (
        set_pipeline("foreign"),
        [(("input", "pipelineIds", "0"), "NOT_FOUND")],
    ),
    "pipeline of the wrong object type": (
        set_pipeline("new-business"),
        [(("input", "pipelineIds", "0"), "INVALID")],
    ),
    "no pipeline for a ticket goal": (
        set_field("pipelineIds", []),
        [(("input", "pipelineIds"), "REQUIRED")],
    ),
    "a pipeline for a calls goal": (
        lambda tenant, goal: goal.update({"category": "SALES", "type": "CALLS_LOGGED"}),
        [(("input", "pipelineIds"), "INVALID")],
    ),
    "targets of the wrong length": (
        set_contributors(lambda t: user(t, "ana", targets=[1, 2])),
        [(("input", "contributors", "0", "targets"), "INVALID")],
    ),
    "a negative target": (
        set_contributors(lambda t: user(t, "ana", targets=[1, 2, "-0.01"])),
        [(("input", "contributors", "0", "targets", "2"), "INVALID")],
    ),
    "a target that is not a number": (
        set_contributors(lambda t: user(t, "ana", targets=["NaN", "Infinity", 1])),
        [
            (("input", "contributors", "0", "targets", "0"), "INVALID"),
            (("input", "contributors", "0", "targets", "1"), "INVALID"),
        ],
    ),
    "a target with five decimal places or of 10^15": (
        set_contributors(lambda t: user(t, "ana", targets=["0.00001", "1000000000000000", 1])),
        [
            (("input", "contributors", "0", "targets", "0"), "INVALID"),
            (("input", "contributors", "0", "targets", "1"), "INVALID"),
        ],
    ),
    "the same contributor twice": (
        set_contributors(
            lambda t: user(t, "ana"), lambda t: user(t, "ben"), lambda t: user(t, "ana")
        ),
        [(("input", "contributors", "2", "userId"), "DUPLICATE")],
    ),
    "the same team twice": (
        set_contributors(
            lambda t: {"teamId": gid("Team", t.teams["support"].id)},
            lambda t: {"teamId": gid("Team", t.teams["support"].id)},
        ),
        [(("input", "contributors", "1", "teamId"), "DUPLICATE")],
    ),
    "a free user": (
        set_contributors(lambda t: user(t, "free")),
        [(("input", "contributors", "0", "userId"), "INVALID")],
    ),
    "an inactive user": (
        set_contributors(lambda t: user(t, "gone")),
        [(("input", "contributors", "0", "userId"), "INVALID")],
    ),
    "a team with no members": (
        set_contributors(lambda t: {"teamId": gid("Team", t.teams["empty"].id)}),
        [(("input", "contributors", "0", "teamId"), "INVALID")],
    ),
    "a user and a team in one contributor": (
        set_contributors(lambda t: user(t, "ana", teamId=gid("Team", t.teams["support"].id))),
        [(("input", "contributors", "0"), "INVALID")],
    ),
    "neither a user nor a team": (
        set_contributors(lambda t: {"targets": [1, 1, 1]}),
        [(("input", "contributors", "0"), "REQUIRED")],
    ),
    "a team id where a user id belongs": (
        set_contributors(lambda t: {"userId": gid("Team", t.teams["support"].id)}),
        [(("input", "contributors", "0", "userId"), "NOT_FOUND")],
    ),
    "no contributors": (
        set_contributors(),
        [(("input", "contributors"), "REQUIRED")],
    ),
    "a name of 201 characters": (
        set_field("name", "x" * 201),
        [(("input", "name"), "INVALID")],
    ),
    "a blank name": (
        set_field("name", "   "),
        [(("input", "name"), "REQUIRED")],
    ),
    "a milestone pipeline outside the goal": (
        set_contributors(
            lambda t: user(
                t,
                "ana",
                milestonePipelineIds=[
                    [gid("Pipeline", t.pipelines["inbox"].id)],
                    [gid("Pipeline", t.pipelines["inbox"].id)],
                    [gid("Pipeline", t.pipelines["escalations"].id)],
                ],
            )
        ),
        [(("input", "contributors", "0", "milestonePipelineIds", "2", "0"), "INVALID")],
    ),
    "an empty or unknown milestone pipeline list": (
        set_contributors(
            lambda t: user(
                t,
                "ana",
                milestonePipelineIds=[
                    [],
                    [gid("Pipeline", t.pipelines["inbox"].id)],
                    [gid("Pipeline", t.pipelines["foreign"].id)],
                ],
            )
        ),
        [
            (("input", "contributors", "0", "milestonePipelineIds", "0"), "REQUIRED"),
            (("input", "contributors", "0", "milestonePipelineIds", "2", "0"), "NOT_FOUND"),
        ],
    ),
    "milestone pipelines of the wrong length": (
        set_contributors(
            lambda t: user(
                t, "ana", milestonePipelineIds=[[gid("Pipeline", t.pipelines["inbox"].id)]]
            )
        ),
        [(("input", "contributors", "0", "milestonePipelineIds"), "INVALID")],
    ),
}


async def create_errors(client, tenant: Tenant, goal: dict, token: str | None = None) -> set:
    data = await op(client, token or tenant.admin_token, "CreateGoal", {"input": goal})
    payload = data["createGoal"]
    assert payload["goal"] is None
    for error in payload["userErrors"]:
        assert error["message"], error
    return {(tuple(e["field"]), e["code"]) for e in payload["userErrors"]}


@pytest.mark.parametrize("case", list(CREATE_CASES))
async def test_bad_create_input_is_reported_and_nothing_written(client, case):
    tenant = await floor()
    change, expected = CREATE_CASES[case]
    goal = valid_goal(tenant)
    change(tenant, goal)
    before = await row_counts()
    assert await create_errors(client, tenant, goal) == set(expected)
    assert await row_counts() == before


async def test_the_valid_goal_of_these_cases_is_accepted(client):
    tenant = await floor()
    goal = valid_goal(tenant)
    goal["name"] = "x" * 200
    data = await op(client, tenant.admin_token, "CreateGoal", {"input": goal})
    assert data["createGoal"]["userErrors"] == []
    assert data["createGoal"]["goal"]["name"] == "x" * 200
    assert await Milestone.all().count() == 6


async def test_a_contributor_out_of_reach_is_not_found(client):
    tenant = await floor()
    goal = valid_goal(tenant)
    goal["contributors"] = [user(tenant, "own"), user(tenant, "ana")]
    before = await row_counts()
    errors = await create_errors(client, tenant, goal, tenant.tokens["own"])
    assert errors == {(("input", "contributors", "1", "userId"), "NOT_FOUND")}
    assert await row_counts() == before


async def test_501_contributors_are_too_many(client):
    tenant = await floor()
    goal = valid_goal(tenant)
    goal["contributors"] = [user(tenant, "ana")] * 501
    before = await row_counts()
    assert await create_errors(client, tenant, goal) == {(("input", "contributors"), "TOO_MANY")}
    assert await row_counts() == before


async def test_every_problem_is_reported_at_once(client):
    tenant = await floor()
    goal = valid_goal(tenant)
    goal.update(
        name="", category="SALES", pipelineIds=[gid("Pipeline", tenant.pipelines["foreign"].id)]
    )
    goal["contributors"] = [
        user(tenant, "free", targets=[1, 2, 3]),
        user(tenant, "ana", targets=[1, -2, 3]),
        {"teamId": gid("Team", tenant.teams["empty"].id), "targets": [1]},
    ]
    before = await row_counts()
    assert await create_errors(client, tenant, goal) == {
        (("input", "name"), "REQUIRED"),
        (("input", "type"), "INVALID"),
        (("input", "pipelineIds", "0"), "NOT_FOUND"),
        (("input", "contributors", "0", "userId"), "INVALID"),
        (("input", "contributors", "1", "targets", "1"), "INVALID"),
        (("input", "contributors", "2", "teamId"), "INVALID"),
        (("input", "contributors", "2", "targets"), "INVALID"),
    }
    assert await row_counts() == before


# ---------------------------------------------------------------- edits of an existing goal


async def existing_goal(client, tenant: Tenant) -> dict:
    data = await op(client, tenant.admin_token, "CreateGoal", {"input": valid_goal(tenant)})
    assert data["createGoal"]["userErrors"] == []
    return data["createGoal"]["goal"]


async def test_empty_lists_in_apply_targets(client):
    tenant = await floor()
    goal = await existing_goal(client, tenant)
    before = await row_counts()
    targets = await Milestone.all().values_list("id", "target")
    data = await op(
        client,
        tenant.admin_token,
        "ApplyGoalTargets",
        {
            "input": {
                "goalId": goal["id"],
                "contributorIds": [],
                "milestoneIndexes": [],
                "amount": 5,
            }
        },
    )
    payload = data["applyGoalTargets"]
    assert payload["goal"] is None
    assert {(tuple(e["field"]), e["code"]) for e in payload["userErrors"]} == {
        (("input", "contributorIds"), "INVALID"),
        (("input", "milestoneIndexes"), "INVALID"),
    }
    assert await row_counts() == before
    assert await Milestone.all().values_list("id", "target") == targets


UPDATE_CASES: dict[str, tuple[Callable[[Tenant, dict], dict], set]] = {
    "a pipeline change": (
        lambda t, g: {"pipelineIds": [gid("Pipeline", t.pipelines["escalations"].id)]},
        {(("input", "pipelineIds"), "IMMUTABLE")},
    ),
    "an added pipeline": (
        lambda t, g: {
            "pipelineIds": [
                gid("Pipeline", t.pipelines["inbox"].id),
                gid("Pipeline", t.pipelines["escalations"].id),
            ]
        },
        {(("input", "pipelineIds"), "IMMUTABLE")},
    ),
    "removing every contributor": (
        lambda t, g: {"removeContributorIds": [c["id"] for c in g["contributors"]]},
        {(("input", "removeContributorIds"), "INVALID")},
    ),
    "a name of 201 characters": (
        lambda t, g: {"name": "y" * 201},
        {(("input", "name"), "INVALID")},
    ),
    "a bad target edit": (
        lambda t, g: {
            "targets": [
                {"contributorId": g["contributors"][0]["id"], "milestoneIndex": 3, "amount": -1},
                {
                    "contributorId": to_global_id("ContributorGoal", 9999),
                    "milestoneIndex": 0,
                    "amount": 1,
                },
            ]
        },  # fmt: skip
        {
            (("input", "targets", "0", "milestoneIndex"), "INVALID"),
            (("input", "targets", "0", "amount"), "INVALID"),
            (("input", "targets", "1", "contributorId"), "NOT_FOUND"),
        },
    ),
    "an added contributor already on the goal or with the wrong targets": (
        lambda t, g: {
            "addContributors": [user(t, "ana"), user(t, "ben", targets=[1, 2, 3, 4])],
            "removeContributorIds": [g["contributors"][0]["id"]],
        },
        {
            (("input", "addContributors", "0", "userId"), "DUPLICATE"),
            (("input", "addContributors", "1", "targets"), "INVALID"),
        },
    ),
    "a removed contributor of another goal": (
        lambda t, g: {"removeContributorIds": [to_global_id("ContributorGoal", 777)]},
        {(("input", "removeContributorIds", "0"), "NOT_FOUND")},
    ),
}


@pytest.mark.parametrize("case", list(UPDATE_CASES))
async def test_bad_update_is_reported_and_nothing_changes(client, case):
    tenant = await floor()
    goal = await existing_goal(client, tenant)
    make_input, expected = UPDATE_CASES[case]
    before = await row_counts()
    goals_before = await Goal.all().values_list("name", "notify", "updated_at", "target")
    targets_before = await Milestone.all().values_list("id", "target")
    data = await op(
        client,
        tenant.admin_token,
        "UpdateGoal",
        {"input": {"id": goal["id"], "name": "Changed", **make_input(tenant, goal)}},
    )
    payload = data["updateGoal"]
    assert payload["goal"] is None
    assert {(tuple(e["field"]), e["code"]) for e in payload["userErrors"]} == expected
    assert await row_counts() == before
    assert await Goal.all().values_list("name", "notify", "updated_at", "target") == goals_before
    assert await Milestone.all().values_list("id", "target") == targets_before


async def test_the_same_pipeline_set_again_is_not_a_change(client):
    tenant = await floor()
    goal = await existing_goal(client, tenant)
    data = await op(
        client,
        tenant.admin_token,
        "UpdateGoal",
        {
            "input": {
                "id": goal["id"],
                "pipelineIds": [gid("Pipeline", tenant.pipelines["inbox"].id)],
                "name": "Still here",
            }
        },
    )
    assert data["updateGoal"]["userErrors"] == []
    assert data["updateGoal"]["goal"]["name"] == "Still here"


@pytest.mark.parametrize("bad_date", ["2026-02-30", "31/12/2026", "2026-1-1", ""])
async def test_a_malformed_date_is_refused_before_anything_runs(client, bad_date):
    tenant = await floor()
    goal = valid_goal(tenant)
    goal["endDate"] = bad_date
    before = await row_counts()
    body = await gql(
        client,
        tenant.admin_token,
        contract_operation("CreateGoal"),
        {"input": goal},
        expect_errors=True,
    )
    assert body.get("data") is None
    [error] = body["errors"]
    assert "endDate" in error["message"] and "Date" in error["message"], error
    assert "Unexpected error" not in error["message"]
    assert await row_counts() == before


async def test_too_many_target_edits_in_one_update(client):
    tenant = await floor()
    created = await op(client, tenant.admin_token, "CreateGoal", {"input": valid_goal(tenant)})
    goal = created["createGoal"]["goal"]
    contributor_id = goal["contributors"][0]["id"]
    edits = [{"contributorId": contributor_id, "milestoneIndex": 0, "amount": 1}] * 5001
    before = await row_counts()
    data = await op(
        client, tenant.admin_token, "UpdateGoal", {"input": {"id": goal["id"], "targets": edits}}
    )
    errors = data["updateGoal"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [(["input", "targets"], "TOO_MANY")]
    assert await row_counts() == before

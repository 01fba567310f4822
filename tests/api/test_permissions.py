"""Who may create, change, refresh and delete which goal, across seats, reaches and accounts."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from domain import progress
from domain.enums import GoalPermission, ObjectType, Seat
from domain.models import ApiToken, ContributorGoal, Goal, Milestone, TeamMembership
from tests.helpers import Tenant, contract_operation, gid, gql, make_tenant, op

OK = "ok"


@dataclass
class World:
    acme: Tenant
    globex: Tenant
    goals: dict[str, str]  # name -> global id

    def token(self, actor: str) -> str:
        if actor == "foreign":
            return self.globex.admin_token
        return self.acme.tokens[actor]


def goal_input(tenant: Tenant, name: str, contributors: list[dict]) -> dict:
    return {
        "name": name,
        "category": "SERVICE",
        "type": "CLOSED_TICKETS",
        "startDate": "2026-01-01",
        "endDate": "2026-06-30",
        "milestonePeriod": "QUARTERLY",
        "pipelineIds": [gid("Pipeline", tenant.pipelines["inbox"].id)],
        "contributors": contributors,
    }


async def create_as(client, tenant: Tenant, token: str, name: str, contributors: list[dict]):
    data = await op(client, token, "CreateGoal", {"input": goal_input(tenant, name, contributors)})
    return data["createGoal"]


async def make_world(client) -> World:
    """Acme: Lead (TEAM) leads North with Ana; Ana, Own and Zed are OWN; All is ALL; Free has
    ALL but a FREE seat. Globex is another account with its own admin."""
    acme = await make_tenant()
    await acme.add_user("lead", permission=GoalPermission.TEAM)
    await acme.add_user("ana")
    await acme.add_user("own")
    await acme.add_user("zed")
    await acme.add_user("all", permission=GoalPermission.ALL)
    await acme.add_user("free", seat=Seat.FREE, permission=GoalPermission.ALL)
    await acme.add_team("north", ["lead", "ana"])
    await acme.add_pipeline("inbox", ObjectType.TICKET)
    globex = await make_tenant("Globex")
    await globex.add_pipeline("inbox", ObjectType.TICKET)
    ana = {"userId": gid("User", acme.users["ana"].id)}
    zed = {"userId": gid("User", acme.users["zed"].id)}
    north = {"teamId": gid("Team", acme.teams["north"].id)}
    goals = {}
    for name, contributors in {"ana": [ana], "mixed": [ana, zed], "team": [north]}.items():
        created = await create_as(client, acme, acme.admin_token, name, contributors)
        assert created["userErrors"] == []
        goals[name] = created["goal"]["id"]
    return World(acme, globex, goals)


# The same expectations hold for applying targets, editing, refreshing and deleting a goal.
EDIT_MATRIX: dict[str, dict[str, str]] = {
    "admin": {"ana": OK, "mixed": OK, "team": OK},
    "all": {"ana": OK, "mixed": OK, "team": OK},
    "lead": {"ana": OK, "mixed": "FORBIDDEN", "team": OK},
    "ana": {"ana": OK, "mixed": "FORBIDDEN", "team": "NOT_FOUND"},
    "own": {"ana": "NOT_FOUND", "mixed": "NOT_FOUND", "team": "NOT_FOUND"},
    "free": {"ana": "NOT_FOUND", "mixed": "NOT_FOUND", "team": "NOT_FOUND"},
    "foreign": {"ana": "NOT_FOUND", "mixed": "NOT_FOUND", "team": "NOT_FOUND"},
}
CASES = [(actor, goal) for actor, row in EDIT_MATRIX.items() for goal in row]


def outcome(payload: dict, path: list[str]) -> str:
    if not payload["userErrors"]:
        return OK
    [error] = payload["userErrors"]
    assert error["field"] == path
    return error["code"]


async def goal_state(goal_id: str) -> tuple:
    goals = await Goal.all().order_by("id").values_list("id", "name", "updated_at")
    targets = await Milestone.all().order_by("id").values_list("id", "target")
    contributors = await ContributorGoal.all().count()
    return goals, targets, contributors


@pytest.mark.parametrize(("actor", "goal"), CASES)
async def test_apply_targets(client, actor, goal):
    world = await make_world(client)
    before = await goal_state(world.goals[goal])
    data = await op(
        client,
        world.token(actor),
        "ApplyGoalTargets",
        {"input": {"goalId": world.goals[goal], "amount": 3}},
    )
    payload = data["applyGoalTargets"]
    expected = EDIT_MATRIX[actor][goal]
    assert outcome(payload, ["input", "goalId"]) == expected
    if expected == OK:
        assert {m["target"] for c in payload["goal"]["contributors"] for m in c["milestones"]} == {
            "3"
        }
    else:
        assert payload["goal"] is None
        assert await goal_state(world.goals[goal]) == before


@pytest.mark.parametrize(("actor", "goal"), CASES)
async def test_update(client, actor, goal):
    world = await make_world(client)
    before = await goal_state(world.goals[goal])
    data = await op(
        client,
        world.token(actor),
        "UpdateGoal",
        {"input": {"id": world.goals[goal], "name": "Renamed"}},
    )
    payload = data["updateGoal"]
    expected = EDIT_MATRIX[actor][goal]
    assert outcome(payload, ["input", "id"]) == expected
    if expected == OK:
        assert payload["goal"]["name"] == "Renamed"
    else:
        assert await goal_state(world.goals[goal]) == before


@pytest.mark.parametrize(("actor", "goal"), CASES)
async def test_delete(client, actor, goal):
    world = await make_world(client)
    before = await goal_state(world.goals[goal])
    data = await op(client, world.token(actor), "DeleteGoals", {"ids": [world.goals[goal]]})
    payload = data["deleteGoals"]
    expected = EDIT_MATRIX[actor][goal]
    assert outcome(payload, ["ids", "0"]) == expected
    if expected == OK:
        assert payload["deletedIds"] == [world.goals[goal]]
        assert await Goal.all().count() == 2
    else:
        assert payload["deletedIds"] == []
        assert await goal_state(world.goals[goal]) == before


@pytest.mark.parametrize(("actor", "goal"), CASES)
async def test_refresh(client, monkeypatch, actor, goal):
    world = await make_world(client)
    refreshed: list[int] = []

    async def refresh_goal(goal_id: int) -> None:
        refreshed.append(goal_id)

    monkeypatch.setattr(progress, "refresh_goal", refresh_goal)
    data = await op(client, world.token(actor), "RefreshGoalProgress", {"id": world.goals[goal]})
    payload = data["refreshGoalProgress"]
    expected = EDIT_MATRIX[actor][goal]
    assert outcome(payload, ["id"]) == expected
    if expected == OK:
        assert payload["goal"]["id"] == world.goals[goal]
        assert len(refreshed) == 1
    else:
        assert payload["goal"] is None
        assert refreshed == []


# ---------------------------------------------------------------- creating


CREATE_MATRIX = {
    # actor: (contributor keys, expected codes at each contributor's path)
    "own for themselves": ("own", ["own"], []),
    "own for someone else": ("own", ["own", "ana"], ["NOT_FOUND@1"]),
    "lead for the team and its member": ("lead", ["north", "ana"], []),
    "lead for someone outside the team": ("lead", ["ana", "zed"], ["NOT_FOUND@1"]),
    "free seat with ALL reach": ("free", ["ana", "zed"], []),
    "all for anyone": ("all", ["zed", "north"], []),
    "another account's admin": ("foreign", ["ana", "north"], ["NOT_FOUND@0", "NOT_FOUND@1"]),
}


@pytest.mark.parametrize("case", list(CREATE_MATRIX))
async def test_create_needs_every_contributor_in_reach(client, case):
    world = await make_world(client)
    actor, keys, expected = CREATE_MATRIX[case]
    acme = world.acme
    contributors = [
        {"teamId": gid("Team", acme.teams[k].id)}
        if k in acme.teams
        else {"userId": gid("User", acme.users[k].id)}
        for k in keys
    ]
    tenant = world.globex if actor == "foreign" else acme
    payload = await create_as(client, tenant, world.token(actor), "New", contributors)
    codes = sorted(f"{e['code']}@{e['field'][2]}" for e in payload["userErrors"])
    assert codes == expected
    for error in payload["userErrors"]:
        assert error["field"][:2] == ["input", "contributors"]
    assert await Goal.all().count() == (4 if not expected else 3)


async def test_foreign_pipeline_and_goal_ids_are_not_found(client):
    world = await make_world(client)
    globex = world.globex
    await globex.add_user("gina")
    payload = await create_as(
        client,
        globex,
        globex.admin_token,
        "Theirs",
        [{"userId": gid("User", globex.users["gina"].id)}],
    )
    assert payload["userErrors"] == []
    mixed = await op(
        client,
        world.acme.admin_token,
        "DeleteGoals",
        {"ids": [payload["goal"]["id"], payload["goal"]["contributors"][0]["id"]]},
    )
    assert [(e["field"], e["code"]) for e in mixed["deleteGoals"]["userErrors"]] == [
        (["ids", "0"], "NOT_FOUND"),
        (["ids", "1"], "NOT_FOUND"),
    ]
    assert await Goal.filter(name="Theirs").count() == 1


# ---------------------------------------------------------------- single contributor goals


async def test_one_contributor_goal_can_go_when_that_contributor_is_in_reach(client):
    world = await make_world(client)
    detail = (await op(client, world.token("lead"), "GoalDetails", {"id": world.goals["mixed"]}))[
        "goal"
    ]
    ana_cg, zed_cg = (c["id"] for c in detail["contributors"])
    refused = await op(client, world.token("lead"), "DeleteGoals", {"ids": [zed_cg]})
    assert [(e["field"], e["code"]) for e in refused["deleteGoals"]["userErrors"]] == [
        (["ids", "0"], "FORBIDDEN")
    ]
    allowed = await op(client, world.token("lead"), "DeleteGoals", {"ids": [ana_cg]})
    assert allowed["deleteGoals"] == {"deletedIds": [ana_cg], "userErrors": []}
    assert await ContributorGoal.all().count() == 3


async def test_a_creator_sees_but_cannot_change_a_goal_beyond_their_reach(client):
    world = await make_world(client)
    lead = world.acme.users["lead"]
    created = await create_as(
        client,
        world.acme,
        world.token("lead"),
        "Lead's",
        [{"userId": gid("User", world.acme.users["ana"].id)}],
    )
    goal_id = created["goal"]["id"]
    await TeamMembership.filter(user_id=lead.id).delete()
    assert (await op(client, world.token("lead"), "GoalDetails", {"id": goal_id}))["goal"]
    data = await op(
        client, world.token("lead"), "UpdateGoal", {"input": {"id": goal_id, "name": "No"}}
    )
    assert [(e["field"], e["code"]) for e in data["updateGoal"]["userErrors"]] == [
        (["input", "id"], "FORBIDDEN")
    ]


async def test_a_revoked_token_gets_401_for_every_goal_mutation(client):
    world = await make_world(client)
    token = world.token("all")
    await ApiToken.filter(user_id=world.acme.users["all"].id).update(revoked_at=datetime.now(UTC))
    for name, variables in [
        ("CreateGoal", {"input": goal_input(world.acme, "x", [])}),
        ("ApplyGoalTargets", {"input": {"goalId": world.goals["ana"], "amount": 1}}),
        ("UpdateGoal", {"input": {"id": world.goals["ana"]}}),
        ("DeleteGoals", {"ids": [world.goals["ana"]]}),
        ("RefreshGoalProgress", {"id": world.goals["ana"]}),
    ]:
        response = await client.post(
            "/graphql",
            json={"query": contract_operation(name), "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 401, name
        assert response.json()["data"] is None
    assert await Goal.all().count() == 3
    assert await gql(client, world.token("admin"), "{ viewer { id } }")


async def test_a_free_seat_creates_a_goal_it_cannot_see(client):
    world = await make_world(client)
    acme = world.acme
    contributors = [{"userId": gid("User", acme.users["ana"].id)}]
    payload = await create_as(client, acme, world.token("free"), "Unseen", contributors)
    assert payload == {"goal": None, "userErrors": []}
    created = await Goal.get(name="Unseen")
    assert created.created_by_id == acme.users["free"].id
    details = await op(client, world.token("free"), "GoalDetails", {"id": gid("Goal", created.id)})
    assert details["goal"] is None

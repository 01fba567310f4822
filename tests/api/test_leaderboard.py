"""A goal's leaderboard: percent descending, nulls last, then by name; competition ranks; only
the contributor goals within the viewer's reach."""

from decimal import Decimal

from domain.enums import GoalPermission
from tests.helpers import Share, add_goal, gid, gql, make_tenant, op

D = Decimal

LEADERBOARD = """query($id: ID!, $first: Int) { goal(id: $id) {
  leaderboard(first: $first) {
    rank value target percent
    contributorGoal { id contributor { ... on User { name } ... on Team { name } } }
  }
} }"""


async def board_tenant():
    """Cy and Ana both at 100 %, Bob at 50 %, Dee without a percent (target 0, value 0 is
    "achieved" but has no percent), and a Support team (Ana and Lead) at 120 %."""
    tenant = await make_tenant()
    for key in ("cy", "ana", "bob", "dee"):
        await tenant.add_user(key)
    await tenant.add_user("lead", permission=GoalPermission.TEAM)
    support = await tenant.add_team("support", ["ana", "lead"])
    users = tenant.users
    goal = await add_goal(
        tenant,
        "Deals",
        [
            Share(users["cy"], D(10), D(10), D(100)),
            Share(users["ana"], D(10), D(10), D(100)),
            Share(users["bob"], D(5), D(10), D(50)),
            Share(users["dee"], D(0), D(0), None),
            Share(support, D(12), D(10), D(120)),
        ],
    )
    return tenant, goal


def standings(data) -> list[tuple[int, str, float | None]]:
    return [
        (e["rank"], e["contributorGoal"]["contributor"]["name"], e["percent"])
        for e in data["goal"]["leaderboard"]
    ]


async def test_ties_share_a_rank_and_the_next_rank_skips(client):
    tenant, goal = await board_tenant()
    data = (await gql(client, tenant.admin_token, LEADERBOARD, {"id": gid("Goal", goal.id)}))[
        "data"
    ]
    assert standings(data) == [
        (1, "Support", 120.0),
        (2, "Ana", 100.0),
        (2, "Cy", 100.0),
        (4, "Bob", 50.0),
        (5, "Dee", None),
    ]
    first = data["goal"]["leaderboard"][0]
    assert (first["value"], first["target"]) == ("12", "10")
    top_two = await gql(
        client, tenant.admin_token, LEADERBOARD, {"id": gid("Goal", goal.id), "first": 2}
    )
    assert standings(top_two["data"]) == [(1, "Support", 120.0), (2, "Ana", 100.0)]


async def test_a_viewer_sees_only_the_rows_in_reach_ranked_among_themselves(client):
    tenant, goal = await board_tenant()
    variables = {"id": gid("Goal", goal.id)}
    lead = (await gql(client, tenant.tokens["lead"], LEADERBOARD, variables))["data"]
    # Lead reaches the Support team and its members (Ana, Lead): not Cy, Bob or Dee.
    assert standings(lead) == [(1, "Support", 120.0), (2, "Ana", 100.0)]
    bob = (await gql(client, tenant.tokens["bob"], LEADERBOARD, variables))["data"]
    assert standings(bob) == [(1, "Bob", 50.0)]


async def test_first_is_bounded(client):
    tenant, goal = await board_tenant()
    body = await gql(
        client,
        tenant.admin_token,
        LEADERBOARD,
        {"id": gid("Goal", goal.id), "first": 101},
        expect_errors=True,
    )
    assert "between 0 and 100" in body["errors"][0]["message"]


async def test_goal_insight_shows_pace_leaderboard_and_contributors(client):
    tenant, goal = await board_tenant()
    data = await op(client, tenant.admin_token, "GoalInsight", {"id": gid("Goal", goal.id)})
    insight = data["goal"]
    assert [e["rank"] for e in insight["leaderboard"]] == [1, 2, 2, 4, 5]
    assert insight["leaderboard"][0]["contributorGoal"]["contributor"]["__typename"] == "Team"
    assert len(insight["contributors"]) == 5
    # Written straight to the tables, never refreshed: no pace yet.
    assert insight["pace"] is None
    assert all(c["pace"] is None for c in insight["contributors"])

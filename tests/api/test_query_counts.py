"""The SQL statements a request sends must not grow with the page or the number of
contributors: every related field goes through a per-request DataLoader."""

from datetime import date

from domain.enums import GoalCategory, GoalType, MilestonePeriod, ObjectType
from domain.models import ContributorGoal, ProgressSnapshot
from tests.helpers import Tenant, add_goal, count_queries, gid, make_tenant, op

CONTRIBUTORS_PER_GOAL = 4


async def tenant_with_goals(
    goal_count: int, first_goal_contributors: int = CONTRIBUTORS_PER_GOAL
) -> Tenant:
    """Goals over two pipelines, each with user and team contributors, monthly milestones and
    a few daily snapshots. The first goal may have more contributors than the others."""
    contributors = max(first_goal_contributors, CONTRIBUTORS_PER_GOAL)
    tenant = await make_tenant()
    for n in range(contributors):
        await tenant.add_user(f"user{n}")
    await tenant.add_team("red", ["user0", "user1"])
    await tenant.add_team("blue", [f"user{n}" for n in range(contributors)])
    tickets = await tenant.add_pipeline("tickets", ObjectType.TICKET)
    more = await tenant.add_pipeline("more", ObjectType.TICKET)
    teams = [tenant.teams["red"], tenant.teams["blue"]]
    for number in range(goal_count):
        size = first_goal_contributors if number == 0 else CONTRIBUTORS_PER_GOAL
        people = [tenant.users[f"user{n}"] for n in range(size - 2)]
        goal = await add_goal(
            tenant,
            f"Goal {number}",
            [*people, *teams],
            category=GoalCategory.SERVICE,
            goal_type=GoalType.CLOSED_TICKETS,
            start=date(2026, 1, 1),
            end=date(2026, 4, 30),
            period=MilestonePeriod.MONTHLY,
            pipelines=[tickets, more],
            created_by=tenant.admin,
        )
        for contributor_goal in await ContributorGoal.filter(goal=goal):
            for day in (1, 2):
                await ProgressSnapshot.create(
                    contributor_goal=contributor_goal, date=date(2026, 1, day), value=day
                )
    return tenant


MANAGE_FILTER = {"filter": {"statuses": ["PENDING", "IN_PROGRESS", "MISSED"], "userIds": []}}


async def statements(tenant: Tenant, client, name: str, variables: dict) -> tuple[int, dict]:
    with count_queries() as sent:
        data = await op(client, tenant.admin_token, name, variables)
    return len(sent), data


async def test_manage_goals_sends_as_many_statements_for_one_goal_as_for_fifty(client):
    one = await tenant_with_goals(1)
    count_one, data = await statements(one, client, "ManageGoals", {"first": 50})
    assert len(data["goals"]["edges"]) == 1
    filtered_one, _ = await statements(one, client, "ManageGoals", {"first": 50, **MANAGE_FILTER})

    fifty = await tenant_with_goals(50)
    count_fifty, data = await statements(fifty, client, "ManageGoals", {"first": 50})
    assert len(data["goals"]["edges"]) == 50
    assert all(
        len(edge["node"]["contributors"]) == CONTRIBUTORS_PER_GOAL
        for edge in data["goals"]["edges"]
    )
    filtered_fifty, data = await statements(
        fifty, client, "ManageGoals", {"first": 50, **MANAGE_FILTER}
    )
    assert len(data["goals"]["edges"]) == 50

    assert count_one == count_fifty
    assert filtered_one == filtered_fifty
    # Token, viewer, count, page, contributors, users, teams, goal pipelines, pipelines.
    assert count_fifty <= 12


RANGE = {"from": "2026-02-01", "to": "2026-03-31"}
RANGE_FILTER = {
    "filter": {"dateRange": RANGE, "statuses": ["PENDING", "IN_PROGRESS", "MISSED"]},
    "range": RANGE,
    "orderBy": {"field": "PROGRESS", "direction": "DESC"},
}


async def test_manage_goals_in_range_sends_as_many_statements_for_one_goal_as_for_fifty(client):
    one = await tenant_with_goals(1)
    count_one, data = await statements(
        one, client, "ManageGoalsInRange", {"first": 50, **RANGE_FILTER}
    )
    assert len(data["goals"]["edges"]) == 1

    fifty = await tenant_with_goals(50)
    count_fifty, data = await statements(
        fifty, client, "ManageGoalsInRange", {"first": 50, **RANGE_FILTER}
    )
    edges = data["goals"]["edges"]
    assert len(edges) == 50
    assert all(len(edge["node"]["contributors"]) == CONTRIBUTORS_PER_GOAL for edge in edges)
    # Two monthly milestones of four are in the range.
    assert all(len(c["milestones"]) == 2 for edge in edges for c in edge["node"]["contributors"])

    assert count_one == count_fifty
    # Token, viewer, count, page, contributors, users, teams, range milestones.
    assert count_fifty <= 10


async def test_goal_details_sends_as_many_statements_for_few_contributors_as_for_many(client):
    variables = {"historyFrom": "2026-01-01", "historyTo": "2026-03-31"}
    small = await tenant_with_goals(1, first_goal_contributors=3)
    goal_id = (await small.account.goals.all().order_by("id").first()).id
    count_small, data = await statements(
        small, client, "GoalDetails", {"id": gid("Goal", goal_id), **variables}
    )
    assert len(data["goal"]["contributors"]) == 3
    assert len(data["goal"]["contributors"][0]["milestones"]) == 4
    assert len(data["goal"]["contributors"][0]["history"]) == 2

    large = await tenant_with_goals(50, first_goal_contributors=30)
    goal_id = (await large.account.goals.all().order_by("id").first()).id
    count_large, data = await statements(
        large, client, "GoalDetails", {"id": gid("Goal", goal_id), **variables}
    )
    assert len(data["goal"]["contributors"]) == 30
    assert count_small == count_large
    assert count_large <= 14


async def test_paced_goals_sends_as_many_statements_for_one_goal_as_for_fifty(client):
    every_band = {"filter": {"paceStatuses": ["AHEAD", "ON_TRACK", "BEHIND", "AT_RISK"]}}
    one = await tenant_with_goals(1)
    count_one, data = await statements(one, client, "PacedGoals", {"first": 50})
    assert len(data["goals"]["edges"]) == 1
    banded_one, _ = await statements(one, client, "PacedGoals", {"first": 50, **every_band})

    fifty = await tenant_with_goals(50)
    count_fifty, data = await statements(fifty, client, "PacedGoals", {"first": 50})
    edges = data["goals"]["edges"]
    assert len(edges) == 50
    assert all(len(edge["node"]["contributors"]) == CONTRIBUTORS_PER_GOAL for edge in edges)
    banded_fifty, _ = await statements(fifty, client, "PacedGoals", {"first": 50, **every_band})

    assert count_one == count_fifty
    assert banded_one == banded_fifty
    # Token, viewer, count, page, contributors (pace is stored with them).
    assert count_fifty <= 6


async def test_goal_insight_sends_as_many_statements_for_few_contributors_as_for_many(client):
    small = await tenant_with_goals(1, first_goal_contributors=3)
    goal_id = (await small.account.goals.all().order_by("id").first()).id
    count_small, data = await statements(small, client, "GoalInsight", {"id": gid("Goal", goal_id)})
    assert len(data["goal"]["leaderboard"]) == 3
    assert len(data["goal"]["contributors"]) == 3

    large = await tenant_with_goals(50, first_goal_contributors=30)
    goal_id = (await large.account.goals.all().order_by("id").first()).id
    count_large, data = await statements(large, client, "GoalInsight", {"id": gid("Goal", goal_id)})
    assert len(data["goal"]["leaderboard"]) == 10
    assert len(data["goal"]["contributors"]) == 30
    # Token, last use, goal, leaderboard (with names), contributors, users, teams. The users
    # and teams reads are skipped when the leaderboard happened to name every contributor
    # first, which depends on which read the database answers first: compare with the bound.
    assert count_small <= 7
    assert count_large <= 7

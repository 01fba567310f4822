"""The records behind a milestone: found by the refresh's rules, adding up to the value, paged
newest first without repeats, and kept as they counted once the milestone is final."""

from datetime import timedelta
from decimal import Decimal

from domain.enums import EngagementKind, GoalPermission, GoalType, ObjectType
from domain.models import Milestone, MilestoneRecord, Ticket
from domain.progress import refresh_account
from tests.helpers import Tenant, gid, gql, make_tenant, op
from tests.workers.refresh_support import create_goal, deal, engagement, ticket, utc

D = Decimal


async def records_tenant() -> Tenant:
    tenant = await make_tenant()
    await tenant.add_user("ana")
    await tenant.add_user("bob")
    await tenant.add_user("cy")
    await tenant.add_user("lead", permission=GoalPermission.TEAM)
    await tenant.add_team("support", ["ana", "bob", "lead"])
    await tenant.add_pipeline("desk", ObjectType.TICKET)
    await tenant.add_pipeline("escalations", ObjectType.TICKET)
    await tenant.add_pipeline("sales", ObjectType.DEAL)
    return tenant


async def milestone_ids(contributor_goal_id: int) -> list[str]:
    rows = await Milestone.filter(contributor_goal_id=contributor_goal_id).order_by("index")
    return [gid("Milestone", row.id) for row in rows]


async def all_records(client, token: str, milestone_id: str, first: int = 100) -> dict:
    """Every page of the milestone's records; checks that pages neither overlap nor skip."""
    edges: list[dict] = []
    after = None
    while True:
        data = await op(
            client, token, "MilestoneRecords", {"id": milestone_id, "first": first, "after": after}
        )
        page = data["milestone"]["records"]
        edges += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len({e["cursor"] for e in edges}) == len(edges) == page["totalCount"]
    return {"milestone": data["milestone"], "nodes": [e["node"] for e in edges]}


def listed(nodes: list[dict]) -> list[tuple[str, str, str, str]]:
    return [(n["externalId"], n["owner"]["name"], n["countedAt"], n["contribution"]) for n in nodes]


async def test_a_team_milestone_lists_its_members_records_in_its_pipelines(client):
    tenant = await records_tenant()
    users, desk = tenant.users, tenant.pipelines["desk"]
    goal = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CLOSED_TICKETS,
        start="2024-01-01",
        end="2024-02-29",
        pipelines=[desk],
        teams=[tenant.teams["support"]],
        targets=["3", "3"],
    )
    jan5, jan10 = utc(2024, 1, 5, 9), utc(2024, 1, 10, 17)
    counted = [
        await ticket(users["ana"], desk, utc(2024, 1, 2), closed=jan5),
        await ticket(users["bob"], desk, utc(2024, 1, 2), closed=jan10),
        await ticket(users["lead"], desk, utc(2024, 1, 3), closed=jan10),
    ]
    await ticket(users["cy"], desk, utc(2024, 1, 2), closed=jan5)  # not a member
    await ticket(users["ana"], tenant.pipelines["escalations"], utc(2024, 1, 2), closed=jan5)
    await ticket(users["ana"], desk, utc(2024, 1, 2), closed=utc(2024, 2, 1))  # February
    await ticket(users["ana"], desk, utc(2024, 1, 2))  # still open
    await refresh_account(tenant.account.id, now=utc(2024, 1, 25))

    january, _ = await milestone_ids(goal.contributor_ids[0])
    found = await all_records(client, tenant.admin_token, january, first=1)
    assert found["milestone"]["value"] == "3"
    assert found["milestone"]["final"] is False
    bob, lead, ana = counted[1], counted[2], counted[0]
    # Newest first; Bob's and Lead's tie on the instant and follow their external ids.
    tied = sorted([(bob.external_id, "Bob"), (lead.external_id, "Lead")])
    assert listed(found["nodes"]) == [
        (tied[0][0], tied[0][1], "2024-01-10T17:00:00+00:00", "1"),
        (tied[1][0], tied[1][1], "2024-01-10T17:00:00+00:00", "1"),
        (ana.external_id, "Ana", "2024-01-05T09:00:00+00:00", "1"),
    ]
    assert {n["kind"] for n in found["nodes"]} == {"TICKET"}
    assert {n["pipeline"]["name"] for n in found["nodes"]} == {"desk"}
    assert sum(D(n["contribution"]) for n in found["nodes"]) == D(found["milestone"]["value"])


async def test_contributions_add_up_to_revenue_and_average_to_a_time(client):
    tenant = await records_tenant()
    ana, sales, desk = tenant.users["ana"], tenant.pipelines["sales"], tenant.pipelines["desk"]
    revenue = await create_goal(
        client,
        tenant.admin_token,
        GoalType.REVENUE,
        start="2024-01-01",
        end="2024-01-31",
        pipelines=[sales],
        users=[ana],
    )
    await deal(ana, sales, utc(2024, 1, 1), amount="100.25", won=utc(2024, 1, 3))
    await deal(ana, sales, utc(2024, 1, 1), amount="200.5", won=utc(2024, 1, 4))
    await deal(ana, sales, utc(2024, 1, 1), amount="999")  # not won
    response = await create_goal(
        client,
        tenant.admin_token,
        GoalType.AVG_TICKET_RESPONSE_TIME,
        start="2024-01-01",
        end="2024-01-31",
        pipelines=[desk],
        users=[ana],
    )
    start = utc(2024, 1, 8, 10)
    await ticket(ana, desk, start, responded=start + timedelta(seconds=30))
    await ticket(ana, desk, start, responded=start + timedelta(seconds=90, microseconds=500_000))
    await ticket(ana, desk, start)  # no response: not in the average
    calls = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CALLS_LOGGED,
        start="2024-01-01",
        end="2024-01-31",
        users=[ana],
    )
    await engagement(ana, EngagementKind.CALL, utc(2024, 1, 9))
    await engagement(ana, EngagementKind.MEETING, utc(2024, 1, 9))
    await refresh_account(tenant.account.id, now=utc(2024, 1, 20))

    (month,) = await milestone_ids(revenue.contributor_ids[0])
    found = await all_records(client, tenant.admin_token, month)
    assert [(n["kind"], n["contribution"]) for n in found["nodes"]] == [
        ("DEAL", "200.5"),
        ("DEAL", "100.25"),
    ]
    assert found["milestone"]["value"] == "300.75"

    (month,) = await milestone_ids(response.contributor_ids[0])
    found = await all_records(client, tenant.admin_token, month)
    seconds = sorted(D(n["contribution"]) for n in found["nodes"])
    assert seconds == [D(30), D("90.5")]
    assert D(found["milestone"]["value"]) == sum(seconds) / len(seconds) == D("60.25")
    assert {n["countedAt"] for n in found["nodes"]} == {"2024-01-08T10:00:00+00:00"}

    (month,) = await milestone_ids(calls.contributor_ids[0])
    found = await all_records(client, tenant.admin_token, month)
    assert [(n["kind"], n["pipeline"], n["contribution"]) for n in found["nodes"]] == [
        ("CALL", None, "1")
    ]


async def test_a_final_milestone_keeps_the_records_that_made_its_value(client):
    tenant = await records_tenant()
    users, desk = tenant.users, tenant.pipelines["desk"]
    goal = await create_goal(
        client,
        tenant.admin_token,
        GoalType.AVG_TICKET_RESOLUTION_TIME,
        start="2024-01-01",
        end="2024-02-29",
        pipelines=[desk],
        teams=[tenant.teams["support"]],
    )
    moved = await ticket(users["ana"], desk, utc(2024, 1, 5), closed=utc(2024, 1, 6))
    retimed = await ticket(users["bob"], desk, utc(2024, 1, 7), closed=utc(2024, 1, 7, 12))
    await refresh_account(tenant.account.id, now=utc(2024, 2, 3))  # January freezes
    january, february = await milestone_ids(goal.contributor_ids[0])
    frozen = await all_records(client, tenant.admin_token, january)
    assert frozen["milestone"]["final"] is True
    assert frozen["milestone"]["value"] == "64800"  # (86,400 + 43,200) / 2
    assert await MilestoneRecord.all().count() == 2

    # Later Ana's ticket goes to Cy, outside the team, and Bob's closes in February instead.
    await Ticket.filter(id=moved.id).update(owner_id=users["cy"].id)
    await Ticket.filter(id=retimed.id).update(closed_at=utc(2024, 2, 10))
    await refresh_account(tenant.account.id, now=utc(2024, 2, 12))

    after = await all_records(client, tenant.admin_token, january)
    assert after == frozen
    assert listed(after["nodes"]) == [
        (retimed.external_id, "Bob", "2024-01-07T12:00:00+00:00", "43200"),
        (moved.external_id, "Ana", "2024-01-06T00:00:00+00:00", "86400"),
    ]
    seconds = [D(n["contribution"]) for n in after["nodes"]]
    assert sum(seconds) / len(seconds) == D(after["milestone"]["value"])
    live = await all_records(client, tenant.admin_token, february)
    assert listed(live["nodes"]) == [
        (retimed.external_id, "Bob", "2024-02-10T00:00:00+00:00", "2937600"),
    ]
    assert live["milestone"]["value"] == "2937600"

    # Kept records go with their goal.
    deleted = await op(client, tenant.admin_token, "DeleteGoals", {"ids": [gid("Goal", goal.id)]})
    assert deleted["deleteGoals"]["userErrors"] == []
    assert await MilestoneRecord.all().count() == 0


async def test_a_milestone_out_of_reach_or_elsewhere_is_null(client):
    tenant = await records_tenant()
    goal = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CLOSED_TICKETS,
        start="2024-01-01",
        end="2024-01-31",
        pipelines=[tenant.pipelines["desk"]],
        users=[tenant.users["ana"]],
    )
    (january,) = await milestone_ids(goal.contributor_ids[0])
    other = await make_tenant("Other")
    for token in (tenant.tokens["bob"], other.admin_token):
        assert (await op(client, token, "MilestoneRecords", {"id": january}))["milestone"] is None
    wrong_type = gid("Goal", goal.id)
    for milestone_id in (wrong_type, "bogus", gid("Milestone", 10**9)):
        data = await op(client, tenant.admin_token, "MilestoneRecords", {"id": milestone_id})
        assert data["milestone"] is None
    seen = await op(client, tenant.tokens["ana"], "MilestoneRecords", {"id": january})
    assert seen["milestone"]["records"]["totalCount"] == 0


async def test_a_cursor_of_another_milestone_is_refused(client):
    tenant = await records_tenant()
    ana, desk = tenant.users["ana"], tenant.pipelines["desk"]
    goal = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CLOSED_TICKETS,
        start="2024-01-01",
        end="2024-02-29",
        pipelines=[desk],
        users=[ana],
    )
    for day in (3, 4):
        await ticket(ana, desk, utc(2024, 1, 1), closed=utc(2024, 1, day))
    await refresh_account(tenant.account.id, now=utc(2024, 1, 20))
    january, february = await milestone_ids(goal.contributor_ids[0])
    page = await op(client, tenant.admin_token, "MilestoneRecords", {"id": january, "first": 1})
    cursor = page["milestone"]["records"]["pageInfo"]["endCursor"]
    for milestone_id, after in ((february, cursor), (january, "bogus")):
        body = await gql(
            client,
            tenant.admin_token,
            "query($id: ID!, $after: String) { milestone(id: $id) { records(after: $after) "
            "{ totalCount } } }",
            {"id": milestone_id, "after": after},
            expect_errors=True,
        )
        assert "not a cursor" in body["errors"][0]["message"]

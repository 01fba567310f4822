"""Reading goals over GraphQL: the contract operations, every filter and order, pages,
visibility and the SQL form of the status rule."""

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.enums import (
    GoalCategory,
    GoalPermission,
    GoalStatus,
    GoalType,
    MilestonePeriod,
    ObjectType,
    Seat,
)
from domain.goals.queries import status_condition
from domain.models import (
    ContributorGoal,
    Goal,
    Milestone,
    MilestonePipeline,
    ProgressSnapshot,
)
from domain.periods import milestone_periods
from domain.status import status_of
from tests.helpers import Share, Tenant, add_goal, gid, gql, make_tenant, op


def D(text: str) -> Decimal:
    return Decimal(text)


async def team_tenant() -> Tenant:
    """Ana and Bob in Support, Cy alone, a free-seat Fay; pipelines for tickets and deals."""
    tenant = await make_tenant()
    await tenant.add_user("ana")
    await tenant.add_user("bob")
    await tenant.add_user("cy")
    await tenant.add_user("fay", seat=Seat.FREE)
    await tenant.add_team("support", ["ana", "bob"])
    await tenant.add_team("solo", ["cy"])
    await tenant.add_pipeline("tickets", ObjectType.TICKET)
    await tenant.add_pipeline("deals", ObjectType.DEAL)
    await tenant.add_pipeline("deals2", ObjectType.DEAL)
    return tenant


GOAL_NAMES = "query($filter: GoalFilter, $orderBy: GoalOrder, $first: Int, $after: String) {"
GOAL_NAMES += """
  goals(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { name contributors(filter: $filter) { contributor {
      ... on User { name } ... on Team { name } } } } }
  }
}"""


async def names(client, token: str, filter=None, order=None, first=None, after=None) -> list[str]:
    variables = {"filter": filter, "orderBy": order, "first": first, "after": after}
    data = (await gql(client, token, GOAL_NAMES, variables))["data"]["goals"]
    found = [edge["node"]["name"] for edge in data["edges"]]
    if first is None and after is None:
        assert data["totalCount"] == len(found)
    return found


# ---------------------------------------------------------------- the contract operations


async def test_manage_goals_lists_goals_with_contributors_and_progress(client, today):
    tenant = await team_tenant()
    ana, support = tenant.users["ana"], tenant.teams["support"]
    deals, deals2 = tenant.pipelines["deals"], tenant.pipelines["deals2"]
    older = await add_goal(
        tenant,
        "Revenue 2026",
        [Share(ana, D("1500.5"), D("3000"), D("50.02")), Share(support, None, D("1000"), None)],
        goal_type=GoalType.REVENUE,
        pipelines=[deals],
        value=D("1500.5"),
        target=D("4000"),
        percent=D("37.51"),
    )
    newer = await add_goal(
        tenant,
        "Response time",
        [tenant.users["bob"]],
        category=GoalCategory.SERVICE,
        goal_type=GoalType.AVG_TICKET_RESPONSE_TIME,
        pipelines=[tenant.pipelines["tickets"]],
        period=MilestonePeriod.YEARLY,
    )
    several = await add_goal(tenant, "Two pipelines", [ana], pipelines=[deals, deals2])

    data = await op(client, tenant.admin_token, "ManageGoals", {"first": 50})
    goals = data["goals"]
    assert goals["totalCount"] == 3
    assert goals["pageInfo"]["hasNextPage"] is False
    by_name = {edge["node"]["name"]: edge["node"] for edge in goals["edges"]}
    # Newest first by default.
    assert [e["node"]["id"] for e in goals["edges"]] == [
        gid("Goal", several.id),
        gid("Goal", newer.id),
        gid("Goal", older.id),
    ]

    revenue = by_name["Revenue 2026"]
    assert revenue["category"] == "SALES"
    assert revenue["type"] == "REVENUE"
    assert revenue["unit"] == "CURRENCY"
    assert revenue["higherIsBetter"] is True
    assert revenue["milestonePeriod"] == "QUARTERLY"
    assert (revenue["startDate"], revenue["endDate"]) == ("2026-01-01", "2026-12-31")
    assert revenue["forecastable"] is True
    assert revenue["pipelines"] == [{"id": gid("Pipeline", deals.id), "name": "deals"}]
    assert revenue["progress"] == {
        "value": "1500.5",
        "target": "4000",
        "percent": 37.51,
        "refreshedAt": None,
    }
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    expected_status = "PENDING" if start > today else "IN_PROGRESS" if end >= today else "MISSED"
    assert revenue["status"] == expected_status
    assert [c["contributor"] for c in revenue["contributors"]] == [
        {"__typename": "User", "id": gid("User", ana.id), "name": "Ana", "email": "ana@acme.test"},
        {"__typename": "Team", "id": gid("Team", support.id), "name": "Support"},
    ]
    assert revenue["contributors"][0]["progress"]["percent"] == 50.02
    assert revenue["contributors"][0]["progress"]["value"] == "1500.5"
    assert revenue["contributors"][1]["progress"] == {
        "value": None,
        "target": "1000",
        "percent": None,
        "refreshedAt": None,
    }

    response = by_name["Response time"]
    assert (response["unit"], response["higherIsBetter"]) == ("SECONDS", False)
    assert response["forecastable"] is False  # yearly
    assert by_name["Two pipelines"]["forecastable"] is False  # several pipelines
    assert by_name["Two pipelines"]["unit"] == "COUNT"


async def test_goal_details_show_milestones_history_and_creator(client, today):
    tenant = await team_tenant()
    ana, support = tenant.users["ana"], tenant.teams["support"]
    deals, deals2 = tenant.pipelines["deals"], tenant.pipelines["deals2"]
    start, end = today - timedelta(days=40), today + timedelta(days=100)
    goal = await add_goal(
        tenant,
        "Deals this season",
        [Share(ana, D("6"), D("30"), D("20")), support],
        start=start,
        end=end,
        period=MilestonePeriod.MONTHLY,
        pipelines=[deals, deals2],
        created_by=tenant.users["bob"],
        notify=["GOAL_ASSIGNED", "MILESTONE_MISSED"],
    )
    ana_goal = await ContributorGoal.get(goal=goal, user=ana)
    first = await Milestone.get(contributor_goal=ana_goal, index=0)
    first.value = D("4")
    first.final = True
    await first.save()
    # Only the first deals pipeline for Ana's second milestone.
    second = await Milestone.get(contributor_goal=ana_goal, index=1)
    await MilestonePipeline.filter(milestone=second, pipeline=deals2).delete()
    for days_ago, value, percent in [
        (95, "1", "5"),
        (89, "2", "10"),
        (3, "5", "16.67"),
        (0, "6", "20"),
    ]:
        await ProgressSnapshot.create(
            contributor_goal=ana_goal,
            date=today - timedelta(days=days_ago),
            value=D(value),
            percent=D(percent),
        )

    data = await op(client, tenant.admin_token, "GoalDetails", {"id": gid("Goal", goal.id)})
    details = data["goal"]
    assert details["name"] == "Deals this season"
    assert details["alignToFiscalYear"] is False
    assert details["forecastable"] is False
    assert details["notify"] == ["GOAL_ASSIGNED", "MILESTONE_MISSED"]
    assert details["createdBy"] == {"id": gid("User", tenant.users["bob"].id), "name": "Bob"}
    assert details["status"] == "IN_PROGRESS"
    assert [p["objectType"] for p in details["pipelines"]] == ["DEAL", "DEAL"]
    assert datetime.fromisoformat(details["createdAt"]).tzinfo is not None

    ana_details, team_details = details["contributors"]
    assert ana_details["contributor"]["__typename"] == "User"
    assert team_details["contributor"]["__typename"] == "Team"
    assert ana_details["status"] == "IN_PROGRESS"
    windows = milestone_periods(start, end, MilestonePeriod.MONTHLY)
    milestones = ana_details["milestones"]
    assert [m["index"] for m in milestones] == list(range(len(windows)))
    assert milestones[0]["startDate"] == start.isoformat()
    assert milestones[-1]["endDate"] == end.isoformat()
    # 4 of 10 deals, the milestone over (it ended before today): missed at 40%.
    assert milestones[0]["value"] == "4"
    assert milestones[0]["target"] == "10"
    assert milestones[0]["percent"] == 40.0
    assert milestones[0]["final"] is True
    assert milestones[0]["status"] == ("MISSED" if windows[0].end_date < today else "IN_PROGRESS")
    assert milestones[-1]["status"] == "PENDING"
    assert milestones[-1]["value"] is None and milestones[-1]["percent"] is None
    assert len(milestones[0]["pipelines"]) == 2
    assert milestones[1]["pipelines"] == [{"id": gid("Pipeline", deals.id)}]
    # The last 90 days ending today: 89 days ago is in, 95 is out.
    assert ana_details["history"] == [
        {"date": (today - timedelta(days=89)).isoformat(), "value": "2", "percent": 10.0},
        {"date": (today - timedelta(days=3)).isoformat(), "value": "5", "percent": 16.67},
        {"date": today.isoformat(), "value": "6", "percent": 20.0},
    ]
    assert team_details["history"] == []

    ranged = await op(
        client,
        tenant.admin_token,
        "GoalDetails",
        {
            "id": gid("Goal", goal.id),
            "historyFrom": (today - timedelta(days=100)).isoformat(),
            "historyTo": (today - timedelta(days=50)).isoformat(),
        },
    )
    assert [p["value"] for p in ranged["goal"]["contributors"][0]["history"]] == ["1", "2"]


async def test_history_refuses_more_than_366_days_or_a_reversed_range(client):
    tenant = await team_tenant()
    goal = await add_goal(tenant, "G", [tenant.users["ana"]])
    variables = {"id": gid("Goal", goal.id), "historyFrom": "2025-01-01", "historyTo": "2026-01-02"}
    body = await gql(
        client, tenant.admin_token, _contract("GoalDetails"), variables, expect_errors=True
    )
    assert "at most 366 days" in body["errors"][0]["message"]
    variables["historyTo"] = "2024-12-31"
    body = await gql(
        client, tenant.admin_token, _contract("GoalDetails"), variables, expect_errors=True
    )
    assert "`from` must not be after `to`" in body["errors"][0]["message"]
    # Exactly 366 days is fine (2024 is a leap year).
    variables.update(historyFrom="2024-01-01", historyTo="2024-12-31")
    assert (await op(client, tenant.admin_token, "GoalDetails", variables))["goal"]


def _contract(name: str) -> str:
    from tests.helpers import contract_operation

    return contract_operation(name)


async def test_milestone_preview_follows_the_fiscal_year(client):
    tenant = await make_tenant(fiscal_month=4)
    variables = {
        "startDate": "2026-02-15",
        "endDate": "2026-10-10",
        "milestonePeriod": "QUARTERLY",
        "alignToFiscalYear": True,
    }
    data = await op(client, tenant.admin_token, "MilestonePreview", variables)
    assert data["milestonePreview"] == [
        {"index": 0, "startDate": "2026-02-15", "endDate": "2026-03-31"},
        {"index": 1, "startDate": "2026-04-01", "endDate": "2026-06-30"},
        {"index": 2, "startDate": "2026-07-01", "endDate": "2026-09-30"},
        {"index": 3, "startDate": "2026-10-01", "endDate": "2026-10-10"},
    ]
    variables["alignToFiscalYear"] = False
    data = await op(client, tenant.admin_token, "MilestonePreview", variables)
    assert [w["startDate"] for w in data["milestonePreview"]] == [
        "2026-02-15",
        "2026-04-01",
        "2026-07-01",
        "2026-10-01",
    ]
    weekly = await op(
        client,
        tenant.admin_token,
        "MilestonePreview",
        {"startDate": "2026-03-04", "endDate": "2026-03-16", "milestonePeriod": "WEEKLY"},
    )
    assert weekly["milestonePreview"] == [
        {"index": 0, "startDate": "2026-03-04", "endDate": "2026-03-08"},
        {"index": 1, "startDate": "2026-03-09", "endDate": "2026-03-15"},
        {"index": 2, "startDate": "2026-03-16", "endDate": "2026-03-16"},
    ]


async def test_milestone_preview_refuses_reversed_or_too_long_ranges(client):
    tenant = await make_tenant()
    query = _contract("MilestonePreview")
    reversed_range = {
        "startDate": "2026-02-15",
        "endDate": "2026-02-14",
        "milestonePeriod": "WEEKLY",
    }
    body = await gql(client, tenant.admin_token, query, reversed_range, expect_errors=True)
    assert body["errors"][0]["message"] == "The end date is before the start date."
    too_long = {"startDate": "2026-01-01", "endDate": "2031-01-01", "milestonePeriod": "YEARLY"}
    body = await gql(client, tenant.admin_token, query, too_long, expect_errors=True)
    assert body["errors"][0]["message"] == "A goal lasts at most 5 years."
    longest = {"startDate": "2026-01-01", "endDate": "2030-12-31", "milestonePeriod": "YEARLY"}
    data = await op(client, tenant.admin_token, "MilestonePreview", longest)
    assert len(data["milestonePreview"]) == 5


async def test_filter_shape_counts_matching_goals(client):
    tenant = await team_tenant()
    ana = tenant.users["ana"]
    eu = await add_goal(tenant, "EU Renewals", [Share(ana, D("5"), D("10"), D("50"))])
    high = await add_goal(tenant, "Renewals at 150%", [Share(ana, D("15"), D("10"), D("150"))])
    # The filter's dateRange makes its progress bounds read the milestones in 2026.
    await Milestone.filter(contributor_goal__goal_id=eu.id).update(value=D("5"))
    await Milestone.filter(contributor_goal__goal_id=high.id).update(value=D("15"))
    await add_goal(tenant, "New business", [Share(ana, D("5"), D("10"), D("50"))])
    await add_goal(
        tenant,
        "Renewals 2024",
        [Share(ana, D("5"), D("10"), D("50"))],
        start=date(2024, 1, 1),
        end=date(2024, 12, 31),
    )
    data = await op(client, tenant.admin_token, "FilterShape")
    assert data["goals"]["totalCount"] == 1
    for alias in ("byName", "byStart", "byEnd", "byCreated"):
        assert data[alias]["totalCount"] == 4


# ---------------------------------------------------------------- filters


async def test_goal_level_filters(client):
    tenant = await team_tenant()
    ana = tenant.users["ana"]
    tickets, deals = tenant.pipelines["tickets"], tenant.pipelines["deals"]
    await add_goal(
        tenant,
        "Q1 tickets",
        [ana],
        category=GoalCategory.SERVICE,
        goal_type=GoalType.CLOSED_TICKETS,
        start=date(2026, 1, 1),
        end=date(2026, 3, 31),
        period=MilestonePeriod.MONTHLY,
        pipelines=[tickets],
    )
    await add_goal(
        tenant,
        "H2 revenue",
        [ana],
        goal_type=GoalType.REVENUE,
        start=date(2026, 7, 1),
        end=date(2026, 12, 31),
        period=MilestonePeriod.QUARTERLY,
        pipelines=[deals],
    )
    await add_goal(
        tenant,
        "Weekly calls 100%",
        [ana],
        goal_type=GoalType.CALLS_LOGGED,
        start=date(2026, 3, 30),
        end=date(2026, 7, 1),
        period=MilestonePeriod.WEEKLY,
    )
    token = tenant.admin_token
    all_three = {"Q1 tickets", "H2 revenue", "Weekly calls 100%"}

    async def matching(**fields) -> set[str]:
        return set(await names(client, token, filter=fields))

    assert await matching() == all_three
    # The duration overlaps the range; both ends inclusive.
    assert await matching(dateRange={"from": "2026-03-31", "to": "2026-03-31"}) == {
        "Q1 tickets",
        "Weekly calls 100%",
    }
    assert await matching(dateRange={"from": "2026-07-01"}) == {"H2 revenue", "Weekly calls 100%"}
    assert await matching(dateRange={"to": "2026-03-29"}) == {"Q1 tickets"}
    assert await matching(dateRange={"from": "2027-01-01", "to": "2027-12-31"}) == set()
    assert await matching(pipelineIds=[gid("Pipeline", deals.id)]) == {"H2 revenue"}
    assert await matching(pipelineIds=[gid("Pipeline", deals.id), gid("Pipeline", tickets.id)]) == {
        "H2 revenue",
        "Q1 tickets",
    }
    assert await matching(pipelineIds=[]) == all_three
    assert await matching(pipelineIds=[gid("Team", deals.id)]) == set()
    assert await matching(milestonePeriods=["WEEKLY", "MONTHLY"]) == {
        "Q1 tickets",
        "Weekly calls 100%",
    }
    assert await matching(milestonePeriods=[]) == all_three
    assert await matching(categories=["SERVICE"]) == {"Q1 tickets"}
    assert await matching(categories=["SALES", "SERVICE"]) == all_three
    assert await matching(types=["REVENUE", "CALLS_LOGGED"]) == {"H2 revenue", "Weekly calls 100%"}
    assert await matching(types=["AVG_TICKET_RESOLUTION_TIME"]) == set()
    assert await matching(search="  REVEN ") == {"H2 revenue"}
    assert await matching(search="q1 Tick") == {"Q1 tickets"}
    # Wildcards are literal characters.
    assert await matching(search="%") == {"Weekly calls 100%"}
    assert await matching(search="_") == set()
    assert await matching(search="") == all_three
    assert await matching(categories=["SALES"], types=["CLOSED_TICKETS"]) == set()


async def test_contributor_level_filters_select_goals_and_their_contributors(client):
    tenant = await team_tenant()
    ana, bob, cy = tenant.users["ana"], tenant.users["bob"], tenant.users["cy"]
    support, solo = tenant.teams["support"], tenant.teams["solo"]
    await add_goal(tenant, "Ana and Cy", [Share(ana, D("5"), D("10"), D("50")), cy])
    await add_goal(tenant, "Support team", [Share(support, D("20"), D("10"), D("200"))])
    await add_goal(tenant, "Bob", [Share(bob, D("10"), D("10"), D("100"))])
    await add_goal(tenant, "Solo team", [solo])
    token = tenant.admin_token

    async def matching(**fields) -> dict[str, list[str]]:
        variables = {"filter": fields, "first": 100}
        data = (await gql(client, token, GOAL_NAMES, variables))["data"]["goals"]
        return {
            edge["node"]["name"]: [c["contributor"]["name"] for c in edge["node"]["contributors"]]
            for edge in data["edges"]
        }

    assert await matching(userIds=[gid("User", cy.id)]) == {"Ana and Cy": ["Cy"]}
    # A team matches as a contributor and through its members as user contributors.
    assert await matching(teamIds=[gid("Team", support.id)]) == {
        "Ana and Cy": ["Ana"],
        "Support team": ["Support"],
        "Bob": ["Bob"],
    }
    # Users and teams together are an OR.
    assert await matching(userIds=[gid("User", cy.id)], teamIds=[gid("Team", solo.id)]) == {
        "Ana and Cy": ["Cy"],
        "Solo team": ["Solo"],
    }
    assert await matching(userIds=[], teamIds=[]) == {
        "Ana and Cy": ["Ana", "Cy"],
        "Support team": ["Support"],
        "Bob": ["Bob"],
        "Solo team": ["Solo"],
    }
    # Unknown or wrong-type ids match nothing.
    assert await matching(userIds=[gid("Team", solo.id)]) == {}
    assert await matching(teamIds=["not-an-id"]) == {}
    # Bounds are inclusive; a null percent never matches.
    assert await matching(progress={"min": 50, "max": 100}) == {
        "Ana and Cy": ["Ana"],
        "Bob": ["Bob"],
    }
    assert await matching(progress={"min": 100.01}) == {"Support team": ["Support"]}
    assert await matching(progress={"max": 49.99}) == {}
    assert await matching(progress={"min": 0}) == {
        "Ana and Cy": ["Ana"],
        "Support team": ["Support"],
        "Bob": ["Bob"],
    }
    assert await matching(teamIds=[gid("Team", support.id)], progress={"min": 60}) == {
        "Support team": ["Support"],
        "Bob": ["Bob"],
    }


async def test_status_filter_uses_each_contributor_goals_own_status(client, today):
    tenant = await team_tenant()
    ana, bob, cy = tenant.users["ana"], tenant.users["bob"], tenant.users["cy"]
    past = {"start": today - timedelta(days=60), "end": today - timedelta(days=1)}
    await add_goal(
        tenant,
        "Ended",
        [
            Share(ana, D("12"), D("10"), D("120")),
            Share(bob, D("10"), D("10"), D("100")),
            Share(cy, D("3"), D("10"), D("30")),
        ],
        **past,
    )
    await add_goal(tenant, "Zero target", [Share(ana, D("0"), D("0"), None)], **past)
    await add_goal(tenant, "Running", [ana], start=today, end=today + timedelta(days=9))
    await add_goal(
        tenant, "Later", [bob], start=today + timedelta(days=1), end=today + timedelta(days=9)
    )
    token = tenant.admin_token

    async def matching(*statuses: str) -> dict[str, list[str]]:
        variables = {"filter": {"statuses": list(statuses)}, "first": 100}
        data = (await gql(client, token, GOAL_NAMES, variables))["data"]["goals"]
        return {
            edge["node"]["name"]: [c["contributor"]["name"] for c in edge["node"]["contributors"]]
            for edge in data["edges"]
        }

    assert await matching("EXCEEDED") == {"Ended": ["Ana"]}
    assert await matching("ACHIEVED") == {"Ended": ["Bob"], "Zero target": ["Ana"]}
    assert await matching("MISSED") == {"Ended": ["Cy"]}
    assert await matching("IN_PROGRESS") == {"Running": ["Ana"]}
    assert await matching("PENDING") == {"Later": ["Bob"]}
    assert await matching("PENDING", "MISSED") == {"Later": ["Bob"], "Ended": ["Cy"]}
    assert len(await matching()) == 4


async def test_status_is_read_in_the_accounts_timezone(client):
    """Kiritimati (UTC+14) is always a day or two ahead of Pago Pago (UTC-11)."""
    ahead = await make_tenant("Ahead", timezone="Pacific/Kiritimati")
    behind = await make_tenant("Behind", timezone="Pacific/Pago_Pago")
    starts = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    for tenant in (ahead, behind):
        await add_goal(tenant, "Starts today ahead", [tenant.admin], start=starts, end=starts)
    query = "{ goals { edges { node { status contributors { status } } } } }"
    for tenant, expected in ((ahead, "IN_PROGRESS"), (behind, "PENDING")):
        data = (await gql(client, tenant.admin_token, query))["data"]
        node = data["goals"]["edges"][0]["node"]
        assert node["status"] == expected
        assert node["contributors"][0]["status"] == expected
        filtered = await names(client, tenant.admin_token, filter={"statuses": [expected]})
        assert filtered == ["Starts today ahead"]


async def test_bad_filter_values_get_a_clear_error(client):
    tenant = await make_tenant()
    variables = {"filter": {"dateRange": {"from": "2026-02-01", "to": "2026-01-01"}}}
    body = await gql(client, tenant.admin_token, GOAL_NAMES, variables, expect_errors=True)
    assert body["errors"][0]["message"] == "`dateRange.from` must not be after `dateRange.to`."
    body = await gql(client, tenant.admin_token, GOAL_NAMES, {"first": 101}, expect_errors=True)
    assert "between 0 and 100" in body["errors"][0]["message"]
    body = await gql(client, tenant.admin_token, GOAL_NAMES, {"after": "bogus"}, expect_errors=True)
    assert "not a cursor" in body["errors"][0]["message"]


# ---------------------------------------------------------------- order and pages


async def test_every_order_field_in_both_directions(client):
    tenant = await team_tenant()
    ana = tenant.users["ana"]
    specs = [
        ("b", date(2026, 3, 1), date(2026, 6, 30), D("50")),
        ("a", date(2026, 1, 1), date(2026, 9, 30), None),
        ("d", date(2026, 2, 1), date(2026, 4, 30), D("120.5")),
        ("c", date(2026, 4, 1), date(2026, 5, 31), D("7")),
        ("e", date(2026, 5, 1), date(2026, 8, 31), None),
    ]
    for name, start, end, percent in specs:
        await add_goal(tenant, name, [ana], start=start, end=end, percent=percent)
    token = tenant.admin_token

    async def ordered(field: str, direction: str) -> str:
        order = {"field": field, "direction": direction}
        return "".join(await names(client, token, order=order))

    assert await ordered("NAME", "ASC") == "abcde"
    assert await ordered("NAME", "DESC") == "edcba"
    assert await ordered("START_DATE", "ASC") == "adbce"
    assert await ordered("START_DATE", "DESC") == "ecbda"
    assert await ordered("END_DATE", "ASC") == "dcbea"
    assert await ordered("END_DATE", "DESC") == "aebcd"
    assert await ordered("CREATED_AT", "ASC") == "badce"
    assert await ordered("CREATED_AT", "DESC") == "ecdab"
    # Nulls last both ways; the two nulls tie and break by id in the same direction.
    assert await ordered("PROGRESS", "ASC") == "cbdae"
    assert await ordered("PROGRESS", "DESC") == "dbcea"
    assert "".join(await names(client, token)) == "ecdab"
    assert "".join(await names(client, token, order={"field": "NAME"})) == "abcde"


async def test_pages_never_overlap_even_on_ties(client):
    tenant = await team_tenant()
    ana = tenant.users["ana"]
    for number in range(11):
        # Three values of percent (one null) so most rows tie.
        percent = [D("10"), D("20"), None][number % 3]
        await add_goal(tenant, f"goal {number:02}", [ana], percent=percent)
    token = tenant.admin_token
    for order in (
        {"field": "PROGRESS", "direction": "DESC"},
        {"field": "PROGRESS", "direction": "ASC"},
        {"field": "START_DATE", "direction": "ASC"},
        None,
    ):
        whole = await names(client, token, order=order, first=100)
        seen: list[str] = []
        after = None
        while True:
            variables = {"orderBy": order, "first": 4, "after": after}
            data = (await gql(client, token, GOAL_NAMES, variables))["data"]["goals"]
            assert data["totalCount"] == 11
            seen += [edge["node"]["name"] for edge in data["edges"]]
            if not data["pageInfo"]["hasNextPage"]:
                break
            after = data["pageInfo"]["endCursor"]
        assert seen == whole
        assert sorted(seen) == [f"goal {n:02}" for n in range(11)]
    empty = await gql(client, token, GOAL_NAMES, {"first": 0})
    assert empty["data"]["goals"]["edges"] == []
    assert empty["data"]["goals"]["totalCount"] == 11


async def test_pages_resume_after_their_last_goal_when_goals_come_and_go(client):
    tenant = await team_tenant()
    ana = tenant.users["ana"]
    created = [
        await add_goal(tenant, f"goal {n}", [ana], percent=D(str(10 * (n % 3)))) for n in range(6)
    ]
    token = tenant.admin_token
    for order in (None, {"field": "PROGRESS", "direction": "DESC"}):
        variables = {"orderBy": order, "first": 3}
        first_page = (await gql(client, token, GOAL_NAMES, variables))["data"]["goals"]
        first_names = [edge["node"]["name"] for edge in first_page["edges"]]
        # A new goal (newest, and with the highest progress) and a deleted one on page one.
        newcomer = await add_goal(tenant, "newcomer", [ana], percent=D("99"))
        gone = next(g for g in created if g.name == first_names[0])
        await ContributorGoal.filter(goal=gone).delete()
        await Milestone.filter(contributor_goal__goal=gone).delete()
        await gone.delete()
        created.remove(gone)
        variables["after"] = first_page["pageInfo"]["endCursor"]
        variables["first"] = 100
        rest = (await gql(client, token, GOAL_NAMES, variables))["data"]["goals"]
        rest_names = [edge["node"]["name"] for edge in rest["edges"]]
        assert not set(rest_names) & set(first_names)
        assert "newcomer" not in rest_names
        assert set(first_names[1:]) | set(rest_names) == {g.name for g in created}
        await Milestone.filter(contributor_goal__goal=newcomer).delete()
        await ContributorGoal.filter(goal=newcomer).delete()
        await newcomer.delete()


async def test_a_cursor_only_resumes_the_order_it_came_from(client):
    tenant = await team_tenant()
    for n in range(3):
        await add_goal(tenant, f"goal {n}", [tenant.users["ana"]])
    by_name = {"orderBy": {"field": "NAME", "direction": "ASC"}, "first": 1}
    page = (await gql(client, tenant.admin_token, GOAL_NAMES, by_name))["data"]["goals"]
    cursor = page["pageInfo"]["endCursor"]
    for other in ({"field": "NAME", "direction": "DESC"}, {"field": "END_DATE"}, None):
        variables = {"orderBy": other, "after": cursor}
        body = await gql(client, tenant.admin_token, GOAL_NAMES, variables, expect_errors=True)
        assert "not a cursor this list gave out" in body["errors"][0]["message"]
    following = await names(client, tenant.admin_token, order=by_name["orderBy"], after=cursor)
    assert following == ["goal 1", "goal 2"]


# ---------------------------------------------------------------- visibility


async def test_visibility_matrix(client):
    tenant = await team_tenant()
    ana, bob, cy = tenant.users["ana"], tenant.users["bob"], tenant.users["cy"]
    await tenant.add_user("teamlead", permission=GoalPermission.TEAM)
    await tenant.add_user("boss", permission=GoalPermission.ALL)
    await tenant.add_user("freeadmin", seat=Seat.FREE, is_admin=True)
    await tenant.add_user("freeall", seat=Seat.FREE, permission=GoalPermission.ALL)
    lead = tenant.users["teamlead"]
    support = tenant.teams["support"]
    from domain.models import TeamMembership

    await TeamMembership.create(account=tenant.account, team=support, user=lead)
    await add_goal(tenant, "Ana's", [ana])
    await add_goal(tenant, "Bob's", [bob])
    await add_goal(tenant, "Cy's", [cy])
    await add_goal(tenant, "Support's", [support])
    await add_goal(tenant, "Made by Cy for Bob", [bob], created_by=cy)
    await add_goal(tenant, "Fay's", [tenant.users["fay"]])
    everything = {"Ana's", "Bob's", "Cy's", "Support's", "Made by Cy for Bob", "Fay's"}
    other = await make_tenant("Other")
    await other.add_user("ana", permission=GoalPermission.ALL)
    await add_goal(other, "Elsewhere", [other.users["ana"]])

    async def visible(key: str, owner: Tenant = tenant) -> set[str]:
        return set(await names(client, owner.tokens[key]))

    assert await visible("ana") == {"Ana's"}
    assert await visible("cy") == {"Cy's", "Made by Cy for Bob"}
    # TEAM reaches the team and its members.
    assert await visible("teamlead") == {"Ana's", "Bob's", "Support's", "Made by Cy for Bob"}
    assert await visible("boss") == everything
    assert await visible("admin") == everything
    assert await visible("freeadmin") == everything
    assert await visible("fay") == set()
    assert await visible("freeall") == set()
    assert await visible("ana", other) == {"Elsewhere"}

    goal_query = "query($id: ID!) { goal(id: $id) { name } }"
    goals = {g.name: g for g in await Goal.all()}

    async def single(key: str, name: str, owner: Tenant = tenant) -> str | None:
        variables = {"id": gid("Goal", goals[name].id)}
        found = (await gql(client, owner.tokens[key], goal_query, variables))["data"]["goal"]
        return found and found["name"]

    assert await single("ana", "Ana's") == "Ana's"
    assert await single("ana", "Bob's") is None
    assert await single("teamlead", "Support's") == "Support's"
    assert await single("teamlead", "Cy's") is None
    assert await single("fay", "Fay's") is None
    assert await single("ana", "Elsewhere") is None
    assert await single("ana", "Elsewhere", other) == "Elsewhere"
    assert await single("admin", "Elsewhere") is None


async def test_goal_by_wrong_or_unknown_id_is_null(client):
    tenant = await team_tenant()
    goal = await add_goal(tenant, "G", [tenant.users["ana"]])
    cg = await ContributorGoal.get(goal=goal)
    query = "query($id: ID!) { goal(id: $id) { name } }"
    for wrong in (
        gid("User", goal.id),
        gid("ContributorGoal", cg.id),
        gid("Goal", goal.id + 1000),
        "garbage",
        "",
    ):
        data = (await gql(client, tenant.admin_token, query, {"id": wrong}))["data"]
        assert data["goal"] is None, wrong
    data = (await gql(client, tenant.admin_token, query, {"id": gid("Goal", goal.id)}))["data"]
    assert data["goal"] == {"name": "G"}


async def test_contributor_goal_links_back_to_its_goal(client):
    tenant = await team_tenant()
    goal = await add_goal(tenant, "Loop", [tenant.users["ana"], tenant.teams["solo"]])
    query = """query($id: ID!) { goal(id: $id) { contributors { goal { id name } } } }"""
    data = (await gql(client, tenant.admin_token, query, {"id": gid("Goal", goal.id)}))["data"]
    assert data["goal"]["contributors"] == [
        {"goal": {"id": gid("Goal", goal.id), "name": "Loop"}},
        {"goal": {"id": gid("Goal", goal.id), "name": "Loop"}},
    ]


# ---------------------------------------------------------------- the SQL status rule


async def test_status_in_sql_agrees_with_status_of_in_every_case(db):
    """Every position of today against the dates times every kind of value/target/percent,
    on goals (own dates) and contributor goals (their goal's dates)."""
    tenant = await make_tenant()
    today = date(2026, 6, 15)
    windows = [
        (date(2026, 6, 16), date(2026, 6, 30)),  # starts tomorrow
        (date(2026, 6, 15), date(2026, 6, 15)),  # today only
        (date(2026, 6, 1), date(2026, 6, 15)),  # ends today
        (date(2026, 6, 15), date(2026, 6, 30)),  # starts today
        (date(2026, 6, 1), date(2026, 6, 14)),  # ended yesterday
        (date(2025, 1, 1), date(2025, 12, 31)),  # long over
    ]
    numbers = [
        (None, D("10"), None),  # never refreshed
        (None, D("0"), None),
        (D("0"), D("0"), None),  # zero target, nothing done: achieved
        (D("5"), D("0"), None),  # zero target, something done: exceeded
        (D("0"), D("30"), None),  # lower is better, zero time: exceeded
        (D("10"), D("10"), D("100")),
        (D("10.001"), D("10"), D("100.01")),
        (D("9.999"), D("10"), D("99.99")),
        (D("10.0004"), D("10"), D("100.00")),  # rounds to 100: achieved
        (D("3"), D("10"), D("30")),
        (D("30"), D("10"), D("300")),
    ]
    expected: dict[int, GoalStatus] = {}
    for (start, end), (value, target, percent) in itertools.product(windows, numbers):
        goal = await Goal.create(
            account=tenant.account,
            name="case",
            category=GoalCategory.SALES,
            type=GoalType.DEALS_CREATED,
            start_date=start,
            end_date=end,
            milestone_period=MilestonePeriod.MONTHLY,
            value=value,
            target=target,
            percent=percent,
        )
        await ContributorGoal.create(
            account=tenant.account,
            goal=goal,
            user=tenant.admin,
            value=value,
            target=target,
            percent=percent,
        )
        expected[goal.id] = status_of(
            start_date=start,
            end_date=end,
            today=today,
            value=value,
            target=target,
            percent=percent,
        )
    assert set(expected.values()) == set(GoalStatus)
    for status in GoalStatus:
        wanted = {goal_id for goal_id, s in expected.items() if s is status}
        goals = await Goal.filter(status_condition(status, today)).values_list("id", flat=True)
        assert set(goals) == wanted, status
        contributor_goals = await ContributorGoal.filter(
            status_condition(status, today, dates_of_goal=True)
        ).values_list("goal_id", flat=True)
        assert set(contributor_goals) == wanted, status

"""The manage page read for a period: progress and status over a date range, worked by hand,
and the filters and order that use the same figures in SQL."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain import progress
from domain.enums import GoalType, MilestonePeriod, ObjectType
from domain.models import ContributorGoal, Goal, Milestone, User
from tests.helpers import Tenant, add_goal, gid, gql, make_tenant, op
from tests.workers.refresh_support import category_of

D = Decimal
JANUARY = {"from": "2024-01-01", "to": "2024-01-31"}
FEBRUARY = {"from": "2024-02-01", "to": "2024-02-29"}
MARCH = {"from": "2024-03-01", "to": "2024-03-31"}
# Mid-January to early February: both months' milestones overlap it.
JAN_FEB = {"from": "2024-01-15", "to": "2024-02-10"}
NEXT_YEAR = {"from": "2025-01-01", "to": "2025-12-31"}

Figures = tuple[str, str | None]  # (target, value) of a count or sum milestone
Average = tuple[str, str, int]  # (target, value_sum, value_count) of an average milestone


async def tenant_of_two() -> Tenant:
    tenant = await make_tenant()
    await tenant.add_user("ana")
    await tenant.add_user("bob")
    await tenant.add_pipeline("tickets", ObjectType.TICKET)
    return tenant


async def goal_with_milestones(
    tenant: Tenant,
    name: str,
    goal_type: GoalType,
    figures: dict[str, list[Figures] | list[Average]],
    *,
    start: date = date(2024, 1, 1),
    end: date = date(2024, 3, 31),
) -> Goal:
    """A monthly goal whose milestones hold the given numbers, as a refresh leaves them, with
    the stored whole-duration roll-up rewritten from them."""
    users: list[User] = [tenant.users[key] for key in figures]
    goal = await add_goal(
        tenant,
        name,
        users,
        category=category_of(goal_type),
        goal_type=goal_type,
        start=start,
        end=end,
        period=MilestonePeriod.MONTHLY,
        pipelines=[tenant.pipelines["tickets"]],
    )
    for key, rows in figures.items():
        cg = await ContributorGoal.get(goal=goal, user=tenant.users[key])
        for index, numbers in enumerate(rows):
            milestone = await Milestone.get(contributor_goal=cg, index=index)
            milestone.target = D(numbers[0])
            if len(numbers) == 3:
                _, total, count = numbers
                milestone.value_sum, milestone.value_count = D(total), count
                milestone.value = (D(total) / count).quantize(D("0.0001")) if count else None
            else:
                milestone.value = None if numbers[1] is None else D(numbers[1])
            await milestone.save()
    await progress.recompute_rollups([goal.id])
    return await Goal.get(id=goal.id)


async def closed_tickets(tenant: Tenant) -> Goal:
    return await goal_with_milestones(
        tenant,
        "Closed tickets",
        GoalType.CLOSED_TICKETS,
        {
            "ana": [("10", "12"), ("10", "8"), ("10", "10")],
            "bob": [("5", "5"), ("20", "10"), ("0", "3")],
        },
    )


async def resolution_time(tenant: Tenant) -> Goal:
    return await goal_with_milestones(
        tenant,
        "Resolution time",
        GoalType.AVG_TICKET_RESOLUTION_TIME,
        {
            # Ana: January 3 tickets in 7,200 s (2,400 s each), February 2 in 5,400 s.
            "ana": [("3600", "7200", 3), ("1800", "5400", 2)],
            # Bob: January 2 tickets in 14,400 s, no ticket closed in February.
            "bob": [("3600", "14400", 2), ("3600", "0", 0)],
        },
        end=date(2024, 2, 29),
    )


DETAILS = """
query($id: ID!, $range: DateRangeInput) {
  goal(id: $id) {
    status(range: $range)
    progress(range: $range) { value target percent }
    contributors {
      contributor { ... on User { name } }
      status(range: $range)
      progress(range: $range) { value target percent }
      milestones(range: $range) { index }
    }
  }
}
"""


async def read(client, tenant: Tenant, goal: Goal, date_range: dict | None) -> dict:
    variables = {"id": gid("Goal", goal.id), "range": date_range}
    data = (await gql(client, tenant.admin_token, DETAILS, variables))["data"]["goal"]
    return {
        "goal": (data["status"], *data["progress"].values()),
        **{
            c["contributor"]["name"]: (
                c["status"],
                *c["progress"].values(),
                [m["index"] for m in c["milestones"]],
            )
            for c in data["contributors"]
        },
    }


async def test_a_count_type_over_one_and_two_months(client):
    tenant = await tenant_of_two()
    goal = await closed_tickets(tenant)

    # January: Ana 12 of 10, Bob 5 of 5; the goal 17 of 15.
    assert await read(client, tenant, goal, JANUARY) == {
        "goal": ("EXCEEDED", "17", "15", 113.33),
        "Ana": ("EXCEEDED", "12", "10", 120.0, [0]),
        "Bob": ("ACHIEVED", "5", "5", 100.0, [0]),
    }
    # January and February: Ana 20 of 20, Bob 15 of 25; the goal 35 of 45.
    assert await read(client, tenant, goal, JAN_FEB) == {
        "goal": ("MISSED", "35", "45", 77.78),
        "Ana": ("ACHIEVED", "20", "20", 100.0, [0, 1]),
        "Bob": ("MISSED", "15", "25", 60.0, [0, 1]),
    }
    # March: Bob's target is 0 and he closed 3, so no percent and exceeded.
    assert await read(client, tenant, goal, MARCH) == {
        "goal": ("EXCEEDED", "13", "10", 130.0),
        "Ana": ("ACHIEVED", "10", "10", 100.0, [2]),
        "Bob": ("EXCEEDED", "3", "0", None, [2]),
    }
    # No range: the whole duration, as stored.
    whole = await read(client, tenant, goal, None)
    assert whole == {
        "goal": ("MISSED", "48", "55", 87.27),
        "Ana": ("ACHIEVED", "30", "30", 100.0, [0, 1, 2]),
        "Bob": ("MISSED", "18", "25", 72.0, [0, 1, 2]),
    }
    # Open bounds are unbounded: from February on is February and March.
    assert (await read(client, tenant, goal, {"from": "2024-02-01"}))["Ana"] == (
        "MISSED",
        "18",
        "20",
        90.0,
        [1, 2],
    )
    assert await read(client, tenant, goal, {"from": None, "to": None}) == whole
    # A range the goal does not overlap: nothing in range, the status without a range.
    assert await read(client, tenant, goal, NEXT_YEAR) == {
        "goal": ("MISSED", None, "0", None),
        "Ana": ("ACHIEVED", None, "0", None, []),
        "Bob": ("MISSED", None, "0", None, []),
    }


async def test_an_average_type_over_one_and_two_months(client):
    tenant = await tenant_of_two()
    goal = await resolution_time(tenant)

    # January: Ana 2,400 s against 3,600 s (150 %), Bob 7,200 s (50 %); the goal's value is
    # the mean of theirs, 4,800 s, against the mean target 3,600 s: 75 %.
    assert await read(client, tenant, goal, JANUARY) == {
        "goal": ("MISSED", "4800", "3600", 75.0),
        "Ana": ("EXCEEDED", "2400", "3600", 150.0, [0]),
        "Bob": ("MISSED", "7200", "3600", 50.0, [0]),
    }
    # Both months: Ana 12,600 s over 5 tickets = 2,520 s against the mean target 2,700 s
    # (107.14 %), never the mean of her monthly averages (2,550 s); Bob 7,200 s against
    # 3,600 s. The goal: mean 4,860 s against mean 3,150 s: 64.81 %.
    assert await read(client, tenant, goal, JAN_FEB) == {
        "goal": ("MISSED", "4860", "3150", 64.81),
        "Ana": ("EXCEEDED", "2520", "2700", 107.14, [0, 1]),
        "Bob": ("MISSED", "7200", "3600", 50.0, [0, 1]),
    }
    # February: Bob closed nothing, so he has no value and missed; the goal's value is Ana's
    # alone, 2,700 s, against the mean target of both, 2,700 s: exactly 100 %.
    assert await read(client, tenant, goal, FEBRUARY) == {
        "goal": ("ACHIEVED", "2700", "2700", 100.0),
        "Ana": ("MISSED", "2700", "1800", 66.67, [1]),
        "Bob": ("MISSED", None, "3600", None, [1]),
    }


async def test_a_range_average_shows_four_places_and_an_exact_percent(client):
    tenant = await tenant_of_two()
    goal = await goal_with_milestones(
        tenant,
        "Response",
        GoalType.AVG_TICKET_RESPONSE_TIME,
        {"ana": [("3600", "10000", 3), ("3600", "0", 0), ("3600", "0", 0)]},
    )
    # 10,000 s over 3 tickets: 3,333.3333 s shown; 3,600 / (10,000 / 3) is exactly 108 %.
    assert await read(client, tenant, goal, JANUARY) == {
        "goal": ("EXCEEDED", "3333.3333", "3600", 108.0),
        "Ana": ("EXCEEDED", "3333.3333", "3600", 108.0, [0]),
    }


async def test_range_status_follows_the_range_milestones_dates(client, today):
    tenant = await tenant_of_two()
    month_start = today.replace(day=1)
    last_month = (month_start - timedelta(days=1)).replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    goal = await goal_with_milestones(
        tenant,
        "This quarter",
        GoalType.CLOSED_TICKETS,
        {"ana": [("4", "5"), ("4", "1"), ("4", None)]},
        start=last_month,
        end=(next_month + timedelta(days=32)).replace(day=1) - timedelta(days=1),
    )

    def month(first: date) -> dict:
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return {"from": first.isoformat(), "to": last.isoformat()}

    assert (await read(client, tenant, goal, month(last_month)))["Ana"][0] == "EXCEEDED"
    assert (await read(client, tenant, goal, month(month_start)))["Ana"][0] == "IN_PROGRESS"
    assert (await read(client, tenant, goal, month(next_month)))["Ana"][0] == "PENDING"
    # From last month to this one: in progress until this month's milestone has ended.
    both = {"from": last_month.isoformat(), "to": today.isoformat()}
    assert (await read(client, tenant, goal, both))["goal"][:4] == ("IN_PROGRESS", "6", "8", 75.0)


async def test_a_reversed_range_is_refused(client):
    tenant = await tenant_of_two()
    goal = await closed_tickets(tenant)
    variables = {"id": gid("Goal", goal.id), "range": {"from": "2024-02-01", "to": "2024-01-31"}}
    body = await gql(client, tenant.admin_token, DETAILS, variables, expect_errors=True)
    assert body["errors"][0]["message"] == "`range.from` must not be after `range.to`."
    body = await gql(
        client,
        tenant.admin_token,
        "query($f: GoalFilter) { goals(filter: $f) { totalCount } }",
        {"f": {"dateRange": {"from": "2024-02-01", "to": "2024-01-31"}}},
        expect_errors=True,
    )
    assert body["errors"][0]["message"] == "`dateRange.from` must not be after `dateRange.to`."


# ---------------------------------------------------------------- the manage page over a range


async def manage(client, tenant: Tenant, date_range: dict, **filter_fields) -> list[tuple]:
    """ManageGoalsInRange for ``date_range``: (goal, percent, [(contributor, status)])."""
    variables = {
        "filter": {"dateRange": date_range, **filter_fields.pop("filter", {})},
        "range": date_range,
        "first": filter_fields.pop("first", 10),
        **filter_fields,
    }
    data = await op(client, tenant.admin_token, "ManageGoalsInRange", variables)
    return [
        (
            edge["node"]["name"],
            edge["node"]["progress"]["percent"],
            [
                (c["contributor"]["name"], c["status"], c["progress"]["percent"])
                for c in edge["node"]["contributors"]
            ],
        )
        for edge in data["goals"]["edges"]
    ]


async def test_filtering_a_month_by_status_lists_who_missed_it(client):
    tenant = await tenant_of_two()
    await closed_tickets(tenant)
    await resolution_time(tenant)

    # January: Bob missed the resolution time; nobody missed closed tickets.
    missed = await manage(client, tenant, JANUARY, filter={"statuses": ["MISSED"]})
    assert missed == [("Resolution time", 75.0, [("Bob", "MISSED", 50.0)])]
    # Over the whole duration Bob missed closed tickets too (72 %): the range decides.
    whole = await op(
        client, tenant.admin_token, "ManageGoals", {"filter": {"statuses": ["MISSED"]}}
    )
    assert {e["node"]["name"] for e in whole["goals"]["edges"]} == {
        "Closed tickets",
        "Resolution time",
    }
    achieved = await manage(client, tenant, JANUARY, filter={"statuses": ["ACHIEVED"]})
    assert achieved == [("Closed tickets", 113.33, [("Bob", "ACHIEVED", 100.0)])]
    exceeded = await manage(client, tenant, JANUARY, filter={"statuses": ["EXCEEDED"]})
    assert exceeded == [
        ("Resolution time", 75.0, [("Ana", "EXCEEDED", 150.0)]),
        ("Closed tickets", 113.33, [("Ana", "EXCEEDED", 120.0)]),
    ]
    # March: Bob's zero target with 3 closed is exceeded; February: Bob's missing average.
    march = await manage(client, tenant, MARCH, filter={"statuses": ["EXCEEDED"]})
    assert march == [("Closed tickets", 130.0, [("Bob", "EXCEEDED", None)])]
    february = await manage(client, tenant, FEBRUARY, filter={"statuses": ["MISSED"]})
    assert february == [
        ("Resolution time", 100.0, [("Ana", "MISSED", 66.67), ("Bob", "MISSED", None)]),
        ("Closed tickets", 60.0, [("Ana", "MISSED", 80.0), ("Bob", "MISSED", 50.0)]),
    ]
    # Next year overlaps neither goal.
    assert await manage(client, tenant, NEXT_YEAR) == []
    assert await manage(client, tenant, NEXT_YEAR, filter={"statuses": ["MISSED"]}) == []


async def test_progress_bounds_over_a_range_are_inclusive_at_exactly_100(client):
    tenant = await tenant_of_two()
    await closed_tickets(tenant)
    await resolution_time(tenant)

    exactly = await manage(client, tenant, JAN_FEB, filter={"progress": {"min": 100, "max": 100}})
    assert exactly == [("Closed tickets", 77.78, [("Ana", "ACHIEVED", 100.0)])]
    # February: the goal-level 100 % of the average type is not a contributor's percent.
    assert await manage(client, tenant, FEBRUARY, filter={"progress": {"min": 100}}) == []
    above = await manage(client, tenant, JAN_FEB, filter={"progress": {"min": 100.01}})
    assert above == [("Resolution time", 64.81, [("Ana", "EXCEEDED", 107.14)])]
    below = await manage(client, tenant, JAN_FEB, filter={"progress": {"max": 99.99}})
    assert below == [
        ("Resolution time", 64.81, [("Bob", "MISSED", 50.0)]),
        ("Closed tickets", 77.78, [("Bob", "MISSED", 60.0)]),
    ]
    # Null percents never match a bound.
    assert await manage(client, tenant, MARCH, filter={"progress": {"max": 1000}}) == [
        ("Closed tickets", 130.0, [("Ana", "ACHIEVED", 100.0)])
    ]


@pytest.mark.parametrize(
    ("target", "value", "percent"),
    [
        # 1/800 = 0.125 %: half-up makes 0.13; 1/1600 = 0.0625 % makes 0.06.
        ("800", "1", 0.13),
        ("1600", "1", 0.06),
        # 2/3 = 66.666... %: 66.67; 1,000,001 of 1,000,000 = 100.0001 %: 100.00, achieved.
        ("3", "2", 66.67),
        ("1000000", "1000001", 100.0),
        ("10000000000", "12345678901.2345", 123.46),
    ],
)
async def test_sql_percent_rounds_half_up_like_the_rule(client, target, value, percent):
    tenant = await tenant_of_two()
    await goal_with_milestones(
        tenant, "Revenue", GoalType.REVENUE, {"ana": [(target, value), ("1", "0"), ("1", "0")]}
    )
    cents = D(str(percent)) * 100
    at = {"min": float(cents / 100), "max": float(cents / 100)}
    found = await manage(client, tenant, JANUARY, filter={"progress": at})
    status = "EXCEEDED" if percent > 100 else "ACHIEVED" if percent == 100 else "MISSED"
    assert found == [("Revenue", percent, [("Ana", status, percent)])]
    above = {"min": float((cents + 1) / 100)}
    assert await manage(client, tenant, JANUARY, filter={"progress": above}) == []
    below = {"max": float((cents - 1) / 100)}
    assert await manage(client, tenant, JANUARY, filter={"progress": below}) == []


async def test_an_average_exactly_on_a_half_cent_rounds_up(client):
    # 2 s over 3 tickets against a target of 0.0001 s: 0.0001 / (2/3) = 0.015 %, which rounds
    # to 0.02 % only when computed exactly (2/3 rounded to 28 digits first gives 0.01 %).
    tenant = await tenant_of_two()
    await goal_with_milestones(
        tenant,
        "Response",
        GoalType.AVG_TICKET_RESPONSE_TIME,
        {"ana": [("0.0001", "2", 3), ("1", "0", 0), ("1", "0", 0)]},
    )
    found = await manage(client, tenant, JANUARY, filter={"progress": {"min": 0.02, "max": 0.02}})
    assert found == [("Response", 0.02, [("Ana", "MISSED", 0.02)])]


async def test_ordering_by_progress_over_a_range_pages_without_overlap(client):
    tenant = await tenant_of_two()
    tenant_goals = {}
    # January percents (goal level): 150, 100, 100, 50, none (target 0, no value), 100.
    for name, ana, bob in [
        ("A", ("10", "15"), ("10", "15")),
        ("B", ("10", "10"), ("10", "10")),
        ("C", ("5", "5"), ("15", "15")),
        ("D", ("10", "5"), ("10", "5")),
        ("E", ("0", None), ("0", None)),
        ("F", ("20", "25"), ("20", "15")),
    ]:
        tenant_goals[name] = await goal_with_milestones(
            tenant,
            name,
            GoalType.CLOSED_TICKETS,
            {"ana": [ana, ("1", "100"), ("1", "100")], "bob": [bob, ("1", "0"), ("1", "0")]},
        )
    order = {"field": "PROGRESS", "direction": "DESC"}
    everything = await manage(client, tenant, JANUARY, orderBy=order)
    # Ties break by id, in the same direction; no percent comes last either way.
    assert [(name, percent) for name, percent, _ in everything] == [
        ("A", 150.0),
        ("F", 100.0),
        ("C", 100.0),
        ("B", 100.0),
        ("D", 50.0),
        ("E", None),
    ]
    ascending = await manage(client, tenant, JANUARY, orderBy={"field": "PROGRESS"})
    assert [name for name, _, _ in ascending] == ["D", "B", "C", "F", "A", "E"]
    # Over the whole duration E leads: Ana's 200 closed in February and March against 2.
    whole = await op(client, tenant.admin_token, "ManageGoals", {"orderBy": order, "first": 50})
    assert [e["node"]["name"] for e in whole["goals"]["edges"]][0] == "E"

    for direction, expected in [("DESC", everything), ("ASC", ascending)]:
        seen, after = [], None
        while True:
            variables = {
                "filter": {"dateRange": JANUARY},
                "range": JANUARY,
                "first": 2,
                "after": after,
                "orderBy": {"field": "PROGRESS", "direction": direction},
            }
            data = await op(client, tenant.admin_token, "ManageGoalsInRange", variables)
            goals = data["goals"]
            assert goals["totalCount"] == 6
            seen += [edge["node"]["name"] for edge in goals["edges"]]
            if not goals["pageInfo"]["hasNextPage"]:
                break
            after = goals["pageInfo"]["endCursor"]
        assert seen == [name for name, _, _ in expected]


async def test_a_goal_added_between_pages_keeps_pages_apart(client):
    tenant = await tenant_of_two()
    for name, value in [("A", "30"), ("B", "20"), ("C", "10")]:
        await goal_with_milestones(
            tenant, name, GoalType.CLOSED_TICKETS, {"ana": [("10", value), ("1", "0"), ("1", "0")]}
        )
    variables = {
        "filter": {"dateRange": JANUARY},
        "range": JANUARY,
        "first": 1,
        "orderBy": {"field": "PROGRESS", "direction": "DESC"},
    }
    first = await op(client, tenant.admin_token, "ManageGoalsInRange", variables)
    assert [e["node"]["name"] for e in first["goals"]["edges"]] == ["A"]
    await goal_with_milestones(
        tenant, "Z", GoalType.CLOSED_TICKETS, {"ana": [("10", "40"), ("1", "0"), ("1", "0")]}
    )
    variables.update(first=10, after=first["goals"]["pageInfo"]["endCursor"])
    rest = await op(client, tenant.admin_token, "ManageGoalsInRange", variables)
    assert [e["node"]["name"] for e in rest["goals"]["edges"]] == ["B", "C"]


async def test_ordering_averages_over_a_range_agrees_with_the_shown_percents(client):
    # Goal-level averages are means of contributor averages; the order, computed in SQL,
    # must put each goal where its shown percent says, exact halves and hundreds included.
    tenant = await tenant_of_two()
    later = [("1", "0", 0), ("1", "0", 0)]
    for name, ana, bob in [
        # (2/3 + 4/3) / 2 = 1 s against 1 s: exactly 100 %.
        ("Thirds", ("1", "2", 3), ("1", "4", 3)),
        # 0.0001 s against a mean of 2/3 s: 0.015 %, which rounds half-up to 0.02 %.
        ("Half a cent", ("0.0001", "2", 3), ("0.0001", "2", 3)),
        # 3,600 s against a mean of 2,400 s and 4,800 s: exactly 100 %.
        ("Whole", ("3600", "7200", 3), ("3600", "9600", 2)),
        ("Slow", ("3600", "14400", 2), ("3600", "0", 0)),
        ("Nothing closed", ("3600", "0", 0), ("3600", "0", 0)),
    ]:
        await goal_with_milestones(
            tenant,
            name,
            GoalType.AVG_TICKET_RESOLUTION_TIME,
            {"ana": [ana, *later], "bob": [bob, *later]},
        )
    listed = await manage(
        client, tenant, JANUARY, orderBy={"field": "PROGRESS", "direction": "DESC"}
    )
    assert [(name, percent) for name, percent, _ in listed] == [
        ("Whole", 100.0),
        ("Thirds", 100.0),
        ("Slow", 50.0),
        ("Half a cent", 0.02),
        ("Nothing closed", None),
    ]
    # Pages of one, resumed from each cursor, give the same order.
    seen, after = [], None
    while True:
        variables = {
            "filter": {"dateRange": JANUARY},
            "range": JANUARY,
            "first": 1,
            "after": after,
            "orderBy": {"field": "PROGRESS", "direction": "DESC"},
        }
        goals = (await op(client, tenant.admin_token, "ManageGoalsInRange", variables))["goals"]
        seen += [edge["node"]["name"] for edge in goals["edges"]]
        if not goals["pageInfo"]["hasNextPage"]:
            break
        after = goals["pageInfo"]["endCursor"]
    assert seen == [name for name, _, _ in listed]


async def test_targets_sent_in_exponent_form_count_as_their_value(client):
    tenant = await tenant_of_two()
    goal = await closed_tickets(tenant)
    variables = {"input": {"goalId": gid("Goal", goal.id), "amount": "1.2e1"}}
    assert (await op(client, tenant.admin_token, "ApplyGoalTargets", variables))[
        "applyGoalTargets"
    ]["userErrors"] == []
    # January: Ana 12 of 12, Bob 5 of 12.
    exactly = await manage(client, tenant, JANUARY, filter={"progress": {"min": 100, "max": 100}})
    assert exactly == [("Closed tickets", 70.83, [("Ana", "ACHIEVED", 100.0)])]
    assert set(await Milestone.all().values_list("target", flat=True)) == {D(12)}


async def test_a_cursor_far_beyond_any_percent_still_pages(client):
    import base64
    import json

    tenant = await tenant_of_two()
    await closed_tickets(tenant)
    for percent, expected in [("99999999999999999999.99", ["Closed tickets"]), ("-1E+20", [])]:
        payload = json.dumps(["PROGRESS", True, percent, 1]).encode()
        variables = {
            "filter": {"dateRange": JANUARY},
            "range": JANUARY,
            "after": base64.urlsafe_b64encode(payload).decode(),
            "orderBy": {"field": "PROGRESS", "direction": "DESC"},
        }
        data = await op(client, tenant.admin_token, "ManageGoalsInRange", variables)
        assert [e["node"]["name"] for e in data["goals"]["edges"]] == expected

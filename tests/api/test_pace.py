"""Pace over GraphQL: what the refresh stores and the API shows, the paceStatuses filter and the
PACE order in SQL, agreeing with the rules worked out here from the dates."""

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from domain.enums import GoalType, ObjectType
from domain.models import ContributorGoal, Goal, Milestone
from domain.progress import refresh_account
from tests.helpers import Tenant, gid, gql, make_tenant, op
from tests.workers.refresh_support import create_goal, ticket

D = Decimal


def month_start(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


TARGETS = ["10", "20", "30"]


@dataclass(frozen=True)
class Months:
    """A goal of three monthly milestones around ``today``: last month, this month (the current
    one) and next month; the refresh runs at noon today."""

    today: date

    @property
    def start(self) -> date:
        return month_start(self.today, -1)

    @property
    def end(self) -> date:
        return month_start(self.today, 2) - timedelta(days=1)

    @property
    def now(self) -> datetime:
        return datetime.combine(self.today, time(12), tzinfo=UTC)

    @property
    def last_month_noon(self) -> datetime:
        return datetime.combine(self.start + timedelta(days=3), time(12), tzinfo=UTC)

    def expected(self, targets: list[str]) -> Fraction:
        """Last month's target whole, this month's by its days elapsed, today included."""
        this_month = month_start(self.today, 0)
        days = (month_start(self.today, 1) - this_month).days
        elapsed = (self.today - this_month).days + 1
        return Fraction(D(targets[0])) + Fraction(D(targets[1])) * elapsed / days


@pytest.fixture
def months(today: date) -> Months:
    return Months(today)


def four_places(number: Fraction) -> str:
    units = math.floor(number * 10_000 + Fraction(1, 2))
    return format(Decimal(units).scaleb(-4).normalize(), "f") if units else "0"


def band(ratio: str | None) -> str:
    if ratio is None:
        return "ON_TRACK"
    value = D(ratio)
    if value >= D("1.1"):
        return "AHEAD"
    if value >= D("0.95"):
        return "ON_TRACK"
    return "BEHIND" if value >= D("0.8") else "AT_RISK"


PACE = """query($id: ID!) { goal(id: $id) {
  pace { expected projected ratio status }
  contributors { id pace { expected projected ratio status } }
} }"""


async def tenant_with_people(*keys: str) -> Tenant:
    tenant = await make_tenant()
    for key in keys:
        await tenant.add_user(key)
    await tenant.add_pipeline("support", ObjectType.TICKET)
    return tenant


async def closed(tenant: Tenant, key: str, count: int, at: datetime) -> None:
    for _ in range(count):
        await ticket(tenant.users[key], tenant.pipelines["support"], at, closed=at)


async def ticket_goal(
    client,
    tenant: Tenant,
    keys: list[str],
    start: date,
    end: date,
    goal_type=GoalType.CLOSED_TICKETS,
    *,
    targets: list[str] = TARGETS,
):
    return await create_goal(
        client,
        tenant.admin_token,
        goal_type,
        start=start.isoformat(),
        end=end.isoformat(),
        pipelines=[tenant.pipelines["support"]],
        users=[tenant.users[key] for key in keys],
        targets=targets,
    )


async def test_pace_of_counts_accrues_by_the_days_of_the_current_month(client, months):
    tenant = await tenant_with_people("ana", "bob")
    goal = await ticket_goal(client, tenant, ["ana", "bob"], months.start, months.end)
    await closed(tenant, "ana", 11, months.last_month_noon)
    await closed(tenant, "bob", 4, months.last_month_noon)
    before = (await gql(client, tenant.admin_token, PACE, {"id": gid("Goal", goal.id)}))["data"]
    assert before["goal"]["pace"] is None  # not refreshed yet

    await refresh_account(tenant.account.id, now=months.now)

    data = (await gql(client, tenant.admin_token, PACE, {"id": gid("Goal", goal.id)}))["data"]
    expected = months.expected(TARGETS)
    for contributor, value in zip(data["goal"]["contributors"], (11, 4), strict=True):
        ratio = four_places(value / expected)
        assert contributor["pace"] == {
            "expected": four_places(expected),
            "projected": four_places(value * Fraction(60) / expected),
            "ratio": ratio,
            "status": band(ratio),
        }
    ratio = four_places(15 / (2 * expected))
    assert data["goal"]["pace"] == {
        "expected": four_places(2 * expected),
        "projected": four_places(Fraction(15 * 60) / expected),
        "ratio": ratio,
        "status": band(ratio),
    }
    # The stored figures are what a target edit leaves too: recomputed as of the same refresh.
    cg = await ContributorGoal.get(id=goal.contributor_ids[0])
    await op(
        client,
        tenant.admin_token,
        "ApplyGoalTargets",
        {
            "input": {
                "goalId": gid("Goal", goal.id),
                "contributorIds": [gid("ContributorGoal", cg.id)],
                "milestoneIndexes": [1],
                "amount": "40",
            }
        },
    )
    edited = (await gql(client, tenant.admin_token, PACE, {"id": gid("Goal", goal.id)}))["data"]
    expected_now = months.expected(["10", "40", "30"])
    assert edited["goal"]["contributors"][0]["pace"]["expected"] == four_places(expected_now)
    assert edited["goal"]["contributors"][0]["pace"]["ratio"] == four_places(11 / expected_now)


async def test_pace_of_an_average_is_its_percent(client, months):
    tenant = await tenant_with_people("ana")
    goal = await ticket_goal(
        client, tenant, ["ana"], months.start, months.end, GoalType.AVG_TICKET_RESOLUTION_TIME
    )
    ana, support = tenant.users["ana"], tenant.pipelines["support"]
    # Two tickets resolved last month in 10 and 20 seconds: 15 s against a mean target of 20 s.
    await ticket(
        ana, support, months.last_month_noon, closed=months.last_month_noon + timedelta(seconds=10)
    )
    await ticket(
        ana, support, months.last_month_noon, closed=months.last_month_noon + timedelta(seconds=20)
    )
    await refresh_account(tenant.account.id, now=months.now)
    data = (await gql(client, tenant.admin_token, PACE, {"id": gid("Goal", goal.id)}))["data"]
    pace = {"expected": "20", "projected": "15", "ratio": "1.3333", "status": "AHEAD"}
    assert data["goal"]["contributors"][0]["pace"] == pace
    assert data["goal"]["pace"] == pace


async def test_pace_is_null_unless_the_goal_is_in_progress(client, months):
    tenant = await tenant_with_people("ana")
    past = await ticket_goal(client, tenant, ["ana"], date(2020, 1, 1), date(2020, 3, 31))
    await refresh_account(tenant.account.id, now=months.now)
    data = (await gql(client, tenant.admin_token, PACE, {"id": gid("Goal", past.id)}))["data"]
    assert data["goal"]["pace"] is None
    assert data["goal"]["contributors"][0]["pace"] is None


# ---------------------------------------------------------------- filter and order in SQL

# People whose closed tickets last month put them in each band against 10 + 20 x elapsed/days.
SHARES = {"ahead": Fraction(13, 10), "ontrack": Fraction(1), "behind": Fraction(85, 100)}


async def banded_goals(
    client, months: Months
) -> tuple[Tenant, dict[str, int], dict[str, str | None]]:
    """A goal per person, with values that put each in a band; one more goal never refreshed
    and one long ended. Returns the goals by name and each goal's ratio as worked out here."""
    tenant = await tenant_with_people("ahead", "ontrack", "behind", "atrisk", "idle", "late")
    expected = months.expected(TARGETS)
    goals: dict[str, int] = {}
    ratios: dict[str, str | None] = {}
    for key in ("ahead", "ontrack", "behind", "atrisk"):
        value = math.floor(expected * SHARES.get(key, Fraction(1, 2)))
        await closed(tenant, key, value, months.last_month_noon)
        goals[key] = (await ticket_goal(client, tenant, [key], months.start, months.end)).id
        ratios[key] = four_places(value / expected)
    ended = await ticket_goal(
        client, tenant, ["late"], date(2020, 1, 1), date(2020, 1, 31), targets=["5"]
    )
    goals["late"], ratios["late"] = ended.id, None
    await refresh_account(tenant.account.id, now=months.now)
    goals["idle"], ratios["idle"] = (
        (await ticket_goal(client, tenant, ["idle"], months.start, months.end)).id,
        None,
    )
    return tenant, goals, ratios


PACED = """query($filter: GoalFilter, $first: Int, $after: String, $direction: OrderDirection!) {
  goals(filter: $filter, first: $first, after: $after,
        orderBy: { field: PACE, direction: $direction }) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name pace { ratio status } contributors(filter: $filter) {
      pace { status } } } }
  }
}"""


async def paced(client, token, direction="ASC", filter=None, first=100, after=None) -> dict:
    variables = {"filter": filter, "first": first, "after": after, "direction": direction}
    return (await gql(client, token, PACED, variables))["data"]["goals"]


async def test_pace_statuses_select_what_the_rule_says(client, months):
    tenant, goals, ratios = await banded_goals(client, months)
    bands = {name: band(ratio) for name, ratio in ratios.items() if ratio is not None}
    assert sorted(bands.values()) == ["AHEAD", "AT_RISK", "BEHIND", "ON_TRACK"]
    by_id = {gid("Goal", pk): name for name, pk in goals.items()}
    for status in ("AHEAD", "ON_TRACK", "BEHIND", "AT_RISK"):
        found = await paced(client, tenant.admin_token, filter={"paceStatuses": [status]})
        names = [by_id[edge["node"]["id"]] for edge in found["edges"]]
        assert names == [name for name, s in bands.items() if s == status]
        assert found["totalCount"] == 1
        assert found["edges"][0]["node"]["contributors"] == [{"pace": {"status": status}}]
    every = ["AHEAD", "ON_TRACK", "BEHIND", "AT_RISK"]
    assert (await op(client, tenant.admin_token, "PaceShape"))["goals"]["totalCount"] == 4
    everyone = await paced(client, tenant.admin_token, filter={"paceStatuses": every})
    assert {by_id[e["node"]["id"]] for e in everyone["edges"]} == set(bands)
    # An empty list is no constraint: every goal, with or without pace.
    assert (await paced(client, tenant.admin_token, filter={"paceStatuses": []}))["totalCount"] == 6


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_ordering_by_pace_follows_the_ratio_with_nulls_last_and_pages_apart(
    client, direction, months
):
    tenant, goals, ratios = await banded_goals(client, months)
    by_id = {gid("Goal", pk): name for name, pk in goals.items()}
    known = sorted(
        (name for name in goals if ratios[name] is not None),
        key=lambda name: (D(ratios[name] or 0), goals[name]),
        reverse=direction == "DESC",
    )
    unknown = sorted(
        (name for name in goals if ratios[name] is None),
        key=lambda name: goals[name],
        reverse=direction == "DESC",
    )
    whole = await paced(client, tenant.admin_token, direction)
    assert [by_id[e["node"]["id"]] for e in whole["edges"]] == known + unknown
    assert [e["node"]["pace"] and e["node"]["pace"]["ratio"] for e in whole["edges"]] == [
        ratios[name] for name in known + unknown
    ]
    seen: list[str] = []
    after = None
    while True:
        page = await paced(client, tenant.admin_token, direction, first=2, after=after)
        seen += [by_id[e["node"]["id"]] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == known + unknown


async def test_a_pace_cursor_is_checked(client, months):
    tenant, _, _ = await banded_goals(client, months)
    first = await paced(client, tenant.admin_token, first=1)
    body = await gql(
        client,
        tenant.admin_token,
        PACED,
        {"first": 1, "after": first["pageInfo"]["endCursor"], "direction": "DESC"},
        expect_errors=True,
    )
    assert "not a cursor" in body["errors"][0]["message"]


async def test_ties_in_pace_break_by_id(client, months):
    tenant, goals, _ = await banded_goals(client, months)
    # Copy one goal's stored pace onto another: equal ratios, ordered by id.
    source = await Goal.get(id=goals["behind"])
    await Goal.filter(id=goals["ahead"]).update(
        pace_ratio=source.pace_ratio, pace_status=source.pace_status
    )
    whole = await paced(client, tenant.admin_token)
    ids = [e["node"]["id"] for e in whole["edges"]]
    first, second = sorted([goals["ahead"], goals["behind"]])
    assert ids.index(gid("Goal", first)) + 1 == ids.index(gid("Goal", second))


async def test_new_records_move_pace_at_the_next_refresh(client, months):
    tenant = await tenant_with_people("ana")
    goal = await ticket_goal(client, tenant, ["ana"], months.start, months.end)
    await closed(tenant, "ana", 3, months.last_month_noon)
    await refresh_account(tenant.account.id, now=months.now)
    before = await ContributorGoal.get(id=goal.contributor_ids[0])
    await closed(tenant, "ana", 5, months.now - timedelta(hours=1))
    assert (await ContributorGoal.get(id=goal.contributor_ids[0])).pace_ratio == before.pace_ratio
    await refresh_account(tenant.account.id, now=months.now + timedelta(minutes=5))
    after = await ContributorGoal.get(id=goal.contributor_ids[0])
    assert after.pace_ratio == D(four_places(8 / months.expected(TARGETS)))
    assert await Milestone.filter(contributor_goal_id=goal.contributor_ids[0]).count() == 3

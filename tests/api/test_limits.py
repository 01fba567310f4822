"""Depth, alias and cost limits: computed before an operation runs, in time linear in the
document, with errors that name the limit."""

import pathlib
import time

import pytest
from graphql import (
    DocumentNode,
    NoUnusedFragmentsRule,
    OperationDefinitionNode,
    build_schema,
    parse,
    specified_rules,
    validate,
)

from api.limits import MAX_MILESTONES, operation_cost
from api.schema import build_schema as build_goals_schema
from domain.enums import MilestonePeriod
from domain.settings import Settings
from tests.api.test_goal_queries import add_goal
from tests.helpers import Tenant, contract_operation, gql, make_tenant

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The client contract lives beside the repository; the vendored copy stands in without it.
CONTRACT_FILES = sorted((ROOT.parent / "shared" / "contract").glob("*.graphql")) or [
    ROOT / "tests" / "contract" / "operations.graphql"
]


def _doubling_fragments(count: int, field: str = "id") -> str:
    """Each fragment spreads the next one twice: 2**count paths through the document."""
    fragments = "\n".join(
        f"fragment F{i} on User {{ {field} ...F{i + 1} ...F{i + 1} }}" for i in range(count)
    )
    return f"query {{ viewer {{ ...F0 }} }}\n{fragments}\nfragment F{count} on User {{ id }}"


async def test_fragments_that_double_the_paths_are_answered_at_once(client) -> None:
    tenant = await make_tenant()
    started = time.perf_counter()
    body = await gql(client, tenant.admin_token, _doubling_fragments(40))
    assert time.perf_counter() - started < 2
    assert body["data"]["viewer"]["id"]


async def test_aliases_spread_through_doubling_fragments_are_counted_at_once(client) -> None:
    tenant = await make_tenant()
    started = time.perf_counter()
    body = await gql(
        client, tenant.admin_token, _doubling_fragments(40, "a: id"), expect_errors=True
    )
    assert time.perf_counter() - started < 2
    assert body["data"] is None
    assert f"{2**40 - 1} aliases found. Allowed: 30" in body["errors"][0]["message"]


async def test_depth_counts_through_fragments(client) -> None:
    tenant = await make_tenant()
    # viewer, then six teams-members pairs in the fragment: 13 fields deep.
    deep = "fragment U on User { " + "teams { members { " * 6 + "id" + " } }" * 6 + " }"
    query = f"{{ viewer {{ ...U }} }}\n{deep}"
    body = await gql(client, tenant.admin_token, query, expect_errors=True)
    assert "exceeds maximum operation depth of 12" in body["errors"][0]["message"]


WIDE_GOALS = """
query Wide($first: Int) {
  goals(first: $first) {
    edges { node { id contributors { id milestones { index value } } } }
  }
}
"""


async def tenant_with_a_goal_of(size: int) -> Tenant:
    tenant = await make_tenant()
    people = [await tenant.add_user(f"user{n}") for n in range(size)]
    await add_goal(tenant, "Wide", people, period=MilestonePeriod.YEARLY)
    return tenant


async def test_goals_with_contributors_and_their_milestones_cost_too_much(client) -> None:
    # Counted by the largest goal of the account: 40 contributors, each with the most
    # milestones a goal can have.
    tenant = await tenant_with_a_goal_of(40)
    body = await gql(client, tenant.admin_token, WIDE_GOALS, {"first": 50}, expect_errors=True)
    assert body["data"] is None
    error = body["errors"][0]
    cost = 50 * (1 + 1 + 1 + 40 * (1 + MAX_MILESTONES))
    assert error["message"].startswith(
        f"This operation could return {cost:,} objects, more than the limit of 500,000 "
        "(GOALS_MAX_QUERY_COST)."
    )
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": cost}
    fewer = await gql(client, tenant.admin_token, WIDE_GOALS, {"first": 45})
    assert len(fewer["data"]["goals"]["edges"]) == 1


async def test_the_same_operation_fits_an_account_of_smaller_goals(client) -> None:
    tenant = await tenant_with_a_goal_of(3)
    schema = build_goals_schema(Settings(database_url="unused"))._schema
    by_largest_allowed = operation_cost(schema, parse(WIDE_GOALS), None, {"first": 50}, 100)
    assert by_largest_allowed > Settings().max_query_cost
    body = await gql(client, tenant.admin_token, WIDE_GOALS, {"first": 50})
    (edge,) = body["data"]["goals"]["edges"]
    assert len(edge["node"]["contributors"]) == 3


async def test_the_manage_page_over_a_year_fits(client) -> None:
    tenant = await tenant_with_a_goal_of(30)
    query = contract_operation("ManageGoalsInRange")
    variables = {"first": 50, "range": {"from": "2026-01-01", "to": "2026-12-31"}}
    schema = build_goals_schema(Settings(database_url="unused"))._schema
    assert operation_cost(schema, parse(query), None, variables, 100) > 500_000
    body = await gql(client, tenant.admin_token, query, variables)
    (edge,) = body["data"]["goals"]["edges"]
    assert len(edge["node"]["contributors"]) == 30


@pytest.mark.parametrize(
    "settings", [Settings(database_url="unused", redis_url=None, max_query_cost=10)]
)
async def test_the_cost_limit_is_a_setting(client) -> None:
    tenant = await make_tenant()
    query = "{ goals(first: 11) { edges { node { id } } } }"
    body = await gql(client, tenant.admin_token, query, expect_errors=True)
    assert "limit of 10 " in body["errors"][0]["message"]
    fine = await gql(client, tenant.admin_token, "{ goals(first: 3) { edges { node { id } } } }")
    assert fine["data"]["goals"]["edges"] == []


async def test_goal_details_of_the_largest_goal_fits(client) -> None:
    tenant = await make_tenant()
    variables = {"id": "R29hbDox", "historyFrom": "2025-01-01", "historyTo": "2025-12-31"}
    body = await gql(client, tenant.admin_token, contract_operation("GoalDetails"), variables)
    assert body["data"]["goal"] is None


def _contract_operations() -> list[tuple[str, str, str]]:
    found = []
    for path in CONTRACT_FILES:
        text = path.read_text()
        for definition in parse(text).definitions:
            if isinstance(definition, OperationDefinitionNode):
                found.append((path.name, definition.name.value, text))
    return found


CLIENT_VARIABLES = {
    "first": 50,
    "id": "R29hbDox",
    "ids": ["R29hbDox"],
    "search": "ana",
    "historyFrom": "2025-01-01",
    "historyTo": "2025-12-31",
    "range": {"from": "2026-07-01", "to": "2026-09-30"},
    "startDate": "2026-01-01",
    "endDate": "2030-12-31",
    "milestonePeriod": "WEEKLY",
    "items": [],
    "users": [],
    "teams": [],
    "pipelines": [],
    "input": {
        "id": "R29hbDox",
        "goalId": "R29hbDox",
        "amount": "1",
        "name": "Renewals",
        "category": "SALES",
        "type": "REVENUE",
        "startDate": "2026-01-01",
        "endDate": "2030-12-31",
        "milestonePeriod": "WEEKLY",
        "contributors": [],
    },
}


@pytest.mark.parametrize(("file", "name", "text"), _contract_operations())
def test_every_contract_operation_fits_under_the_default_cost(file, name, text) -> None:
    """Checked for each operation the schema accepts (the others are refused before they
    cost anything); the SDL tests below cover how fields still to come are counted."""
    schema = build_goals_schema(Settings(database_url="unused"))._schema
    document = parse(text)
    operation = next(
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and d.name.value == name
    )
    alone = DocumentNode(
        definitions=(operation, *(d for d in document.definitions if d.kind != operation.kind))
    )
    rules = [rule for rule in specified_rules if rule is not NoUnusedFragmentsRule]
    if validate(schema, alone, rules):
        return
    wanted = {v.variable.name.value for v in operation.variable_definitions or ()}
    variables = {k: v for k, v in CLIENT_VARIABLES.items() if k in wanted}
    cost = operation_cost(schema, parse(text), name, variables, 100)
    assert cost is None or cost <= Settings().max_query_cost, (file, name, cost)


RANGE_SDL = """
type Query { goals(first: Int): GoalConnection!  goal(id: ID!): Goal  tags: [Tag!]! }
type GoalConnection { totalCount: Int! pageInfo: PageInfo! edges: [GoalEdge!]! }
type PageInfo { hasNextPage: Boolean! }
type GoalEdge { node: Goal! }
type Tag { name: String! }
input DateRangeInput { from: Date to: Date }
scalar Date
type Goal {
  contributors: [ContributorGoal!]!
  leaderboard(first: Int): [ContributorGoal!]!
  tags: [Tag!]!
}
type ContributorGoal {
  milestones(range: DateRangeInput): [Milestone!]!
  history(from: Date, to: Date): [Point!]!
}
type Milestone { index: Int! }
type Point { value: Int }
"""


def _cost(query: str, variables: dict | None = None) -> int | None:
    return operation_cost(build_schema(RANGE_SDL), parse(query), None, variables, 100)


def test_cost_counts_objects_and_multiplies_lists_by_their_bounds() -> None:
    # Connections: `first` (default 20, at most the page size) multiplies everything below.
    assert _cost("{ goals { totalCount } }") == 20
    assert _cost("{ goals(first: 2) { pageInfo { hasNextPage } } }") == 2 * (1 + 1)
    assert _cost("{ goals(first: 1000) { edges { node { tags { name } } } } }") == 100 * (
        1 + 1 + 1 + 100 * 1
    )
    # Declared bounds; an undeclared list counts 100 items.
    assert _cost("{ goal(id: 1) { contributors { history { value } } } }") == 1 + 500 * (1 + 90)
    # Arguments known before the run narrow a bound, variables included.
    history = (
        "query($f: Date, $to: Date) "
        "{ goal(id: 1) { contributors { history(from: $f, to: $to) { value } } } }"
    )
    assert _cost(history, {"f": "2026-01-01", "to": "2026-01-10"}) == 1 + 500 * (1 + 10)
    assert _cost(history, {"f": "2025-01-01", "to": "2026-12-31"}) == 1 + 500 * (1 + 366)
    in_range = (
        "query($r: DateRangeInput) "
        "{ goal(id: 1) { contributors { milestones(range: $r) { index } } } }"
    )
    assert _cost(in_range, {"r": {"from": "2026-07-01", "to": "2026-07-31"}}) == 1 + 500 * (1 + 6)
    assert _cost(in_range, {"r": {"from": "2026-07-01"}}) == 1 + 500 * (1 + MAX_MILESTONES)
    assert _cost("{ goal(id: 1) { leaderboard(first: 10) { milestones { index } } } }") == (
        1 + 10 * (1 + MAX_MILESTONES)
    )


def test_cost_walks_each_fragment_once() -> None:
    fragments = "\n".join(
        f"fragment F{i} on Goal {{ tags {{ name }} ...F{i + 1} ...F{i + 1} }}" for i in range(60)
    )
    last = "fragment F60 on Goal { tags { name } }"
    query = f"{{ goal(id: 1) {{ ...F0 }} }}\n{fragments}\n{last}"
    started = time.perf_counter()
    cost = _cost(query)
    assert time.perf_counter() - started < 1
    assert cost == 1 + 100 * (2**61 - 1)

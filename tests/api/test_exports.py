"""The CSV export, parsed back: the columns in order, the rows and figures goals(filter) shows,
the same visibility, pages read by keyset, and clear answers to bad requests."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from api.insight import exports
from domain.enums import GoalPermission, GoalType, MilestonePeriod, Seat
from domain.models import Milestone
from domain.settings import Settings
from tests.helpers import Share, Tenant, add_goal, gid, gql, make_tenant

D = Decimal
GOAL_COLUMNS = "goal_id,goal_name,type,unit,start_date,end_date"
FIGURES = "status,value,target,percent,pace_status,refreshed_at"


@pytest.fixture
def settings() -> Settings:
    """The comparisons read every goal with its milestones in one operation."""
    return Settings(database_url="unused", redis_url=None, max_query_cost=10**9)


async def export(client, token: str | None, params=None):
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return await client.get("/exports/goals.csv", params=params or {}, headers=headers)


async def table(client, token: str, params=None) -> list[dict[str, str]]:
    response = await export(client, token, params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"), newline="")))


async def export_tenant() -> Tenant:
    """Ana and Bob in Support, Cy alone; goals with awkward names and every kind of figure."""
    tenant = await make_tenant()
    await tenant.add_user("ana")
    await tenant.add_user("bob")
    await tenant.add_user("cy", permission=GoalPermission.OWN)
    await tenant.add_user("fay", seat=Seat.FREE)
    support = await tenant.add_team("support", ["ana", "bob"])
    users = tenant.users
    await add_goal(
        tenant,
        'Deals, "big" ones\nand small — ünïcode',
        [
            Share(users["ana"], D("12"), D("10"), D("120")),
            Share(support, D("5"), D("20"), D("25")),
        ],
        start=date(2024, 1, 1),
        end=date(2024, 6, 30),
        value=D(17),
        target=D(30),
        percent=D("56.67"),
    )
    await add_goal(
        tenant,
        "Revenue",
        [Share(users["cy"], D("1500.5"), D("3000"), D("50.02"))],
        goal_type=GoalType.REVENUE,
        period=MilestonePeriod.MONTHLY,
        start=date(2024, 1, 1),
        end=date(2024, 3, 31),
        value=D("1500.5"),
        target=D(3000),
        percent=D("50.02"),
    )
    return tenant


GOALS = """query($filter: GoalFilter, $range: DateRangeInput) {
  goals(filter: $filter, first: 100) { edges { node {
    id name type unit startDate endDate status(range: $range)
    progress(range: $range) { value target percent refreshedAt } pace { status }
    contributors(filter: $filter) {
      id status(range: $range) progress(range: $range) { value target percent refreshedAt }
      pace { status }
      contributor { __typename ... on User { id name } ... on Team { id name } }
      milestones(range: $range) { index startDate endDate value target percent status final }
    }
  } } }
}"""


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(D(str(value)).normalize()) if value != int(value) else str(int(value))
    return str(value)


async def api_rows(client, token: str, level: str, goal_filter=None, date_range=None):
    """What the export should hold, built from the GraphQL answer to the same filter."""
    data = await gql(client, token, GOALS, {"filter": goal_filter, "range": date_range})
    rows = []
    for edge in data["data"]["goals"]["edges"]:
        goal = edge["node"]
        head = [goal[k] for k in ("id", "name", "type", "unit", "startDate", "endDate")]

        def figures(node, status):
            progress = node["progress"]
            return [
                status,
                _text(progress["value"]),
                _text(progress["target"]),
                _text(progress["percent"]),
                node["pace"]["status"] if node["pace"] else "",
                _text(progress["refreshedAt"]),
            ]

        if level == "goal":
            rows.append([*head, *figures(goal, goal["status"])])
            continue
        for cg in goal["contributors"]:
            who = cg["contributor"]
            person = [who["id"], who["__typename"].upper(), who["name"]]
            if level == "contributor":
                rows.append([*head, *person, *figures(cg, cg["status"])])
                continue
            for ms in cg["milestones"]:
                rows.append(
                    [
                        *head,
                        *person,
                        str(ms["index"]),
                        ms["startDate"],
                        ms["endDate"],
                        "true" if ms["final"] else "false",
                        ms["status"],
                        _text(ms["value"]),
                        _text(ms["target"]),
                        _text(ms["percent"]),
                        "",
                        _text(cg["progress"]["refreshedAt"]),
                    ]
                )
    return rows


async def test_the_default_level_is_one_row_per_contributor_goal(client):
    tenant = await export_tenant()
    response = await export(client, tenant.admin_token)
    text = response.content.decode("utf-8")
    header, _ = text.split("\r\n", 1)
    assert header == f"{GOAL_COLUMNS},contributor_id,contributor_kind,contributor_name,{FIGURES}"
    rows = await table(client, tenant.admin_token)
    assert [list(r.values()) for r in rows] == await api_rows(
        client, tenant.admin_token, "contributor"
    )
    assert {r["goal_name"] for r in rows} == {'Deals, "big" ones\nand small — ünïcode', "Revenue"}
    ana = next(r for r in rows if r["contributor_name"] == "Ana")
    assert (ana["contributor_kind"], ana["value"], ana["target"], ana["percent"]) == (
        "USER",
        "12",
        "10",
        "120",
    )
    assert ana["goal_id"] == gid("Goal", 1)


async def test_goal_and_milestone_levels_with_a_range(client):
    tenant = await export_tenant()
    for level in ("goal", "milestone"):
        rows = await table(client, tenant.admin_token, {"level": level})
        assert [list(r.values()) for r in rows] == await api_rows(client, tenant.admin_token, level)
    goals = await table(client, tenant.admin_token, {"level": "goal"})
    assert list(goals[0]) == [*GOAL_COLUMNS.split(","), *FIGURES.split(",")]
    milestones = await table(client, tenant.admin_token, {"level": "milestone"})
    assert list(milestones[0]) == [
        *GOAL_COLUMNS.split(","),
        "contributor_id",
        "contributor_kind",
        "contributor_name",
        "milestone_index",
        "milestone_start",
        "milestone_end",
        "final",
        *FIGURES.split(","),
    ]
    # Two quarters for each of the two contributors, three months for Cy.
    assert len(milestones) == 2 * 2 + 3
    # A range: the milestones of February only, and the figures over it.
    await Milestone.filter(start_date=date(2024, 2, 1)).update(value=D("700"))
    february = {"from": "2024-02-01", "to": "2024-02-29"}
    params = {"from": february["from"], "to": february["to"]}
    for level in ("goal", "contributor", "milestone"):
        rows = await table(client, tenant.admin_token, {**params, "level": level})
        expected = await api_rows(
            client, tenant.admin_token, level, {"dateRange": february}, february
        )
        assert [list(r.values()) for r in rows] == expected
    revenue = await table(client, tenant.admin_token, {**params, "types": "REVENUE"})
    assert [(r["value"], r["target"], r["percent"]) for r in revenue] == [("700", "10", "7000")]


async def test_repeated_parameters_filter_like_goal_filter(client):
    tenant = await export_tenant()
    support = gid("Team", tenant.teams["support"].id)
    rows = await table(client, tenant.admin_token, {"teamIds": support})
    assert {r["contributor_name"] for r in rows} == {"Ana", "Support"}
    query = [("types", "REVENUE"), ("types", "DEALS_CREATED"), ("progressMin", "50")]
    rows = await table(client, tenant.admin_token, query)
    assert sorted(r["contributor_name"] for r in rows) == ["Ana", "Cy"]
    assert [list(r.values()) for r in rows] == await api_rows(
        client,
        tenant.admin_token,
        "contributor",
        {"types": ["REVENUE", "DEALS_CREATED"], "progress": {"min": 50}},
    )
    rows = await table(client, tenant.admin_token, {"search": "revenue", "level": "goal"})
    assert [r["goal_name"] for r in rows] == ["Revenue"]


async def test_the_export_shows_what_the_viewer_may_see(client):
    tenant = await export_tenant()
    cy = await table(client, tenant.tokens["cy"])
    assert [r["contributor_name"] for r in cy] == ["Cy"]
    bob = await table(client, tenant.tokens["bob"])
    # Bob (OWN) reaches neither goal: Ana and the team are not him.
    assert bob == []
    free = await export(client, tenant.tokens["fay"])
    assert free.status_code == 200
    assert free.content.decode().split("\r\n")[1:] == [""]  # the header alone


async def test_pages_of_goals_follow_the_order_without_repeats(client, monkeypatch):
    tenant = await make_tenant()
    ana = await tenant.add_user("ana")
    for number in range(7):
        percent = [D("10"), D("20"), None][number % 3]
        await add_goal(tenant, f"goal {number}", [Share(ana, percent=percent)], percent=percent)
    monkeypatch.setattr(exports, "GOALS_PER_PAGE", 2)
    for order in ({}, {"orderBy": "PROGRESS", "direction": "DESC"}, {"orderBy": "NAME"}):
        rows = await table(client, tenant.admin_token, {"level": "goal", **order})
        goal_order = None
        if order:
            goal_order = {"field": order["orderBy"], "direction": order.get("direction", "ASC")}
        data = await gql(
            client,
            tenant.admin_token,
            "query($o: GoalOrder) { goals(first: 100, orderBy: $o) { edges { node { id } } } }",
            {"o": goal_order},
        )
        assert [r["goal_id"] for r in rows] == [
            e["node"]["id"] for e in data["data"]["goals"]["edges"]
        ]


async def test_without_a_valid_token_it_is_401(client):
    tenant = await export_tenant()
    assert (await export(client, None)).status_code == 401
    response = await export(client, "gls_nope")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await export(client, tenant.admin_token)).status_code == 200


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"level": "team"}, "level"),
        ({"from": "2024-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2024-03-01", "to": "2024-02-01"}, "from"),
        ({"statuses": "DONE"}, "statuses"),
        ({"paceStatuses": "late"}, "paceStatuses"),
        ({"userIds": [gid("User", n) for n in range(1, 503)]}, "userIds"),
        ({"progressMin": "lots"}, "progressMin"),
        ({"progressMax": "Infinity"}, "progressMax"),
        ({"orderBy": "SIZE"}, "orderBy"),
        ({"direction": "UP"}, "direction"),
        ({"level": ["goal", "milestone"]}, "level"),
        ({"colour": "red"}, "colour"),
        ({"search": "a\x00b"}, "search"),
        ({"search": "x" * 201}, "search"),
    ],
)
async def test_a_bad_parameter_is_a_400_naming_it(client, params, parameter):
    tenant = await make_tenant()
    response = await export(client, tenant.admin_token, params)
    assert response.status_code == 400
    body = response.json()
    assert body["parameter"] == parameter
    assert f"`{parameter}`" in body["error"] or parameter == "search"


async def test_names_that_a_spreadsheet_would_run_are_written_as_text(client):
    tenant = await make_tenant()
    await tenant.add_user("ana")
    team = await tenant.add_team("support", ["ana"])
    team.name = "@Support"
    await team.save()
    users = tenant.users
    users["ana"].name = "-Ana"
    await users["ana"].save()
    for name in ('=HYPERLINK("http://x")', "+1", "Net = gross - tax"):
        await add_goal(
            tenant,
            name,
            [Share(users["ana"], D(1), D(2), D(50)), Share(team, D(1), D(2), D(50))],
            start=date(2024, 1, 1),
            end=date(2024, 6, 30),
        )
    rows = await table(client, tenant.admin_token)
    assert {r["goal_name"] for r in rows} == {
        '\'=HYPERLINK("http://x")',
        "'+1",
        "Net = gross - tax",
    }
    assert {r["contributor_name"] for r in rows} == {"'-Ana", "'@Support"}
    assert exports.text_cell("\tx") == "'\tx"
    assert exports.text_cell("") == ""

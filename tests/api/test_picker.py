"""The contributor picker: users and teams found by a part of their name or email."""

from tortoise.transactions import in_transaction

from domain import directory
from domain.enums import Seat
from domain.models import Team, User
from tests.helpers import Tenant, count_queries, gql, make_tenant, op


async def picker_tenant() -> Tenant:
    tenant = await make_tenant()
    for key, seat, active in [
        ("annabel", Seat.PAID, True),
        ("joanne", Seat.PAID, True),
        ("hannah", Seat.FREE, True),  # a free seat cannot be a contributor
        ("anneliese", Seat.PAID, False),  # deactivated
        ("bob", Seat.PAID, True),
    ]:
        await tenant.add_user(key, seat=seat, active=active)
    await tenant.add_team("channel partners", ["annabel"])
    await tenant.add_team("support", ["bob"])
    await tenant.add_team("annas desk", ["joanne"])
    return tenant


def names(connection: dict) -> list[str]:
    return [edge["node"]["name"] for edge in connection["edges"]]


async def test_pick_contributors_leaves_out_free_and_inactive_users(client):
    tenant = await picker_tenant()
    data = await op(client, tenant.admin_token, "PickContributors", {"search": "ANN", "first": 10})
    # "ann" in the name, case-insensitively; Hannah (free) and Anneliese (inactive) left out.
    assert names(data["users"]) == ["Annabel", "Joanne"]
    assert data["users"]["totalCount"] == 2
    assert data["users"]["edges"][0]["node"]["email"] == "annabel@acme.test"
    assert names(data["teams"]) == ["Annas Desk", "Channel Partners"]
    assert data["teams"]["totalCount"] == 2


async def test_pick_contributors_finds_a_part_of_the_email(client):
    tenant = await picker_tenant()
    await tenant.add_user("zed")
    await (
        tenant.users["zed"]
        .filter(id=tenant.users["zed"].id)
        .update(email="z.quinn@partner.example", name="Zed Quinn")
    )
    data = await op(client, tenant.admin_token, "PickContributors", {"search": "Partner.EX"})
    assert names(data["users"]) == ["Zed Quinn"]
    assert data["teams"]["totalCount"] == 0
    # Teams match their name.
    data = await op(client, tenant.admin_token, "PickContributors", {"search": "PARTNER"})
    assert names(data["users"]) == ["Zed Quinn"]
    assert names(data["teams"]) == ["Channel Partners"]
    # Every user's email ends in acme.test.
    data = await op(client, tenant.admin_token, "PickContributors", {"search": "@acme"})
    assert data["users"]["totalCount"] == 4  # admin, annabel, joanne, bob
    assert data["teams"]["totalCount"] == 0


async def test_total_count_counts_matches_across_pages(client):
    tenant = await picker_tenant()
    query = """query($filter: UserFilter, $after: String) {
      users(first: 1, after: $after, filter: $filter) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { name } }
      }
    }"""
    seen, after = [], None
    while True:
        variables = {"filter": {"search": "an"}, "after": after}
        page = (await gql(client, tenant.admin_token, query, variables))["data"]["users"]
        assert page["totalCount"] == 4  # Annabel, Anneliese, Hannah, Joanne
        seen += names(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["Annabel", "Anneliese", "Hannah", "Joanne"]

    for filter, expected in [
        ({"seats": ["FREE"]}, ["Hannah"]),
        ({"active": False}, ["Anneliese"]),
        ({"search": "  ", "seats": []}, None),  # blank: no constraint
        ({"search": "%"}, []),  # LIKE wildcards are plain characters
        ({"search": "_"}, []),
    ]:
        page = (await gql(client, tenant.admin_token, query, {"filter": filter}))["data"]["users"]
        if expected is None:
            assert page["totalCount"] == 6
        else:
            assert (names(page), page["totalCount"]) == (expected, len(expected))


async def test_the_picker_sees_only_its_own_account(client):
    tenant = await picker_tenant()
    other = await make_tenant("Globex")
    await other.add_user("annika")
    data = await op(client, tenant.admin_token, "PickContributors", {"search": "ann"})
    assert "Annika" not in names(data["users"])
    data = await op(client, other.admin_token, "PickContributors", {"search": "ann"})
    assert names(data["users"]) == ["Annika"]


async def test_a_long_search_is_refused(client):
    tenant = await picker_tenant()
    body = await gql(
        client,
        tenant.admin_token,
        "query($s: String!) { users(filter: {search: $s}) { totalCount } }",
        {"s": "a" * 201},
        expect_errors=True,
    )
    assert body["errors"][0]["message"] == "`search` takes at most 200 characters."


async def test_the_picker_costs_the_same_statements_for_any_answer(client):
    tenant = await picker_tenant()
    await op(client, tenant.admin_token, "PickContributors", {"search": "x"})  # token in use
    with count_queries() as few:
        await op(client, tenant.admin_token, "PickContributors", {"search": "bob"})
    with count_queries() as many:
        await op(client, tenant.admin_token, "PickContributors", {"search": "a", "first": 100})
    # The token, then a page and a count each for users and teams.
    assert len(few) == len(many) <= 5


async def test_search_uses_the_trigram_indexes_on_postgres(db):
    if db != "postgres":
        return  # SQLite searches without an index
    # The indexes must match the expressions Tortoise writes for the search.
    users = directory.search_names(User.all(), "annab", with_email=True)
    teams = directory.search_names(Team.all(), "partner", with_email=False)
    async with in_transaction() as tx:
        # An empty table reads fastest in a sequential scan: take that option away.
        await tx.execute_script("SET LOCAL enable_seqscan = off")
        for query, indexes in [
            (users, {"app_user_name_trgm", "app_user_email_trgm"}),
            (teams, {"team_name_trgm"}),
        ]:
            rows = await tx.execute_query_dict(f"EXPLAIN {query.sql(params_inline=True)}")
            plan = "\n".join(row["QUERY PLAN"] for row in rows)
            assert all(index in plan for index in indexes), plan

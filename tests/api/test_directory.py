"""Directory: listing users, teams and pipelines, and the admins' batch upserts."""

from api.ids import to_global_id
from domain.enums import GoalPermission, ObjectType, Seat
from domain.models import Pipeline, Team, TeamMembership, User
from domain.tokens import issue_token
from tests.helpers import count_queries, gql, make_tenant, op

UPSERT_USERS = """
mutation ($items: [UserInput!]!, $allowPartial: Boolean) {
  upsertUsers(input: { items: $items, allowPartial: $allowPartial }) {
    upsertedCount
    userErrors { field code message }
  }
}
"""
UPSERT_TEAMS = """
mutation ($items: [TeamInput!]!, $allowPartial: Boolean) {
  upsertTeams(input: { items: $items, allowPartial: $allowPartial }) {
    upsertedCount
    userErrors { field code message }
  }
}
"""
UPSERT_PIPELINES = """
mutation ($items: [PipelineInput!]!, $allowPartial: Boolean) {
  upsertPipelines(input: { items: $items, allowPartial: $allowPartial }) {
    upsertedCount
    userErrors { field code message }
  }
}
"""


def user_item(key: str, **overrides) -> dict:
    item = {
        "externalId": f"u-{key}",
        "email": f"{key}@acme.test",
        "name": key.title(),
        "seat": "PAID",
        "goalPermission": "TEAM",
        "isAdmin": False,
        "active": True,
    }
    return {**item, **overrides}


async def upsert_users(client, token, items, allow_partial=None) -> dict:
    body = await gql(client, token, UPSERT_USERS, {"items": items, "allowPartial": allow_partial})
    return body["data"]["upsertUsers"]


async def upsert_teams(client, token, items, allow_partial=None) -> dict:
    body = await gql(client, token, UPSERT_TEAMS, {"items": items, "allowPartial": allow_partial})
    return body["data"]["upsertTeams"]


def errors_of(payload: dict) -> list[tuple[tuple[str, ...], str]]:
    return [(tuple(e["field"]), e["code"]) for e in payload["userErrors"]]


# ---------------------------------------------------------------- contract operations


async def test_sync_directory_then_list_it(client):
    tenant = await make_tenant()
    variables = {
        "users": [
            user_item("zoe", seat="FREE", goalPermission="OWN"),
            user_item("ana"),
            {"externalId": "u-bo", "email": "Bo@Acme.test ", "name": "  Bo  "},
        ],
        "teams": [
            {"externalId": "t-eu", "name": "Support EU", "memberExternalIds": ["u-ana", "u-bo"]},
            {"externalId": "t-us", "name": "Support US", "memberExternalIds": []},
        ],
        "pipelines": [
            {"externalId": "p-sup", "objectType": "TICKET", "name": "Support"},
            {"externalId": "p-new", "objectType": "DEAL", "name": "New business"},
        ],
    }
    data = await op(client, tenant.admin_token, "SyncDirectory", variables)
    assert data == {
        "upsertUsers": {"upsertedCount": 3, "userErrors": []},
        "upsertTeams": {"upsertedCount": 2, "userErrors": []},
        "upsertPipelines": {"upsertedCount": 2, "userErrors": []},
    }

    bo = await User.get(account_id=tenant.account.id, external_id="u-bo")
    # Trimmed and lower-cased; the omitted fields take the documented defaults.
    assert (bo.email, bo.name, bo.seat, bo.goal_permission, bo.is_admin, bo.active) == (
        "bo@acme.test",
        "Bo",
        Seat.PAID,
        GoalPermission.OWN,
        False,
        True,
    )
    zoe = await User.get(account_id=tenant.account.id, external_id="u-zoe")
    assert (zoe.seat, zoe.goal_permission) == (Seat.FREE, GoalPermission.OWN)

    listing = await op(client, tenant.admin_token, "Directory")
    users = listing["users"]
    assert users["totalCount"] == 4
    assert [e["node"]["name"] for e in users["edges"]] == ["Admin", "Ana", "Bo", "Zoe"]
    assert users["edges"][3]["node"]["seat"] == "FREE"
    assert users["pageInfo"]["hasNextPage"] is False
    teams = listing["teams"]
    assert teams["totalCount"] == 2
    assert [
        (e["node"]["externalId"], [m["name"] for m in e["node"]["members"]]) for e in teams["edges"]
    ] == [("t-eu", ["Ana", "Bo"]), ("t-us", [])]
    assert [(p["externalId"], p["objectType"]) for p in listing["pipelines"]] == [
        ("p-new", "DEAL"),
        ("p-sup", "TICKET"),
    ]

    ana = await User.get(account_id=tenant.account.id, external_id="u-ana")
    ana_token, _ = await issue_token(ana, "test")
    viewer = (await op(client, ana_token, "Viewer"))["viewer"]
    assert {k: viewer[k] for k in ("externalId", "email", "seat", "goalPermission", "isAdmin")} == {
        "externalId": "u-ana",
        "email": "ana@acme.test",
        "seat": "PAID",
        "goalPermission": "TEAM",
        "isAdmin": False,
    }
    assert [t["name"] for t in viewer["teams"]] == ["Support EU"]


async def test_any_user_lists_only_their_own_account(client):
    tenant = await make_tenant()
    await tenant.add_user("ana", seat=Seat.FREE)
    other = await make_tenant("Globex")
    await other.add_user("zed")
    await other.add_team("rivals", ["zed"])
    await other.add_pipeline("theirs", ObjectType.DEAL)
    listing = await op(client, tenant.tokens["ana"], "Directory")
    assert [e["node"]["name"] for e in listing["users"]["edges"]] == ["Admin", "Ana"]
    assert listing["teams"]["totalCount"] == 0
    assert listing["pipelines"] == []


async def test_users_page_through_by_name_then_id(client):
    tenant = await make_tenant()
    for key in ["dan", "cat", "bea", "amy"]:
        await tenant.add_user(key)
    twin = await User.create(
        account=tenant.account, external_id="x-2", email="amy2@acme.test", name="Amy"
    )
    query = """query ($after: String) { users(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id name } } } }"""
    seen: list[tuple[str, str]] = []
    after = None
    while True:
        page = (await gql(client, tenant.admin_token, query, {"after": after}))["data"]["users"]
        assert page["totalCount"] == 6
        seen += [(e["node"]["name"], e["node"]["id"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [name for name, _ in seen] == ["Admin", "Amy", "Amy", "Bea", "Cat", "Dan"]
    # Same names order by id: the older Amy first.
    assert [seen[1][1], seen[2][1]] == [
        to_global_id("User", tenant.users["amy"].id),
        to_global_id("User", twin.id),
    ]
    assert len({gid for _, gid in seen}) == 6


async def test_listing_costs_the_same_statements_for_one_or_many_teams(client):
    tenant = await make_tenant()
    await tenant.add_user("ana")
    await tenant.add_team("solo", ["ana"])
    await op(client, tenant.admin_token, "Viewer")  # the token's lastUsedAt is written once
    with count_queries() as one:
        await op(client, tenant.admin_token, "Directory")
    for index in range(30):
        key = f"u{index}"
        await tenant.add_user(key)
        await tenant.add_team(f"team{index}", [key, "ana"])
    with count_queries() as many:
        data = await op(client, tenant.admin_token, "Directory")
    assert data["teams"]["totalCount"] == 31
    assert all(len(e["node"]["members"]) >= 1 for e in data["teams"]["edges"])
    assert len(many) == len(one)


# ---------------------------------------------------------------- users


async def test_second_upsert_updates_and_keeps_omitted_fields(client):
    tenant = await make_tenant()
    first = await upsert_users(client, tenant.admin_token, [user_item("ana", isAdmin=True)])
    assert first == {"upsertedCount": 1, "userErrors": []}
    second = await upsert_users(
        client,
        tenant.admin_token,
        [{"externalId": "u-ana", "email": "ana.new@acme.test", "name": "Ana Nowak"}],
    )
    assert second == {"upsertedCount": 1, "userErrors": []}
    rows = await User.filter(account_id=tenant.account.id, external_id="u-ana")
    assert len(rows) == 1
    ana = rows[0]
    assert (ana.email, ana.name) == ("ana.new@acme.test", "Ana Nowak")
    assert (ana.goal_permission, ana.is_admin) == (GoalPermission.TEAM, True)


async def test_every_bad_item_is_reported_and_nothing_applied(client):
    tenant = await make_tenant()
    await tenant.add_user("bob")  # bob@acme.test
    items = [
        user_item("ana"),
        user_item("cid", email="not-an-email"),
        user_item("dee", email="ANA@acme.test"),  # same as item 0, case aside
        user_item("eve", email="bob@acme.test"),  # a stored user's email
        user_item("ana", email="ana2@acme.test"),  # item 0's external id again
        user_item("fay", name="   "),
        user_item("gus", name="x" * 201),
        user_item("hal", externalId="e" * 201),
        user_item("ivy", email=("i" * 311) + "@acme.test"),  # 321 characters
    ]
    payload = await upsert_users(client, tenant.admin_token, items)
    assert payload["upsertedCount"] == 0
    assert sorted(errors_of(payload)) == sorted(
        [
            (("input", "items", "1", "email"), "INVALID"),
            (("input", "items", "2", "email"), "DUPLICATE"),
            (("input", "items", "3", "email"), "DUPLICATE"),
            (("input", "items", "4", "externalId"), "DUPLICATE"),
            (("input", "items", "5", "name"), "REQUIRED"),
            (("input", "items", "6", "name"), "INVALID"),
            (("input", "items", "7", "externalId"), "INVALID"),
            (("input", "items", "8", "email"), "INVALID"),
        ]
    )
    assert all(e["message"] for e in payload["userErrors"])
    assert await User.filter(account_id=tenant.account.id).count() == 2  # admin and bob


async def test_allow_partial_applies_the_good_items(client):
    tenant = await make_tenant()
    items = [
        user_item("ana"),
        user_item("bob", email="bob@"),
        user_item("cid"),
        user_item("dee", email="cid@acme.test"),
    ]
    payload = await upsert_users(client, tenant.admin_token, items, allow_partial=True)
    assert payload["upsertedCount"] == 2
    assert sorted(errors_of(payload)) == [
        (("input", "items", "1", "email"), "INVALID"),
        (("input", "items", "3", "email"), "DUPLICATE"),
    ]
    stored = (
        await User.filter(account_id=tenant.account.id)
        .order_by("id")
        .values_list("external_id", flat=True)
    )
    assert stored == ["ext-admin", "u-ana", "u-cid"]


async def test_users_may_swap_emails_in_one_batch(client):
    tenant = await make_tenant()
    await upsert_users(client, tenant.admin_token, [user_item("ana"), user_item("bob")])
    swapped = [
        user_item("ana", email="bob@acme.test"),
        user_item("bob", email="ana@acme.test"),
        user_item("cid", email="cid@acme.test"),
    ]
    payload = await upsert_users(client, tenant.admin_token, swapped)
    assert payload == {"upsertedCount": 3, "userErrors": []}
    emails = dict(
        await User.filter(account_id=tenant.account.id).values_list("external_id", "email")
    )
    assert emails["u-ana"] == "bob@acme.test"
    assert emails["u-bob"] == "ana@acme.test"


async def test_a_user_without_external_id_is_adopted_by_email(client):
    tenant = await make_tenant()
    bootstrap = await User.create(
        account=tenant.account, email="ops@acme.test", name="Ops", is_admin=True
    )
    payload = await upsert_users(
        client,
        tenant.admin_token,
        [{"externalId": "u-ops", "email": "Ops@acme.test", "name": "Ops Team"}],
    )
    assert payload == {"upsertedCount": 1, "userErrors": []}
    await bootstrap.refresh_from_db()
    assert (bootstrap.external_id, bootstrap.name, bootstrap.is_admin) == (
        "u-ops",
        "Ops Team",
        True,
    )
    assert await User.filter(account_id=tenant.account.id).count() == 2


async def test_an_admin_cannot_lock_themselves_out(client):
    tenant = await make_tenant()
    payload = await upsert_users(
        client,
        tenant.admin_token,
        [{"externalId": "ext-admin", "email": "admin@acme.test", "name": "A", "active": False}],
    )
    assert errors_of(payload) == [(("input", "items", "0", "active"), "INVALID")]
    await tenant.admin.refresh_from_db()
    assert tenant.admin.active is True


async def test_the_same_external_id_in_two_accounts_are_two_users(client):
    tenant = await make_tenant()
    other = await make_tenant("Globex")
    await upsert_users(client, other.admin_token, [user_item("ana", name="Globex Ana")])
    await upsert_users(client, tenant.admin_token, [user_item("ana", name="Acme Ana")])
    names = (
        await User.filter(external_id="u-ana").order_by("account_id").values_list("name", flat=True)
    )
    assert names == ["Acme Ana", "Globex Ana"]


async def test_deactivated_users_tokens_stop_working(client):
    tenant = await make_tenant()
    await tenant.add_user("ana")
    assert (
        await client.post(
            "/graphql",
            json={"query": "{ viewer { id } }"},
            headers={"Authorization": f"Bearer {tenant.tokens['ana']}"},
        )
    ).status_code == 200
    payload = await upsert_users(
        client,
        tenant.admin_token,
        [{"externalId": "ext-ana", "email": "ana@acme.test", "name": "Ana", "active": False}],
    )
    assert payload["upsertedCount"] == 1
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"Authorization": f"Bearer {tenant.tokens['ana']}"},
    )
    assert response.status_code == 401


# ---------------------------------------------------------------- teams and pipelines


async def test_member_list_replaces_the_membership(client):
    tenant = await make_tenant()
    for key in ["ana", "bob", "cid"]:
        await tenant.add_user(key)
    await upsert_teams(
        client,
        tenant.admin_token,
        [{"externalId": "t-1", "name": "One", "memberExternalIds": ["ext-ana", "ext-bob"]}],
    )
    payload = await upsert_teams(
        client,
        tenant.admin_token,
        [
            {
                "externalId": "t-1",
                "name": "One renamed",
                "memberExternalIds": ["ext-cid", "ext-bob", "ext-cid"],
            },
            {"externalId": "t-2", "name": "Two", "memberExternalIds": ["ext-ana"]},
        ],
    )
    assert payload == {"upsertedCount": 2, "userErrors": []}
    team = await Team.get(account_id=tenant.account.id, external_id="t-1")
    assert team.name == "One renamed"
    members = await TeamMembership.filter(team_id=team.id).values_list("user__name", flat=True)
    assert sorted(members) == ["Bob", "Cid"]
    # Leaving the member list out keeps the membership.
    await upsert_teams(client, tenant.admin_token, [{"externalId": "t-1", "name": "One"}])
    assert await TeamMembership.filter(team_id=team.id).count() == 2


async def test_unknown_or_foreign_member_is_not_found_at_its_position(client):
    tenant = await make_tenant()
    await tenant.add_user("ana")
    other = await make_tenant("Globex")
    await other.add_user("zed")
    payload = await upsert_teams(
        client,
        tenant.admin_token,
        [
            {"externalId": "t-1", "name": "One", "memberExternalIds": ["ext-ana", "ext-zed"]},
            {"externalId": "t-2", "name": "Two", "memberExternalIds": ["ext-ana", "nobody"]},
        ],
    )
    assert payload["upsertedCount"] == 0
    assert errors_of(payload) == [
        (("input", "items", "0", "memberExternalIds", "1"), "NOT_FOUND"),
        (("input", "items", "1", "memberExternalIds", "1"), "NOT_FOUND"),
    ]
    assert await Team.filter(account_id=tenant.account.id).count() == 0


async def test_pipelines_upsert_and_keep_their_object_type(client):
    tenant = await make_tenant()
    first = await gql(
        client,
        tenant.admin_token,
        UPSERT_PIPELINES,
        {"items": [{"externalId": "p-1", "objectType": "DEAL", "name": "New"}]},
    )
    assert first["data"]["upsertPipelines"]["upsertedCount"] == 1
    second = await gql(
        client,
        tenant.admin_token,
        UPSERT_PIPELINES,
        {
            "items": [
                {"externalId": "p-1", "objectType": "TICKET", "name": "Changed"},
                {"externalId": "p-2", "objectType": "TICKET", "name": "Support"},
            ],
            "allowPartial": True,
        },
    )
    payload = second["data"]["upsertPipelines"]
    assert payload["upsertedCount"] == 1
    assert errors_of(payload) == [(("input", "items", "0", "objectType"), "IMMUTABLE")]
    stored = await Pipeline.filter(account_id=tenant.account.id).order_by("external_id")
    assert [(p.external_id, p.object_type, p.name) for p in stored] == [
        ("p-1", ObjectType.DEAL, "New"),
        ("p-2", ObjectType.TICKET, "Support"),
    ]


# ---------------------------------------------------------------- limits and permissions


async def test_non_admins_cannot_sync_the_directory(client):
    tenant = await make_tenant()
    await tenant.add_user("ana", permission=GoalPermission.ALL)
    token = tenant.tokens["ana"]
    users = await upsert_users(client, token, [user_item("bob")])
    teams = await upsert_teams(client, token, [{"externalId": "t", "name": "T"}])
    pipelines = (
        await gql(
            client,
            token,
            UPSERT_PIPELINES,
            {"items": [{"externalId": "p", "objectType": "DEAL", "name": "P"}]},
        )
    )["data"]["upsertPipelines"]
    for payload in (users, teams, pipelines):
        assert payload["upsertedCount"] == 0
        assert errors_of(payload) == [(("input",), "FORBIDDEN")]
    assert await User.filter(account_id=tenant.account.id).count() == 2
    assert await Team.all().count() == 0
    assert await Pipeline.all().count() == 0


async def test_batches_hold_1000_items_at_most(client):
    tenant = await make_tenant()
    items = [user_item(f"n{i}") for i in range(1001)]
    payload = await upsert_users(client, tenant.admin_token, items, allow_partial=True)
    assert payload["upsertedCount"] == 0
    assert errors_of(payload) == [(("input", "items"), "TOO_MANY")]
    assert await User.filter(account_id=tenant.account.id).count() == 1
    empty = await upsert_users(client, tenant.admin_token, [])
    assert errors_of(empty) == [(("input", "items"), "INVALID")]


async def test_a_thousand_items_take_as_many_statements_as_one(client):
    tenant = await make_tenant()
    await op(client, tenant.admin_token, "Viewer")  # the token's lastUsedAt is written once
    with count_queries() as one:
        await upsert_users(client, tenant.admin_token, [user_item("solo")])
    many_items = [user_item(f"n{i:04}") for i in range(1000)]
    with count_queries() as many:
        payload = await upsert_users(client, tenant.admin_token, many_items)
    assert payload == {"upsertedCount": 1000, "userErrors": []}
    assert len(many) == len(one)
    # Updating them all (and swapping two addresses) stays within a small constant.
    many_items[0]["email"], many_items[1]["email"] = many_items[1]["email"], many_items[0]["email"]
    with count_queries() as updates:
        payload = await upsert_users(client, tenant.admin_token, many_items)
    assert payload == {"upsertedCount": 1000, "userErrors": []}
    assert len(updates) <= len(one) + 1
    assert await User.filter(account_id=tenant.account.id).count() == 1002

    teams = [
        {"externalId": f"t{i}", "name": f"T{i}", "memberExternalIds": [f"u-n{i:04}", "u-solo"]}
        for i in range(1000)
    ]
    with count_queries() as one_team:
        await upsert_teams(client, tenant.admin_token, teams[:1])
    with count_queries() as many_teams:
        payload = await upsert_teams(client, tenant.admin_token, teams)
    assert payload == {"upsertedCount": 1000, "userErrors": []}
    assert len(many_teams) == len(one_team)
    assert await TeamMembership.filter(account_id=tenant.account.id).count() == 2000

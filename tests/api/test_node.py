"""`node(id)` and `nodes(ids)`: any object by its global id, within the viewer's account and
reach; everything else is null, whatever the reason."""

import base64

from api.ids import to_global_id
from api.limits import MAX_NODES
from domain.enums import Channel, DeliveryState, GoalPermission, NotificationKind, ObjectType
from domain.models import ApiToken, ContributorGoal, Milestone, Notification
from tests.api.test_goal_queries import add_goal
from tests.helpers import Tenant, count_queries, gql, make_tenant, op

NODE = """query($id: ID!) {
  node(id: $id) { __typename id ... on Goal { name } ... on User { name } }
}"""
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


def gid(type_name: str, pk: int) -> str:
    return str(to_global_id(type_name, pk))


async def notification(tenant: Tenant, key: str, recipient: str, channel: Channel, state):
    return await Notification.create(
        account=tenant.account,
        recipient=tenant.users[recipient],
        kind=NotificationKind.GOAL_ASSIGNED,
        channel=channel,
        dedupe_key=f"{tenant.account.name}:{key}",
        state=state,
    )


async def acme() -> tuple[Tenant, dict[str, str]]:
    """Ana (OWN) and Bob (OWN) each with a goal of their own; one global id of every kind, the
    keys naming what each is."""
    tenant = await make_tenant()
    ana = await tenant.add_user("ana", permission=GoalPermission.OWN)
    bob = await tenant.add_user("bob", permission=GoalPermission.OWN)
    team = await tenant.add_team("support", ["ana", "bob"])
    pipeline = await tenant.add_pipeline("tickets", ObjectType.TICKET)
    ids: dict[str, str] = {}
    for person in (ana, bob):
        goal = await add_goal(tenant, f"{person.name}'s deals", [person])
        contributor_goal = await ContributorGoal.get(goal=goal)
        milestone = await Milestone.filter(contributor_goal=contributor_goal).first()
        assert milestone is not None
        key = person.name.lower()
        ids[f"{key}-goal"] = gid("Goal", goal.id)
        ids[f"{key}-contributor-goal"] = gid("ContributorGoal", contributor_goal.id)
        ids[f"{key}-milestone"] = gid("Milestone", milestone.id)
        ids[key] = gid("User", person.id)
        token = await ApiToken.get(user=person)
        ids[f"{key}-token"] = gid("ApiToken", token.id)
        in_app = await notification(tenant, key, key, Channel.IN_APP, DeliveryState.SENT)
        ids[f"{key}-notification"] = gid("Notification", in_app.id)
    ids["team"] = gid("Team", team.id)
    ids["pipeline"] = gid("Pipeline", pipeline.id)
    ids["account"] = gid("Account", tenant.account.id)
    failed = await notification(tenant, "failed", "bob", Channel.EMAIL, DeliveryState.FAILED)
    ids["failed-delivery"] = gid("Notification", failed.id)
    return tenant, ids


async def nodes(client, token: str, ids: list[str]) -> list[dict | None]:
    return (await gql(client, token, NODES, {"ids": ids}))["data"]["nodes"]


async def test_every_kind_of_object_through_node_and_nodes(client):
    tenant, ids = await acme()
    data = await op(client, tenant.tokens["ana"], "NodeLookup", {"ids": list(ids.values())})
    shown = {key: node and node["__typename"] for key, node in zip(ids, data["nodes"], strict=True)}
    assert shown == {
        "ana-goal": "Goal",
        "ana-contributor-goal": "ContributorGoal",
        "ana-milestone": "Milestone",
        "ana": "User",
        "ana-token": "ApiToken",
        "ana-notification": "Notification",
        # Bob's goal is out of Ana's reach (OWN), and so is all under it; his token and his
        # notifications are his; Bob himself is in the directory every user may list.
        "bob-goal": None,
        "bob-contributor-goal": None,
        "bob-milestone": None,
        "bob": "User",
        "bob-token": None,
        "bob-notification": None,
        "team": "Team",
        "pipeline": "Pipeline",
        "account": "Account",
        "failed-delivery": None,
    }
    for key, node in zip(ids, data["nodes"], strict=True):
        if node is not None:
            assert node["id"] == ids[key]
    by_key = dict(zip(ids, data["nodes"], strict=True))
    assert by_key["ana-goal"]["name"] == "Ana's deals"
    assert by_key["ana-contributor-goal"]["goal"] == {"id": ids["ana-goal"]}
    assert by_key["ana-milestone"]["index"] == 0
    assert by_key["ana"]["name"] == "Ana"
    assert by_key["team"]["name"] == "Support"
    assert by_key["pipeline"]["name"] == "tickets"

    for key, expected in shown.items():
        one = await op(client, tenant.tokens["ana"], "NodeOne", {"id": ids[key]})
        assert (one["node"] and one["node"]["__typename"]) == expected, key
        if expected is not None:
            assert one["node"]["id"] == ids[key]


async def test_an_admin_reaches_every_goal_token_and_failed_delivery(client):
    tenant, ids = await acme()
    found = await nodes(client, tenant.admin_token, list(ids.values()))
    shown = {key: node and node["__typename"] for key, node in zip(ids, found, strict=True)}
    assert shown["bob-goal"] == "Goal"
    assert shown["bob-contributor-goal"] == "ContributorGoal"
    assert shown["bob-milestone"] == "Milestone"
    assert shown["bob-token"] == "ApiToken"
    assert shown["failed-delivery"] == "NotificationDelivery"
    # Other users' in-app notifications stay theirs, admin or not.
    assert shown["bob-notification"] is None and shown["ana-notification"] is None


async def test_another_accounts_ids_are_null(client):
    tenant, ids = await acme()
    other = await make_tenant("Globex")
    assert await nodes(client, other.admin_token, list(ids.values())) == [None] * len(ids)
    for global_id in ids.values():
        data = (await gql(client, other.admin_token, NODE, {"id": global_id}))["data"]
        assert data == {"node": None}


async def test_malformed_ids_are_null_and_never_an_error(client):
    tenant, ids = await acme()
    malformed = [
        "",
        "not base64 at all!",
        "Z29hbA",  # "goal" without a colon
        base64.urlsafe_b64encode(b"Goal:abc").decode(),
        base64.urlsafe_b64encode(b"Goal:-1").decode(),
        base64.urlsafe_b64encode(b"Goal:99999999999").decode(),
        base64.urlsafe_b64encode(b"Nothing:1").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe:1").decode(),
        gid("Goal", 999_999),
        "x" * 1_000,
    ]
    found = await nodes(client, tenant.admin_token, malformed)
    assert found == [None] * len(malformed)
    for global_id in malformed:
        body = await gql(client, tenant.admin_token, NODE, {"id": global_id})
        assert body == {"data": {"node": None}}


async def test_order_and_repeats_are_kept(client):
    tenant, ids = await acme()
    asked = [ids["team"], "nonsense", ids["ana-goal"], ids["team"], ids["bob"], ids["ana-goal"]]
    found = await nodes(client, tenant.tokens["ana"], asked)
    assert [node and node["id"] for node in found] == [
        ids["team"],
        None,
        ids["ana-goal"],
        ids["team"],
        ids["bob"],
        ids["ana-goal"],
    ]


async def test_at_most_a_hundred_ids(client):
    tenant, ids = await acme()
    hundred = [ids["team"]] * MAX_NODES
    assert len(await nodes(client, tenant.admin_token, hundred)) == MAX_NODES
    body = await gql(
        client, tenant.admin_token, NODES, {"ids": hundred + [ids["team"]]}, expect_errors=True
    )
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == [f"At most {MAX_NODES} ids a call."]


async def test_nodes_sends_as_many_statements_for_a_hundred_ids_as_for_one_of_each(client):
    tenant, ids = await acme()
    for n in range(12):
        person = await tenant.add_user(f"person{n}", permission=GoalPermission.OWN)
        goal = await add_goal(tenant, f"Goal {n}", [person, tenant.teams["support"]])
        ids[f"goal{n}"] = gid("Goal", goal.id)
        for contributor_goal in await ContributorGoal.filter(goal=goal):
            ids[f"cg{contributor_goal.id}"] = gid("ContributorGoal", contributor_goal.id)
            for milestone in await Milestone.filter(contributor_goal=contributor_goal):
                ids[f"m{milestone.id}"] = gid("Milestone", milestone.id)
        ids[f"person{n}"] = gid("User", person.id)
    many = list(ids.values())[:MAX_NODES]
    one_of_each = list(dict.fromkeys(ids.values()))[:16]  # the first fixture's: every kind

    async def statements(asked: list[str]) -> tuple[int, list]:
        with count_queries() as sent:
            data = await op(client, tenant.admin_token, "NodeLookup", {"ids": asked})
        return len(sent), data["nodes"]

    # The token's first use this minute writes its last use; another query, so that the
    # measured ones are not answered from the response cache.
    await gql(client, tenant.admin_token, "{ viewer { id } }")
    few, few_found = await statements(one_of_each)
    lots, lots_found = await statements(many)
    # Everything but the two users' in-app notifications, which are theirs alone.
    assert [node is None for node in few_found].count(True) == 2
    assert len(many) == MAX_NODES and [node is None for node in lots_found].count(True) == 2
    assert lots == few, (lots, few)

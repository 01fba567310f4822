"""Notifications as users meet them: written by goal changes and refresh outcomes, listed by
``viewer.notifications``, marked read, and failed deliveries for admins."""

from decimal import Decimal

from api.ids import to_global_id
from domain.enums import Channel, DeliveryState, GoalStatus, Seat
from domain.models import ContributorGoal, Milestone, Notification
from domain.notifications.outbox import Outcome, record_outcomes
from tests.helpers import count_queries, gql, make_tenant, op
from tests.notification_helpers import create_goal, pk, rows_of

NAME = "Call more customers"


async def _tenant():
    tenant = await make_tenant()
    await tenant.add_user("ana")
    await tenant.add_user("bob")
    await tenant.add_user("cid", seat=Seat.FREE)
    await tenant.add_user("dee", active=False)
    await tenant.add_team("sales", ["bob", "cid", "dee"])
    return tenant


async def _my_notifications(client, token, **variables):
    data = await op(client, token, "MyNotifications", variables)
    return data["viewer"]["notifications"]


async def test_assignment_reaches_user_and_active_team_members_on_every_channel(client):
    tenant = await _tenant()
    await create_goal(
        client,
        tenant.admin_token,
        user_ids=[tenant.users["ana"].id],
        team_ids=[tenant.teams["sales"].id],
    )

    ana = await _my_notifications(client, tenant.tokens["ana"])
    assert ana["totalCount"] == 1
    node = ana["edges"][0]["node"]
    assert node["kind"] == "GOAL_ASSIGNED"
    assert node["readAt"] is None
    assert node["milestoneIndex"] is None
    assert node["message"] == (
        f"You were assigned the goal “{NAME}” (2026-01-01 to 2026-03-31) with a target of 60."
    )
    assert node["goal"]["name"] == NAME

    bob = await _my_notifications(client, tenant.tokens["bob"])
    assert [e["node"]["message"] for e in bob["edges"]] == [
        f"Your team Sales was assigned the goal “{NAME}” (2026-01-01 to 2026-03-31) "
        "with a target of 60."
    ]
    # A FREE seat sees the message, not the goal it cannot open.
    cid = await _my_notifications(client, tenant.tokens["cid"])
    assert cid["totalCount"] == 1
    assert cid["edges"][0]["node"]["goal"] is None
    # An inactive member is left out; nobody else hears of it.
    assert await rows_of(tenant.users["dee"].id) == []
    assert await rows_of(tenant.admin.id) == []

    rows = await rows_of(tenant.users["ana"].id)
    assert {(r.channel, r.state) for r in rows} == {
        (Channel.IN_APP, DeliveryState.SENT),
        (Channel.EMAIL, DeliveryState.PENDING),
    }


async def test_webhook_rows_only_when_the_account_has_a_webhook(client):
    tenant = await _tenant()
    tenant.account.webhook_url = "https://hooks.example.com/goals"
    await tenant.account.save()
    await create_goal(client, tenant.admin_token, user_ids=[tenant.users["ana"].id])
    channels = sorted(r.channel for r in await rows_of(tenant.users["ana"].id))
    assert channels == [Channel.EMAIL, Channel.IN_APP, Channel.WEBHOOK]


async def test_kinds_the_goal_did_not_turn_on_are_not_written(client):
    tenant = await _tenant()
    await create_goal(
        client, tenant.admin_token, user_ids=[tenant.users["ana"].id], notify=["GOAL_COMPLETED"]
    )
    assert await Notification.all().count() == 0


async def test_every_target_edit_notifies_again(client):
    tenant = await _tenant()
    goal = await create_goal(
        client, tenant.admin_token, user_ids=[tenant.users["ana"].id], notify=["TARGETS_CHANGED"]
    )
    for amount in ("5", "7"):
        data = await op(
            client,
            tenant.admin_token,
            "ApplyGoalTargets",
            {"input": {"goalId": goal["id"], "amount": amount}},
        )
        assert data["applyGoalTargets"]["userErrors"] == []

    page = await _my_notifications(client, tenant.tokens["ana"])
    # Newest first: 7 on each of 3 milestones, then 5 on each.
    assert [e["node"]["message"] for e in page["edges"]] == [
        f"Your targets for “{NAME}” changed: 21 in total.",
        f"Your targets for “{NAME}” changed: 15 in total.",
    ]
    assert await Notification.filter(channel=Channel.EMAIL).count() == 2


async def _finish_first_quarter(goal_id: int) -> ContributorGoal:
    """What a refresh after the end would have written for ana: 12 of 10, 5 of 20, 30 of 30."""
    cg = await ContributorGoal.get(goal_id=goal_id)
    for index, value in ((0, 12), (1, 5), (2, 30)):
        await Milestone.filter(contributor_goal_id=cg.id, index=index).update(
            value=Decimal(value), final=True
        )
    await ContributorGoal.filter(id=cg.id).update(value=Decimal(47), final=True)
    return cg


async def test_outcomes_notify_once_however_often_the_refresh_runs(client):
    tenant = await _tenant()
    goal = await create_goal(
        client,
        tenant.admin_token,
        user_ids=[tenant.users["ana"].id],
        notify=["MILESTONE_ACHIEVED", "MILESTONE_MISSED", "GOAL_COMPLETED"],
    )
    cg = await _finish_first_quarter(pk(goal["id"], "Goal"))
    outcomes = [
        Outcome(cg.id, 0, GoalStatus.EXCEEDED),
        Outcome(cg.id, 1, GoalStatus.MISSED),
        Outcome(cg.id, 2, GoalStatus.ACHIEVED),
        Outcome(cg.id, None, GoalStatus.MISSED),
    ]
    first = await record_outcomes(tenant.account.id, outcomes)
    again = await record_outcomes(tenant.account.id, outcomes)
    assert len(first) == 4  # one email each; in-app rows need no delivery
    assert again == []

    page = await _my_notifications(client, tenant.tokens["ana"])
    assert page["totalCount"] == 4
    got = [
        (e["node"]["kind"], e["node"]["milestoneIndex"], e["node"]["message"])
        for e in page["edges"]
    ]
    assert got == [
        ("GOAL_COMPLETED", None, f"The goal “{NAME}” ended missed: 47 against a target of 60."),
        (
            "MILESTONE_ACHIEVED",
            2,
            f"Milestone 3 (2026-03-01 to 2026-03-31) of “{NAME}” was achieved: "
            "30 against a target of 30.",
        ),
        (
            "MILESTONE_MISSED",
            1,
            f"Milestone 2 (2026-02-01 to 2026-02-28) of “{NAME}” was missed: "
            "5 against a target of 20.",
        ),
        (
            "MILESTONE_ACHIEVED",
            0,
            f"Milestone 1 (2026-01-01 to 2026-01-31) of “{NAME}” was exceeded: "
            "12 against a target of 10.",
        ),
    ]


async def test_only_the_user_reads_their_notifications(client):
    tenant = await _tenant()
    await create_goal(client, tenant.admin_token, user_ids=[tenant.users["ana"].id])
    query = """query($first: Int) { users(first: $first) { edges { node { email
        notifications { totalCount } } } } }"""
    body = await gql(client, tenant.tokens["ana"], query, {"first": 100})
    seen = {e["node"]["email"]: e["node"]["notifications"] for e in body["data"]["users"]["edges"]}
    assert seen["ana@acme.test"] == {"totalCount": 1}
    assert seen["admin@acme.test"] is None
    assert seen["bob@acme.test"] is None


async def test_mark_read_changes_only_own_notifications_and_all_or_nothing(client):
    tenant = await _tenant()
    await create_goal(
        client,
        tenant.admin_token,
        user_ids=[tenant.users["ana"].id, tenant.users["bob"].id],
        notify=["GOAL_ASSIGNED"],
    )
    ana_id = (await _my_notifications(client, tenant.tokens["ana"]))["edges"][0]["node"]["id"]
    bob_id = (await _my_notifications(client, tenant.tokens["bob"]))["edges"][0]["node"]["id"]

    data = await op(
        client,
        tenant.tokens["ana"],
        "MarkNotificationsRead",
        {"ids": [ana_id, bob_id, "garbage", to_global_id("Goal", 1)]},
    )
    errors = data["markNotificationsRead"]["userErrors"]
    assert data["markNotificationsRead"]["updatedCount"] == 0
    assert [(e["field"], e["code"]) for e in errors] == [
        (["ids", "1"], "NOT_FOUND"),
        (["ids", "2"], "NOT_FOUND"),
        (["ids", "3"], "NOT_FOUND"),
    ]
    assert (await _my_notifications(client, tenant.tokens["ana"], unreadOnly=True))[
        "totalCount"
    ] == 1

    data = await op(client, tenant.tokens["ana"], "MarkNotificationsRead", {"ids": [ana_id]})
    assert data["markNotificationsRead"] == {"updatedCount": 1, "userErrors": []}
    again = await op(client, tenant.tokens["ana"], "MarkNotificationsRead", {"ids": [ana_id]})
    assert again["markNotificationsRead"] == {"updatedCount": 0, "userErrors": []}

    assert (await _my_notifications(client, tenant.tokens["ana"], unreadOnly=True))[
        "totalCount"
    ] == 0
    listed = await _my_notifications(client, tenant.tokens["ana"])
    assert listed["edges"][0]["node"]["readAt"] is not None
    # Bob's stays unread.
    assert (await _my_notifications(client, tenant.tokens["bob"], unreadOnly=True))[
        "totalCount"
    ] == 1


async def test_pages_and_goal_gone(client):
    tenant = await _tenant()
    ana = tenant.users["ana"].id
    for n in range(3):
        await create_goal(
            client, tenant.admin_token, name=f"Goal {n}", user_ids=[ana], notify=["GOAL_ASSIGNED"]
        )
    first = await _my_notifications(client, tenant.tokens["ana"], first=2)
    assert first["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["goal"]["name"] for e in first["edges"]] == ["Goal 2", "Goal 1"]
    rest = await _my_notifications(
        client, tenant.tokens["ana"], first=2, after=first["pageInfo"]["endCursor"]
    )
    assert rest["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["goal"]["name"] for e in rest["edges"]] == ["Goal 0"]

    deleted = await gql(
        client,
        tenant.admin_token,
        "mutation ($ids: [ID!]!) { deleteGoals(ids: $ids) { userErrors { code } } }",
        {"ids": [rest["edges"][0]["node"]["goal"]["id"]]},
    )
    assert deleted["data"]["deleteGoals"]["userErrors"] == []
    rest = await _my_notifications(
        client, tenant.tokens["ana"], first=2, after=first["pageInfo"]["endCursor"]
    )
    assert rest["edges"][0]["node"]["goal"] is None
    assert "Goal 0" in rest["edges"][0]["node"]["message"]

    body = await gql(
        client,
        tenant.tokens["ana"],
        "{ viewer { notifications(first: 101) { totalCount } } }",
        expect_errors=True,
    )
    assert "between 0 and 100" in body["errors"][0]["message"]


async def test_statements_per_page_do_not_grow_with_page_size(client):
    tenant = await _tenant()
    ana = tenant.users["ana"].id

    async def statements(first: int) -> int:
        with count_queries() as seen:
            page = await _my_notifications(client, tenant.tokens["ana"], first=first)
        assert len(page["edges"]) == first
        return len(seen)

    for n in range(12):
        await create_goal(
            client, tenant.admin_token, name=f"Goal {n}", user_ids=[ana], notify=["GOAL_ASSIGNED"]
        )
    await statements(1)  # the token's first use of the day writes last_used_at
    assert await statements(2) == await statements(12)


async def test_failed_deliveries_are_listed_for_admins_only(client):
    tenant = await _tenant()
    await create_goal(
        client, tenant.admin_token, user_ids=[tenant.users["ana"].id], notify=["GOAL_ASSIGNED"]
    )
    await Notification.filter(channel=Channel.EMAIL).update(
        state=DeliveryState.FAILED, attempts=8, last_error="SMTPResponseException: 451 busy"
    )
    query = """{ failedNotifications(first: 10) { totalCount edges { node {
        kind channel state attempts lastError message recipient { email } goal { name } } } } }"""
    data = (await gql(client, tenant.admin_token, query))["data"]["failedNotifications"]
    assert data["totalCount"] == 1
    assert data["edges"][0]["node"] == {
        "kind": "GOAL_ASSIGNED",
        "channel": "EMAIL",
        "state": "FAILED",
        "attempts": 8,
        "lastError": "SMTPResponseException: 451 busy",
        "message": (
            f"You were assigned the goal “{NAME}” (2026-01-01 to 2026-03-31) with a target of 60."
        ),
        "recipient": {"email": "ana@acme.test"},
        "goal": {"name": NAME},
    }
    body = await gql(client, tenant.tokens["ana"], query, expect_errors=True)
    assert body["data"] is None
    assert body["errors"][0]["message"] == "Only admins can list failed notifications."


async def test_notifications_never_cross_accounts(client):
    tenant = await _tenant()
    other = await make_tenant("Other")
    await other.add_user("ana")
    await create_goal(
        client, tenant.admin_token, user_ids=[tenant.users["ana"].id], notify=["GOAL_ASSIGNED"]
    )
    assert (await _my_notifications(client, other.tokens["ana"]))["totalCount"] == 0
    own = await _my_notifications(client, tenant.tokens["ana"])
    data = await op(
        client,
        other.tokens["ana"],
        "MarkNotificationsRead",
        {"ids": [own["edges"][0]["node"]["id"]]},
    )
    assert data["markNotificationsRead"]["userErrors"][0]["code"] == "NOT_FOUND"
    failed = await gql(client, other.admin_token, "{ failedNotifications { totalCount } }")
    assert failed["data"]["failedNotifications"]["totalCount"] == 0

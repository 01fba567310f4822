"""Milestone values per goal type, computed by the refresh from records, checked against
numbers worked out by hand (on SQLite, and on PostgreSQL when configured: the same numbers)."""

from decimal import Decimal

from domain.enums import EngagementKind, GoalType, ObjectType
from domain.models import ContributorGoal, Goal, Milestone, TeamMembership
from domain.progress import refresh_account
from tests.helpers import make_tenant
from tests.workers.refresh_support import (
    create_goal,
    deal,
    engagement,
    milestone_values,
    ticket,
    utc,
)

NOW = utc(2024, 4, 15, 12)  # after Q1 2024, before it would matter for April goals


async def test_closed_tickets_straddling_milestone_boundaries(client) -> None:
    tenant = await make_tenant()
    ann = await tenant.add_user("ann")
    bob = await tenant.add_user("bob")
    support = await tenant.add_pipeline("support", ObjectType.TICKET)
    other = await tenant.add_pipeline("other", ObjectType.TICKET)
    goal = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CLOSED_TICKETS,
        start="2024-01-01",
        end="2024-03-31",
        pipelines=[support],
        users=[ann],
        targets=["2", "1", "4"],
    )
    opened = utc(2023, 12, 1)
    for closed in [
        utc(2023, 12, 31, 23, 59, 59),  # before the goal
        utc(2024, 1, 1),  # January's first instant
        utc(2024, 1, 31, 23, 59, 59, 999999),  # January's last instant
        utc(2024, 2, 1),  # February
        utc(2024, 3, 31, 23, 59, 59),  # March
        utc(2024, 4, 1),  # after the goal
    ]:
        await ticket(ann, support, opened, closed=closed)
    await ticket(ann, other, opened, closed=utc(2024, 1, 15))  # another pipeline
    await ticket(bob, support, opened, closed=utc(2024, 1, 15))  # another owner
    await ticket(ann, support, utc(2024, 1, 15))  # still open

    await refresh_account(tenant.account.id, now=NOW)

    assert await milestone_values(goal.contributor_ids[0]) == [2, 1, 1]
    cg = await ContributorGoal.get(id=goal.contributor_ids[0])
    # 4 closed against a target of 2 + 1 + 4 = 7.
    assert (cg.value, cg.target, cg.percent) == (4, 7, Decimal("57.14"))
    stored = await Goal.get(id=goal.id)
    assert (stored.value, stored.target, stored.percent) == (4, 7, Decimal("57.14"))
    assert stored.refreshed_at == NOW


async def test_windows_follow_the_account_timezone_across_dst(client) -> None:
    tenant = await make_tenant(timezone="Europe/Warsaw")
    ann = await tenant.add_user("ann")
    support = await tenant.add_pipeline("support", ObjectType.TICKET)
    goal = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CLOSED_TICKETS,
        start="2024-03-01",
        end="2024-04-30",
        pipelines=[support],
        users=[ann],
    )
    opened = utc(2024, 1, 1)
    for closed in [
        utc(2024, 2, 29, 22, 59, 59),  # 23:59:59 CET on 29 February: before the goal
        utc(2024, 2, 29, 23, 0),  # 00:00 CET on 1 March
        utc(2024, 3, 31, 21, 59, 59),  # 23:59:59 CEST on 31 March (a 23-hour day)
        utc(2024, 3, 31, 22, 0),  # 00:00 CEST on 1 April
        utc(2024, 4, 30, 21, 59, 59),  # 23:59:59 CEST on 30 April
        utc(2024, 4, 30, 22, 0),  # 00:00 on 1 May: after the goal
    ]:
        await ticket(ann, support, opened, closed=closed)

    await refresh_account(tenant.account.id, now=utc(2024, 5, 10))

    assert await milestone_values(goal.contributor_ids[0]) == [2, 2]


async def test_fiscal_quarters_and_per_milestone_pipelines(client) -> None:
    tenant = await make_tenant(fiscal_month=4)
    ann = await tenant.add_user("ann")
    new = await tenant.add_pipeline("new", ObjectType.DEAL)
    renewals = await tenant.add_pipeline("renewals", ObjectType.DEAL)
    goal = await create_goal(
        client,
        tenant.admin_token,
        GoalType.DEALS_CREATED,
        start="2024-04-01",
        end="2025-03-31",
        period="QUARTERLY",
        align_to_fiscal_year=True,
        pipelines=[new, renewals],
        users=[ann],
        milestone_pipelines=[[new], [new, renewals], [renewals], [new, renewals]],
    )
    for created, pipeline in [
        (utc(2024, 3, 31, 23, 59), new),  # before the fiscal year
        (utc(2024, 4, 1), new),  # Q1 (Apr-Jun), counted
        (utc(2024, 6, 30, 12), renewals),  # Q1 but renewals is not in Q1's pipelines
        (utc(2024, 7, 1), new),  # Q2 (Jul-Sep)
        (utc(2024, 9, 30), renewals),  # Q2
        (utc(2024, 10, 1), new),  # Q3 (Oct-Dec) takes renewals only
        (utc(2024, 12, 31, 23, 59), renewals),  # Q3
        (utc(2025, 1, 1), renewals),  # Q4 (Jan-Mar)
        (utc(2025, 3, 31, 23, 59), new),  # Q4
        (utc(2025, 4, 1), new),  # after the fiscal year
    ]:
        await deal(ann, pipeline, created)

    await refresh_account(tenant.account.id, now=utc(2025, 6, 1))

    assert await milestone_values(goal.contributor_ids[0]) == [1, 2, 1, 2]


async def test_team_counts_its_members_at_refresh_time(client) -> None:
    tenant = await make_tenant()
    ann = await tenant.add_user("ann")
    bob = await tenant.add_user("bob")
    cid = await tenant.add_user("cid")
    sales = await tenant.add_pipeline("sales", ObjectType.DEAL)
    team = await tenant.add_team("team", ["ann", "bob"])
    goal = await create_goal(
        client,
        tenant.admin_token,
        GoalType.REVENUE,
        start="2024-01-01",
        end="2024-01-31",
        pipelines=[sales],
        users=[ann],
        teams=[team],
        targets=["100"],
    )
    ann_cg, team_cg = goal.contributor_ids
    await deal(ann, sales, utc(2023, 12, 1), amount="100.10", won=utc(2024, 1, 5))
    await deal(bob, sales, utc(2023, 12, 1), amount="50.05", won=utc(2024, 1, 6))
    await deal(bob, sales, utc(2023, 12, 1), amount="0.0001", won=utc(2024, 1, 7))
    await deal(cid, sales, utc(2023, 12, 1), amount="999", won=utc(2024, 1, 7))
    await deal(ann, sales, utc(2024, 1, 1), amount="7")  # not won

    await refresh_account(tenant.account.id, now=utc(2024, 1, 20))
    assert await milestone_values(ann_cg) == [Decimal("100.10")]
    assert await milestone_values(team_cg) == [Decimal("150.1501")]
    goal_row = await Goal.get(id=goal.id)
    assert (goal_row.value, goal_row.target) == (Decimal("250.2501"), 200)
    # 250.2501 / 200 = 125.12505 %, half-up to 125.13.
    assert goal_row.percent == Decimal("125.13")

    await TeamMembership.filter(team=team, user=bob).delete()
    await TeamMembership.create(account=tenant.account, team=team, user=cid)
    await refresh_account(tenant.account.id, now=utc(2024, 1, 21))
    assert await milestone_values(team_cg) == [Decimal("1099.10")]


async def test_calls_and_meetings_count_their_own_kind(client) -> None:
    tenant = await make_tenant()
    ann = await tenant.add_user("ann")
    calls = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CALLS_LOGGED,
        start="2024-01-01",
        end="2024-02-29",
        users=[ann],
    )
    meetings = await create_goal(
        client,
        tenant.admin_token,
        GoalType.MEETINGS_BOOKED,
        start="2024-01-01",
        end="2024-02-29",
        users=[ann],
    )
    for kind, at in [
        (EngagementKind.CALL, utc(2024, 1, 1)),
        (EngagementKind.CALL, utc(2024, 1, 31, 23)),
        (EngagementKind.CALL, utc(2024, 2, 29, 23, 59)),
        (EngagementKind.MEETING, utc(2024, 2, 2)),
        (EngagementKind.CALL, utc(2024, 3, 1)),
    ]:
        await engagement(ann, kind, at)

    await refresh_account(tenant.account.id, now=utc(2024, 2, 10))

    assert await milestone_values(calls.contributor_ids[0]) == [2, 1]
    assert await milestone_values(meetings.contributor_ids[0]) == [0, 1]


async def test_average_times_keep_sum_and_count(client) -> None:
    tenant = await make_tenant()
    ann = await tenant.add_user("ann")
    bob = await tenant.add_user("bob")
    support = await tenant.add_pipeline("support", ObjectType.TICKET)
    response = await create_goal(
        client,
        tenant.admin_token,
        GoalType.AVG_TICKET_RESPONSE_TIME,
        start="2024-01-01",
        end="2024-03-31",
        pipelines=[support],
        users=[ann, bob],
        targets=["3600", "1200", "60"],
    )
    resolution = await create_goal(
        client,
        tenant.admin_token,
        GoalType.AVG_TICKET_RESOLUTION_TIME,
        start="2024-01-01",
        end="2024-03-31",
        pipelines=[support],
        users=[ann],
        targets=["86400", "86400", "86400"],
    )
    # Ann, January: responses after 1800 s and 3600.5 s; one ticket never answered.
    await ticket(ann, support, utc(2024, 1, 2), responded=utc(2024, 1, 2, 0, 30))
    await ticket(ann, support, utc(2024, 1, 3), responded=utc(2024, 1, 3, 1, 0, 0, 500000))
    await ticket(ann, support, utc(2024, 1, 4))
    # Created in December, answered in January: the window takes the creation time.
    await ticket(ann, support, utc(2023, 12, 31, 23), responded=utc(2024, 1, 1, 1))
    # February: one answer after 900 s, closed two days after creation (resolution).
    await ticket(
        ann,
        support,
        utc(2024, 2, 1),
        responded=utc(2024, 2, 1, 0, 15),
        closed=utc(2024, 2, 3),
    )
    # Closed in March after 3 days: resolution counts it in March; response has none in March.
    await ticket(ann, support, utc(2024, 2, 27), closed=utc(2024, 3, 1))
    # Bob, February only: 1200 s.
    await ticket(bob, support, utc(2024, 2, 10), responded=utc(2024, 2, 10, 0, 20))

    await refresh_account(tenant.account.id, now=NOW)

    ann_cg, bob_cg = response.contributor_ids
    ann_rows = await Milestone.filter(contributor_goal_id=ann_cg).order_by("index")
    # January: (1800 + 3600.5) / 2 = 2700.25
    assert [(m.value, m.value_sum, m.value_count) for m in ann_rows] == [
        (Decimal("2700.25"), Decimal("5400.5"), 2),
        (Decimal("900"), Decimal("900"), 1),
        (None, Decimal("0"), 0),
    ]
    ann_level = await ContributorGoal.get(id=ann_cg)
    # Whole contributor goal: 6300.5 s / 3 tickets = 2100.1666..., against the mean target
    # (3600 + 1200 + 60) / 3 = 1620; lower is better: 1620 / 2100.1666... = 77.14 %.
    assert ann_level.value == Decimal("2100.1667")
    assert (ann_level.value_sum, ann_level.value_count) == (Decimal("6300.5"), 3)
    assert ann_level.target == Decimal("1620")
    assert ann_level.percent == Decimal("77.14")
    bob_level = await ContributorGoal.get(id=bob_cg)
    assert (bob_level.value, bob_level.percent) == (Decimal("1200"), Decimal("135.00"))
    # The goal: the mean of the contributor values, (2100.1666... + 1200) / 2 = 1650.0833...,
    # against the mean of their targets, 1620: 98.18 %.
    goal_row = await Goal.get(id=response.id)
    assert goal_row.value == Decimal("1650.0833")
    assert goal_row.percent == Decimal("98.18")

    resolution_rows = await milestone_values(resolution.contributor_ids[0])
    # January: none closed; February: 2 days = 172800 s; March: 3 days = 259200 s.
    assert resolution_rows == [None, Decimal("172800"), Decimal("259200")]

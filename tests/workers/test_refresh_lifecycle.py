"""Freezing after the end, outcomes for notifications, daily snapshots, narrowing to one goal,
and a bounded number of statements whatever the number of goals."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.enums import GoalStatus, GoalType, ObjectType
from domain.models import Account, ContributorGoal, Milestone, ProgressSnapshot
from domain.notifications import dispatch, outbox
from domain.notifications.outbox import Outcome
from domain.progress import refresh_account, refresh_goal
from tests.helpers import count_queries, make_tenant
from tests.workers.refresh_support import create_goal, milestone_values, ticket, utc


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """What the refresh hands to the outbox, and what it announces after the commit."""
    calls: dict[str, list] = {"outcomes": [], "committed": []}

    async def record_outcomes(account_id: int, outcomes) -> list[int]:
        calls["outcomes"].append(list(outcomes))
        return [len(calls["outcomes"])]

    async def after_commit(ids) -> None:
        calls["committed"].append(list(ids))

    monkeypatch.setattr(outbox, "record_outcomes", record_outcomes)
    monkeypatch.setattr(dispatch, "after_commit", after_commit)
    return calls


async def test_milestone_freezes_at_first_refresh_a_day_after_its_end(client, recorded) -> None:
    tenant = await make_tenant()
    ann = await tenant.add_user("ann")
    support = await tenant.add_pipeline("support", ObjectType.TICKET)
    goal = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CLOSED_TICKETS,
        start="2024-01-01",
        end="2024-01-31",
        pipelines=[support],
        users=[ann],
        targets=["2"],
    )
    (cg_id,) = goal.contributor_ids
    await ticket(ann, support, utc(2024, 1, 1), closed=utc(2024, 1, 10))

    # The window ends at 1 February 00:00; it freezes 24 hours later.
    early = await refresh_account(tenant.account.id, now=utc(2024, 2, 1, 23, 59, 59))
    assert await milestone_values(cg_id) == [1]
    assert not (await Milestone.get(contributor_goal_id=cg_id)).final
    assert early.outcomes == [] and recorded["outcomes"] == []

    late_ticket = await ticket(ann, support, utc(2024, 1, 1), closed=utc(2024, 1, 20))
    frozen = await refresh_account(tenant.account.id, now=utc(2024, 2, 2))
    assert await milestone_values(cg_id) == [2]
    assert (await Milestone.get(contributor_goal_id=cg_id)).final
    cg = await ContributorGoal.get(id=cg_id)
    assert cg.final and cg.percent == Decimal("100.00")
    expected = [
        Outcome(cg_id, 0, GoalStatus.ACHIEVED),
        Outcome(cg_id, None, GoalStatus.ACHIEVED),
    ]
    assert frozen.outcomes == expected
    assert recorded["outcomes"] == [expected]
    # Announced after the commit (goal creation announces its own, empty, list too).
    assert [ids for ids in recorded["committed"] if ids] == [[1]]

    # Records change after freezing: the value stays.
    await late_ticket.delete()
    await ticket(ann, support, utc(2024, 1, 1), closed=utc(2024, 1, 25))
    await ticket(ann, support, utc(2024, 1, 1), closed=utc(2024, 1, 26))
    after = await refresh_account(tenant.account.id, now=utc(2024, 2, 3))
    assert after.milestones_computed == 0 and after.outcomes == []
    assert await milestone_values(cg_id) == [2]
    assert len(recorded["outcomes"]) == 1


async def test_final_statuses_of_lower_is_better_and_zero_targets(client, recorded) -> None:
    tenant = await make_tenant()
    people = [await tenant.add_user(name) for name in ("ann", "bob", "cid", "dan", "eve")]
    ann, bob, cid, dan, eve = people
    support = await tenant.add_pipeline("support", ObjectType.TICKET)
    response = await create_goal(
        client,
        tenant.admin_token,
        GoalType.AVG_TICKET_RESPONSE_TIME,
        start="2024-01-01",
        end="2024-01-31",
        pipelines=[support],
        users=[ann, bob, cid, dan],
        targets=["3600"],
    )
    for owner, seconds in [(ann, 3600), (bob, 1800), (cid, 7200)]:
        created = utc(2024, 1, 10)
        await ticket(owner, support, created, responded=created + timedelta(seconds=seconds))
    closed = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CLOSED_TICKETS,
        start="2024-01-01",
        end="2024-01-31",
        pipelines=[support],
        users=[ann, eve],
        targets=["0"],
    )
    await ticket(eve, support, utc(2024, 1, 2), closed=utc(2024, 1, 3))
    resolution = await create_goal(
        client,
        tenant.admin_token,
        GoalType.AVG_TICKET_RESOLUTION_TIME,
        start="2024-01-01",
        end="2024-01-31",
        pipelines=[support],
        users=[dan],
        targets=["60"],
    )
    # Closed the moment it was opened: an average of 0 seconds, percent has no denominator.
    await ticket(dan, support, utc(2024, 1, 5), closed=utc(2024, 1, 5))

    result = await refresh_account(tenant.account.id, now=utc(2024, 3, 1))

    statuses = {(o.contributor_goal_id, o.milestone_index): o.status for o in result.outcomes}
    a, b, c, d = response.contributor_ids
    ann_closed, eve_closed = closed.contributor_ids
    (dan_resolution,) = resolution.contributor_ids
    expected = {
        a: GoalStatus.ACHIEVED,  # 3600 s against 3600 s: 100 %
        b: GoalStatus.EXCEEDED,  # 1800 s: 200 %
        c: GoalStatus.MISSED,  # 7200 s: 50 %
        d: GoalStatus.MISSED,  # no answered ticket: no value
        ann_closed: GoalStatus.ACHIEVED,  # 0 of a 0 target
        eve_closed: GoalStatus.EXCEEDED,  # 1 of a 0 target
        dan_resolution: GoalStatus.EXCEEDED,  # 0 s against 60 s
    }
    assert statuses == {
        **{(cg, 0): status for cg, status in expected.items()},
        **{(cg, None): status for cg, status in expected.items()},
    }
    assert (await ContributorGoal.get(id=d)).value is None
    assert (await ContributorGoal.get(id=d)).percent is None
    assert (await ContributorGoal.get(id=dan_resolution)).percent is None
    assert (await ContributorGoal.get(id=ann_closed)).percent is None


async def test_one_snapshot_per_contributor_goal_per_local_date(client) -> None:
    tenant = await make_tenant(timezone="Europe/Warsaw")
    ann = await tenant.add_user("ann")
    support = await tenant.add_pipeline("support", ObjectType.TICKET)
    goal = await create_goal(
        client,
        tenant.admin_token,
        GoalType.CLOSED_TICKETS,
        start="2024-03-01",
        end="2024-03-31",
        pipelines=[support],
        users=[ann],
        targets=["4"],
    )
    (cg_id,) = goal.contributor_ids
    await ticket(ann, support, utc(2024, 3, 1), closed=utc(2024, 3, 2))
    await refresh_account(tenant.account.id, now=utc(2024, 3, 10, 22, 30))  # 23:30, 10 March
    await ticket(ann, support, utc(2024, 3, 1), closed=utc(2024, 3, 3))
    await refresh_account(tenant.account.id, now=utc(2024, 3, 10, 22, 50))  # 23:50, 10 March
    await ticket(ann, support, utc(2024, 3, 1), closed=utc(2024, 3, 4))
    await refresh_account(tenant.account.id, now=utc(2024, 3, 10, 23, 10))  # 00:10, 11 March

    snapshots = await ProgressSnapshot.filter(contributor_goal_id=cg_id).order_by("date")
    assert [(s.date, s.value, s.percent) for s in snapshots] == [
        (date(2024, 3, 10), Decimal(2), Decimal("50.00")),
        (date(2024, 3, 11), Decimal(3), Decimal("75.00")),
    ]
    account = await Account.get(id=tenant.account.id)
    assert account.last_refresh_date == date(2024, 3, 11)


async def test_refresh_goal_touches_only_that_goal(client) -> None:
    tenant = await make_tenant()
    ann = await tenant.add_user("ann")
    support = await tenant.add_pipeline("support", ObjectType.TICKET)
    goals = [
        await create_goal(
            client,
            tenant.admin_token,
            GoalType.CLOSED_TICKETS,
            start="2024-01-01",
            end="2024-01-31",
            pipelines=[support],
            users=[ann],
        )
        for _ in range(2)
    ]
    await ticket(ann, support, utc(2024, 1, 1), closed=utc(2024, 1, 10))

    await refresh_goal(goals[0].id, now=utc(2024, 1, 15))

    assert await milestone_values(goals[0].contributor_ids[0]) == [1]
    assert await milestone_values(goals[1].contributor_ids[0]) == [None]
    assert (await Account.get(id=tenant.account.id)).last_refresh_date is None
    assert (
        await ProgressSnapshot.filter(contributor_goal_id=goals[1].contributor_ids[0]).count() == 0
    )


async def _statements_of_refresh(client, goal_count: int, contributors: int) -> int:
    tenant = await make_tenant(name=f"Tenant{goal_count}")
    people = [await tenant.add_user(f"user{i}") for i in range(contributors)]
    team = await tenant.add_team("team", [f"user{i}" for i in range(contributors)])
    support = await tenant.add_pipeline("support", ObjectType.TICKET)
    other = await tenant.add_pipeline("other", ObjectType.TICKET)
    types = [
        GoalType.CLOSED_TICKETS,
        GoalType.AVG_TICKET_RESPONSE_TIME,
        GoalType.AVG_TICKET_RESOLUTION_TIME,
    ]
    for index in range(goal_count):
        await create_goal(
            client,
            tenant.admin_token,
            types[index % len(types)],
            start="2024-01-01",
            end="2024-06-30",
            pipelines=[support, other],
            users=people,
            teams=[team],
        )
    for person in people:
        await ticket(person, support, utc(2024, 1, 1), responded=utc(2024, 1, 2))
        await ticket(person, other, utc(2024, 2, 1), closed=utc(2024, 3, 2))
    with count_queries() as statements:
        await refresh_account(tenant.account.id, now=utc(2024, 8, 1))
    return len(statements)


async def test_statement_count_does_not_grow_with_goals(client) -> None:
    small = await _statements_of_refresh(client, goal_count=1, contributors=1)
    large = await _statements_of_refresh(client, goal_count=6, contributors=4)
    assert small == large
    # The refresh, the records kept for frozen milestones, pace and the outbox, whatever the size.
    assert large <= 19
    # Every milestone of both accounts was computed and frozen: (1 x 2 + 6 x 5) x 6 months.
    assert await Milestone.filter(final=True).count() == (1 * 2 + 6 * 5) * 6

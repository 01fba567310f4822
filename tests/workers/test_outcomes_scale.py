"""Outcomes are fanned out in a few statements whatever their number: the rows written are
exactly those a reader expects, in order, with their keys and payloads, and never twice."""

from datetime import date
from decimal import Decimal

import pytest

from domain.enums import GoalCategory, GoalStatus, GoalType, MilestonePeriod
from domain.models import Account, ContributorGoal, Goal, Milestone, Notification, User
from domain.notifications import outbox
from domain.notifications.outbox import Outcome, record_outcomes
from tests.helpers import make_tenant

ON = ["MILESTONE_ACHIEVED", "GOAL_COMPLETED"]


async def _goal(account: Account, name: str, notify: list[str]) -> Goal:
    return await Goal.create(
        account=account,
        name=name,
        category=GoalCategory.SERVICE,
        type=GoalType.CLOSED_TICKETS,
        start_date=date(2024, 1, 1),
        end_date=date(2024, 2, 29),
        milestone_period=MilestonePeriod.MONTHLY,
        notify=notify,
    )


async def _milestone(cg: ContributorGoal, index: int, target: str, value: str) -> None:
    start, end = [(date(2024, 1, 1), date(2024, 1, 31)), (date(2024, 2, 1), date(2024, 2, 29))][
        index
    ]
    await Milestone.create(
        contributor_goal=cg,
        index=index,
        start_date=start,
        end_date=end,
        target=Decimal(target),
        value=Decimal(value),
        final=True,
    )


@pytest.fixture
def small_statements(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several statements even for a handful of outcomes, so their order across them shows."""
    monkeypatch.setattr(outbox, "OUTCOMES_PER_STATEMENT", 3)


async def test_outcomes_write_the_expected_rows_once(db, small_statements):
    tenant = await make_tenant()
    account = tenant.account
    await Account.filter(id=account.id).update(
        currency="EUR", webhook_url="https://hooks.example.com/goals"
    )
    ana = await tenant.add_user("ana")
    bob = await tenant.add_user("bob")
    cid = await tenant.add_user("cid")
    dee = await tenant.add_user("dee")
    await User.filter(id=cid.id).update(active=False)
    # Members joined out of id order; messages go to them by id, the inactive one left out.
    sales = await tenant.add_team("sales", ["dee", "cid", "bob"])

    goal = await _goal(account, "Close tickets", ON)
    ana_cg = await ContributorGoal.create(
        account=account, goal=goal, user=ana, value=Decimal("47"), target=Decimal("30.0")
    )
    await _milestone(ana_cg, 0, "1E+1", "12.50")
    await _milestone(ana_cg, 1, "20", "5")
    team_cg = await ContributorGoal.create(account=account, goal=goal, team=sales)
    await _milestone(team_cg, 0, "20", "20.0000")
    quiet = await _goal(account, "Quiet", [])
    quiet_cg = await ContributorGoal.create(account=account, goal=quiet, user=ana)
    other = await make_tenant("Other")
    other_user = await other.add_user("zed")
    other_goal = await _goal(other.account, "Elsewhere", ON)
    other_cg = await ContributorGoal.create(account=other.account, goal=other_goal, user=other_user)

    outcomes = [
        Outcome(ana_cg.id, 0, GoalStatus.EXCEEDED),
        Outcome(ana_cg.id, 1, GoalStatus.MISSED),  # MILESTONE_MISSED is off
        Outcome(team_cg.id, 0, GoalStatus.ACHIEVED),
        Outcome(ana_cg.id, 0, GoalStatus.ACHIEVED),  # the same cause again: the first stands
        Outcome(ana_cg.id, 7, GoalStatus.ACHIEVED),  # no such milestone
        Outcome(ana_cg.id, None, GoalStatus.IN_PROGRESS),  # not final
        Outcome(ana_cg.id, None, GoalStatus.EXCEEDED),
        Outcome(quiet_cg.id, None, GoalStatus.MISSED),  # the goal turned nothing on
        Outcome(other_cg.id, None, GoalStatus.ACHIEVED),  # another account's
    ]
    ids = await record_outcomes(account.id, outcomes)

    goal_part = {
        "id": goal.id,
        "name": "Close tickets",
        "type": "CLOSED_TICKETS",
        "unit": "COUNT",
        "start_date": "2024-01-01",
        "end_date": "2024-02-29",
    }
    january = {"index": 0, "start_date": "2024-01-01", "end_date": "2024-01-31"}
    team = {"team_id": sales.id, "name": "Sales"}
    causes = [
        (ana, "MILESTONE_ACHIEVED", ana_cg, 0, "12.5", "10", "EXCEEDED", january, None),
        (bob, "MILESTONE_ACHIEVED", team_cg, 0, "20", "20", "ACHIEVED", january, team),
        (dee, "MILESTONE_ACHIEVED", team_cg, 0, "20", "20", "ACHIEVED", january, team),
        (ana, "GOAL_COMPLETED", ana_cg, None, "47", "30", "EXCEEDED", None, None),
    ]
    expected = [
        (
            user.id,
            kind,
            channel,
            goal.id,
            cg.id,
            index,
            f"outcome:{user.id}:{kind}:{cg.id}:{'goal' if index is None else index}:{channel}",
            {
                "goal": goal_part,
                "currency": "EUR",
                "milestone": milestone,
                "value": value,
                "target": target,
                "status": status,
                "contributor": contributor,
            },
            "SENT" if channel == "IN_APP" else "PENDING",
            channel == "IN_APP",
        )
        for user, kind, cg, index, value, target, status, milestone, contributor in causes
        for channel in ("IN_APP", "EMAIL", "WEBHOOK")
    ]
    rows = await Notification.filter(account_id=account.id).order_by("id")
    assert [
        (
            r.recipient_id,
            str(r.kind),
            str(r.channel),
            r.goal_id,
            r.contributor_goal_id,
            r.milestone_index,
            r.dedupe_key,
            r.payload,
            str(r.state),
            r.sent_at is not None,
        )
        for r in rows
    ] == expected
    assert all(r.attempts == 0 and r.read_at is None and r.claimed_at is None for r in rows)
    assert ids == [r.id for r in rows if r.channel != "IN_APP"]

    assert await record_outcomes(account.id, outcomes) == []
    assert await Notification.all().count() == len(expected)

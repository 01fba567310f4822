"""Seeded random records against a direct computation in Python: the set-based refresh gives
the same numbers on each backend (SQLite's integer path, PostgreSQL's numeric path)."""

import random
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from domain.enums import GoalType, ObjectType
from domain.models import Deal, Milestone, Ticket
from domain.progress import refresh_account
from domain.windows import milestone_window
from tests.helpers import make_tenant
from tests.workers.refresh_support import create_goal, deal, ticket, utc

FOUR = Decimal("0.0001")


def _expected(goal_type: GoalType, start, end, owners, pipelines, tickets, deals, zone):
    window = milestone_window(start, end, zone)

    def inside(at) -> bool:
        return at is not None and window.start <= at < window.end

    mine = [t for t in tickets if t.owner_id in owners and t.pipeline_id in pipelines]
    if goal_type is GoalType.CLOSED_TICKETS:
        return Decimal(sum(inside(t.closed_at) for t in mine))
    if goal_type is GoalType.REVENUE:
        won = [d for d in deals if d.owner_id in owners and d.pipeline_id in pipelines]
        return sum((d.amount for d in won if inside(d.closed_won_at)), Decimal(0))
    if goal_type is GoalType.AVG_TICKET_RESPONSE_TIME:
        spans = [
            t.first_responded_at - t.created_at
            for t in mine
            if inside(t.created_at) and t.first_responded_at is not None
        ]
    else:
        spans = [t.closed_at - t.created_at for t in mine if inside(t.closed_at)]
    if not spans:
        return None
    micros = sum(s // timedelta(microseconds=1) for s in spans)
    return (Decimal(micros) / 1_000_000 / len(spans)).quantize(FOUR, ROUND_HALF_UP)


async def test_random_records_match_a_direct_computation(client) -> None:
    rng = random.Random(20240331)
    zone = ZoneInfo("Europe/Warsaw")
    tenant = await make_tenant(timezone="Europe/Warsaw")
    people = [await tenant.add_user(f"user{i}") for i in range(4)]
    team = await tenant.add_team("team", ["user1", "user2"])
    queues = [await tenant.add_pipeline(f"q{i}", ObjectType.TICKET) for i in range(2)]
    sales = [await tenant.add_pipeline(f"s{i}", ObjectType.DEAL) for i in range(2)]
    goals = {}
    for goal_type in (
        GoalType.CLOSED_TICKETS,
        GoalType.AVG_TICKET_RESPONSE_TIME,
        GoalType.AVG_TICKET_RESOLUTION_TIME,
        GoalType.REVENUE,
    ):
        pipelines = sales if goal_type is GoalType.REVENUE else queues
        goals[goal_type] = await create_goal(
            client,
            tenant.admin_token,
            goal_type,
            start="2024-03-20",
            end="2024-04-10",
            period="WEEKLY",
            pipelines=pipelines,
            users=people[:2],
            teams=[team],
            milestone_pipelines=[pipelines if i % 2 else pipelines[:1] for i in range(4)],
        )
    base = utc(2024, 3, 15)
    for _ in range(150):
        created = base + timedelta(microseconds=rng.randrange(0, 30 * 86400 * 10**6))
        await ticket(
            rng.choice(people),
            rng.choice(queues),
            created,
            responded=created + timedelta(seconds=rng.randrange(1, 90000), microseconds=7)
            if rng.random() < 0.7
            else None,
            closed=created + timedelta(microseconds=rng.randrange(0, 4 * 86400 * 10**6))
            if rng.random() < 0.8
            else None,
        )
        await deal(
            rng.choice(people),
            rng.choice(sales),
            created,
            amount=f"{rng.randrange(0, 10**7) / 10000:.4f}",
            won=created + timedelta(hours=rng.randrange(0, 200)) if rng.random() < 0.5 else None,
        )

    await refresh_account(tenant.account.id, now=utc(2024, 4, 5))

    tickets = await Ticket.all()
    deals = await Deal.all()
    members = {people[1].id, people[2].id}
    checked = nonzero = 0
    for goal_type, goal in goals.items():
        owners_of = [{people[0].id}, {people[1].id}, members]
        for cg_id, owners in zip(goal.contributor_ids, owners_of, strict=True):
            milestones = await Milestone.filter(contributor_goal_id=cg_id).order_by("index")
            for m in milestones:
                pipelines = await m.milestone_pipelines.all().values_list("pipeline_id", flat=True)
                expected = _expected(
                    goal_type,
                    m.start_date,
                    m.end_date,
                    owners,
                    set(pipelines),
                    tickets,
                    deals,
                    zone,
                )
                assert m.value == expected, (goal_type, m.index, cg_id)
                checked += 1
                nonzero += bool(expected)
    assert checked == 4 * 3 * 4
    assert nonzero >= 40  # the records reach nearly every milestone

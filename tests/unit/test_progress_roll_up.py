"""The roll-up's compute step on plain values: contributor goals from their milestones, goals
from their contributor goals, and what a refresh records (snapshots and outcomes)."""

from datetime import date
from decimal import Decimal

from domain.enums import GoalStatus, GoalType
from domain.progress import (
    ContributorMilestones,
    FinalMilestone,
    GoalMilestones,
    refreshed,
    roll_up,
)
from domain.rollup import MilestoneNumbers


def numbers(target: int, value: int | None) -> MilestoneNumbers:
    return MilestoneNumbers(Decimal(target), None if value is None else Decimal(value))


# A two-month deals goal: Ana's January is final (8 of 10), Ben has nothing counted yet.
DEALS = GoalMilestones(
    type=GoalType.DEALS_CREATED,
    start_date=date(2026, 1, 1),
    end_date=date(2026, 2, 28),
    contributor_goals={
        11: ContributorMilestones([numbers(10, 8), numbers(10, 4)]),
        12: ContributorMilestones([numbers(10, None), numbers(30, None)]),
    },
)


def test_contributor_goals_add_their_milestones_and_the_goal_adds_them() -> None:
    levels = roll_up({1: DEALS})
    ana, ben = levels.contributor_goals[11], levels.contributor_goals[12]
    assert (ana.value, ana.target, ana.percent) == (Decimal(12), Decimal(20), Decimal("60.00"))
    assert (ben.value, ben.target, ben.percent) == (None, Decimal(40), None)
    goal = levels.goals[1]
    assert (goal.value, goal.target, goal.percent) == (Decimal(12), Decimal(60), Decimal("20.00"))


def test_averages_roll_up_from_the_exact_sums() -> None:
    response_time = GoalMilestones(
        type=GoalType.AVG_TICKET_RESPONSE_TIME,
        start_date=date(2026, 1, 1),
        end_date=date(2026, 2, 28),
        contributor_goals={
            21: ContributorMilestones(
                [
                    MilestoneNumbers(Decimal(60), Decimal(50), Decimal(100), 2),
                    MilestoneNumbers(Decimal(60), Decimal(70), Decimal(70), 1),
                ]
            )
        },
    )
    level = roll_up({2: response_time}).contributor_goals[21]
    assert (level.value_sum, level.value_count) == (Decimal(170), 3)
    # 170 / 3 seconds against 60: lower is better, so 60 / (170 / 3) = 105.88 %.
    assert level.percent == Decimal("105.88")


def test_a_refresh_snapshots_live_contributor_goals_and_announces_what_became_final() -> None:
    goal = GoalMilestones(
        type=DEALS.type,
        start_date=DEALS.start_date,
        end_date=DEALS.end_date,
        contributor_goals={
            11: ContributorMilestones([numbers(10, 8), numbers(10, 12)], all_final=True),
            12: ContributorMilestones([numbers(10, 3), numbers(30, 9)]),
            13: ContributorMilestones([numbers(5, 5)], all_final=True, was_final=True),
        },
    )
    levels = roll_up({1: goal})
    february = FinalMilestone(
        id=7,
        index=1,
        start_date=date(2026, 2, 1),
        end_date=date(2026, 2, 28),
        numbers=numbers(10, 12),
    )
    day = refreshed({1: goal}, levels, date(2026, 3, 2), {11: [february]})
    assert day.snapshots == {11: levels.contributor_goals[11], 12: levels.contributor_goals[12]}
    assert [(o.contributor_goal_id, o.milestone_index, o.status) for o in day.outcomes] == [
        (11, 1, GoalStatus.EXCEEDED),  # 12 of 10 in February
        (11, None, GoalStatus.ACHIEVED),  # 20 of 20 over the goal
    ]


def test_a_roll_up_of_nothing_is_empty() -> None:
    levels = roll_up({})
    assert (levels.contributor_goals, levels.goals) == ({}, {})
    day = refreshed({}, levels, date(2026, 3, 2), {})
    assert (day.snapshots, day.outcomes) == ({}, [])

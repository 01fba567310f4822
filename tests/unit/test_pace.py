"""Pace worked by hand, and the properties that hold for any milestones and values."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.enums import PaceStatus
from domain.pace import (
    RATIO_CEILING,
    contributor_pace,
    expected_to_date,
    goal_pace,
    pace_shown,
    pace_status,
    round_half_up,
    share_due,
)

D = Decimal


@dataclass(frozen=True)
class M:
    start_date: date
    end_date: date
    target: Decimal


# Monthly milestones of 2024: January (31 days), February (29), March (31).
MONTHS = [
    M(date(2024, 1, 1), date(2024, 1, 31), D(10)),
    M(date(2024, 2, 1), date(2024, 2, 29), D(20)),
    M(date(2024, 3, 1), date(2024, 3, 31), D(30)),
]
# Quarterly milestones with cents: Q1 and Q2 of 2024 have 91 days each.
QUARTERS = [
    M(date(2024, 1, 1), date(2024, 3, 31), D("1000.50")),
    M(date(2024, 4, 1), date(2024, 6, 30), D("2000.25")),
]


def counted(milestones, value, today):
    target = sum((m.target for m in milestones), D(0))
    return contributor_pace(
        expected=expected_to_date(milestones, today),
        value=D(value),
        target=target,
        percent=None,
        average=False,
    )


def test_a_count_ten_days_into_february():
    # Expected: January's 10 + February's 20 x 10/29 = 16.896551... Ratio: 12 / 16.896551 =
    # 348/490 = 0.710204. Projected: 12 + (60 - 16.896551) x 0.710204 = 12 x 60 / 16.896551.
    figures = counted(MONTHS, "12", date(2024, 2, 10))
    assert figures.exact_expected == Fraction(490, 29)
    assert figures.pace.expected == D("16.8966")
    assert figures.pace.ratio == D("0.7102")
    assert figures.pace.projected == D("42.6122")
    assert figures.pace.status is PaceStatus.AT_RISK


def test_revenue_with_cents_on_the_first_day_of_a_quarter():
    # Q1 ended: 1000.50; Q2's first day of 91: 2000.25 / 91 = 21.980769. Expected 1022.480769;
    # ratio 1125.1234 / 1022.480769 = 1.100386; projected 1125.1234 x 3000.75 / 1022.480769.
    figures = counted(QUARTERS, "1125.1234", date(2024, 4, 1))
    assert figures.pace.expected == D("1022.4808")
    assert figures.pace.ratio == D("1.1004")
    assert figures.pace.projected == D("3301.9829")
    assert figures.pace.status is PaceStatus.AHEAD


def test_the_last_day_of_a_milestone_counts_it_whole():
    figures = counted(MONTHS, "30", date(2024, 2, 29))
    assert figures.pace.expected == D(30)
    assert figures.pace.ratio == D(1)
    assert figures.pace.projected == D(60)
    assert figures.pace.status is PaceStatus.ON_TRACK


def test_nothing_due_yet_has_no_ratio_and_projects_the_value():
    zero_first = [M(MONTHS[0].start_date, MONTHS[0].end_date, D(0)), *MONTHS[1:]]
    for milestones, today in ((MONTHS, date(2023, 12, 31)), (zero_first, date(2024, 1, 20))):
        figures = counted(milestones, "3", today)
        assert figures.pace.expected == D(0)
        assert figures.pace.ratio is None
        assert figures.pace.projected == D(3)
        assert figures.pace.status is PaceStatus.ON_TRACK


def test_an_average_compares_the_value_with_the_whole_target():
    # Response time: 4,000 s against 3,600 s (lower is better) is 90.00 percent.
    figures = contributor_pace(
        expected=Fraction(123),  # ignored: nothing accrues for an average
        value=D("4000"),
        target=D("3600"),
        percent=D("90.00"),
        average=True,
    )
    assert figures.pace.expected == D(3600)
    assert figures.pace.ratio == D("0.9")
    assert figures.pace.projected == D(4000)
    assert figures.pace.status is PaceStatus.BEHIND
    nothing = contributor_pace(
        expected=Fraction(0), value=None, target=D(3600), percent=None, average=True
    )
    assert (nothing.pace.ratio, nothing.pace.projected) == (None, None)
    assert nothing.pace.status is PaceStatus.ON_TRACK


@pytest.mark.parametrize(
    ("ratio", "status"),
    [
        ("1.1", PaceStatus.AHEAD),
        ("1.0999", PaceStatus.ON_TRACK),
        ("0.95", PaceStatus.ON_TRACK),
        ("0.9499", PaceStatus.BEHIND),
        ("0.8", PaceStatus.BEHIND),
        ("0.7999", PaceStatus.AT_RISK),
        ("0", PaceStatus.AT_RISK),
        (None, PaceStatus.ON_TRACK),
    ],
)
def test_the_bands_include_their_lower_bound(ratio, status):
    assert pace_status(None if ratio is None else D(ratio)) is status


def test_the_status_reads_the_ratio_rounded_half_up():
    # 18,999 of 20,000 due is 0.94995: shown as 0.9500, and ON_TRACK like what is shown.
    month = [M(date(2024, 1, 1), date(2024, 1, 31), D(20_000))]
    figures = counted(month, "18999", date(2024, 1, 31))
    assert figures.pace.ratio == D("0.95")
    assert figures.pace.status is PaceStatus.ON_TRACK
    below = counted(month, "18998.9", date(2024, 1, 31))
    assert below.pace.ratio == D("0.9499")
    assert below.pace.status is PaceStatus.BEHIND


def test_a_goal_adds_expected_and_projected_and_divides_its_own_value():
    ana = counted(MONTHS, "12", date(2024, 2, 10))  # expected 490/29, projected 42.6122...
    bob = counted(MONTHS, "20", date(2024, 2, 10))  # expected 490/29, projected 71.0204...
    pace = goal_pace([ana, bob], value=D(32), target=D(120), percent=None, average=False)
    assert pace.expected == D("33.7931")  # 980/29
    assert pace.projected == D("113.6327")  # (12 + 20) x 60 x 29 / 490, in two halves
    assert pace.ratio == D("0.9469")  # 32 x 29 / 980
    assert pace.status is PaceStatus.BEHIND


def test_a_goal_of_averages_reads_its_own_figures():
    pace = goal_pace([], value=D("5400.5"), target=D(3600), percent=D("66.66"), average=True)
    assert (pace.expected, pace.projected, pace.ratio) == (D(3600), D("5400.5"), D("0.6666"))
    assert pace.status is PaceStatus.AT_RISK


def test_a_huge_ratio_is_held_at_the_ceiling():
    tiny = [M(date(2024, 1, 1), date(2024, 12, 31), D("0.0001"))]
    figures = counted(tiny, "999999999999", date(2024, 1, 1))
    assert figures.pace.ratio == RATIO_CEILING
    assert figures.pace.status is PaceStatus.AHEAD


def test_pace_shows_while_in_progress_and_once_refreshed():
    start, end = date(2024, 1, 1), date(2024, 3, 31)
    assert pace_shown(start_date=start, end_date=end, today=start, refreshed=True)
    assert pace_shown(start_date=start, end_date=end, today=end, refreshed=True)
    assert not pace_shown(start_date=start, end_date=end, today=end, refreshed=False)
    assert not pace_shown(
        start_date=start, end_date=end, today=start - timedelta(1), refreshed=True
    )
    assert not pace_shown(start_date=start, end_date=end, today=end + timedelta(1), refreshed=True)


# ---------------------------------------------------------------- properties

targets = st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False)


@st.composite
def milestones(draw):
    """Consecutive milestones of 1 to 40 days."""
    start = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 1, 1)))
    found = []
    for _ in range(draw(st.integers(1, 6))):
        end = start + timedelta(days=draw(st.integers(0, 39)))
        found.append(M(start, end, draw(targets)))
        start = end + timedelta(days=1)
    return found


@given(milestones(), st.integers(-5, 250), st.integers(0, 30))
def test_expected_grows_day_by_day_up_to_the_whole_target(ms, offset, step):
    whole = sum((Fraction(m.target) for m in ms), Fraction(0))
    day = ms[0].start_date + timedelta(days=offset)
    later = day + timedelta(days=step)
    assert 0 <= expected_to_date(ms, day) <= expected_to_date(ms, later) <= whole
    assert expected_to_date(ms, ms[0].start_date - timedelta(1)) == 0
    assert expected_to_date(ms, ms[-1].end_date) == whole


@given(milestones(), st.integers(0, 250))
def test_only_the_current_milestone_is_partly_due(ms, offset):
    day = ms[0].start_date + timedelta(days=offset)
    ended = sum((Fraction(m.target) for m in ms if m.end_date < day), Fraction(0))
    current = [m for m in ms if m.start_date <= day <= m.end_date]
    assert len(current) <= 1
    assert expected_to_date(ms, day) == ended + share_due(current[0] if current else None, day)


@given(milestones(), st.decimals(min_value=0, max_value=10**7, places=4), st.integers(0, 250))
def test_projected_is_the_value_scaled_to_the_whole_target(ms, value, offset):
    today = ms[0].start_date + timedelta(days=offset)
    figures = counted(ms, value, today)
    whole = sum((Fraction(m.target) for m in ms), Fraction(0))
    if figures.exact_expected:
        assert figures.exact_projected == Fraction(value) * whole / figures.exact_expected
        assert figures.pace.ratio is not None
        exact = Fraction(value) / figures.exact_expected
        assert abs(Fraction(figures.pace.ratio) - min(exact, Fraction(RATIO_CEILING))) <= Fraction(
            1, 20000
        )
    else:
        assert figures.pace.ratio is None and figures.pace.projected == value


@given(st.decimals(min_value=0, max_value=10**10, places=8, allow_nan=False))
def test_rounding_is_half_up_to_four_places(number):
    assert round_half_up(Fraction(number)) == number.quantize(D("0.0001"), ROUND_HALF_UP)


@given(st.decimals(min_value=0, max_value=100, places=4), st.decimals(0, 100, places=4))
def test_the_bands_never_rank_a_lower_ratio_higher(a, b):
    order = [PaceStatus.AT_RISK, PaceStatus.BEHIND, PaceStatus.ON_TRACK, PaceStatus.AHEAD]
    low, high = sorted((a, b))
    assert order.index(pace_status(low)) <= order.index(pace_status(high))

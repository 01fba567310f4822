"""Percent of target and status: the rules of SPEC section 3, worked by hand."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.enums import GoalStatus
from domain.status import percent_of_target, status_of

D = Decimal
START, END = date(2026, 3, 1), date(2026, 3, 31)
AFTER = date(2026, 4, 1)


@pytest.mark.parametrize(
    ("value", "target", "higher", "expected"),
    [
        (D("5"), D("10"), True, D("50.00")),
        (D("10"), D("10"), True, D("100.00")),
        (D("1"), D("3"), True, D("33.33")),
        (D("2"), D("3"), True, D("66.67")),
        # Half-up: 0.125 -> 0.13, 0.115 -> 0.12 (banker's rounding would give 0.12 and 0.12).
        (D("0.125"), D("100"), True, D("0.13")),
        (D("0.115"), D("100"), True, D("0.12")),
        (D("1.005"), D("100"), True, D("1.01")),
        (D("100.005"), D("100"), True, D("100.01")),
        (D("0"), D("10"), True, D("0.00")),
        # Lower is better: target / value.
        (D("60"), D("30"), False, D("50.00")),
        (D("20"), D("30"), False, D("150.00")),
        (D("90"), D("30"), False, D("33.33")),
        # Zero denominators.
        (D("0"), D("0"), True, None),
        (D("5"), D("0"), True, None),
        (D("0"), D("30"), False, None),
        (D("0"), D("0"), False, None),
        # Unknown value.
        (None, D("10"), True, None),
        (None, D("10"), False, None),
        # Lower is better with a zero target and a real value: 0 %.
        (D("30"), D("0"), False, D("0.00")),
    ],
)
def test_percent_of_target(
    value: Decimal | None, target: Decimal, higher: bool, expected: Decimal | None
) -> None:
    assert percent_of_target(value, target, higher) == expected


def test_percent_uses_unrounded_numbers() -> None:
    # 1/3 of 3 rounded first would read 33.33 x 3 = 99.99; computed exactly it is 100.
    third = D(1) / D(3)
    assert percent_of_target(third * 3, D("1"), True) == D("100.00")
    assert percent_of_target(D("2") / D("3"), D("1"), True) == D("66.67")


def status(
    today: date,
    value: Decimal | None,
    target: Decimal,
    percent: Decimal | None,
) -> GoalStatus:
    return status_of(
        start_date=START, end_date=END, today=today, value=value, target=target, percent=percent
    )


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 2, 28), GoalStatus.PENDING),
        (START, GoalStatus.IN_PROGRESS),
        (date(2026, 3, 15), GoalStatus.IN_PROGRESS),
        (END, GoalStatus.IN_PROGRESS),
        (AFTER, GoalStatus.EXCEEDED),
    ],
)
def test_status_follows_the_dates_first(today: date, expected: GoalStatus) -> None:
    assert status(today, D("20"), D("10"), D("200")) is expected


@pytest.mark.parametrize(
    ("value", "target", "percent", "expected"),
    [
        (D("11"), D("10"), D("110"), GoalStatus.EXCEEDED),
        (D("10.001"), D("10"), D("100.01"), GoalStatus.EXCEEDED),
        (D("10"), D("10"), D("100"), GoalStatus.ACHIEVED),
        # Rounds to 100.00: achieved, though not exactly equal.
        (D("10.0004"), D("10"), D("100.00"), GoalStatus.ACHIEVED),
        (D("9.999"), D("10"), D("99.99"), GoalStatus.MISSED),
        (D("0"), D("10"), D("0"), GoalStatus.MISSED),
        (None, D("10"), None, GoalStatus.MISSED),
        (None, D("0"), None, GoalStatus.MISSED),
        # Zero target (higher is better): equal is achieved, more is exceeded.
        (D("0"), D("0"), None, GoalStatus.ACHIEVED),
        (D("3"), D("0"), None, GoalStatus.EXCEEDED),
        # Zero time (lower is better): better than any positive target.
        (D("0"), D("30"), None, GoalStatus.EXCEEDED),
    ],
)
def test_status_after_the_end(
    value: Decimal | None, target: Decimal, percent: Decimal | None, expected: GoalStatus
) -> None:
    assert status(AFTER, value, target, percent) is expected


def test_before_and_during_ignore_the_numbers() -> None:
    for numbers in [(None, D("0"), None), (D("0"), D("0"), None), (D("99"), D("1"), D("9900"))]:
        assert status(date(2026, 1, 1), *numbers) is GoalStatus.PENDING
        assert status(date(2026, 3, 2), *numbers) is GoalStatus.IN_PROGRESS


amounts = st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False)


@given(value=amounts, target=amounts, higher=st.booleans())
def test_status_after_the_end_matches_percent(
    value: Decimal, target: Decimal, higher: bool
) -> None:
    percent = percent_of_target(value, target, higher)
    result = status(AFTER, value, target, percent)
    if percent is None:
        assert result is (GoalStatus.ACHIEVED if value == target else GoalStatus.EXCEEDED)
    elif percent > 100:
        assert result is GoalStatus.EXCEEDED
    elif percent == 100:
        assert result is GoalStatus.ACHIEVED
    else:
        assert result is GoalStatus.MISSED
    if percent is not None:
        assert percent == percent.quantize(D("0.01"))
        assert percent >= 0

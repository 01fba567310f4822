"""Numbers as the API shows them: decimals without storage padding, percents as numbers."""

from decimal import Decimal


def plain_decimal(number: Decimal | None) -> Decimal | None:
    """The same number without storage padding: 12.5000 reads 12.5, 100.0000 reads 100."""
    if number is None:
        return None
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


def percent_number(percent: Decimal | None) -> float | None:
    return None if percent is None else float(percent)

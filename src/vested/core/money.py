"""Money: ``Decimal`` only, made by :func:`D`, rounded by a declared policy in :func:`round_amount`.

Every amount in vested is a ``Decimal``. Rounding happens in exactly one place (this module), with
the mode and step the agreement declares, so a statement can always say how it rounded.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Final

ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)
HUNDRED: Final = Decimal(100)
CENT: Final = Decimal("0.01")

ROUNDING_MODES: Final[dict[str, str]] = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "half_down": decimal.ROUND_HALF_DOWN,
    "up": decimal.ROUND_UP,
    "down": decimal.ROUND_DOWN,
    "ceiling": decimal.ROUND_CEILING,
    "floor": decimal.ROUND_FLOOR,
}
"""The rounding modes an agreement may declare, by name (the names of Python's decimal modes)."""


def D(value: Decimal | int | str | float) -> Decimal:
    """Make a Decimal. Floats go through their shortest repr, so ``D(0.1) == Decimal("0.1")``."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not an amount")
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def round_amount(amount: Decimal, mode: str = "half_up", step: Decimal = CENT) -> Decimal:
    """Round ``amount`` to a multiple of ``step`` with the named mode.

    ``step`` is usually a power of ten (0.01, 1, 1000) but any positive step works (0.05 for
    Swiss francs cash rounding): the amount is divided by the step, rounded to an integer, and
    multiplied back, so the result always has the step's exponent.
    """
    if step <= 0:
        raise ValueError("rounding step must be positive")
    rounding = ROUNDING_MODES[mode]
    with decimal.localcontext() as ctx:
        # enough digits for any amount: quantize must never run out of precision on a large number
        ctx.prec = max(ctx.prec, amount.adjusted() - step.adjusted() + 10)
        units = (amount / step).quantize(ONE, rounding=rounding)
        return (units * step).quantize(step)


def within(expected: Decimal, actual: Decimal, tolerance: Decimal) -> bool:
    """True when ``actual`` is within ``tolerance`` of ``expected`` (both ends inclusive)."""
    return abs(actual - expected) <= tolerance


def describe_difference(expected: Decimal, actual: Decimal) -> str:
    """Say how ``actual`` differs from ``expected``: the values, the gap and its direction."""
    gap = actual - expected
    direction = "above" if gap > 0 else "below" if gap < 0 else "equal to"
    return f"expected {expected}, got {actual} ({abs(gap)} {direction} expected)"


SHOWN_PLACES = 6
"""Explanations show at most this many decimal places; a value cut for display is marked with ≈."""


def _cut(value: Decimal, places: int) -> tuple[Decimal, str]:
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        with decimal.localcontext() as ctx:
            ctx.prec = max(ctx.prec, value.adjusted() + places + 10)
            return value.quantize(Decimal(1).scaleb(-places)).normalize(), "≈"
    return value, ""


def percent(share: Decimal) -> str:
    """Show a share (0.25) as a percentage ("25%"), without trailing zeros."""
    value, approx = _cut(share * HUNDRED, SHOWN_PLACES - 2)
    text = format(value.normalize(), "f")
    return f"{approx}{text}%"


def show(amount: Decimal) -> str:
    """Show a number with thousands separators and its own exponent (no float artefacts).

    Non-terminating quotients (2/3) are cut to six places for reading and marked "≈"; the exact
    value is what the statement carries.
    """
    value, approx = _cut(amount, SHOWN_PLACES)
    if value == value.to_integral_value():
        with decimal.localcontext() as ctx:
            ctx.prec = max(ctx.prec, value.adjusted() + 10)
            value = value.quantize(ONE)
    elif isinstance(value.as_tuple().exponent, int):
        value = value.normalize()
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return f"{approx}{int(value):,}"
    return f"{approx}{value:,f}"

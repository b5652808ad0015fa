"""Money: ``Decimal`` only, made by :func:`D`, rounded by a declared policy in :func:`round_amount`.

Every amount in vested is a ``Decimal``. Rounding happens in exactly one place (this module), with
the mode and step the agreement declares, so a statement can always say how it rounded. Numbers are
shown for reading here too: :func:`show` in explanations, :func:`show_money` on statements and
scorecards; both cut what they cannot show and mark the cut with "≈".
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


SHOWN_PLACES = 6
"""Explanations show at most this many decimal places; a value cut for display is marked with ≈."""


def _quantize(value: Decimal, places: int) -> Decimal:
    """``value`` to ``places`` decimal places (half even), with precision enough for any size."""
    with decimal.localcontext() as ctx:
        ctx.prec = max(ctx.prec, value.adjusted() + places + 10)
        return value.quantize(Decimal(1).scaleb(-places))


def _cut(value: Decimal, places: int) -> tuple[Decimal, str]:
    """``value`` with at most ``places`` decimals, and "≈" when that changed it.

    Trailing zeros are not a cut: 6.000000000 (a DECIMAL(38,9) column) is exactly 6.
    """
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        cut = _quantize(value, places)
        return cut.normalize(), ("≈" if cut != value else "")
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


def show_money(amount: Decimal, step: Decimal = CENT, *, trim: bool = False) -> str:
    """An amount as a statement or a scorecard shows it, at the places of the rounding ``step``.

    Thousands separators and at least two decimals (1,250.00), more when the step has more
    (a step of 0.001 shows three). An amount with more places than that (an exact line under
    per-statement rounding, 2/3 of a fee) is cut for reading and marked "≈" (≈666.67); the
    statement keeps the exact value. ``trim`` drops the trailing zeros of an amount that needs
    no cut (99.5, 12): for measured values, which are not money. A cut value keeps its places
    (99.998 reads ≈100.00, never a round 100 that would claim a perfect month).
    """
    exponent = step.normalize().as_tuple().exponent
    places = max(2, -exponent if isinstance(exponent, int) else 0)
    cut = _quantize(amount, places)
    if cut != amount:
        return f"≈{cut:,.{places}f}"
    if trim:
        return show(amount)
    return f"{cut:,.{places}f}"

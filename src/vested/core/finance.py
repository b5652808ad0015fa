"""Finance formulas: NPV, IRR, payback, PMT and FV, in ``Decimal``.

Part of the pure core. Agreements use these to value a gain-share over time (the NPV of a stream
of savings, the rate it earns, how long until it pays back an investment) and to spread an amount
into level instalments. The conventions are numpy-financial's, so published worked examples can
be reproduced to their last digit; Excel's NPV is available as a named alternative.

Arithmetic runs in a local context of :data:`WORKING_DIGITS` significant digits; results are
rounded to the caller's context (28 digits by default) on the way out. A rate of -100% or below
makes discounting meaningless and raises ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, localcontext
from itertools import pairwise
from typing import Final, Literal

from vested.core.money import ONE, ZERO, D

Number = Decimal | int | float
"""What the functions accept: Decimals and ints as they are, floats through :func:`D` (their repr)."""

NpvConvention = Literal["first_undiscounted", "excel"]
PaymentTiming = Literal["end", "begin"]

WORKING_DIGITS: Final = 40
"""Significant digits for intermediate arithmetic: a dozen more than results carry."""

_MAX_ITERATIONS: Final = 400
_TIMING: Final[dict[str, Decimal]] = {"end": ZERO, "begin": ONE}


def npv(
    rate: Number, cashflows: Sequence[Number], convention: NpvConvention = "first_undiscounted"
) -> Decimal:
    """Net present value of ``cashflows`` (one per period, in order) at ``rate`` per period.

    ``"first_undiscounted"`` (numpy-financial): flow *t* is divided by ``(1 + rate) ** t`` with *t*
    counting from 0, so the first flow is taken at face value (it happens now).
    ``"excel"`` (Excel's ``NPV``): every flow is discounted, the first by one period, i.e. *t*
    counts from 1. The two differ by exactly one factor of ``(1 + rate)``.
    """
    if convention not in ("first_undiscounted", "excel"):
        raise ValueError(f"unknown NPV convention {convention!r}")
    with localcontext() as ctx:
        ctx.prec = WORKING_DIGITS
        growth = _growth(rate)
        total = _present_value([D(c) for c in cashflows], ONE / growth)
        if convention == "excel":
            total /= growth
    return +total


def irr(cashflows: Sequence[Number]) -> Decimal | None:
    """The internal rate of return: the ``rate`` at which ``npv(rate, cashflows) == 0``.

    Returns ``None`` when no rate above -100% exists (for example when the flows never change
    sign). With the substitution ``x = 1 / (1 + rate)`` the NPV is a polynomial in *x*; its
    positive roots are isolated exactly (see :func:`_find_roots`), so a root is never missed
    because a search started in the wrong place. When the NPV has several roots — possible when
    the flows change sign more than once — the rate closest to 0 is returned, which is the choice
    numpy-financial documents and makes for the worked examples (``[-5, 10.5, 1, -8, 1]`` has
    rates near -0.870, 0.0886 and 0.710; 0.0886 is returned). On an exact tie the higher rate wins.
    """
    with localcontext() as ctx:
        ctx.prec = WORKING_DIGITS
        coefficients = _strip_zeros([D(c) for c in cashflows])
        if not any(c > 0 for c in coefficients) or not any(c < 0 for c in coefficients):
            return None  # no sign change: by Descartes' rule the polynomial has no positive root
        roots = _find_roots(coefficients, ZERO, _root_bound(coefficients))
        rates = [ONE / x - ONE for x in roots if x > 0]
        if not rates:
            return None
        best = min(rates, key=lambda r: (abs(r), -r))
    return +best


def payback(investment: Number, cashflows: Sequence[Number]) -> Decimal | None:
    """Simple payback: how many periods of ``cashflows`` it takes to recover ``investment``.

    ``investment`` is the positive amount paid out at the start; ``cashflows[t - 1]`` arrives at
    the end of period *t*. The answer is the first point at which the cumulative position (minus
    the investment, plus the flows so far) reaches zero, interpolating linearly inside that period
    as if its flow arrived evenly: 10,000 repaid by 3,000 a period gives 3.333. ``None`` if the
    flows never recover the investment.
    """
    with localcontext() as ctx:
        ctx.prec = WORKING_DIGITS
        result = _payback([D(c) for c in cashflows], D(investment))
    return None if result is None else +result


def discounted_payback(investment: Number, cashflows: Sequence[Number], rate: Number) -> Decimal | None:
    """Like :func:`payback`, with the flow of period *t* (from 1) first divided by ``(1 + rate) ** t``.

    This is the time until the investment is recovered in present-value terms, so it is never
    shorter than the simple payback when ``rate`` is positive.
    """
    with localcontext() as ctx:
        ctx.prec = WORKING_DIGITS
        discount = ONE / _growth(rate)
        factor = ONE
        discounted: list[Decimal] = []
        for flow in cashflows:
            factor *= discount
            discounted.append(D(flow) * factor)
        result = _payback(discounted, D(investment))
    return None if result is None else +result


def pmt(rate: Number, nper: Number, pv: Number, fv: Number = 0, when: PaymentTiming = "end") -> Decimal:
    """The level payment per period that takes a present value ``pv`` to a future value ``fv``.

    numpy-financial's sign convention: money received is positive, money paid is negative, and
    ``fv + pv * (1 + rate) ** nper + pmt * (1 + rate * w) * ((1 + rate) ** nper - 1) / rate == 0``
    with ``w`` = 0 for payments at the period ``"end"`` and 1 at the ``"begin"``. So borrowing
    200,000 (``pv`` positive) gives a negative payment. At ``rate == 0`` the factor is ``nper``.
    """
    with localcontext() as ctx:
        ctx.prec = WORKING_DIGITS
        compound, annuity = _tvm_factors(D(rate), D(nper), when)
        if annuity == 0:
            raise ValueError("no payment can move the balance: the annuity factor is zero (nper == 0?)")
        payment = -(D(fv) + D(pv) * compound) / annuity
    return +payment


def fv(rate: Number, nper: Number, pmt: Number, pv: Number, when: PaymentTiming = "end") -> Decimal:
    """The future value after ``nper`` periods of payments ``pmt`` on a present value ``pv``.

    Solves the same equation as :func:`pmt` for ``fv``, with the same sign convention: paying in
    100 a month (``pmt`` and ``pv`` negative) builds a positive future value.
    """
    with localcontext() as ctx:
        ctx.prec = WORKING_DIGITS
        compound, annuity = _tvm_factors(D(rate), D(nper), when)
        value = -(D(pv) * compound + D(pmt) * annuity)
    return +value


def _growth(rate: Number) -> Decimal:
    """``1 + rate``, refusing rates at or below -100% (nothing can be discounted by them)."""
    growth = ONE + D(rate)
    if growth <= 0:
        raise ValueError(f"rate must be above -1 (-100%), got {rate}")
    return growth


def _tvm_factors(rate: Decimal, nper: Decimal, when: PaymentTiming) -> tuple[Decimal, Decimal]:
    """``(1 + rate) ** nper`` and the annuity factor that multiplies the payment."""
    if when not in _TIMING:
        raise ValueError(f"when must be 'end' or 'begin', got {when!r}")
    compound = _growth(rate) ** nper
    if rate == 0:
        return compound, nper
    return compound, (ONE + rate * _TIMING[when]) * (compound - ONE) / rate


def _present_value(coefficients: Sequence[Decimal], x: Decimal) -> Decimal:
    """``sum(c[t] * x ** t)`` by Horner's rule (fewer roundings than summing powers)."""
    total = ZERO
    for c in reversed(coefficients):
        total = total * x + c
    return total


def _payback(flows: Sequence[Decimal], investment: Decimal) -> Decimal | None:
    """First zero of the cumulative position, linear within each period; ``None`` if never."""
    if investment < 0:
        raise ValueError(f"give the investment as a positive amount, got {investment}")
    position = -investment
    if position >= 0:
        return ZERO
    for period, flow in enumerate(flows):
        after = position + flow
        if after >= 0:  # the position was negative and is not any more, so flow > 0
            return period + (-position) / flow
        position = after
    return None


def _strip_zeros(coefficients: list[Decimal]) -> list[Decimal]:
    """Drop leading and trailing zero flows: they move no root of the NPV other than x = 0."""
    start = next((i for i, c in enumerate(coefficients) if c != 0), len(coefficients))
    end = len(coefficients)
    while end > start and coefficients[end - 1] == 0:
        end -= 1
    return coefficients[start:end]


def _root_bound(coefficients: Sequence[Decimal]) -> Decimal:
    """Cauchy's bound: every root of the polynomial (and of its derivatives) lies within it."""
    leading = abs(coefficients[-1])
    return ONE + max(abs(c) / leading for c in coefficients[:-1])


def _derivative(coefficients: Sequence[Decimal]) -> list[Decimal]:
    return [c * t for t, c in enumerate(coefficients)][1:]


def _find_roots(coefficients: Sequence[Decimal], low: Decimal, high: Decimal) -> list[Decimal]:
    """Every real root in ``(low, high]`` of the polynomial ``sum(c[t] * x ** t)``, ascending.

    Rolle's theorem: between consecutive roots of the derivative the polynomial is monotone, so
    each such piece holds at most one root, present exactly when the ends differ in sign. The
    derivative's roots are found the same way, recursively, down to a straight line. A root where
    the polynomial touches zero without crossing it is found only if it is exactly a root of the
    derivative too (e.g. ``[-1, 2, -1]``, IRR 0).
    """
    if len(coefficients) < 2:
        return []
    if len(coefficients) == 2:
        root = -coefficients[0] / coefficients[1]
        return [root] if low < root <= high else []
    turning = _find_roots(_derivative(coefficients), low, high)
    points = [low, *(t for t in turning if low < t < high), high]
    roots: list[Decimal] = []
    for left, right in pairwise(points):
        f_left = _present_value(coefficients, left)
        f_right = _present_value(coefficients, right)
        if f_right == 0:
            roots.append(right)
        elif f_left != 0 and (f_left < 0) != (f_right < 0):
            roots.append(_solve_monotone(coefficients, left, right, f_left))
    return sorted(set(roots))


def _solve_monotone(coefficients: Sequence[Decimal], low: Decimal, high: Decimal, f_low: Decimal) -> Decimal:
    """The one root in ``(low, high)`` of a polynomial that is monotone there and changes sign.

    Safeguarded Newton: take the Newton step when it lands inside the bracket, bisect otherwise,
    and shrink the bracket on every evaluation, so it converges like Newton near the root and can
    never wander off like plain Newton.
    """
    slope_coefficients = _derivative(coefficients)
    low_is_negative = f_low < 0
    tolerance = Decimal(10) ** (-(WORKING_DIGITS - 6))
    x = (low + high) / 2
    for _ in range(_MAX_ITERATIONS):
        f = _present_value(coefficients, x)
        if f == 0:
            return x
        if (f < 0) == low_is_negative:
            low = x
        else:
            high = x
        slope = _present_value(slope_coefficients, x)
        step = f / slope if slope != 0 else ZERO
        candidate = x - step
        if slope == 0 or not low < candidate < high:
            candidate = (low + high) / 2
        if abs(candidate - x) <= tolerance * max(ONE, abs(x)) or high - low <= tolerance * max(ONE, abs(x)):
            return candidate
        x = candidate
    return x

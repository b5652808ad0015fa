"""Paying for outcomes: a bonus or an at-risk fee tied to an outcome's attainment; margin matching.

* Outcome incentive: attainment of an outcome (0-100%) is read off a curve, either linear between
  the value that earns nothing and the value that earns everything, or stepped. A *bonus* is paid
  on top of the fees (earned share × amount, customer to supplier); an *at-risk* amount is part of
  the fees and is returned to the customer in proportion to what was not earned.
* Margin matching: when a price index moves outside a trigger band around its base, the price of
  another term resets by the index ratio (times a pass-through share) and stays there until the
  next reset, so both parties' margins follow the market rather than one absorbing the change.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic.dataclasses import dataclass

from vested.core.money import ONE, ZERO, percent, show
from vested.core.records import RECORD
from vested.core.terms.base import Charge, PricingContext, Reference, TermBase, TermKind, TermResult
from vested.core.terms.common import AmountSource
from vested.core.values import Identifier, Number, Rate, Share, fail


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Step:
    """A step of a stepped curve: reaching the value earns the share."""

    at: Number
    """The outcome value that must be reached (met or beaten in the outcome's direction)."""
    earns: Share
    """The share earned from that value on."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Curve:
    """How an outcome's value maps to the share earned: linear between two points, or steps."""

    zero_at: Number | None = None
    """Linear curve: the value that earns 0%."""
    full_at: Number | None = None
    """Linear curve: the value that earns 100%."""
    steps: tuple[Step, ...] = ()
    """Stepped curve: the steps, in any order."""

    def __post_init__(self) -> None:
        linear = self.zero_at is not None or self.full_at is not None
        if linear and self.steps:
            raise fail("curve", "give either zero_at/full_at (linear) or steps, not both")
        if not linear and not self.steps:
            raise fail("curve", "the curve is empty", "give zero_at and full_at, or a list of steps")
        if linear and (self.zero_at is None or self.full_at is None or self.zero_at == self.full_at):
            raise fail("curve", "a linear curve needs two different values, zero_at and full_at",
                       "e.g. `zero_at: 97.0` and `full_at: 99.5`")


def contradicts(curve: Curve, direction: str) -> bool:
    """True when a linear curve rewards moving the wrong way (full_at worse than zero_at)."""
    if curve.zero_at is None or curve.full_at is None:
        return False
    return curve.full_at < curve.zero_at if direction == "higher" else curve.full_at > curve.zero_at


def attainment(curve: Curve, value: Decimal, direction: str) -> tuple[Decimal, str]:
    """The share earned (0-1) at ``value``, and how it was read off the curve."""
    if curve.zero_at is not None and curve.full_at is not None:
        raw = (value - curve.zero_at) / (curve.full_at - curve.zero_at)
        share = min(ONE, max(ZERO, raw))
        return share, (f"({show(value)} − {show(curve.zero_at)}) ÷ ({show(curve.full_at)} − {show(curve.zero_at)})"
                       f" → {percent(share)}")

    def reaches(step: Step) -> bool:
        return value >= step.at if direction == "higher" else value <= step.at

    reached = [s for s in curve.steps if reaches(s)]
    if not reached:
        return ZERO, f"{show(value)} reaches no step → 0%"
    best = max(reached, key=lambda s: s.earns)
    return best.earns, f"{show(value)} reaches the step at {show(best.at)} → {percent(best.earns)}"


@dataclass(frozen=True, kw_only=True, config=RECORD)
class OutcomeIncentive(TermBase):
    """A bonus or an at-risk amount earned according to an outcome's attainment."""

    type: Literal["outcome_incentive"]
    """The term type: always `outcome_incentive`."""
    outcome: Identifier
    """The outcome whose value is assessed (an outcome id)."""
    kind: Literal["bonus", "at_risk"]
    """bonus: paid on top of fees, in proportion to attainment; at_risk: part of the fees,
    returned to the customer in proportion to what was not attained."""
    amount: AmountSource
    """The full bonus, or the amount at risk (a number, a metric or a term)."""
    curve: Curve
    """How the outcome's value maps to the share earned."""

    def references(self) -> Iterator[Reference]:
        yield Reference("outcome", self.outcome, ("outcome",))
        yield from self.amount.refs(("amount",))

    def lint_kind(self) -> TermKind:
        return "upside" if self.kind == "bonus" else "penalty"


def price_outcome_incentive(term: OutcomeIncentive, ctx: PricingContext) -> TermResult:
    value = ctx.outcome_value(term.outcome)
    amount = ctx.resolve(term.amount, ("amount",))
    direction = ctx.outcome_directions[term.outcome]
    if contradicts(term.curve, direction):
        # A curve that pays more for a worse outcome is a slip in the curve or in the outcome's
        # direction; which one is for the parties to say, so neither is guessed.
        raise ctx.fail("curve-direction",
                       f"the curve earns 100% at {show(term.curve.full_at or ZERO)} and 0% at "
                       f"{show(term.curve.zero_at or ZERO)}, but a {direction} value of outcome"
                       f" {term.outcome!r} is better",
                       "swap zero_at and full_at, or correct the outcome's direction", ("curve",))
    if amount < 0:
        # A negative amount at risk (a share of a term that came out as a loss) would turn the
        # incentive around: poor quality would return less, or reduce what the supplier owes.
        what = "amount at risk" if term.kind == "at_risk" else "bonus"
        raise ctx.fail("incentive-sign", f"the {what} comes to {show(amount)} this period ({term.amount.describe()} is "
                       "negative); an outcome incentive needs an amount of zero or more, so that a worse outcome "
                       "never reduces what the supplier owes",
                       "put the incentive on a term that is never negative (a fee), or give it as a fixed amount",
                       ("amount",))
    earned, reading = attainment(term.curve, value, direction)
    if term.kind == "bonus":
        pay = amount * earned
        charge = Charge(pay, "bonus = amount × share earned", f"{reading}; {show(amount)} × {percent(earned)} = {show(pay)}",
                        inputs=((term.outcome, show(value)), ("amount", show(amount))))
    else:
        pay = -(amount * (ONE - earned))
        charge = Charge(pay, "returned = amount at risk × (1 − share earned)",
                        f"{reading}; {show(amount)} × (1 − {percent(earned)}) = {show(-pay)} returned",
                        inputs=((term.outcome, show(value)), ("amount at risk", show(amount))))
    return TermResult((charge,), figures={"attainment": earned, "value": value})


@dataclass(frozen=True, kw_only=True, config=RECORD)
class MarginMatching(TermBase):
    """A price that resets with an index when the index leaves a trigger band."""

    type: Literal["margin_matching"]
    """The term type: always `margin_matching`."""
    index: Identifier
    """Metric with the index value for the period (a metric id)."""
    base_index: Number
    """The index value the current prices were set at."""
    band: Rate
    """Trigger band: prices reset when the index moves more than this share from its last reset."""
    applies_to: Identifier
    """The term whose amount the reset adjusts (a term id)."""
    pass_through: Share = Decimal(1)
    """Share of the index movement passed into the price."""

    KIND: ClassVar[TermKind] = "adjustment"

    def __post_init__(self) -> None:
        if self.base_index <= 0:
            raise fail("margin_matching", "base_index must be positive")

    def references(self) -> Iterator[Reference]:
        yield Reference("metric", self.index, ("index",))
        yield Reference("term", self.applies_to, ("applies_to",))


def price_margin_matching(term: MarginMatching, ctx: PricingContext) -> TermResult:
    index = ctx.number(term.index)
    if index <= 0:
        # A price index is positive: at 0 the price would fall by 100%, and every later movement
        # from it would divide by zero.
        raise ctx.fail("index-range", f"the index {term.index!r} is {show(index)}; a price index is above zero",
                       f"check the facts; declare the metric {term.index!r} with a minimum above 0", ("index",))
    reset_index = ctx.stored_number("reset_index", term.base_index)
    if reset_index <= 0:
        raise ctx.state_error(f"must be above zero, found {show(reset_index)}",
                              "carry the index of the last reset, as the previous statement left it", ("reset_index",))
    movement = index / reset_index - ONE
    notes: list[str] = []
    if abs(movement) > term.band:
        reset_index = index
        notes.append(f"index moved {percent(movement)} from its last reset, outside the ±{percent(term.band)} band: price reset")
    factor = term.pass_through * (reset_index / term.base_index - ONE)
    base_amount = ctx.term_amount(term.applies_to)
    adjustment = base_amount * factor or ZERO  # a zero price times a fall is 0, not "−0.00" on the statement
    state: dict[str, Any] = {"reset_index": str(reset_index)}
    return TermResult(
        (Charge(adjustment, f"adjustment = amount of {term.applies_to} × pass-through × (index at last reset ÷ base index − 1)",
                f"{show(base_amount)} × {percent(term.pass_through)} × ({show(reset_index)} ÷ {show(term.base_index)} − 1)"
                f" = {show(adjustment)}",
                inputs=((term.index, show(index)), ("base index", show(term.base_index)), ("index at last reset", show(reset_index))),
                notes=tuple(notes)),),
        figures={"index": index, "reset_index": reset_index, "reset": bool(notes)},
        state=state,
    )

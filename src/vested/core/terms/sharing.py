"""Sharing the pie: target cost with pain/gain ranges, and gainshare against a baseline.

* Target cost (NEC4 Option C style): the difference between the target (the total of the prices)
  and the actual cost is split range by range, ranges given as percentages of the target, each
  range at its own supplier share. A saving is the supplier's gain (the customer pays it); an
  overrun is the supplier's pain (the supplier pays it). Piecewise linear, so continuous at every
  range boundary. With ``assessment: cumulative`` the actual is cumulative to date and each period
  pays the cumulative share minus what earlier periods already paid.
* Gainshare (as in shared-savings programmes such as the Medicare Shared Savings Program): savings
  against a baseline are shared once they clear a minimum-savings corridor, up to a cap as a
  percentage of the baseline; optionally losses are shared too, with their own corridor, rate and cap.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from vested.core.money import ZERO, percent, show
from vested.core.records import RECORD
from vested.core.terms.base import Charge, PricingContext, Reference, TermBase, TermKind, TermResult
from vested.core.terms.common import AmountSource
from vested.core.values import Identifier, Rate, Share


@dataclass(frozen=True, kw_only=True, config=RECORD)
class ShareRange:
    """A range of actual cost, as percentages of the target, and the supplier's share within it."""

    lower: Rate | None = Field(default=None, alias="from",
                               description="Start of the range as a percentage of the target (open if left out).")
    upper: Rate | None = Field(default=None, alias="to", description="End of the range as a percentage of the target (open if left out).")
    supplier_share: Share
    """The supplier's share of the difference that falls in this range."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class TargetCost(TermBase):
    """Target cost with pain/gain share ranges."""

    type: Literal["target_cost"]
    """The term type: always `target_cost`."""
    target: AmountSource
    """The target: the total of the prices (a number, a metric or a term)."""
    actual: Identifier
    """Metric with the actual cost (the price for work done) (a metric id)."""
    ranges: tuple[ShareRange, ...] = Field(min_length=1, description="Share ranges covering every actual cost.")
    assessment: Literal["period", "cumulative"] = "period"
    """period: each period stands alone; cumulative: the actual is cumulative to date and each period
    pays the cumulative share minus what was already paid."""

    KIND: ClassVar[TermKind] = "upside"

    def references(self) -> Iterator[Reference]:
        yield from self.target.refs(("target",))
        yield Reference("metric", self.actual, ("actual",))


def supplier_share_of_difference(target: Decimal, actual: Decimal, ranges: tuple[ShareRange, ...]) -> tuple[Decimal, list[str]]:
    """The supplier's share of (target − actual): positive is a gain, negative a pain."""
    low, high = sorted((actual, target))
    total, parts = ZERO, []
    for r in ranges:
        start = low if r.lower is None else max(low, target * r.lower)
        end = high if r.upper is None else min(high, target * r.upper)
        if end > start:
            total += (end - start) * r.supplier_share
            parts.append(f"{percent(r.supplier_share)} × {show(end - start)}")
    # Negate rather than multiply by −1: an overrun shared at 0% is a pain of 0, not "−0".
    return (total if actual <= target else -total), parts


def price_target_cost(term: TargetCost, ctx: PricingContext) -> TermResult:
    target = ctx.resolve(term.target)
    actual = ctx.number(term.actual)
    share, parts = supplier_share_of_difference(target, actual, term.ranges)
    # An overrun is the supplier's pain even where its share is 0%; the sign of a zero cannot tell.
    kind = "gain" if actual <= target else "pain"
    calculation = f"{' + '.join(parts) if parts else '0'} = {show(abs(share))} supplier {kind}"
    state: dict[str, Any] | None = None
    amount = share
    notes: tuple[str, ...] = ()
    if term.assessment == "cumulative":
        paid = ctx.stored_number("assessed_to_date", ZERO)
        amount = share - paid
        calculation += f"; minus {show(paid)} already assessed = {show(amount)}"
        # Assessed to date is what the statements paid (this line as rounded), so rounding never drifts.
        state = {"assessed_to_date": str(paid + ctx.round_line(amount))}
        notes = ("cumulative assessment: this period pays the change in the supplier's share to date",)
    return TermResult(
        (Charge(amount, "supplier share = Σ over ranges of range share × part of (target − actual) in the range",
                calculation, inputs=(("target", show(target)), (term.actual, show(actual))), notes=notes),),
        figures={f"supplier_{kind}": abs(share), "target": target, "actual": actual},
        state=state,
    )


@dataclass(frozen=True, kw_only=True, config=RECORD)
class LossSharing:
    """Two-sided risk: how losses (actual above baseline) are shared."""

    minimum_loss_rate: Rate = Decimal(0)
    """Corridor: losses below this percentage of the baseline are not shared."""
    sharing_rate: Share
    """The supplier's share of the loss."""
    cap: Rate | None = None
    """Most the supplier pays, as a percentage of the baseline."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Gainshare(TermBase):
    """Savings against a baseline, shared once they clear a corridor, up to a cap."""

    type: Literal["gainshare"]
    """The term type: always `gainshare`."""
    baseline: AmountSource
    """What the spend would have been (a number, a metric or a term)."""
    actual: Identifier
    """Metric with the actual spend (a metric id)."""
    sharing_rate: Share
    """The supplier's share of the savings."""
    minimum_savings_rate: Rate = Decimal(0)
    """Corridor: savings below this percentage of the baseline are not shared."""
    share_from: Literal["first_dollar", "corridor"] = "first_dollar"
    """first_dollar: once the corridor is cleared, all savings are shared (as in MSSP);
    corridor: only savings beyond the corridor are shared."""
    cap: Rate | None = None
    """Most the supplier earns, as a percentage of the baseline."""
    losses: LossSharing | None = None
    """Leave out for one-sided (upside only) sharing."""

    KIND: ClassVar[TermKind] = "upside"

    def references(self) -> Iterator[Reference]:
        yield from self.baseline.refs(("baseline",))
        yield Reference("metric", self.actual, ("actual",))


def price_gainshare(term: Gainshare, ctx: PricingContext) -> TermResult:
    baseline = ctx.resolve(term.baseline)
    actual = ctx.number(term.actual)
    savings = baseline - actual
    notes: list[str] = []
    figures: dict[str, Any] = {"baseline": baseline, "actual": actual, "savings": savings, "cap_binds": False}
    if savings >= 0:
        corridor = term.minimum_savings_rate * baseline
        if savings < corridor or savings == 0:
            below = f"savings {show(savings)} < corridor {percent(term.minimum_savings_rate)} × {show(baseline)} = {show(corridor)}"
            return TermResult((Charge(ZERO, "shared savings = 0 below the minimum-savings corridor",
                                      below if savings < corridor else "no savings",
                                      inputs=(("baseline", show(baseline)), (term.actual, show(actual)))),), figures=figures)
        shareable = savings if term.share_from == "first_dollar" else savings - corridor
        amount = term.sharing_rate * shareable
        calculation = f"{percent(term.sharing_rate)} × {show(shareable)} = {show(amount)}"
        if term.cap is not None and amount > term.cap * baseline:
            amount = term.cap * baseline
            figures["cap_binds"] = True
            notes.append(f"capped at {percent(term.cap)} of the baseline = {show(amount)}")
        return TermResult((Charge(amount, "shared savings = sharing rate × savings (baseline − actual), within the cap",
                                  calculation, inputs=(("baseline", show(baseline)), (term.actual, show(actual)),
                                                       ("savings", show(savings))), notes=tuple(notes)),), figures=figures)
    loss = -savings
    if term.losses is None:
        return TermResult((Charge(ZERO, "one-sided: losses are not shared", f"loss {show(loss)} not shared",
                                  inputs=(("baseline", show(baseline)), (term.actual, show(actual)))),), figures=figures)
    rule = term.losses
    corridor = rule.minimum_loss_rate * baseline
    if loss < corridor:
        return TermResult((Charge(ZERO, "shared loss = 0 below the minimum-loss corridor",
                                  f"loss {show(loss)} < corridor {show(corridor)}",
                                  inputs=(("baseline", show(baseline)), (term.actual, show(actual)))),), figures=figures)
    owed = rule.sharing_rate * loss
    calculation = f"{percent(rule.sharing_rate)} × {show(loss)} = {show(owed)}"
    if rule.cap is not None and owed > rule.cap * baseline:
        owed = rule.cap * baseline
        figures["cap_binds"] = True
        notes.append(f"capped at {percent(rule.cap)} of the baseline = {show(owed)}")
    return TermResult((Charge(-owed, "shared loss = loss sharing rate × loss (actual − baseline), within the cap",
                              calculation, inputs=(("baseline", show(baseline)), (term.actual, show(actual)),
                                                   ("loss", show(loss))), notes=tuple(notes)),), figures=figures)

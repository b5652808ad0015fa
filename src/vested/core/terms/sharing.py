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

from vested.core.formula_eval import Formula
from vested.core.formula_types import RateOrFormula, ShareOrFormula
from vested.core.money import ZERO, percent, show
from vested.core.records import RECORD
from vested.core.terms.base import Charge, PricingContext, Reference, Source, TermBase, TermKind, TermResult
from vested.core.terms.common import AmountSource
from vested.core.values import Identifier, Rate, Share, fail


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
    target = ctx.resolve(term.target, ("target",))
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

    minimum_loss_rate: RateOrFormula = Decimal(0)
    """Corridor: losses below this percentage of the baseline are not shared (a rate or {formula: ...})."""
    sharing_rate: ShareOrFormula
    """The supplier's share of the loss (a share or {formula: ...}, e.g. clamp(1 − 0.6 × quality, 40%, 60%))."""
    cap: RateOrFormula | None = None
    """Most the supplier pays, as a percentage of the baseline."""
    cap_amount: AmountSource | None = None
    """Most the supplier pays, as an amount (a number, a metric, a term or {formula: ...}); with `cap`, the lesser."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Gainshare(TermBase):
    """Savings against a baseline, shared once they clear a corridor, up to a cap."""

    type: Literal["gainshare"]
    """The term type: always `gainshare`."""
    baseline: AmountSource
    """What the spend would have been (a number, a metric, a term or {formula: ...})."""
    actual: Identifier | None = None
    """Metric with the actual spend (a metric id); or give `actual_amount`."""
    actual_amount: AmountSource | None = None
    """The actual spend as an amount source ({formula: ...}, say) instead of a metric."""
    sharing_rate: ShareOrFormula
    """The supplier's share of the savings (a share or {formula: ...}, e.g. max_rate × quality)."""
    minimum_savings_rate: RateOrFormula = Decimal(0)
    """Corridor: savings below this percentage of the baseline are not shared (a rate or {formula: ...})."""
    share_from: Literal["first_dollar", "corridor"] = "first_dollar"
    """first_dollar: once the corridor is cleared, all savings are shared (as in MSSP);
    corridor: only savings beyond the corridor are shared."""
    cap: RateOrFormula | None = None
    """Most the supplier earns, as a percentage of the baseline (applied after the sharing rate)."""
    cap_amount: AmountSource | None = None
    """Most the supplier earns, as an amount (a number, a metric, a term or {formula: ...}); with `cap`, the lesser."""
    losses: LossSharing | None = None
    """Leave out for one-sided (upside only) sharing."""

    KIND: ClassVar[TermKind] = "upside"

    def __post_init__(self) -> None:
        if (self.actual is None) == (self.actual_amount is None):
            raise fail("source", "give exactly one of `actual` (a metric id) or `actual_amount`",
                       "e.g. `actual: parts_spend` or `actual_amount: {formula: \"orders × cost_per_order\"}`")

    def references(self) -> Iterator[Reference]:
        yield from self.baseline.refs(("baseline",))
        if self.actual is not None:
            yield Reference("metric", self.actual, ("actual",))
        if self.actual_amount is not None:
            yield from self.actual_amount.refs(("actual_amount",))
        if self.cap_amount is not None:
            yield from self.cap_amount.refs(("cap_amount",))
        if self.losses is not None and self.losses.cap_amount is not None:
            yield from self.losses.cap_amount.refs(("losses", "cap_amount"))


def _limit(ctx: PricingContext, rate: Decimal | Formula | None, amount: AmountSource | None, baseline: Decimal,
           where: tuple[str, ...]) -> tuple[Decimal | None, str]:
    """The lesser of a cap as a rate of the baseline and a cap as an amount (None: no cap), and how it reads."""
    limits: list[tuple[Decimal, str]] = []
    if rate is not None:
        value = ctx.evaluate(rate, (*where, "cap"))
        limits.append((value * baseline, f"{percent(value)} of the baseline"))
    if amount is not None:
        limits.append((ctx.resolve(amount, (*where, "cap_amount")), amount.describe()))
    if not limits:
        return None, ""
    least = min(limits, key=lambda pair: pair[0])
    return least[0], least[1] if len(limits) == 1 else f"the lesser of {' and '.join(how for _, how in limits)}"


def price_gainshare(term: Gainshare, ctx: PricingContext) -> TermResult:
    baseline = ctx.resolve(term.baseline, ("baseline",))
    actual_name = term.actual or "actual"
    actual = ctx.number(term.actual) if term.actual is not None else \
        ctx.resolve(term.actual_amount or Source(amount=ZERO), ("actual_amount",))
    savings = baseline - actual
    notes: list[str] = []
    figures: dict[str, Any] = {"baseline": baseline, "actual": actual, "savings": savings, "cap_binds": False}
    inputs = (("baseline", show(baseline)), (actual_name, show(actual)))
    if savings >= 0:
        minimum_rate = ctx.evaluate(term.minimum_savings_rate, ("minimum_savings_rate",))
        corridor = minimum_rate * baseline
        if savings < corridor or savings == 0:
            below = f"savings {show(savings)} < corridor {percent(minimum_rate)} × {show(baseline)} = {show(corridor)}"
            return TermResult((Charge(ZERO, "shared savings = 0 below the minimum-savings corridor",
                                      below if savings < corridor else "no savings", inputs=inputs),), figures=figures)
        rate = ctx.evaluate(term.sharing_rate, ("sharing_rate",), share=True)
        shareable = savings if term.share_from == "first_dollar" else savings - corridor
        amount = rate * shareable
        calculation = f"{percent(rate)} × {show(shareable)} = {show(amount)}"
        limit, how = _limit(ctx, term.cap, term.cap_amount, baseline, ())
        if limit is not None and amount > limit:
            amount = limit
            figures["cap_binds"] = True
            notes.append(f"capped at {how} = {show(amount)}")
        return TermResult((Charge(amount, "shared savings = sharing rate × savings (baseline − actual), within the cap",
                                  calculation, inputs=(*inputs, ("savings", show(savings))), notes=tuple(notes)),),
                          figures=figures)
    loss = -savings
    if term.losses is None:
        return TermResult((Charge(ZERO, "one-sided: losses are not shared", f"loss {show(loss)} not shared",
                                  inputs=inputs),), figures=figures)
    rule = term.losses
    corridor = ctx.evaluate(rule.minimum_loss_rate, ("losses", "minimum_loss_rate")) * baseline
    if loss < corridor:
        return TermResult((Charge(ZERO, "shared loss = 0 below the minimum-loss corridor",
                                  f"loss {show(loss)} < corridor {show(corridor)}", inputs=inputs),), figures=figures)
    loss_rate = ctx.evaluate(rule.sharing_rate, ("losses", "sharing_rate"), share=True)
    owed = loss_rate * loss
    calculation = f"{percent(loss_rate)} × {show(loss)} = {show(owed)}"
    limit, how = _limit(ctx, rule.cap, rule.cap_amount, baseline, ("losses",))
    if limit is not None and owed > limit:
        owed = limit
        figures["cap_binds"] = True
        notes.append(f"capped at {how} = {show(owed)}")
    return TermResult((Charge(-owed, "shared loss = loss sharing rate × loss (actual − baseline), within the cap",
                              calculation, inputs=(*inputs, ("loss", show(loss))), notes=tuple(notes)),), figures=figures)

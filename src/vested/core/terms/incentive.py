"""Incentive contracts from US federal practice (FAR 16.4): FPIF, CPIF and award fee.

* Fixed-price incentive (firm target), FAR 16.403-1: profit moves with the cost difference at the
  agreed shares; the price never exceeds the ceiling. Reports the point of total assumption (PTA),
  the cost beyond which the supplier bears every extra unit of cost.
* Cost-plus-incentive-fee, FAR 16.405-1: cost is reimbursed; the fee moves with the cost difference
  at the agreed shares, clamped to [minimum fee, maximum fee]. Reports the range of incentive
  effectiveness (RIE), the costs between which the clamp does not bind.
* Award fee, FAR 16.401(e): weighted factor scores give a rating band; the band earns a share of
  the period's pool; unearned fee rolls over to the next period when the agreement says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from vested.core.bands import Bounds, find_band
from vested.core.money import HUNDRED, ZERO, percent, show
from vested.core.records import RECORD
from vested.core.terms.base import Charge, PricingContext, Reference, TermBase, TermKind, TermResult
from vested.core.terms.common import SplitSpec
from vested.core.values import Amount, Identifier, Number, Share


@dataclass(frozen=True, kw_only=True, config=RECORD)
class CostIncentive(TermBase):
    """What the FAR cost incentives share: an actual cost against a target, shared by the direction of the difference."""

    # Declared here only to keep `type` first among the fields (a dataclass field keeps its place when
    # a subclass redeclares it): each subclass narrows it to its own literal tag.
    type: str
    actual_cost: Identifier = Field(description="Metric with the actual allowable cost (a metric id).")
    target_cost: Amount = Field(description="The negotiated target cost.")
    underrun_share: SplitSpec = Field(description="How a cost underrun is shared, customer/supplier (e.g. 80/20).")
    overrun_share: SplitSpec = Field(description="How a cost overrun is shared, customer/supplier (e.g. 70/30).")

    KIND: ClassVar[TermKind] = "upside"

    def references(self) -> Iterator[Reference]:
        yield Reference("metric", self.actual_cost, ("actual_cost",))

    def supplier_share(self, cost: Decimal) -> Decimal:
        """The supplier's share of (target cost − ``cost``): of the underrun at or below target, else of the overrun."""
        return self.underrun_share.supplier if cost <= self.target_cost else self.overrun_share.supplier


@dataclass(frozen=True, kw_only=True, config=RECORD)
class FixedPriceIncentive(CostIncentive):
    """Fixed-price incentive (firm target): shared over- and underruns up to a ceiling price."""

    type: Literal["fixed_price_incentive"]
    """The term type: always `fixed_price_incentive`."""
    target_profit: Amount
    """The profit at target cost."""
    ceiling_price: Amount
    """The most the customer pays."""

    @property
    def target_price(self) -> Decimal:
        return self.target_cost + self.target_profit

    @property
    def point_of_total_assumption(self) -> Decimal | None:
        """PTA = target cost + (ceiling − target price) ÷ customer's overrun share; None when that share is 0."""
        if self.overrun_share.customer == 0:
            return None
        return self.target_cost + (self.ceiling_price - self.target_price) / self.overrun_share.customer


def price_fixed_price_incentive(term: FixedPriceIncentive, ctx: PricingContext) -> TermResult:
    cost = ctx.number(term.actual_cost)
    difference = term.target_cost - cost
    share = term.supplier_share(cost)
    profit = term.target_profit + share * difference
    raw_price = cost + profit
    price = min(raw_price, term.ceiling_price)
    notes = []
    if raw_price > term.ceiling_price:
        notes.append(f"held at the ceiling price {show(term.ceiling_price)} (cost + profit would be {show(raw_price)})")
    pta = term.point_of_total_assumption
    calculation = (
        f"profit = {show(term.target_profit)} + {percent(share)} × ({show(term.target_cost)} − {show(cost)}) = {show(profit)}; "
        f"price = min({show(cost)} + {show(profit)}, {show(term.ceiling_price)}) = {show(price)}"
    )
    return TermResult(
        (Charge(price, "price = min(actual cost + target profit + supplier share × (target cost − actual cost), ceiling price)",
                calculation,
                inputs=((term.actual_cost, show(cost)), ("target cost", show(term.target_cost)),
                        ("target profit", show(term.target_profit)), ("ceiling price", show(term.ceiling_price)),
                        ("supplier share", percent(share))),
                notes=tuple(notes)),),
        figures={
            "price": price,
            "profit": price - cost,
            "target_price": term.target_price,
            "point_of_total_assumption": pta if pta is not None else "undefined (customer's overrun share is 0%)",
        },
    )


@dataclass(frozen=True, kw_only=True, config=RECORD)
class CostPlusIncentiveFee(CostIncentive):
    """Cost-plus-incentive-fee: cost reimbursed; the fee moves with cost within [minimum, maximum]."""

    type: Literal["cost_plus_incentive_fee"]
    """The term type: always `cost_plus_incentive_fee`."""
    target_fee: Amount
    """The fee at target cost."""
    minimum_fee: Amount | None = None
    """The lowest fee, however high the cost (no floor when left out)."""
    maximum_fee: Amount | None = None
    """The highest fee, however low the cost (no ceiling when left out)."""

    @property
    def range_of_incentive_effectiveness(self) -> tuple[Decimal | None, Decimal | None]:
        """Costs between which the fee is not clamped (None where a share of 0 makes it unbounded)."""
        low = (self.target_cost - (self.maximum_fee - self.target_fee) / self.underrun_share.supplier
               if self.underrun_share.supplier and self.maximum_fee is not None else None)
        high = (self.target_cost + (self.target_fee - self.minimum_fee) / self.overrun_share.supplier
                if self.overrun_share.supplier and self.minimum_fee is not None else None)
        return low, high


def price_cost_plus_incentive_fee(term: CostPlusIncentiveFee, ctx: PricingContext) -> TermResult:
    cost = ctx.number(term.actual_cost)
    difference = term.target_cost - cost
    share = term.supplier_share(cost)
    raw_fee = term.target_fee + share * difference
    fee = raw_fee
    if term.minimum_fee is not None:
        fee = max(fee, term.minimum_fee)
    if term.maximum_fee is not None:
        fee = min(fee, term.maximum_fee)
    notes = []
    if fee != raw_fee:
        bound = "maximum" if fee == term.maximum_fee else "minimum"
        notes.append(f"fee held at the {bound} fee {show(fee)} (the formula gives {show(raw_fee)})")
    limits = (f"; within [{_bound(term.minimum_fee)}, {_bound(term.maximum_fee)}] = {show(fee)}"
              if term.minimum_fee is not None or term.maximum_fee is not None else "")
    low, high = term.range_of_incentive_effectiveness
    return TermResult(
        (
            Charge(cost, f"cost reimbursed = {term.actual_cost}", show(cost), label="cost reimbursed",
                   inputs=((term.actual_cost, show(cost)),)),
            Charge(fee, "fee = clamp(target fee + supplier share × (target cost − actual cost), minimum fee, maximum fee)",
                   f"{show(term.target_fee)} + {percent(share)} × ({show(term.target_cost)} − {show(cost)}) = {show(raw_fee)}"
                   f"{limits}",
                   label="incentive fee",
                   inputs=(("target fee", show(term.target_fee)), ("target cost", show(term.target_cost)),
                           ("supplier share", percent(share)), ("minimum fee", _bound(term.minimum_fee)),
                           ("maximum fee", _bound(term.maximum_fee))),
                   notes=tuple(notes)),
        ),
        figures={"fee": fee, "price": cost + fee, "range_of_incentive_effectiveness": [low, high]},
    )


def _bound(fee: Decimal | None) -> str:
    return "none" if fee is None else show(fee)


@dataclass(frozen=True, kw_only=True, config=RECORD)
class AwardFactor:
    """One evaluation factor of an award fee and its weight."""

    score: Identifier
    """Metric with the factor's score for the period, 0-100 (a metric id)."""
    weight: Share
    """Weight of the factor; the weights add up to 100%."""
    label: str = ""
    """Name of the factor (technical, schedule, cost, ...)."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class AwardBand:
    """A rating band of the weighted score and what it earns."""

    rating: str
    """Name of the rating (Excellent, Very good, ...)."""
    lower: Number | None = Field(default=None, alias="from", description="Lowest weighted score of the band.")
    upper: Number | None = Field(default=None, alias="to", description="Highest weighted score of the band (open if left out).")
    earns: Share | Literal["score"] = "score"
    """Share of the pool the band earns: a fixed share, or `score` for the weighted score as a percentage."""

    @property
    def bounds(self) -> Bounds:
        return (self.lower, self.upper)


@dataclass(frozen=True, kw_only=True, config=RECORD)
class AwardFee(TermBase):
    """Award fee: a pool earned according to the customer's evaluation of weighted factors."""

    type: Literal["award_fee"]
    """The term type: always `award_fee`."""
    pool: Amount
    """The award-fee pool available for the period."""
    factors: tuple[AwardFactor, ...] = Field(min_length=1, description="Evaluation factors with their weights.")
    bands: tuple[AwardBand, ...] = Field(min_length=1, description="Rating bands of the weighted score.")
    rollover: bool = False
    """Whether unearned fee is added to the next period's pool."""

    KIND: ClassVar[TermKind] = "upside"

    def references(self) -> Iterator[Reference]:
        for i, factor in enumerate(self.factors):
            yield Reference("metric", factor.score, ("factors", i, "score"))


def price_award_fee(term: AwardFee, ctx: PricingContext) -> TermResult:
    carried = ctx.stored_number("carried_over", ZERO) if term.rollover else ZERO
    pool = term.pool + carried
    parts, score = [], ZERO
    for i, factor in enumerate(term.factors):
        value = ctx.number(factor.score)
        if not ZERO <= value <= HUNDRED:
            # A score above 100 would earn more than the whole pool; below 0, a negative fee.
            raise ctx.fail("score-range", f"the score of {factor.label or factor.score} is {show(value)}, outside 0-100",
                           f"scores are 0-100; declare the metric {factor.score!r} with minimum: 0 and maximum: 100",
                           ("factors", i, "score"))
        score += factor.weight * value
        parts.append(f"{percent(factor.weight)} × {show(value)}")
    index = find_band([b.bounds for b in term.bands], score, ctx.tier_boundaries)
    if index is None:
        raise ctx.fail("no-band", f"no rating band covers a weighted score of {show(score)}",
                       "make the bands cover every score from 0 to 100", ("bands",))
    band = term.bands[index]
    earned_share = score / HUNDRED if band.earns == "score" else band.earns
    fee = pool * earned_share
    pool_text = f"{show(term.pool)} + {show(carried)} carried over" if carried else show(pool)
    # What is carried over is what the statement did not pay (the fee line, rounded), so no cent is lost.
    state: dict[str, Any] | None = {"carried_over": str(pool - ctx.round_line(fee))} if term.rollover else None
    return TermResult(
        (Charge(fee, "fee = pool × share earned by the rating band of the weighted score",
                f"score = {' + '.join(parts)} = {show(score)} → {band.rating}; {pool_text} × {percent(earned_share)} = {show(fee)}",
                inputs=(("pool", show(pool)), ("weighted score", show(score)), ("rating", band.rating))),),
        figures={"weighted_score": score, "rating": band.rating, "fee": fee, "unearned": pool - fee},
        state=state,
    )

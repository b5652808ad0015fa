"""Fees for work and volume: fixed fee, per unit, tiered volume, time and materials, cost-plus.

These are the building blocks of task-based contracts. ``per_unit`` and ``tiered_volume`` pay
per transaction unless the quantity they count is an outcome's metric (a fee per *working store*
is outcome-based; a fee per *call* is the Activity Trap the lint warns about).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from vested.core.bands import find_band
from vested.core.formula_types import AmountOrFormula, RateOrFormula
from vested.core.money import ZERO, percent, show
from vested.core.records import RECORD
from vested.core.terms.base import Charge, PricingContext, Reference, TermBase, TermKind, TermResult
from vested.core.terms.common import RateTier
from vested.core.values import Amount, Identifier, Rate, fail


@dataclass(frozen=True, kw_only=True, config=RECORD)
class FixedFee(TermBase):
    """A fixed amount every period (a subscription, a management fee, a fee for the outcome)."""

    type: Literal["fixed_fee"]
    """The term type: always `fixed_fee`."""
    amount: Amount
    """Amount due each period."""


def price_fixed_fee(term: FixedFee, ctx: PricingContext) -> TermResult:
    return TermResult((Charge(term.amount, "fee = fixed amount per period", show(term.amount),
                              inputs=(("amount", show(term.amount)),)),))


def counted_references(quantity: str, linked_outcome: str | None) -> Iterator[Reference]:
    """What a fee for counted units reads: the metric that counts them, and the outcome the unit serves."""
    yield Reference("metric", quantity, ("quantity",))
    if linked_outcome:
        yield Reference("outcome", linked_outcome, ("linked_outcome",))


@dataclass(frozen=True, kw_only=True, config=RECORD)
class PerUnit(TermBase):
    """A rate times a counted quantity (per call, per visit, per supported store)."""

    type: Literal["per_unit"]
    """The term type: always `per_unit`."""
    quantity: Identifier
    """Metric that counts the units (a metric id)."""
    rate: AmountOrFormula
    """Price per unit: an amount, or {formula: ...} computed each period."""
    linked_outcome: Identifier | None = None
    """The outcome this quantity serves, when the unit is itself an outcome (an outcome id)."""

    KIND: ClassVar[TermKind] = "activity"

    def references(self) -> Iterator[Reference]:
        return counted_references(self.quantity, self.linked_outcome)


def price_per_unit(term: PerUnit, ctx: PricingContext) -> TermResult:
    quantity = ctx.number(term.quantity)
    rate = ctx.evaluate(term.rate, ("rate",))
    amount = rate * quantity
    return TermResult((Charge(amount, f"fee = rate × {term.quantity}",
                              f"{show(rate)} × {show(quantity)} = {show(amount)}",
                              inputs=(("rate", show(rate)), (term.quantity, show(quantity)))),))


@dataclass(frozen=True, kw_only=True, config=RECORD)
class TieredVolume(TermBase):
    """Unit rates that change with volume: graduated (each tier's units at its rate) or all-units."""

    type: Literal["tiered_volume"]
    """The term type: always `tiered_volume`."""
    quantity: Identifier
    """Metric that counts the volume (a metric id)."""
    tiers: tuple[RateTier, ...] = Field(min_length=1, description="The tiers, each with from/to bounds and a rate.")
    method: Literal["graduated", "all_units"] = "graduated"
    """graduated: the units in each tier are priced at that tier's rate (like tax brackets);
    all_units: every unit is priced at the rate of the tier the whole volume falls in."""
    boundaries: Literal["lower_inclusive", "upper_inclusive"] | None = None
    """Overrides policy.tier_boundaries for this table."""
    linked_outcome: Identifier | None = None
    """The outcome this volume serves, when the unit is itself an outcome (an outcome id)."""

    KIND: ClassVar[TermKind] = "activity"

    def references(self) -> Iterator[Reference]:
        return counted_references(self.quantity, self.linked_outcome)


def price_tiered_volume(term: TieredVolume, ctx: PricingContext) -> TermResult:
    volume = ctx.number(term.quantity)
    boundaries = term.boundaries or ctx.tier_boundaries
    if term.method == "all_units":
        index = find_band([t.bounds for t in term.tiers], volume, boundaries)
        if index is None:
            raise ctx.fail("no-tier", f"no tier covers a volume of {show(volume)}",
                           "extend the tier table so every possible volume falls in a tier", ("tiers",))
        tier = term.tiers[index]
        amount = tier.rate * volume
        return TermResult(
            (Charge(amount, f"fee = rate of the tier {term.quantity} falls in × {term.quantity}",
                    f"tier {index + 1}: {show(tier.rate)} × {show(volume)} = {show(amount)}",
                    inputs=((term.quantity, show(volume)), ("tier", str(index + 1)), ("rate", show(tier.rate)))),),
            figures={"rate": tier.rate, "tier": index + 1},
        )
    parts, total, covered = [], ZERO, ZERO
    for tier in sorted(term.tiers, key=lambda t: t.lower if t.lower is not None else Decimal("-Infinity")):
        low = tier.lower if tier.lower is not None else ZERO
        high = volume if tier.upper is None else min(volume, tier.upper)
        units = max(ZERO, high - low)
        if units:
            total += units * tier.rate
            covered += units
            parts.append(f"{show(units)} × {show(tier.rate)}")
    if covered != max(volume, ZERO):
        # Units outside every tier would otherwise be priced at nothing without a word.
        raise ctx.fail("no-tier", f"the tiers price {show(covered)} of a volume of {show(volume)} units",
                       "make the tiers run from 0 with no gaps, and leave the last one open (no `to`) "
                       "or high enough for every possible volume", ("tiers",))
    calculation = " + ".join(parts) + f" = {show(total)}" if parts else "no units = 0"
    return TermResult((Charge(total, "fee = Σ units in each tier × that tier's rate", calculation,
                              inputs=((term.quantity, show(volume)),)),))


@dataclass(frozen=True, kw_only=True, config=RECORD)
class LabourRate:
    """Hours of one kind of labour and their hourly rate."""

    hours: Identifier
    """Metric with the hours worked (a metric id)."""
    rate: Amount
    """Price per hour."""
    label: str = ""
    """Name of the role or grade."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class TimeAndMaterials(TermBase):
    """Hours at agreed rates plus materials at cost with a markup."""

    type: Literal["time_and_materials"]
    """The term type: always `time_and_materials`."""
    labour: tuple[LabourRate, ...] = ()
    """Hourly rates by role."""
    materials: Identifier | None = None
    """Metric with the cost of materials used (a metric id)."""
    materials_markup: Rate = Decimal(0)
    """Markup on materials (e.g. 10%)."""

    KIND: ClassVar[TermKind] = "activity"

    def references(self) -> Iterator[Reference]:
        for i, item in enumerate(self.labour):
            yield Reference("metric", item.hours, ("labour", i, "hours"))
        if self.materials:
            yield Reference("metric", self.materials, ("materials",))


def price_time_and_materials(term: TimeAndMaterials, ctx: PricingContext) -> TermResult:
    charges = []
    for item in term.labour:
        hours = ctx.number(item.hours)
        amount = hours * item.rate
        charges.append(Charge(amount, "labour = hours × hourly rate", f"{show(hours)} × {show(item.rate)} = {show(amount)}",
                              label=item.label or item.hours, inputs=((item.hours, show(hours)), ("rate", show(item.rate)))))
    if term.materials:
        cost = ctx.number(term.materials)
        amount = cost * (1 + term.materials_markup)
        charges.append(Charge(amount, "materials = cost × (1 + markup)",
                              f"{show(cost)} × (1 + {percent(term.materials_markup)}) = {show(amount)}",
                              label="materials", inputs=((term.materials, show(cost)), ("markup", percent(term.materials_markup)))))
    return TermResult(tuple(charges))


@dataclass(frozen=True, kw_only=True, config=RECORD)
class CostPlus(TermBase):
    """Allowable cost reimbursed plus a fee: a percentage of cost or a fixed fee."""

    type: Literal["cost_plus"]
    """The term type: always `cost_plus`."""
    cost: Identifier
    """Metric with the allowable cost incurred in the period (a metric id)."""
    fee_rate: RateOrFormula | None = None
    """Fee as a percentage of cost (cost-plus-percentage): a rate, or {formula: ...} computed each period."""
    fee_amount: Amount | None = None
    """Or a fixed fee (cost-plus-fixed-fee)."""

    def __post_init__(self) -> None:
        if (self.fee_rate is None) == (self.fee_amount is None):
            raise fail("cost_plus", "give exactly one of fee_rate or fee_amount", "e.g. `fee_rate: 8%` or `fee_amount: 5000`")

    def references(self) -> Iterator[Reference]:
        yield Reference("metric", self.cost, ("cost",))


def price_cost_plus(term: CostPlus, ctx: PricingContext) -> TermResult:
    cost = ctx.number(term.cost)
    if term.fee_rate is not None:
        rate = ctx.evaluate(term.fee_rate, ("fee_rate",))
        fee = cost * rate
        fee_charge = Charge(fee, "fee = cost × fee rate", f"{show(cost)} × {percent(rate)} = {show(fee)}",
                            label="fee", inputs=(("fee rate", percent(rate)),))
    else:
        fee = term.fee_amount or ZERO
        fee_charge = Charge(fee, "fee = fixed fee", show(fee), label="fee")
    return TermResult((
        Charge(cost, f"cost reimbursed = {term.cost}", show(cost), label="cost", inputs=((term.cost, show(cost)),)),
        fee_charge,
    ))

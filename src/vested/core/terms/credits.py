"""Service credits: what the supplier gives back when service levels are missed.

* ``service_credits``: for each service level, the measured level falls in a tier that sets a
  credit (a share of the base, usually the period's charge, or a fixed amount), or a per-point
  shortfall rule applies; the total is capped per period (a share of the base) and over a rolling
  window (a share of the window's charges, minus credits already given in it). Credits can be
  earned back when the following periods all meet every target.
* ``service_credit_pool``: a share of the base is at risk; it is allocated to categories and,
  within each, to service levels; a missed level costs its category allocation × its level
  allocation × the at-risk amount; credits in a period never exceed the at-risk amount.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_FLOOR, Decimal
from typing import Any, ClassVar, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from vested.core.bands import find_band
from vested.core.money import ZERO, D, percent, show
from vested.core.records import RECORD
from vested.core.terms.base import Charge, PricingContext, Reference, TermBase, TermKind, TermResult
from vested.core.terms.common import AmountSource, CreditTier
from vested.core.values import Identifier, Number, Rate, fail

NEGLIGIBLE = Decimal("1E-20")
"""Differences below this are arithmetic dust, far below any rounding step."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Shortfall:
    """A credit for each unit the level falls short of target (e.g. 5% per point below 99%)."""

    per: Number = Decimal(1)
    """Size of one step of shortfall, in the metric's unit (1 = one percentage point)."""
    credit: Rate
    """Credit per step, as a share of the base."""
    partial: Literal["pro_rata", "whole_steps"] = "pro_rata"
    """pro_rata: a part step earns a part credit; whole_steps: only completed steps count."""

    def __post_init__(self) -> None:
        if self.per <= 0:
            raise fail("shortfall", f"a step of shortfall must be more than zero, not {self.per}",
                       "e.g. `per: 1` for one percentage point")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class ServiceLevel:
    """One measured service level and the credits it triggers."""

    metric: Identifier
    """Metric with the measured level (a metric id)."""
    target: Number
    """The level to meet; also what earn-back compares against."""
    direction: Literal["higher", "lower"] = "higher"
    """Whether a higher or a lower level is better."""
    tiers: tuple[CreditTier, ...] = ()
    """Credit tiers by measured level."""
    shortfall: Shortfall | None = None
    """Or a credit per step of shortfall against target."""
    label: str = ""
    """Name of the service level."""

    def __post_init__(self) -> None:
        if bool(self.tiers) == (self.shortfall is not None):
            raise fail("service_level", "give either tiers or a shortfall rule for each service level",
                       "e.g. `tiers: [{from: 98, to: 99.5, credit: 5%}]` "
                       "or `shortfall: {per: 1, credit: 5%}`")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class RollingCap:
    """A cap on credits over a rolling window of periods."""

    periods: int = Field(default=12, ge=2, description="Length of the window in periods, this one included.")
    rate: Rate
    """Most credits in the window, as a share of the window's bases (charges)."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class EarnBack:
    """Credits returned to the supplier when later performance makes up for the miss."""

    periods: int = Field(default=3, ge=1,
                         description="Number of following periods that must all meet every target.")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class ServiceCredits(TermBase):
    """Tiered or per-point service credits with a period cap, a rolling cap and earn-back."""

    type: Literal["service_credits"]
    """The term type: always `service_credits`."""
    base: AmountSource
    """What credits are a share of: usually the period's charge (a number, a metric or a term)."""
    service_levels: tuple[ServiceLevel, ...] = Field(min_length=1,
                                                     description="The service levels and their credits.")
    monthly_cap: Rate | None = None
    """Most credits in one period, as a share of the base."""
    rolling_cap: RollingCap | None = None
    """Most credits over a rolling window, as a share of the window's bases."""
    earn_back: EarnBack | None = None
    """Whether and how credits can be earned back."""
    boundaries: Literal["lower_inclusive", "upper_inclusive"] | None = None
    """Overrides policy.tier_boundaries for these tiers."""

    DIRECTION: ClassVar[tuple[str, str]] = ("supplier", "customer")
    KIND: ClassVar[TermKind] = "penalty"

    def references(self) -> Iterator[Reference]:
        yield from self.base.refs(("base",))
        for i, level in enumerate(self.service_levels):
            yield Reference("metric", level.metric, ("service_levels", i, "metric"))


@dataclass(frozen=True, kw_only=True, config=RECORD)
class PooledLevel:
    """A service level inside a pool category."""

    metric: Identifier
    """Metric with the measured level (a metric id)."""
    target: Number
    """The level to meet."""
    direction: Literal["higher", "lower"] = "higher"
    """Whether a higher or a lower level is better."""
    allocation: Rate
    """Share of the category's allocation this level carries."""
    label: str = ""
    """Name of the service level."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class PoolCategory:
    """A category of service levels and its share of the pool."""

    id: Identifier
    """Short id of the category."""
    allocation: Rate
    """Share of the at-risk amount allocated to the category (allocations may add up to more than 100%)."""
    service_levels: tuple[PooledLevel, ...] = Field(min_length=1,
                                                    description="Service levels in the category.")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class ServiceCreditPool(TermBase):
    """At-risk pool allocated to categories and service levels (government outsourcing style)."""

    type: Literal["service_credit_pool"]
    """The term type: always `service_credit_pool`."""
    base: AmountSource
    """The period's invoice the at-risk amount is a share of."""
    at_risk: Rate
    """Share of the base at risk each period; also the cap on the period's credits."""
    categories: tuple[PoolCategory, ...] = Field(min_length=1,
                                                 description="Categories with their allocations.")

    DIRECTION: ClassVar[tuple[str, str]] = ("supplier", "customer")
    KIND: ClassVar[TermKind] = "penalty"

    def references(self) -> Iterator[Reference]:
        yield from self.base.refs(("base",))
        for i, category in enumerate(self.categories):
            for j, level in enumerate(category.service_levels):
                yield Reference("metric", level.metric, ("categories", i, "service_levels", j, "metric"))


def _show(number: Decimal) -> str:
    """A number as the explanation shows it: products of shares keep no trailing zeros (1,000, not 1,000.0)."""
    return show(number.normalize())


def _worse(value: Decimal, target: Decimal, direction: str) -> bool:
    """Whether a measured value misses its target (a value equal to the target meets it)."""
    return value < target if direction == "higher" else value > target


def _range_text(lower: Decimal | None, upper: Decimal | None, boundaries: str) -> str:
    low_sign, high_sign = ("≤", "<") if boundaries == "lower_inclusive" else ("<", "≤")
    low = f"{_show(lower)} {low_sign} " if lower is not None else ""
    high = f" {high_sign} {_show(upper)}" if upper is not None else ""
    return f"{low}level{high}"


def _level_charge(level: ServiceLevel, base: Decimal, boundaries: str,
                  ctx: PricingContext) -> tuple[Charge, bool]:
    """The credit one service level earns, and whether the level met its target."""
    value = ctx.number(level.metric)
    met = not _worse(value, level.target, level.direction)
    label = level.label or level.metric
    inputs = ((level.metric, _show(value)), ("target", _show(level.target)), ("base", _show(base)))
    if level.shortfall is not None:
        rule = level.shortfall
        gap = level.target - value if level.direction == "higher" else value - level.target
        short = max(ZERO, gap)
        steps = short / rule.per
        if rule.partial == "whole_steps":
            steps = steps.to_integral_value(rounding=ROUND_FLOOR)
        amount = steps * rule.credit * base
        step_text = "whole steps of" if rule.partial == "whole_steps" else "steps of"
        calculation = (f"{level.metric} = {_show(value)}, target {_show(level.target)}: "
                       f"shortfall {_show(short)}; "
                       f"{step_text} {_show(rule.per)} = {_show(steps)}; "
                       f"{_show(steps)} × {percent(rule.credit)} × {_show(base)} = {_show(amount)}")
        formula = "credit = steps of shortfall against target × credit per step × base"
        return Charge(amount, formula, calculation, label, inputs), met
    found = find_band([t.bounds for t in level.tiers], value, boundaries)
    if found is None:
        return Charge(ZERO, "credit = 0 when the level falls in no credit tier",
                      f"{level.metric} = {_show(value)} is in no credit tier → 0", label, inputs), met
    tier = level.tiers[found]
    bounds = _range_text(tier.lower, tier.upper, boundaries)
    where = f"{level.metric} = {_show(value)} → tier {found + 1} ({bounds})"
    if tier.amount is not None:
        return Charge(tier.amount, "credit = the tier's fixed amount", f"{where}: {_show(tier.amount)}",
                      label, inputs), met
    rate = tier.credit or ZERO
    amount = rate * base
    return Charge(amount, "credit = tier credit × base",
                  f"{where}: {percent(rate)} × {_show(base)} = {_show(amount)}", label, inputs), met


def _cap_line(label: str, before: Decimal, limit: Decimal, formula: str, limit_text: str) -> Charge:
    calculation = f"credits {_show(before)} > {limit_text} = {_show(limit)}: reduced by {_show(before - limit)}"
    return Charge(limit - before, formula, calculation, label, notes=(f"the {label} binds",))


def _base(term: ServiceCredits | ServiceCreditPool, ctx: PricingContext) -> Decimal:
    base = ctx.resolve(term.base, ("base",))
    if base < 0:
        raise ctx.fail("negative-base",
                       f"the base of {term.id!r} ({term.base.describe()}) is {_show(base)}, below zero",
                       "credits are a share of a charge, which is zero or more", ("base",))
    return base


def price_service_credits(term: ServiceCredits, ctx: PricingContext) -> TermResult:
    """Credits per service level, then the monthly cap, the rolling cap, and earn-back.

    Caps apply to the period's total: first ``monthly_cap × base``; then the rolling cap, which
    keeps the credits of the window (this period and the previous ``periods − 1``) within
    ``rate × the window's bases``, so this period's credit is at most ``rate × (previous bases +
    this base) − previous credits`` and never below zero. A binding cap is its own negative line.
    State ``history`` holds ``{base, credit}`` of earlier periods (most recent last; the credit
    after caps, as the period's lines paid it); an entry may aggregate several periods (e.g. the
    last eleven months' totals).

    Earn-back (``earn_back: {periods: K}``): each period's credit (after caps) is paid to the
    customer and recorded as pending, as its lines paid it. It is earned back, that is returned to the supplier as a
    negative line, once the K periods that follow it all meet every service level's target (a
    level equal to its target meets it). If any of those K periods misses a target, the pending
    credit is forfeited and stays with the customer. State ``pending`` holds ``{credit, remaining,
    period}`` entries; earn-back returns do not change the rolling-cap history.
    """
    base = _base(term, ctx)
    boundaries = term.boundaries or ctx.tier_boundaries
    levels = [_level_charge(level, base, boundaries, ctx) for level in term.service_levels]
    charges = [charge for charge, _ in levels]
    all_met = all(met for _, met in levels)
    before = sum((c.amount for c in charges), ZERO)
    credit = before
    monthly_binds = rolling_binds = False
    if term.monthly_cap is not None and credit > term.monthly_cap * base:
        limit = term.monthly_cap * base
        charges.append(_cap_line("monthly cap", credit, limit, "credits in a period ≤ monthly cap × base",
                                 f"{percent(term.monthly_cap)} × {_show(base)}"))
        credit, monthly_binds = limit, True
    state: dict[str, Any] = {}
    if term.rolling_cap is not None:
        keep = term.rolling_cap.periods - 1
        entries = list(enumerate(ctx.stored_list("history", of_mappings=True)))[-keep:]
        history = [(ctx.state_number(e.get("base"), ("history", i, "base")),
                    ctx.state_number(e.get("credit"), ("history", i, "credit")))
                   for i, e in entries]
        bases = sum((b for b, _ in history), ZERO)
        given = sum((c for _, c in history), ZERO)
        allowed = max(ZERO, term.rolling_cap.rate * (bases + base) - given)
        # Credits that do not terminate (2/3) are stored to the engine's precision; what is left of the
        # window after them can differ from the credit by 1E-56. That is not the cap binding.
        if credit - allowed > NEGLIGIBLE:
            charges.append(_cap_line(
                "rolling cap", credit, allowed,
                f"credits over {term.rolling_cap.periods} periods ≤ rate × the window's bases",
                f"{percent(term.rolling_cap.rate)} × ({_show(bases)} earlier bases + {_show(base)}) "
                f"− {_show(given)} earlier credits"))
            credit, rolling_binds = allowed, True
        history.append((base, paid_by(charges, ctx)))
        state["history"] = [{"base": str(b), "credit": str(c)} for b, c in history[-keep:]]
    figures: dict[str, Any] = {"base": base, "credits_before_caps": before,
                               "monthly_cap_binds": monthly_binds, "rolling_cap_binds": rolling_binds,
                               "credit": credit}
    if term.earn_back is not None:
        charges.extend(_earn_back(term.earn_back, ctx, all_met, paid_by(charges, ctx), state, figures))
    return TermResult(tuple(charges), figures=figures, state=state or None)


def paid_by(charges: list[Charge], ctx: PricingContext) -> Decimal:
    """What the statement lines of ``charges`` pay: the credit carried to later periods.

    Under per-line rounding two credits of 0.125 are lines of 0.13 each: 0.26 was given, and
    0.26 is what the rolling cap counts and earn-back returns, not the exact 0.25.
    """
    return sum((ctx.round_line(c.amount) for c in charges), ZERO)


def _earn_back(rule: EarnBack, ctx: PricingContext, all_met: bool, credit: Decimal,
               state: dict[str, Any], figures: dict[str, Any]) -> list[Charge]:
    """Advance the pending credits by this period; return the earn-back and forfeit lines."""
    charges: list[Charge] = []
    pending: list[dict[str, Any]] = []
    earned = forfeited = ZERO
    formula = (f"earn-back = a pending credit, returned when the {rule.periods} periods after it "
               "all meet every target")
    for i, entry in enumerate(ctx.stored_list("pending", of_mappings=True)):
        amount = ctx.state_number(entry.get("credit"), ("pending", i, "credit"))
        remaining = int(ctx.state_number(entry.get("remaining"), ("pending", i, "remaining")))
        of = f"credit {_show(amount)} of {entry.get('period') or 'an earlier period'}"
        if not all_met:
            forfeited += amount
            charges.append(Charge(
                ZERO, "a pending credit is forfeited when a following period misses a target",
                f"{of} forfeited: a target was missed this period; it stays with the customer",
                "earn-back forfeited"))
        elif remaining <= 1:
            earned += amount
            charges.append(Charge(-amount, formula, f"{of}: every target met for {rule.periods} periods → "
                                  f"{_show(amount)} returned to the supplier", "earned back"))
        else:
            period = entry.get("period")
            pending.append({"credit": str(amount), "remaining": remaining - 1,
                            "period": None if period is None else str(period)})
    if credit > 0:
        pending.append({"credit": str(credit), "remaining": rule.periods, "period": ctx.period})
    state["pending"] = pending
    figures.update(earned_back=earned, forfeited=forfeited,
                   pending=sum((D(p["credit"]) for p in pending), ZERO))
    return charges


def price_service_credit_pool(term: ServiceCreditPool, ctx: PricingContext) -> TermResult:
    """Missed levels cost category allocation × level allocation × at-risk amount, capped at it."""
    base = _base(term, ctx)
    at_risk = term.at_risk * base
    charges: list[Charge] = []
    formula = "credit = category allocation × level allocation × at-risk amount (at risk × base)"
    for category in term.categories:
        for level in category.service_levels:
            value = ctx.number(level.metric)
            if not _worse(value, level.target, level.direction):
                continue
            amount = category.allocation * level.allocation * at_risk
            worse = "below" if level.direction == "higher" else "above"
            charges.append(Charge(
                amount, formula,
                f"{level.metric} = {_show(value)} {worse} target {_show(level.target)}: "
                f"{percent(category.allocation)} × {percent(level.allocation)} × "
                f"({percent(term.at_risk)} × {_show(base)} = {_show(at_risk)}) = {_show(amount)}",
                f"{category.id}: {level.label or level.metric}",
                ((level.metric, _show(value)), ("target", _show(level.target)),
                 ("at-risk amount", _show(at_risk)))))
    if not charges:
        charges.append(Charge(ZERO, "credit = 0 when every service level meets its target",
                              "no service level missed its target",
                              inputs=(("at-risk amount", _show(at_risk)),)))
    total = sum((c.amount for c in charges), ZERO)
    binds = total > at_risk
    if binds:
        charges.append(_cap_line("at-risk cap", total, at_risk, "credits in a period ≤ at-risk amount",
                                 f"at-risk amount {percent(term.at_risk)} × {_show(base)}"))
    return TermResult(tuple(charges), figures={"at_risk_amount": at_risk, "credit": min(total, at_risk),
                                               "cap_binds": binds})

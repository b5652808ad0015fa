"""Service credits: what the supplier gives back when service levels are missed.

* ``service_credits``: for each service level, the measured level falls in a tier that sets a
  credit (a share of the base, usually the period's charge, or a fixed amount), or a per-point
  shortfall rule applies; the total is capped per period (a share of the base) and over a rolling
  window (a share of the window's charges, minus credits already given in it). Credits can be
  earned back when later performance exceeds target.
* ``service_credit_pool``: a share of the base is at risk; it is allocated to categories and,
  within each, to service levels; a missed level costs its category allocation × its level
  allocation × the at-risk amount; credits in a period never exceed the at-risk amount.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from vested.core.records import RECORD
from vested.core.terms.base import PricingContext, Reference, TermBase, TermKind, TermResult
from vested.core.terms.common import AmountSource, CreditTier
from vested.core.values import Identifier, Number, Rate, fail


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Shortfall:
    """A credit for each unit the level falls short of target (e.g. 5% per point below 99%)."""

    per: Number = Decimal(1)
    """Size of one step of shortfall, in the metric's unit (1 = one percentage point)."""
    credit: Rate
    """Credit per step, as a share of the base."""
    partial: Literal["pro_rata", "whole_steps"] = "pro_rata"
    """pro_rata: a part step earns a part credit; whole_steps: only completed steps count."""


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
                       "e.g. `tiers: [{from: 98, to: 99.5, credit: 5%}]` or `shortfall: {per: 1, credit: 5%}`")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class RollingCap:
    """A cap on credits over a rolling window of periods."""

    periods: int = Field(default=12, ge=2, description="Length of the window in periods, this one included.")
    rate: Rate
    """Most credits in the window, as a share of the window's bases (charges)."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class EarnBack:
    """Credits returned to the supplier when later performance makes up for the miss."""

    periods: int = Field(default=3, ge=1, description="Number of following periods that must all meet every target.")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class ServiceCredits(TermBase):
    """Tiered or per-point service credits with a period cap, a rolling cap and earn-back."""

    type: Literal["service_credits"]
    base: AmountSource
    """What credits are a share of: usually the period's charge (a number, a metric or a term)."""
    service_levels: tuple[ServiceLevel, ...] = Field(min_length=1, description="The service levels and their credits.")
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
    service_levels: tuple[PooledLevel, ...] = Field(min_length=1, description="Service levels in the category.")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class ServiceCreditPool(TermBase):
    """At-risk pool allocated to categories and service levels (government outsourcing style)."""

    type: Literal["service_credit_pool"]
    base: AmountSource
    """The period's invoice the at-risk amount is a share of."""
    at_risk: Rate
    """Share of the base at risk each period; also the cap on the period's credits."""
    categories: tuple[PoolCategory, ...] = Field(min_length=1, description="Categories with their allocations.")

    DIRECTION: ClassVar[tuple[str, str]] = ("supplier", "customer")
    KIND: ClassVar[TermKind] = "penalty"

    def references(self) -> Iterator[Reference]:
        yield from self.base.refs(("base",))
        for i, category in enumerate(self.categories):
            for j, level in enumerate(category.service_levels):
                yield Reference("metric", level.metric, ("categories", i, "service_levels", j, "metric"))


def price_service_credits(term: ServiceCredits, ctx: PricingContext) -> TermResult:
    raise NotImplementedError("being written")


def price_service_credit_pool(term: ServiceCreditPool, ctx: PricingContext) -> TermResult:
    raise NotImplementedError("being written")

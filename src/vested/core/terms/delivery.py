"""Delivery and quality remedies: late-delivery penalties (liquidated damages) and quality deductions.

* ``late_delivery_penalty``: the delay between when delivery was due and when it happened (or the
  period's as-of time, while still undelivered) costs a rate of the goods' value per unit of time
  (pro rata, after truncating the delay to whole units if the contract says so), or follows steps
  that escalate with the delay; capped at a share of the value; excused by force majeure when the
  contract allows it; reports whether the buyer may terminate; optionally adds a surcharge when
  failures repeat within a rolling window (the failures are carried as state).
* ``quality_deduction``: readings from sensors (shock, temperature, humidity) outside an allowed
  range cost a fixed amount per reading outside it, or a factor per unit of excess per unit of goods;
  optionally capped at another term's amount (a deduction never makes a price negative).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from vested.core.records import RECORD
from vested.core.terms.base import PricingContext, Reference, TermBase, TermKind, TermResult
from vested.core.terms.common import AmountSource
from vested.core.values import Amount, DurationText, Identifier, Number, Rate, fail


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Due:
    """When delivery is due: a timestamp metric, optionally plus an allowed duration."""

    metric: Identifier
    """Metric with the timestamp delivery is measured from (a metric id)."""
    within: DurationText | None = None
    """Time allowed after that timestamp (e.g. '10 minutes'); leave out when the metric is the due time."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class EscalationStep:
    """From this delay on, the penalty is this share of the value."""

    after: DurationText
    """The delay beyond which this step applies (strictly more than it)."""
    rate: Rate
    """Penalty as a share of the value."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class RepeatFailures:
    """A surcharge when late deliveries repeat within a rolling window."""

    window: DurationText
    """How far back failures count (e.g. '60 days')."""
    at_least: int = Field(ge=1, description="Number of failures in the window, this one included, that triggers the surcharge.")
    surcharge: Amount
    """Amount added to the penalty."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class LateDeliveryPenalty(TermBase):
    """Liquidated damages for late delivery."""

    type: Literal["late_delivery_penalty"]
    due: Due
    """When delivery was due."""
    delivered: Identifier | None = None
    """Metric with the delivery timestamp (a metric id); if left out, the delay runs to the facts' as_of time."""
    value: AmountSource
    """Value of the goods the rate applies to (a number, a metric or a term)."""
    rate: Rate | None = None
    """Pro-rata penalty: this share of the value for each `per` of delay."""
    per: DurationText | None = None
    """The unit of delay the rate applies to (e.g. '2 days')."""
    amount: Amount | None = None
    """Or a fixed penalty for any delay."""
    steps: tuple[EscalationStep, ...] = ()
    """Or escalating steps by delay."""
    whole: Literal["second", "minute", "hour", "day", "week"] | None = None
    """Truncate the delay to whole units of this size before applying the rate."""
    cap: Rate | None = None
    """Most the penalty can be, as a share of the value."""
    termination_after: DurationText | None = None
    """A delay longer than this lets the buyer terminate (reported, not priced)."""
    excused_by: Identifier | None = None
    """Boolean metric (e.g. force majeure) that, when true, excuses the delay (a metric id)."""
    repeat_failures: RepeatFailures | None = None
    """Surcharge for repeated failures (carried across evaluations as state)."""

    DIRECTION: ClassVar[tuple[str, str]] = ("supplier", "customer")
    KIND: ClassVar[TermKind] = "penalty"

    def __post_init__(self) -> None:
        forms = sum([self.rate is not None, self.amount is not None, bool(self.steps)])
        if forms != 1:
            raise fail("late_delivery", "give exactly one of rate (with per), amount or steps",
                       "e.g. `rate: 10.5%` and `per: 2 days`")
        if (self.rate is None) != (self.per is None):
            raise fail("late_delivery", "rate and per go together", "e.g. `rate: 10.5%` and `per: 2 days`")

    def references(self) -> Iterator[Reference]:
        yield Reference("metric", self.due.metric, ("due", "metric"), "timestamp")
        if self.delivered:
            yield Reference("metric", self.delivered, ("delivered",), "timestamp")
        yield from self.value.refs(("value",))
        if self.excused_by:
            yield Reference("metric", self.excused_by, ("excused_by",), "boolean")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class QualityCheck:
    """A series of readings and the range they must stay in."""

    readings: Identifier
    """Metric with the period's readings (a series metric id)."""
    minimum: Number | None = None
    """Lowest acceptable reading."""
    maximum: Number | None = None
    """Highest acceptable reading."""

    def __post_init__(self) -> None:
        if self.minimum is None and self.maximum is None:
            raise fail("quality_check", "give a minimum, a maximum or both")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class QualityDeduction(TermBase):
    """Deductions for readings outside their allowed range."""

    type: Literal["quality_deduction"]
    checks: tuple[QualityCheck, ...] = Field(min_length=1, description="Series of readings and their allowed ranges.")
    method: Literal["per_reading", "per_unit_of_excess"]
    """per_reading: `amount` for each reading outside its range; per_unit_of_excess: `factor` × the
    worst excess of each series (below the minimum first, else above the maximum) × `units`."""
    amount: Amount | None = None
    """Deduction per reading outside its range (per_reading)."""
    factor: Amount | None = None
    """Deduction per unit of excess per unit of goods (per_unit_of_excess)."""
    units: Identifier | None = None
    """Metric with the number of units of goods (per_unit_of_excess) (a metric id)."""
    cap: AmountSource | None = None
    """Most the deduction can be (e.g. {term: price}, so the price never goes negative)."""

    DIRECTION: ClassVar[tuple[str, str]] = ("supplier", "customer")
    KIND: ClassVar[TermKind] = "penalty"

    def __post_init__(self) -> None:
        if self.method == "per_reading" and self.amount is None:
            raise fail("quality_deduction", "per_reading needs an amount per reading outside its range")
        if self.method == "per_unit_of_excess" and (self.factor is None or self.units is None):
            raise fail("quality_deduction", "per_unit_of_excess needs a factor and a units metric")

    def references(self) -> Iterator[Reference]:
        for i, check in enumerate(self.checks):
            yield Reference("metric", check.readings, ("checks", i, "readings"), "series")
        if self.units:
            yield Reference("metric", self.units, ("units",))
        if self.cap is not None:
            yield from self.cap.refs(("cap",))


ZERO = Decimal(0)


def price_late_delivery_penalty(term: LateDeliveryPenalty, ctx: PricingContext) -> TermResult:
    raise NotImplementedError("being written")


def price_quality_deduction(term: QualityDeduction, ctx: PricingContext) -> TermResult:
    raise NotImplementedError("being written")

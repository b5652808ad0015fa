"""Delivery and quality remedies: late-delivery penalties (liquidated damages) and quality deductions.

* ``late_delivery_penalty``: the delay between when delivery was due and when it happened (or the
  period's as-of time, when the term does not name a delivery timestamp) costs a rate of the goods'
  value per unit of time (pro rata, after truncating the delay to whole units if the contract says
  so), a fixed amount, or follows steps that escalate with the delay; capped at a share of the
  value; excused by force majeure when the contract allows it; reports whether the buyer may
  terminate; optionally adds a surcharge when failures repeat within a rolling window (the
  failures are carried as state). An on-time delivery is priced at zero, with the reason.
* ``quality_deduction``: readings from sensors (shock, temperature, humidity) outside an allowed
  range cost a fixed amount per reading outside it, or a factor per unit of excess per unit of goods;
  optionally capped at another term's amount (a deduction never makes a price negative).

Time comes only from the facts (timestamp metrics and ``as_of``), never from a clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any, ClassVar, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from vested.core.money import ZERO, percent, show
from vested.core.records import RECORD
from vested.core.terms.base import Charge, PricingContext, Reference, TermBase, TermKind, TermResult
from vested.core.terms.common import AmountSource
from vested.core.values import UNIT_SECONDS, Amount, Duration, DurationText, Identifier, Number, Rate, fail

DAY = UNIT_SECONDS["day"]


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
    """How far back failures count, from the facts' as_of time (e.g. '60 days')."""
    at_least: int = Field(ge=1, description="Number of failures in the window, this one included, that triggers the surcharge.")
    surcharge: Amount
    """Amount added to the penalty (on top of any cap)."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class LateDeliveryPenalty(TermBase):
    """Liquidated damages for late delivery."""

    type: Literal["late_delivery_penalty"]
    """The term type: always `late_delivery_penalty`."""
    due: Due
    """When delivery was due."""
    delivered: Identifier | None = None
    """Metric with the delivery timestamp (a metric id). If left out, the delay runs to the facts'
    as_of time. If named but absent from the facts, the goods are not delivered yet: no penalty is
    assessed until they are (the delay so far still counts towards the termination right)."""
    value: AmountSource | None = None
    """Value of the goods the rate, the steps or the cap apply to (a number, a metric or a term)."""
    rate: Rate | None = None
    """Pro-rata penalty: this share of the value for each `per` of delay."""
    per: DurationText | None = None
    """The unit of delay the rate applies to (e.g. '2 days')."""
    amount: Amount | None = None
    """Or a fixed penalty for any delay."""
    steps: tuple[EscalationStep, ...] = ()
    """Or escalating steps by delay: the step with the longest `after` the delay exceeds applies."""
    whole: Literal["second", "minute", "hour", "day", "week"] | None = None
    """Truncate the delay to whole units of this size before applying the rate (toward zero)."""
    cap: Rate | None = None
    """Most the penalty can be, as a share of the value."""
    termination_after: DurationText | None = None
    """A delay longer than this lets the buyer terminate (reported as a figure, not priced)."""
    excused_by: Identifier | None = None
    """Boolean metric (e.g. force majeure) that, when true, excuses a late delivery: no penalty, and the
    buyer may terminate if the term has a termination right. Absent from the facts means false."""
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
        if self.value is None and (self.rate is not None or self.steps or self.cap is not None):
            raise fail("late_delivery", "a rate, steps or a cap need the `value` of the goods they are a share of",
                       "e.g. `value: {metric: goods_value}`")

    def references(self) -> Iterator[Reference]:
        yield Reference("metric", self.due.metric, ("due", "metric"), "timestamp")
        if self.delivered:
            yield Reference("metric", self.delivered, ("delivered",), "timestamp")
        if self.value is not None:
            yield from self.value.refs(("value",))
        if self.excused_by:
            yield Reference("metric", self.excused_by, ("excused_by",), "boolean")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class QualityCheck:
    """A series of readings and the range they must stay in."""

    readings: Identifier
    """Metric with the period's readings (a series metric id)."""
    minimum: Number | None = None
    """Lowest acceptable reading (inclusive)."""
    maximum: Number | None = None
    """Highest acceptable reading (inclusive)."""

    def __post_init__(self) -> None:
        if self.minimum is None and self.maximum is None:
            raise fail("quality_check", "give a minimum, a maximum or both")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class QualityDeduction(TermBase):
    """Deductions for readings outside their allowed range."""

    type: Literal["quality_deduction"]
    """The term type: always `quality_deduction`."""
    checks: tuple[QualityCheck, ...] = Field(min_length=1, description="Series of readings and their allowed ranges.")
    method: Literal["per_reading", "per_unit_of_excess"]
    """per_reading: `amount` for each reading outside its range (no readings, no deduction);
    per_unit_of_excess: `factor` × the worst excess of each series (below the minimum first, else
    above the maximum) × `units` (a series without readings cannot be priced)."""
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


# --- time ------------------------------------------------------------------------------------


def seconds_between(start: datetime, end: datetime) -> Decimal:
    """Exact seconds from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    gap = end - start
    return Decimal(gap.days) * DAY + Decimal(gap.seconds) + Decimal(gap.microseconds) / Decimal(1_000_000)


def _span(duration: Duration | None) -> timedelta:
    return timedelta(microseconds=int(duration.seconds * 1_000_000)) if duration is not None else timedelta()


def days(seconds: Decimal) -> str:
    """Seconds shown as days, to four places at most ("8.6417 days", "8 days")."""
    value = (seconds / DAY).quantize(Decimal("0.0001")).normalize()
    return f"{show(value)} day" + ("" if value == 1 else "s")


def truncate(delay: Decimal, unit: str | None) -> Decimal:
    """The delay in seconds, truncated toward zero to whole ``unit``s (unchanged without a unit)."""
    if unit is None:
        return delay
    size = UNIT_SECONDS[unit]
    return (delay / size).to_integral_value(rounding=ROUND_DOWN) * size


# --- late delivery -----------------------------------------------------------------------------


def _base_penalty(term: LateDeliveryPenalty, counted: Decimal, value: Decimal) -> tuple[Decimal, str, str, bool]:
    """(penalty before the cap, formula, calculation, whether the delay is penalised at all)."""
    if term.rate is not None and term.per is not None:
        penalty = counted * term.rate * value / term.per.seconds
        return (penalty, "penalty = delay ÷ per × rate × value",
                f"{days(counted)} ÷ {term.per} × {percent(term.rate)} × {show(value)} = {show(penalty)}", counted > 0)
    if term.amount is not None:
        if counted <= 0:
            return ZERO, "no penalty: less than a whole unit of delay", f"{days(counted)} counted", False
        return term.amount, "penalty = fixed amount for a late delivery", show(term.amount), True
    passed = [step for step in term.steps if counted > step.after.seconds]
    if not passed:
        first = min(step.after.seconds for step in term.steps)
        return ZERO, "no penalty: the delay is within the first step", f"{days(counted)} ≤ {days(first)}", False
    step = max(passed, key=lambda s: s.after.seconds)
    penalty = step.rate * value
    return (penalty, "penalty = rate of the step the delay exceeds × value",
            f"{days(counted)} > {step.after}: {percent(step.rate)} × {show(value)} = {show(penalty)}", True)


def _read_failures(ctx: PricingContext) -> list[datetime]:
    failures = []
    for i, item in enumerate(ctx.stored_list("failures")):
        try:
            moment = item if isinstance(item, datetime) else datetime.fromisoformat(str(item))
        except ValueError:
            raise ctx.state_error(f"{item!r} is not an ISO 8601 timestamp", "write e.g. 2025-06-30T17:00:00+00:00",
                                  ("failures", i)) from None
        if moment.tzinfo is None:
            raise ctx.state_error(f"{item!r} has no time zone", "add an offset, e.g. +00:00", ("failures", i))
        failures.append(moment)
    return failures


def _repeat_failures(ctx: PricingContext, rule: RepeatFailures, failed_at: datetime | None,
                     now: datetime) -> tuple[Charge | None, dict[str, Any], dict[str, Any]]:
    """The surcharge (if due), its figures and the new state: failures within the window ending ``now``."""
    start = now - _span(rule.window)
    kept = {moment for moment in _read_failures(ctx) if moment > start}
    if failed_at is not None and failed_at > start:
        kept.add(failed_at)  # a failure is known by its due time, so pricing it again does not count it twice
    ordered = sorted(kept)
    count = len(ordered)
    state = {"failures": [moment.isoformat() for moment in ordered], "failure_count": count}
    triggered = failed_at is not None and count >= rule.at_least
    figures = {"failures_in_window": count, "surcharge_applies": triggered}
    if not triggered:
        return None, figures, state
    charge = Charge(rule.surcharge, "surcharge for repeated failures", f"{count} failures in {rule.window} ≥ {rule.at_least}: "
                    f"{show(rule.surcharge)}", label="repeated failures",
                    inputs=(("failures in window", str(count)), ("surcharge", show(rule.surcharge))))
    return charge, figures, state


def show_time(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "(unknown)"


def price_late_delivery_penalty(term: LateDeliveryPenalty, ctx: PricingContext) -> TermResult:
    due_at = ctx.timestamp(term.due.metric) + _span(term.due.within)
    delivered = term.delivered is None or ctx.has(term.delivered)
    if term.delivered is not None and delivered:
        end: datetime | None = ctx.timestamp(term.delivered)
    else:
        end = ctx.as_of
    if end is None and term.delivered is None:
        raise ctx.fail("as-of", f"{term.id!r} measures the delay to the facts' as_of time, and the facts have none",
                       "add `as_of:` (an ISO 8601 timestamp) to the facts, or name a `delivered` timestamp metric")
    delay = seconds_between(due_at, end) if end is not None else None
    late = delay is not None and delay > 0
    counted = truncate(delay, term.whole) if delay is not None and late else ZERO
    may_terminate = late and term.termination_after is not None and counted > term.termination_after.seconds
    excused = late and delivered and term.excused_by is not None and ctx.has(term.excused_by) and ctx.flag(term.excused_by)
    inputs = [("due", due_at.isoformat())] + ([("measured to", end.isoformat())] if end is not None else [])
    figures: dict[str, Any] = {"late": late, "excused": excused, "delay_days": counted / DAY if late else ZERO}
    if term.delivered is not None:
        figures["delivered"] = delivered
    if term.cap is not None:
        figures["cap_binds"] = False
    charges: list[Charge] = []
    failed = False
    if not delivered:
        so_far = ("no as_of time to measure the delay so far" if delay is None
                  else f"{days(delay)} past due so far" if late else "not past due yet")
        charges.append(Charge(ZERO, "no penalty until delivery", f"not delivered ({so_far}): no penalty assessed yet",
                              inputs=tuple(inputs)))
    elif not late:
        charges.append(Charge(ZERO, "on time, no penalty", f"delivered {show_time(end)} by the due time {show_time(due_at)}",
                              inputs=tuple(inputs)))
    elif excused:
        may_terminate = term.termination_after is not None
        charges.append(Charge(ZERO, f"no penalty: the delay is excused ({term.excused_by})",
                              f"{days(delay or ZERO)} late, excused by {term.excused_by}", inputs=tuple(inputs)))
    else:
        value = ctx.resolve(term.value, ("value",)) if term.value is not None else ZERO
        penalty, formula, calculation, failed = _base_penalty(term, counted, value)
        notes: list[str] = []
        if term.whole is not None and counted != delay and delay is not None:
            notes.append(f"delay {days(delay)} counted as {days(counted)} (whole {term.whole}s)")
        if term.cap is not None and penalty > term.cap * value:
            penalty = term.cap * value
            figures["cap_binds"] = True
            notes.append(f"capped at {percent(term.cap)} of {show(value)} = {show(penalty)}")
        if term.value is not None:
            inputs.append(("value", show(value)))
        charges.append(Charge(penalty, formula, calculation, inputs=tuple(inputs), notes=tuple(notes)))
    figures["buyer_may_terminate"] = may_terminate
    state = None
    if term.repeat_failures is not None:
        now = ctx.as_of or end or due_at
        surcharge, more, state = _repeat_failures(ctx, term.repeat_failures, due_at if failed else None, now)
        figures.update(more)
        if surcharge is not None:
            charges.append(surcharge)
    figures["penalty"] = sum((c.amount for c in charges), ZERO)
    return TermResult(tuple(charges), figures, state)


# --- quality -----------------------------------------------------------------------------------


def _outside(check: QualityCheck, reading: Decimal) -> bool:
    return (check.minimum is not None and reading < check.minimum) or (check.maximum is not None and reading > check.maximum)


def _excess(check: QualityCheck, readings: tuple[Decimal, ...]) -> tuple[Decimal, str]:
    """The worst excess of a series: below the minimum first, else above the maximum (one side only)."""
    lowest, highest = min(readings), max(readings)
    if check.minimum is not None and lowest < check.minimum:
        return check.minimum - lowest, f"lowest {show(lowest)} < {show(check.minimum)}"
    if check.maximum is not None and highest > check.maximum:
        return highest - check.maximum, f"highest {show(highest)} > {show(check.maximum)}"
    return ZERO, f"within [{_bound(check.minimum)}, {_bound(check.maximum)}]"


def _bound(value: Decimal | None) -> str:
    return show(value) if value is not None else "—"


def price_quality_deduction(term: QualityDeduction, ctx: PricingContext) -> TermResult:
    parts: list[str] = []
    inputs: list[tuple[str, str]] = []
    figures: dict[str, Any] = {}
    if term.method == "per_reading":
        amount = term.amount or ZERO
        outside_total = 0
        for check in term.checks:
            readings = ctx.series(check.readings)
            outside = [r for r in readings if _outside(check, r)]
            outside_total += len(outside)
            parts.append(f"{check.readings}: {len(outside)} of {len(readings)} outside "
                         f"[{_bound(check.minimum)}, {_bound(check.maximum)}]"
                         + (f" ({', '.join(show(r) for r in outside)})" if outside else ""))
        total = amount * outside_total
        formula = "deduction = amount × readings outside their range"
        calculation = "; ".join(parts) + f"; {show(amount)} × {outside_total} = {show(total)}"
        figures["readings_outside"] = outside_total
    else:
        factor = term.factor or ZERO
        units = ctx.number(term.units or "")
        per_unit = ZERO
        for i, check in enumerate(term.checks):
            readings = ctx.series(check.readings)
            if not readings:
                raise ctx.fail("no-readings", f"no {check.readings} readings received: the worst excess of an empty "
                               "series is undefined", f"give the period's {check.readings} readings in the facts",
                               ("checks", i, "readings"))
            excess, why = _excess(check, readings)
            per_unit += excess * factor
            figures[f"excess_{check.readings}"] = excess
            parts.append(f"{check.readings}: {why}, excess {show(excess)}")
        total = per_unit * units
        formula = "deduction = Σ worst excess of each series × factor × units"
        calculation = "; ".join(parts) + f"; {show(per_unit)} per unit × {show(units)} = {show(total)}"
        inputs.extend([("factor", show(factor)), (term.units or "units", show(units))])
    figures["uncapped"] = total
    notes: list[str] = []
    if term.cap is not None:
        limit = max(ctx.resolve(term.cap, ("cap",)), ZERO)
        if total > limit:
            total = limit
            notes.append(f"capped at {term.cap.describe()} = {show(limit)}")
        figures["cap_binds"] = bool(notes)
    figures["deduction"] = total
    return TermResult((Charge(total, formula, calculation, inputs=tuple(inputs), notes=tuple(notes)),), figures)

"""Term compilers of the vectorised engine: fees, incentive contracts, sharing, outcomes.

Each ``compile_<type>(term, setup) -> TermCode`` mirrors the pricer of the same name in
``vested.core.terms`` line by line: the same lines (each rounded on its own by ``setup.lines``),
the same branches as array masks, the same state. Constants are folded when the engine is built,
in Decimal where a line's amount does not depend on the run. Service credits are in
:mod:`vested.simulate.vector_credits`. Comments note where a float comparison needs the
tolerance of :mod:`vested.simulate.vector` (a formula that jumps at a boundary).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np

from vested.core.formula_eval import Formula
from vested.core.money import ONE, ZERO
from vested.core.terms.base import Source
from vested.core.terms.credits import ServiceCreditPool, ServiceCredits
from vested.core.terms.fees import CostPlus, FixedFee, PerUnit, TieredVolume, TimeAndMaterials
from vested.core.terms.incentive import AwardFee, CostPlusIncentiveFee, FixedPriceIncentive
from vested.core.terms.outcomes import MarginMatching, OutcomeIncentive, contradicts
from vested.core.terms.sharing import Gainshare, TargetCost
from vested.simulate.vector import Array, Bands, Num, Setup, TermCode, VectorError, count, tolerance
from vested.simulate.vector_credits import compile_service_credit_pool, compile_service_credits

Values = Mapping[str, Array]
Priced = Mapping[str, Num]


# -- fees ------------------------------------------------------------------------------------------


def compile_fixed_fee(term: FixedFee, setup: Setup) -> TermCode:
    folded = setup.lines.const(term.amount)
    line = setup.lines.constant(term.amount)
    return TermCode(lambda values, priced, state: (line(values), None, None), constant=folded)


def compile_per_unit(term: PerUnit, setup: Setup) -> TermCode:
    quantity, lines = term.quantity, setup.lines
    rate_of, _, metrics = setup.value(term.rate)
    return TermCode(lambda values, priced, state: (lines(values[quantity] * rate_of(values, priced), values), None, None),
                    (quantity, *metrics))


def compile_tiered_volume(term: TieredVolume, setup: Setup) -> TermCode:
    quantity, lines = term.quantity, setup.lines
    if term.method == "all_units":
        bands = Bands([t.bounds for t in term.tiers], term.boundaries or setup.boundaries)
        rates, gaps = bands.table([float(t.rate) for t in term.tiers]), bands.gaps
        has_gaps = bool(gaps.any())

        def all_units(values: Values, priced: Priced, state: Any) -> tuple[Num, None, None]:
            volume = values[quantity]
            index = bands.index(volume)
            if has_gaps:
                _refuse(term.id, gaps.take(index), "no tier covers the volume")
            return lines(rates.take(index) * volume, values), None, None

        return TermCode(all_units, (quantity,))
    ordered = sorted(term.tiers, key=lambda t: t.lower if t.lower is not None else Decimal("-Infinity"))
    parts = [(float(t.lower if t.lower is not None else ZERO), None if t.upper is None else float(t.upper), float(t.rate))
             for t in ordered]
    covered = _covers_from_zero([(t.lower if t.lower is not None else ZERO, t.upper) for t in ordered])

    def graduated(values: Values, priced: Priced, state: Any) -> tuple[Num, None, None]:
        volume = values[quantity]
        total = np.zeros_like(volume)
        units_total = None if covered else np.zeros_like(volume)
        for low, high, rate in parts:
            units = (volume if high is None else np.minimum(volume, high)) - low
            np.maximum(units, 0.0, out=units)
            if units_total is not None:
                units_total += units
            units *= rate
            total += units
        if units_total is not None:
            # The exact pricer refuses a volume whose units the tiers do not all price.
            _refuse(term.id, np.abs(units_total - np.maximum(volume, 0.0)) > tolerance(), "the tiers do not price every unit")
        return lines(total, values), None, None

    return TermCode(graduated, (quantity,))


def _covers_from_zero(tiers: list[tuple[Decimal, Decimal | None]]) -> bool:
    """Whether tiers sorted by lower bound run from 0 with no gap or overlap to an open end."""
    edge: Decimal | None = ZERO
    for low, high in tiers:
        if edge is None or low != edge or (high is not None and high <= low):
            return False
        edge = high
    return edge is None


def compile_time_and_materials(term: TimeAndMaterials, setup: Setup) -> TermCode:
    lines = setup.lines
    parts = [(item.hours, float(item.rate)) for item in term.labour]
    if term.materials:
        parts.append((term.materials, float(ONE + term.materials_markup)))

    def step(values: Values, priced: Priced, state: Any) -> tuple[Num, None, None]:
        total: Num = 0.0
        for metric, rate in parts:
            total = total + lines(values[metric] * rate, values)
        return total, None, None

    return TermCode(step, tuple(m for m, _ in parts))


def compile_cost_plus(term: CostPlus, setup: Setup) -> TermCode:
    cost, lines = term.cost, setup.lines
    if term.fee_rate is not None:
        rate_of, _, metrics = setup.value(term.fee_rate, rate=True)
        return TermCode(lambda values, priced, state: (
            lines(values[cost], values) + lines(values[cost] * rate_of(values, priced), values), None, None), (cost, *metrics))
    fee = lines.constant(term.fee_amount or ZERO)
    return TermCode(lambda values, priced, state: (lines(values[cost], values) + fee(values), None, None), (cost,))


# -- incentive contracts ------------------------------------------------------------------------------


def compile_fixed_price_incentive(term: FixedPriceIncentive, setup: Setup) -> TermCode:
    metric, lines = term.actual_cost, setup.lines
    target, profit, ceiling = float(term.target_cost), float(term.target_profit), float(term.ceiling_price)
    under, over = float(term.underrun_share.supplier), float(term.overrun_share.supplier)
    near = tolerance(term.ceiling_price)

    def step(values: Values, priced: Priced, state: Any) -> tuple[Num, dict[str, Any], None]:
        cost = values[metric]
        difference = target - cost
        raw = np.where(difference >= 0, under, over)  # continuous: at 0 both shares give the target profit
        raw *= difference
        raw += profit
        raw += cost
        binds = raw > ceiling + near
        return lines(np.minimum(raw, ceiling, out=raw), values), {"ceiling": binds}, None

    return TermCode(step, (metric,))


def compile_cost_plus_incentive_fee(term: CostPlusIncentiveFee, setup: Setup) -> TermCode:
    metric, lines = term.actual_cost, setup.lines
    target, fee_at_target = float(term.target_cost), float(term.target_fee)
    # A fee without a floor or a ceiling is clamped at ±inf: the clamp then never binds.
    minimum = float(term.minimum_fee) if term.minimum_fee is not None else -np.inf
    maximum = float(term.maximum_fee) if term.maximum_fee is not None else np.inf
    under, over = float(term.underrun_share.supplier), float(term.overrun_share.supplier)
    near = tolerance(max(abs(term.minimum_fee or ZERO), abs(term.maximum_fee or ZERO)))

    def step(values: Values, priced: Priced, state: Any) -> tuple[Num, dict[str, Any], None]:
        cost = values[metric]
        difference = target - cost
        raw = np.where(difference >= 0, under, over)
        raw *= difference
        raw += fee_at_target
        raised = np.maximum(raw, minimum)
        at_maximum = raised > maximum + near
        at_minimum = (raw < minimum - near) & ~at_maximum
        fee = np.minimum(raised, maximum, out=raised)
        return lines(cost, values) + lines(fee, values), {"maximum_fee": at_maximum, "minimum_fee": at_minimum}, None

    return TermCode(step, (metric,))


def compile_award_fee(term: AwardFee, setup: Setup) -> TermCode:
    lines, pool = setup.lines, float(term.pool)
    factors = [(f.score, float(f.weight)) for f in term.factors]
    # The weighted score is computed, so a score on a band boundary may come out a hair off it.
    bands = Bands([b.bounds for b in term.bands], setup.boundaries, shift=tolerance())
    by_score = bands.table([1.0 if b.earns == "score" else 0.0 for b in term.bands]).astype(bool)
    shares = bands.table([0.0 if b.earns == "score" else float(b.earns) for b in term.bands])
    gaps = bands.gaps
    has_gaps, any_by_score = bool(gaps.any()), bool(by_score.any())

    def step(values: Values, priced: Priced, state: Any) -> tuple[Num, None, dict[str, Array] | None]:
        score: Array | None = None
        for metric, weight in factors:
            value = values[metric]
            if value.min() < 0 or value.max() > 100:
                _refuse(term.id, (value < 0) | (value > 100), f"the score {metric!r} is outside 0-100")
            score = value * weight if score is None else score + value * weight
        assert score is not None
        index = bands.index(score)
        if has_gaps:
            _refuse(term.id, gaps.take(index), "no rating band covers the weighted score")
        earned = np.where(by_score.take(index), score / 100, shares.take(index)) if any_by_score else shares.take(index)
        if not term.rollover:
            return lines(earned * pool, values), None, None
        available = state["carried_over"] + pool
        fee = available * earned
        line = lines(fee, values)
        # the pool carries what the line did not pay (the exact engine carries the rounded line)
        return line, None, {"carried_over": available - (line if lines.rate is None else fee)}

    initial = (lambda runs: {"carried_over": np.zeros(runs)}) if term.rollover else None
    return TermCode(step, tuple(m for m, _ in factors), initial)


# -- sharing -----------------------------------------------------------------------------------------


def compile_target_cost(term: TargetCost, setup: Setup) -> TermCode:
    target_of, _, target_metrics = setup.source(term.target)
    actual, lines = term.actual, setup.lines
    ranges = [(None if r.lower is None else float(r.lower), None if r.upper is None else float(r.upper), float(r.supplier_share))
              for r in term.ranges]
    cumulative = term.assessment == "cumulative"

    def step(values: Values, priced: Priced, state: Any) -> tuple[Num, None, dict[str, Array] | None]:
        target, spent = target_of(values, priced), values[actual]
        low, high = np.minimum(spent, target), np.maximum(spent, target)
        total = np.zeros_like(spent)
        for lower, upper, share in ranges:
            start = low if lower is None else np.maximum(low, target * lower)
            end = high if upper is None else np.minimum(high, target * upper)
            part = end - start
            np.maximum(part, 0.0, out=part)
            part *= share
            total += part
        # Piecewise linear and 0 at actual == target, so the sign switch needs no tolerance.
        share_to_date = np.where(spent <= target, total, -total)
        if not cumulative:
            return lines(share_to_date, values), None, None
        assessed = state["assessed_to_date"]
        line = lines(share_to_date - assessed, values)
        # what has been assessed is what the lines paid (rounded per line, as the exact engine carries it)
        return line, None, {"assessed_to_date": assessed + line if lines.rate is None else share_to_date}

    initial = (lambda runs: {"assessed_to_date": np.zeros(runs)}) if cumulative else None
    return TermCode(step, (*target_metrics, actual), initial)


def compile_gainshare(term: Gainshare, setup: Setup) -> TermCode:
    baseline_of, baseline, metrics = setup.source(term.baseline)
    lines, term_id = setup.lines, term.id
    actual_of, _, actual_metrics = setup.source(Source(metric=term.actual) if term.actual is not None
                                                else term.actual_amount or Source(amount=ZERO))
    rate_of, rate, rate_metrics = setup.value(term.sharing_rate)
    minimum_of, _, minimum_metrics = setup.value(term.minimum_savings_rate)
    from_corridor = term.share_from == "corridor"
    cap_of, cap_metrics = _cap(setup, term.cap, term.cap_amount)
    losses = term.losses
    loss_parts: Any = None
    if losses is not None:
        loss_rate_of, _, loss_rate_metrics = setup.value(losses.sharing_rate)
        loss_minimum_of, _, loss_minimum_metrics = setup.value(losses.minimum_loss_rate)
        loss_cap_of, loss_cap_metrics = _cap(setup, losses.cap, losses.cap_amount)
        loss_parts = (loss_rate_of, loss_minimum_of, loss_cap_of)
        metrics = (*metrics, *loss_rate_metrics, *loss_minimum_metrics, *loss_cap_metrics)
    # Savings on the corridor's edge are shared (the formula jumps there): compare with a tolerance.
    near = tolerance(baseline)
    # Shared savings are >= 0 when every cap is (a cheaper rounding); losses make the line signed.
    nonneg = losses is None and baseline is not None and baseline >= 0 and (
        term.cap_amount is None or (term.cap_amount.amount is not None and term.cap_amount.amount >= 0))
    checked = not isinstance(term.sharing_rate, Decimal)

    def step(values: Values, priced: Priced, state: Any) -> tuple[Num, dict[str, Any], None]:
        base, spent = baseline_of(values, priced), actual_of(values, priced)
        savings = np.asarray(base - spent, dtype=np.float64)
        corridor = base * minimum_of(values, priced)
        gain = (savings >= corridor - near) & (savings > 0)
        share = rate_of(values, priced)
        if checked:
            _refuse(term_id, gain & ((np.asarray(share) < 0) | (np.asarray(share) > 1)),
                    "the sharing rate's formula comes out outside 0%-100%")
        amount = (savings - corridor) * share if from_corridor else savings * share
        amount = np.array(np.broadcast_to(amount, savings.shape), dtype=np.float64)
        binds = np.zeros(savings.shape, dtype=bool)
        if cap_of is not None:
            limit = cap_of(values, priced, base)
            binds = (amount > limit + near) & gain
            amount = np.minimum(amount, limit)
        amount *= gain.view(np.uint8)  # masks by multiplying: numpy's where() branches on every value
        if loss_parts is not None:
            loss_rate_of, loss_minimum_of, loss_cap_of = loss_parts
            loss = -savings
            shared_loss = (savings < 0) & (loss >= base * loss_minimum_of(values, priced) - near)
            loss_share = loss_rate_of(values, priced)
            if not isinstance(losses.sharing_rate, Decimal):  # type: ignore[union-attr]
                _refuse(term_id, shared_loss & ((np.asarray(loss_share) < 0) | (np.asarray(loss_share) > 1)),
                        "the loss sharing rate's formula comes out outside 0%-100%")
            owed = np.array(np.broadcast_to(loss * loss_share, savings.shape), dtype=np.float64)
            if loss_cap_of is not None:
                limit = loss_cap_of(values, priced, base)
                lost_cap = (owed > limit + near) & shared_loss
                binds = binds | lost_cap
                owed = np.minimum(owed, limit)
            owed *= shared_loss.view(np.uint8)
            amount -= owed
        line = lines.nonneg(amount, values, inplace=True) if nonneg else lines(amount, values)
        return line, {"cap": binds}, None

    del rate
    return TermCode(step, (*metrics, *actual_metrics, *rate_metrics, *minimum_metrics, *cap_metrics))


def _cap(setup: Setup, rate: Decimal | Formula | None, amount: Source | None
         ) -> tuple[Callable[[Values, Priced, Num], Num] | None, tuple[str, ...]]:
    """The lesser of a cap as a rate of the baseline and a cap as an amount, as a function of (values, amounts, baseline)."""
    parts: list[Callable[[Values, Priced, Num], Num]] = []
    metrics: tuple[str, ...] = ()
    if rate is not None:
        rate_of, _, rate_metrics = setup.value(rate)
        parts.append(lambda values, priced, base: base * rate_of(values, priced))
        metrics += rate_metrics
    if amount is not None:
        amount_of, _, amount_metrics = setup.source(amount)
        parts.append(lambda values, priced, base: amount_of(values, priced))
        metrics += amount_metrics
    if not parts:
        return None, ()
    if len(parts) == 1:
        return parts[0], metrics
    first, second = parts
    return (lambda values, priced, base: np.minimum(first(values, priced, base), second(values, priced, base))), metrics


# -- outcomes ----------------------------------------------------------------------------------------


def compile_outcome_incentive(term: OutcomeIncentive, setup: Setup) -> TermCode:
    metric, direction = setup.outcome_metrics[term.outcome], setup.outcome_directions[term.outcome]
    if contradicts(term.curve, direction):
        raise VectorError(term.id, f"the curve earns more for a worse value of outcome {term.outcome!r}")
    amount_of, _, metrics = setup.source(term.amount)
    lines, curve = setup.lines, term.curve
    earned_at = _linear(curve.zero_at, curve.full_at) if curve.zero_at is not None and curve.full_at is not None \
        else _stepped([(s.at, s.earns) for s in curve.steps], direction)
    bonus = term.kind == "bonus"

    def step(values: Values, priced: Priced, state: Any) -> tuple[Num, None, None]:
        earned = earned_at(values[metric])
        amount = amount_of(values, priced)
        # a negative amount would turn the incentive around (the exact pricer refuses it too)
        _refuse(term.id, np.asarray(amount) < 0, "the amount of an outcome incentive is negative")
        if bonus:
            return lines(earned * amount, values), None, None
        kept = 1.0 - earned
        kept *= amount
        return lines(-kept, values), None, None

    return TermCode(step, (metric, *metrics))


def _linear(zero_at: Decimal, full_at: Decimal) -> Callable[[Array], Array]:
    zero, span = float(zero_at), float(full_at - zero_at)

    def earned(value: Array) -> Array:
        share = value - zero
        share /= span
        return np.clip(share, 0.0, 1.0, out=share)

    return earned


def _stepped(steps: list[tuple[Decimal, Decimal]], direction: str) -> Callable[[Array], Array]:
    """The best share among the steps reached: a running maximum over the steps sorted by value."""
    ordered = sorted(steps)
    at = np.array([float(a) for a, _ in ordered])
    shares = [float(s) for _, s in ordered]
    if direction == "higher":
        # reached: value >= at; the steps reached are the first `searchsorted(..., "right")`.
        best = np.maximum.accumulate(np.array([0.0, *shares]))
        return lambda value: best[np.searchsorted(at, value, side="right")]
    # lower is better: reached when value <= at, the steps from searchsorted(..., "left") on.
    best = np.maximum.accumulate(np.array([0.0, *shares[::-1]]))[::-1].copy()
    return lambda value: best[np.searchsorted(at, value, side="left")]


def compile_margin_matching(term: MarginMatching, setup: Setup) -> TermCode:
    metric, applies_to, lines = term.index, term.applies_to, setup.lines
    band, base_index, pass_through = float(term.band), float(term.base_index), float(term.pass_through)
    near = tolerance()

    def step(values: Values, priced: Priced, state: Any) -> tuple[Num, dict[str, Any], dict[str, Array]]:
        index, reset_index = values[metric], state["reset_index"]
        movement = index / reset_index
        movement -= 1.0
        # An index exactly on the band's edge does not reset the price (the exact pricer uses >).
        reset = np.abs(movement, out=movement) > band + near
        reset_index = np.where(reset, index, reset_index)
        factor = reset_index / base_index
        factor -= 1.0
        factor *= pass_through
        return lines(factor * priced[applies_to], values), {"reset": reset}, {"reset_index": reset_index}

    return TermCode(step, (metric,), lambda runs: {"reset_index": np.full(runs, base_index)})


def _refuse(term_id: str, bad: Any, message: str) -> None:
    """Raise the exact engine's refusal when any run has ``bad`` values."""
    runs = count(bad)
    if runs:
        raise VectorError(term_id, message, runs)


COMPILERS: Mapping[type, Callable[[Any, Setup], TermCode]] = {
    FixedFee: compile_fixed_fee,
    PerUnit: compile_per_unit,
    TieredVolume: compile_tiered_volume,
    TimeAndMaterials: compile_time_and_materials,
    CostPlus: compile_cost_plus,
    FixedPriceIncentive: compile_fixed_price_incentive,
    CostPlusIncentiveFee: compile_cost_plus_incentive_fee,
    AwardFee: compile_award_fee,
    TargetCost: compile_target_cost,
    Gainshare: compile_gainshare,
    ServiceCredits: compile_service_credits,
    ServiceCreditPool: compile_service_credit_pool,
    OutcomeIncentive: compile_outcome_incentive,
    MarginMatching: compile_margin_matching,
}
"""The compiler of each term type the vectorised engine prices."""

"""Term compilers of the vectorised engine: service credits and the service-credit pool.

Mirrors :mod:`vested.core.terms.credits`: one line per service level (tier credit × base, a
tier's fixed amount, or steps of shortfall × credit × base), then a line for each cap that binds
(the monthly cap, the rolling cap), then the earn-back line, each rounded on its own. When the
base is a constant (the usual ``base: {term: fixed fee}``) a tiered level's line is looked up in
a table of exactly rounded amounts, one per elementary interval of the tiers, and a cap that no
combination of tiers can exceed is not evaluated at all.

State, as arrays over the runs: the rolling cap keeps the last ``periods − 1`` bases and credits
(shape (periods − 1, R), oldest first; zeros stand for periods before the first); earn-back keeps
the pending credits by the number of periods they still wait (shape (K, R): row j waits j + 1
more periods). A pending credit is added with K to wait, so no two share a row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np

from vested.core.money import ZERO
from vested.core.terms.credits import ServiceCreditPool, ServiceCredits, ServiceLevel
from vested.simulate.vector import Array, Bands, Flags, Num, Setup, TermCode, VectorError, count, tolerance

Values = Mapping[str, Array]
Priced = Mapping[str, Num]
Level = Callable[[Values, Num], tuple[Array | None, Array]]
"""A compiled service level: (values, base) -> (its exact credit, or None when no cap or state reads it; its rounded line)."""


def compile_service_credits(term: ServiceCredits, setup: Setup) -> TermCode:
    base_of, base, metrics = setup.source(term.base)
    _check_base(term.id, base)
    lines = setup.lines
    same_currency = lines.rate is None
    boundaries = term.boundaries or setup.boundaries
    misses = [_misses(level) for level in term.service_levels]
    near = tolerance(base)
    monthly = None if term.monthly_cap is None else float(term.monthly_cap)
    # With a constant base and tiers only, the most any period can credit is known: a cap above it never binds.
    monthly_binds = monthly is not None and not (
        base is not None and term.monthly_cap is not None
        and (most := _most(term.service_levels, base, boundaries)) is not None and most <= term.monthly_cap * base)
    rolling = term.rolling_cap
    exact_needed = bool(monthly_binds or rolling or term.earn_back)
    levels = [_level(level, base, boundaries, setup, exact_needed) for level in term.service_levels]
    keep = rolling.periods - 1 if rolling else 0
    rolling_rate = float(rolling.rate) if rolling else 0.0
    earn_back = term.earn_back.periods if term.earn_back else 0

    def step(values: Values, priced: Priced, state: Any) -> tuple[Num, dict[str, Flags], dict[str, Array] | None]:
        amount = base_of(values, priced)
        if base is None:
            _refuse_negative(term.id, amount)
        credit: Array | None = None
        total: Array | None = None
        for level in levels:
            exact, line = level(values, amount)  # fresh arrays, the same one when lines are not rounded
            if exact is not None:
                credit = exact if credit is None else np.add(credit, exact, out=credit)
            total = _own(line, exact) if total is None else np.add(total, line, out=total)
        assert total is not None
        binds: dict[str, Flags] = {}
        if credit is None:  # nothing reads the credits before caps: no cap can bind, no state is kept
            if monthly is not None:
                binds["monthly_cap"] = np.zeros(total.shape, dtype=bool)
            return total, binds, None
        if monthly is not None:
            if monthly_binds:
                limit = amount * monthly
                binds["monthly_cap"] = hit = credit > limit + near
                total += lines((limit - credit) * hit, values)
                np.minimum(credit, limit, out=credit)
            else:
                binds["monthly_cap"] = np.zeros(credit.shape, dtype=bool)
        carried: dict[str, Array] = {}
        if rolling:
            bases, given = state["history_base"], state["history_credit"]
            allowed = (bases.sum(axis=0) + amount) * rolling_rate
            allowed -= given.sum(axis=0)
            np.maximum(allowed, 0.0, out=allowed)
            binds["rolling_cap"] = hit = credit > allowed + near
            total += lines((allowed - credit) * hit, values)
            np.minimum(credit, allowed, out=credit)
        # What later periods count is what this period's lines paid (rounded per line, as the exact
        # engine carries it); a converted term's lines are rounded after conversion, so it carries the credit.
        paid = total.copy() if same_currency else credit
        if rolling:
            carried["history_base"] = _shift(bases, amount)
            carried["history_credit"] = _shift(given, paid)
        if earn_back:
            pending = state["pending"]
            met = np.ones(credit.shape, dtype=bool)
            for missed in misses:
                met &= ~missed(values)
            # A pending credit waiting one more period is returned when every target is met; a miss forfeits them all.
            total += lines(-(pending[0] * met), values)
            waiting = np.empty_like(pending)
            np.multiply(pending[1:], met, out=waiting[:-1])
            np.maximum(paid, 0.0, out=waiting[-1])
            carried["pending"] = waiting
        return total, binds, carried or None

    def initial(runs: int) -> dict[str, Array]:
        state: dict[str, Array] = {}
        if rolling:
            state.update(history_base=np.zeros((keep, runs)), history_credit=np.zeros((keep, runs)))
        if earn_back:
            state["pending"] = np.zeros((earn_back, runs))
        return state

    read = (*metrics, *(level.metric for level in term.service_levels))
    return TermCode(step, read, initial if rolling or earn_back else None)


def _level(level: ServiceLevel, base: Decimal | None, boundaries: str, setup: Setup, exact_needed: bool) -> Level:
    metric, lines = level.metric, setup.lines
    if level.shortfall is not None:
        rule = level.shortfall
        target, per, credit = float(level.target), float(rule.per), float(rule.credit)
        higher, whole = level.direction == "higher", rule.partial == "whole_steps"
        near = tolerance()

        def shortfall(values: Values, amount: Num) -> tuple[Array | None, Array]:
            short = target - values[metric] if higher else values[metric] - target
            np.maximum(short, 0.0, out=short)
            short /= per
            if whole:
                # steps = short / per is computed: a whole number of steps may come out a hair below it.
                short += near
                np.floor(short, out=short)
            short *= credit
            short *= amount
            return short, lines.nonneg(short, values)

        return shortfall
    bands = Bands([t.bounds for t in level.tiers], boundaries)
    exact = [None if base is None else (t.credit * base if t.credit is not None else t.amount or ZERO) for t in level.tiers]
    folded = [None if e is None else lines.const(e) for e in exact]
    if all(f is not None for f in folded):
        credits = bands.table([float(e or ZERO) for e in exact])
        rounded = bands.table([float(f or ZERO) for f in folded])

        def looked_up(values: Values, amount: Num) -> tuple[Array | None, Array]:
            index = bands.index(values[metric])
            return credits.take(index) if exact_needed else None, rounded.take(index)

        return looked_up
    rates = bands.table([float(t.credit or ZERO) for t in level.tiers])
    amounts = bands.table([float(t.amount or ZERO) for t in level.tiers])
    fixed = any(t.amount is not None for t in level.tiers)

    def tiered(values: Values, amount: Num) -> tuple[Array | None, Array]:
        index = bands.index(values[metric])
        credit = rates.take(index)
        credit *= amount
        if fixed:
            credit += amounts.take(index)
        return credit, lines(credit, values)

    return tiered


def _misses(level: ServiceLevel) -> Callable[[Values], Flags]:
    """Whether the measured level misses its target (equal meets it)."""
    metric, target = level.metric, float(level.target)
    if level.direction == "higher":
        return lambda values: values[metric] < target
    return lambda values: values[metric] > target


def _most(levels: tuple[ServiceLevel, ...], base: Decimal, boundaries: str) -> Decimal | None:
    """The largest credit before caps the levels can add up to (None when a shortfall rule makes it unbounded)."""
    most = ZERO
    for level in levels:
        if level.shortfall is not None:
            return None
        bands = Bands([t.bounds for t in level.tiers], boundaries)
        reachable = {b for b in bands.band if b is not None}
        tiers = [level.tiers[b] for b in reachable]
        most += max([ZERO, *(t.credit * base if t.credit is not None else t.amount or ZERO for t in tiers)])
    return most


def _shift(window: Array, newest: Num) -> Array:
    """The window without its oldest row, with ``newest`` as its last."""
    shifted = np.empty_like(window)
    shifted[:-1] = window[1:]
    shifted[-1] = newest
    return shifted


def compile_service_credit_pool(term: ServiceCreditPool, setup: Setup) -> TermCode:
    base_of, base, metrics = setup.source(term.base)
    _check_base(term.id, base)
    lines, at_risk_rate = setup.lines, float(term.at_risk)
    pooled = [(category.allocation * level.allocation, level) for category in term.categories for level in category.service_levels]
    weights = [weight for weight, _ in pooled]
    levels = [(level.metric, float(level.target), level.direction == "higher", float(weight)) for weight, level in pooled]
    near = tolerance(base)
    # Allocations adding up to 100% or less can never credit more than the at-risk amount.
    can_bind = sum(weights, ZERO) > 1
    at_risk_exact = None if base is None else term.at_risk * base
    folded = None if at_risk_exact is None else [lines.const(weight * at_risk_exact) for weight in weights]
    constant_lines = None if folded is None or any(f is None for f in folded) else [float(f or ZERO) for f in folded]

    def step(values: Values, priced: Priced, state: Any) -> tuple[Num, dict[str, Flags], None]:
        amount = base_of(values, priced)
        if base is None:
            _refuse_negative(term.id, amount)
        at_risk = amount * at_risk_rate
        credit: Array | None = None
        total: Array | None = None
        for i, (metric, target, higher, weight) in enumerate(levels):
            missed = (values[metric] < target if higher else values[metric] > target).view(np.uint8)  # multiplies as 0/1
            exact: Array | None = None
            if can_bind or constant_lines is None:
                exact = np.multiply(missed, weight * at_risk, dtype=np.float64)
                credit = exact if credit is None else np.add(credit, exact, out=credit)
            if constant_lines is not None:
                line = np.multiply(missed, constant_lines[i], dtype=np.float64)
            else:
                assert exact is not None
                line = lines(exact, values)
            total = _own(line, exact) if total is None else np.add(total, line, out=total)
        assert total is not None
        if credit is None or not can_bind:
            return total, {"at_risk_cap": np.zeros(total.shape, dtype=bool)}, None
        hit = credit > at_risk + near
        total += lines((at_risk - credit) * hit, values)
        return total, {"at_risk_cap": hit}, None

    read = (*metrics, *(metric for metric, *_ in levels))
    return TermCode(step, read)


def _own(line: Array, exact: Array | None) -> Array:
    """``line``, copied when it is ``exact`` itself (lines not rounded), so the two sums never share memory."""
    return line.copy() if line is exact else line


def _check_base(term_id: str, base: Decimal | None) -> None:
    if base is not None and base < 0:
        raise VectorError(term_id, f"the base is {base}, below zero (credits are a share of a charge)")


def _refuse_negative(term_id: str, amount: Num) -> None:
    if np.min(amount) < 0:
        raise VectorError(term_id, "the base is below zero (credits are a share of a charge)", count(np.asarray(amount) < 0))


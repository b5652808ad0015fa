"""An agreement on a scenario, for any combination of levers: drivers, prices and costs per period.

    LeverSchedule(scenario, periods)   when each lever acts, what it does and costs, the discount factors
    Evaluator(agreement, scenario)
        .drivers(t, levers)     driver values in period t with a combination of levers
        .payment(t, levers)     what the customer pays the supplier (the exact engine's net)
        .costs(t, levers)       each party's own costs
        .npvs(levers)           (customer NPV, supplier NPV) over the term, fast

A combination of levers is a bit mask over ``scenario.levers``. Every price comes from the Decimal
engine (``price_period``), term state carried from one period to the next. Why an exhaustive
search over 2^15 combinations is still affordable, and still exact:

* A lever acts only from its start, and the price reads only the drivers the agreement's terms
  read; so in period *t* the price depends on ``levers & relevant & active[t]`` only.
* Lever effects compose per driver as ``base × Π(1 + relative) + Σ add`` (order does not matter),
  so a combination's factor and shift are built from a smaller combination's in one step and kept.
* While no priced period carries state in or out, a price depends only on the driver values (the
  period label matters to a term only through its state): each distinct vector of values is priced
  once, and a run of periods with the same active levers and the same base values (an *epoch*; a
  whole year when drivers are constant) costs one lookup weighted by its discount factors. The
  first priced period that returns state switches the evaluator to pricing each combination
  period by period in order, the state carried along; results found before are still right,
  because every period behind them carried no state.
* Costs are linear in the drivers, so the present value of a cost over an epoch is
  ``factor × Σ disc·base + shift × Σ disc``.

Pure: no I/O. Errors in the data (a driver outside its metric's range, a term that cannot be
priced) raise :class:`EvaluationError` carrying diagnostics with document paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from vested.core.diagnostics import Diagnostic, error
from vested.core.facts import Facts
from vested.core.model import Agreement
from vested.core.money import ONE, ZERO
from vested.core.pricing import price_period
from vested.core.scenario import DOCUMENT, Scenario, ScenarioPeriods, resolve_periods
from vested.core.scenario_checks import metrics_read
from vested.core.scenario_derived import derive_drivers, derived_drivers, inputs_of
from vested.core.statement import signed_by_term

WORKING_DIGITS = 40
"""Digits for discount factors and present values (results are shown to the cent)."""

State = Mapping[str, Mapping[str, Any]]
Values = tuple[Decimal, ...]


@dataclass(frozen=True)
class PeriodPayment:
    """One priced period: the customer's payment by term, the net it owes, the state carried on."""

    by_term: Mapping[str, Decimal]
    net: Decimal
    state: State


class EvaluationError(Exception):
    """The scenario cannot be evaluated; ``diagnostics`` say where and why."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = tuple(diagnostics)


class _Stateful(Exception):
    """A priced period carried state: prices now depend on the periods before them."""


def monthly_rate(annual: Decimal) -> Decimal:
    """The monthly rate equivalent to an annual one: (1 + annual)^(1/12) − 1."""
    with localcontext() as ctx:
        ctx.prec = WORKING_DIGITS
        return +((ONE + annual) ** (ONE / 12) - ONE)


class LeverSchedule:
    """The scenario's months and levers as the evaluator and the risk simulation both read them.

    When each lever starts (``starts``: a period index) and which levers act in each period
    (``active``: a bit mask over ``scenario.levers``); each period's discount factor (period k
    discounted k + 1 months at the monthly equivalent of the annual rate); the combined effect of a
    combination of levers on a driver (``base × Π(1 + relative) + Σ add``); and what the levers in
    effect cost each party in a period: a running cost every period from the lever's start, an
    investment in the period it starts (one that started before the scenario is not counted).
    """

    def __init__(self, scenario: Scenario, periods: ScenarioPeriods):
        self.labels = periods.labels
        self.months = len(self.labels)
        self.levers = scenario.levers
        self.starts = [lever.start_index(periods.start) for lever in self.levers]
        self.active = [sum(1 << i for i, s in enumerate(self.starts) if s <= t) for t in range(self.months)]
        self.rate = monthly_rate(scenario.discount_rate)
        with localcontext() as ctx:
            ctx.prec = WORKING_DIGITS
            step = ONE / (ONE + self.rate)
            self.discount = [+(step ** (t + 1)) for t in range(self.months)]
        self.affects = {name: sum(1 << i for i, lever in enumerate(self.levers) if name in lever.effects)
                        for name in scenario.drivers}
        """Per driver: the levers with an effect on it (a bit mask)."""
        self._change: dict[tuple[str, int], tuple[Decimal, Decimal]] = {}

    def lever_ids(self, levers: int) -> tuple[str, ...]:
        return tuple(lever.id for i, lever in enumerate(self.levers) if levers >> i & 1)

    def mask(self, lever_ids: Sequence[str]) -> int:
        index = {lever.id: i for i, lever in enumerate(self.levers)}
        return sum(1 << index[lever_id] for lever_id in lever_ids)

    def change(self, name: str, levers: int) -> tuple[Decimal, Decimal]:
        """(factor, shift) of the combined effect of ``levers`` on driver ``name``."""
        levers &= self.affects[name]
        key = (name, levers)
        found = self._change.get(key)
        if found is None:
            if not levers:
                found = (ONE, ZERO)
            else:
                top = levers.bit_length() - 1
                factor, shift = self.change(name, levers & ~(1 << top))
                effect = self.levers[top].effects[name]
                found = (factor * effect.factor, shift + effect.shift)
            self._change[key] = found
        return found

    def lever_costs(self, t: int, levers: int) -> dict[str, Decimal]:
        """What ``levers`` cost each party in period ``t``: ``customer_running``, ``customer_investment``,
        ``supplier_running`` and ``supplier_investment``."""
        result = dict.fromkeys(LEVER_COSTS, ZERO)
        for i, lever in enumerate(self.levers):
            if not levers >> i & 1 or self.starts[i] > t:
                continue
            if lever.running_cost is not None:
                for role, amount in lever.running_cost.parts():
                    result[f"{role}_running"] += amount
            if lever.investment is not None and self.starts[i] == t:
                for role, amount in lever.investment.parts():
                    result[f"{role}_investment"] += amount
        return result

    def investments(self, levers: int) -> list[tuple[int, str, Decimal]]:
        """The investments of ``levers`` made within the scenario: (period, paid by, amount), a co-funded
        investment once for each party's part."""
        return [(self.starts[i], role, amount) for i, lever in enumerate(self.levers)
                if levers >> i & 1 and lever.investment is not None and 0 <= self.starts[i] < self.months
                for role, amount in lever.investment.parts()]


LEVER_COSTS = ("customer_running", "customer_investment", "supplier_running", "supplier_investment")


class Evaluator:
    """Prices ``agreement`` on ``scenario`` for any lever combination, each distinct period once.

    The scenario must have been checked against the agreement (``check_scenario_for``).
    """

    def __init__(self, agreement: Agreement, scenario: Scenario):
        periods = resolve_periods(scenario, agreement)
        customer, supplier = agreement.party_with_role("customer"), agreement.party_with_role("supplier")
        if periods is None or customer is None or supplier is None:
            raise ValueError("check the scenario against the agreement first (check_scenario_for)")
        self.agreement, self.scenario = agreement, scenario
        self.customer, self.supplier = customer.id, supplier.id
        self.schedule = schedule = LeverSchedule(scenario, periods)
        self.labels, self.months, self.levers = schedule.labels, schedule.months, schedule.levers
        self.starts, self.active, self.rate, self.discount = schedule.starts, schedule.active, schedule.rate, schedule.discount
        self.derived = derived_drivers(scenario)
        """Drivers computed by a formula from other drivers, in the order they are computed."""
        self.base = {name: driver.values(self.months) for name, driver in scenario.drivers.items()
                     if driver.formula is None}
        read = sorted(m for m in metrics_read(agreement) if m in scenario.drivers)
        self.priced_drivers = read
        """The drivers the agreement reads (computed ones among them)."""
        self.needed = sorted(set(inputs_of(scenario, read)))
        """The drivers with values of their own that the price depends on (a computed driver's inputs)."""
        self._priced_order = [n for n in self.derived if set(inputs_of(scenario, [n])) <= set(self.needed)]
        """The computed drivers that can be computed from ``needed`` alone, in order."""
        self.relevant = 0
        for name in self.needed:
            self.relevant |= schedule.affects[name]
        self._ranges = [(k, name, metric.minimum, metric.maximum) for k, name in enumerate(self.needed)
                        for metric in [agreement.metric(name)]
                        if metric is not None and (metric.minimum is not None or metric.maximum is not None)]
        """The drivers whose metric declares a range: (index in ``needed``, name, minimum, maximum)."""
        self.epochs = _epochs(self.active)
        self._epoch_sums = [self._sums(first, last) for first, last, _ in self.epochs]
        self._groups = [self._group(first, last) for first, last, _ in self.epochs]
        self.stateless = True
        """No priced period has carried state so far (see the module docstring)."""
        self.engine_calls = 0
        self._by_values: dict[Values, PeriodPayment] = {}
        self._chain: dict[tuple[int, int], PeriodPayment] = {}
        self._revenue: dict[int, Decimal] = {}
        self._epoch_costs: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}

    # -- drivers ---------------------------------------------------------------------------------

    def lever_ids(self, levers: int) -> tuple[str, ...]:
        return self.schedule.lever_ids(levers)

    def mask(self, lever_ids: Sequence[str]) -> int:
        return self.schedule.mask(lever_ids)

    def change(self, name: str, levers: int) -> tuple[Decimal, Decimal]:
        """(factor, shift) of the combined effect of ``levers`` on driver ``name``."""
        return self.schedule.change(name, levers)

    def driver(self, name: str, t: int, levers: int) -> Decimal:
        if name not in self.base:  # computed from the drivers it reads
            return self.drivers(t, levers)[name]
        factor, shift = self.change(name, levers & self.active[t])
        return self.base[name][t] * factor + shift

    def drivers(self, t: int, levers: int) -> dict[str, Decimal]:
        values = {name: self.base[name][t] * f + s for name in self.base
                  for f, s in [self.change(name, levers & self.active[t])]}
        return derive_drivers(self.scenario, values, self.derived) if self.derived else values

    # -- payments (the exact engine) -----------------------------------------------------------------

    def payments(self, t: int, levers: int) -> Mapping[str, Decimal]:
        """What the customer pays the supplier in period ``t``, by term id (negative: the supplier pays)."""
        return self._period(t, levers & self.relevant).by_term

    def payment(self, t: int, levers: int) -> Decimal:
        """What the customer pays the supplier in period ``t``: the statement's net between them."""
        return self._period(t, levers & self.relevant).net

    def _period(self, t: int, levers: int) -> PeriodPayment:
        if self.stateless:
            self.revenue_npv(levers)  # prices every period of this combination; may find state
        if self.stateless:
            return self._state_free(t, levers & self.active[t], self._values(t, levers))
        return self._in_chain(t, levers)

    def _values(self, t: int, levers: int) -> Values:
        return tuple(self.driver(name, t, levers) for name in self.needed)

    def _state_free(self, t: int, levers: int, values: Values) -> PeriodPayment:
        """The price of ``values`` with no state carried in; raises ``_Stateful`` if state comes out."""
        found = self._by_values.get(values)
        if found is None:
            found = self._price(t, levers, values, {})
            if found.state:
                self.stateless = False
                raise _Stateful
            self._by_values[values] = found
        return found

    def _in_chain(self, t: int, levers: int) -> PeriodPayment:
        """The price of period ``t``, the state of the periods before carried in (priced in order)."""
        key = (t, levers & self.active[t])
        if key not in self._chain:
            first = t
            while first > 0 and (first - 1, levers & self.active[first - 1]) not in self._chain:
                first -= 1
            for k in range(first, t + 1):
                state = self._chain[(k - 1, levers & self.active[k - 1])].state if k > 0 else {}
                values = self._values(k, levers)
                found = self._by_values.get(values) if not state else None
                self._chain[(k, levers & self.active[k])] = found or self._price(k, levers & self.active[k], values, state)
        return self._chain[key]

    def _price(self, t: int, levers: int, values: Values, state: State) -> PeriodPayment:
        self._check_range(t, levers, values)
        self.engine_calls += 1
        given = dict(zip(self.needed, values, strict=True))
        if self.derived:
            given = derive_drivers(self.scenario, given, self._priced_order)
            self._check_computed_range(t, levers, given)
        facts = {name: given[name] for name in self.priced_drivers}
        priced = price_period(self.agreement, Facts(values=facts, period=self.labels[t]), state)
        if priced.statement is None:
            raise EvaluationError([self._in_context(d, t, levers) for d in priced.diagnostics])
        by_term = {term.id: ZERO for term in self.agreement.pricing}
        by_term.update(signed_by_term(priced.statement, self.customer, self.supplier))
        return PeriodPayment(by_term, priced.statement.owed(self.customer, self.supplier), priced.state)

    def _check_range(self, t: int, levers: int, values: Values) -> None:
        """A driver the agreement declares must stay within its metric's range, levers and all."""
        for k, name, minimum, maximum in self._ranges:
            value = values[k]
            low = minimum is not None and value < minimum
            if low or (maximum is not None and value > maximum):
                limit = f"below the metric's minimum {minimum}" if low else f"above the metric's maximum {maximum}"
                movers = [i for i in range(len(self.levers)) if levers >> i & 1 and name in self.levers[i].effects]
                path = ("levers", movers[-1], "effects", name) if movers else ("drivers", name)
                combination = self.lever_ids(levers)
                with_levers = f" with {', '.join(combination)}" if combination else ""
                raise EvaluationError([error("driver-range", f"in {self.labels[t]}{with_levers}, driver {name!r} is "
                                             f"{value:f}, {limit}", "keep the driver and the levers' effects within the "
                                             "metric's range", path, DOCUMENT)])

    def _check_computed_range(self, t: int, levers: int, values: Mapping[str, Decimal]) -> None:
        """A computed driver the agreement declares must stay within its metric's range too."""
        for name in self.priced_drivers:
            metric = self.agreement.metric(name)
            if name in self.base or metric is None:
                continue
            value = values[name]
            low = metric.minimum is not None and value < metric.minimum
            if low or (metric.maximum is not None and value > metric.maximum):
                limit = f"below the metric's minimum {metric.minimum}" if low else f"above the metric's maximum {metric.maximum}"
                combination = self.lever_ids(levers)
                with_levers = f" with {', '.join(combination)}" if combination else ""
                raise EvaluationError([error("driver-range", f"in {self.labels[t]}{with_levers}, driver {name!r} (computed) "
                                             f"is {value:f}, {limit}", "check the formula and the drivers it reads",
                                             ("drivers", name, "formula"), DOCUMENT)])

    def _in_context(self, d: Diagnostic, t: int, levers: int) -> Diagnostic:
        combination = self.lever_ids(levers)
        context = f"in {self.labels[t]}" + (f" with {', '.join(combination)}" if combination else "") + ": "
        if d.document == "facts":  # the facts came from the scenario's drivers
            return error(d.code, context + d.message, d.hint, ("drivers",), DOCUMENT)
        return error(d.code, context + d.message, d.hint, d.path, d.document)

    # -- costs ------------------------------------------------------------------------------------------

    def costs(self, t: int, levers: int, drivers: Mapping[str, Decimal] | None = None) -> dict[str, Decimal]:
        """Each party's own costs in period ``t`` (besides what the customer pays the supplier);
        ``drivers`` are the period's driver values with ``levers``, when the caller has them."""
        drivers = self.drivers(t, levers) if drivers is None else drivers
        supplier, scenario = self.scenario.supplier, self.scenario
        own = sum((cost.amount if cost.amount is not None else cost.per_unit * drivers[str(cost.driver)]
                   for cost in scenario.customer.costs), ZERO)
        serve = supplier.fixed_cost + sum((rate * drivers[name] for name, rate in supplier.unit_costs.items()), ZERO)
        return {"customer_own": own, "supplier_operating": serve, **self.schedule.lever_costs(t, levers)}

    # -- present values, fast -----------------------------------------------------------------------

    def npvs(self, levers: int) -> tuple[Decimal, Decimal]:
        """(customer NPV, supplier NPV) of ``levers`` over the term: each party's net cash flows,
        every flow of month k discounted k months. Equal to discounting the per-period results."""
        with localcontext() as ctx:
            ctx.prec = WORKING_DIGITS
            revenue = self.revenue_npv(levers & self.relevant)
            customer_cost = supplier_cost = ZERO
            for e, (_, _, active) in enumerate(self.epochs):
                c, s = self.epoch_costs(e, levers & active)
                customer_cost += c
                supplier_cost += s
            for t, paid_by, amount in self.schedule.investments(levers):
                if paid_by == "customer":
                    customer_cost += amount * self.discount[t]
                else:
                    supplier_cost += amount * self.discount[t]
            customer, supplier = -revenue - customer_cost, revenue - supplier_cost
        return +customer, +supplier  # rounded to the caller's context

    def revenue_npv(self, levers: int) -> Decimal:
        """Present value of everything the customer pays the supplier with ``levers`` in effect."""
        levers &= self.relevant
        if levers not in self._revenue:
            with localcontext() as ctx:
                ctx.prec = WORKING_DIGITS
                total = ZERO
                try:
                    total = self._grouped_revenue(levers) if self.stateless else self._chained_revenue(levers)
                except _Stateful:
                    total = self._chained_revenue(levers)
                self._revenue[levers] = total
        return self._revenue[levers]

    def pricing_estimate(self) -> int:
        """How many periods the engine prices to evaluate every combination, at most, while no state
        is carried: each epoch's distinct base values times the combinations of its relevant levers."""
        return sum(len(groups) * 2 ** (active & self.relevant).bit_count()
                   for groups, (_, _, active) in zip(self._groups, self.epochs, strict=True))

    def _grouped_revenue(self, levers: int) -> Decimal:
        total = ZERO
        for e, (_, _, active) in enumerate(self.epochs):
            within = levers & active
            changes = [self.change(name, within) for name in self.needed]
            for t, vector, weight in self._groups[e]:
                values = tuple(b * f + s for b, (f, s) in zip(vector, changes, strict=True))
                total += weight * self._state_free(t, within, values).net
        return total

    def _chained_revenue(self, levers: int) -> Decimal:
        return sum((self.discount[t] * self._in_chain(t, levers).net for t in range(self.months)), ZERO)

    def epoch_costs(self, e: int, levers: int) -> tuple[Decimal, Decimal]:
        """Present value of (customer own + running costs, supplier operating + running costs) over
        epoch ``e`` (a run of periods with the same active levers) with ``levers`` active."""
        key = (e, levers)
        if key in self._epoch_costs:
            return self._epoch_costs[key]
        with localcontext() as ctx:
            ctx.prec = WORKING_DIGITS
            weight, weighted = self._epoch_sums[e]
            value = {name: f * weighted[name] + s * weight for name in self.base for f, s in [self.change(name, levers)]}
            if self.derived:  # a computed driver is not linear in the levers' effects: sum it period by period
                first, last, _ = self.epochs[e]
                for name in self.derived:
                    value[name] = sum((self.discount[t] * self.driver(name, t, levers) for t in range(first, last + 1)), ZERO)
            scenario = self.scenario
            customer = sum((weight * cost.amount if cost.amount is not None else cost.per_unit * value[str(cost.driver)]
                            for cost in scenario.customer.costs), ZERO)
            supplier = weight * scenario.supplier.fixed_cost + sum(
                (rate * value[name] for name, rate in scenario.supplier.unit_costs.items()), ZERO)
            for i, lever in enumerate(self.levers):
                if levers >> i & 1 and lever.running_cost is not None:
                    customer += weight * lever.running_cost.part_of("customer")
                    supplier += weight * lever.running_cost.part_of("supplier")
            self._epoch_costs[key] = (customer, supplier)
        return customer, supplier

    def _sums(self, first: int, last: int) -> tuple[Decimal, dict[str, Decimal]]:
        with localcontext() as ctx:
            ctx.prec = WORKING_DIGITS
            weight = sum(self.discount[first:last + 1], ZERO)
            weighted = {name: sum((self.discount[t] * values[t] for t in range(first, last + 1)), ZERO)
                        for name, values in self.base.items()}
        return weight, weighted

    def _group(self, first: int, last: int) -> list[tuple[int, Values, Decimal]]:
        """The epoch's periods grouped by the base values of the drivers the agreement reads:
        (first period of the group, the values, the sum of the group's discount factors)."""
        groups: dict[Values, tuple[int, Decimal]] = {}
        with localcontext() as ctx:
            ctx.prec = WORKING_DIGITS
            for t in range(first, last + 1):
                vector = tuple(self.base[name][t] for name in self.needed)
                start, weight = groups.get(vector, (t, ZERO))
                groups[vector] = (start, weight + self.discount[t])
        return [(start, vector, weight) for vector, (start, weight) in groups.items()]


def _epochs(active: Sequence[int]) -> list[tuple[int, int, int]]:
    """Runs of consecutive periods with the same active levers: (first, last, active mask)."""
    runs: list[tuple[int, int, int]] = []
    for t, mask in enumerate(active):
        if runs and runs[-1][2] == mask:
            runs[-1] = (runs[-1][0], t, mask)
        else:
            runs.append((t, t, mask))
    return runs

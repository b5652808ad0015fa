"""The risk simulation: an agreement on a scenario over many runs of uncertain drivers.

    plan = Plan(scenario, (agreement, status_quo))
    worlds = plan.world(agreement, levers, engine), plan.world(status_quo, (), engine_sq)   # engines: make_engine
    results = run_worlds(plan, worlds, runs=100_000, seed=1)     # per-run NPVs of each world (or WorldFailed)
    simulation = summarise(plan, *worlds, results, Setup(...), npv_convention)   # the frozen view-model

Each chunk of runs (:data:`CHUNK` at a time, so memory stays bounded) draws the drivers once
(``vested.simulate.sampling``) and evaluates every world on the same draws: month by month, the
drivers after the levers' effects (``base × Π(1 + relative) + Σ add``, from the lever schedule
``vested.core.evaluation`` evaluates with too) are priced by the vectorised engine (``VectorEngine``, state carried
from month to month) and costed as ``vested.core.economics`` does — customer: payments + own costs
+ the levers' costs it bears; supplier: revenue − cost to serve − the levers' costs it bears — and
each party's cash flow is discounted as there (month k discounted k months at the monthly
equivalent of the annual rate). A driver the agreement reads is clipped to the range its metric
declares (the exact engine refuses values outside it); how often that happens is reported.

Reproducible: chunk *i* draws from the *i*-th child of ``SeedSequence(seed)`` (:func:`draw_chunks`),
so a seed gives the same numbers every time (for the same :data:`CHUNK`). A world the data makes
impossible to simulate raises :class:`WorldFailed`, which says which world it was.

The view-model's records and statistics are in ``vested.simulate.summary`` (re-exported here);
:func:`summarise` assembles them from a plan and its runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from vested.core.evaluation import EvaluationError, LeverSchedule
from vested.core.facts import Facts
from vested.core.model import Agreement
from vested.core.money import ZERO
from vested.core.pricing import price_period
from vested.core.scenario import Scenario, resolve_periods
from vested.core.scenario_checks import metrics_read
from vested.core.scenario_derived import derived_drivers
from vested.core.statement import signed_by_term
from vested.simulate.sampling import Array, Draws, Sampler
from vested.simulate.summary import (
    Bin,
    DriverNote,
    FanPoint,
    LimitBinding,
    PartyRisk,
    Setup,
    Simulation,
    Summary,
    beats,
    cents,
    histogram,
    summary_of,
)
from vested.simulate.vector import VectorEngine, VectorError, VectorUnsupported
from vested.simulate.vector_formula import DriverCompiler

CHUNK = 50_000
"""Runs drawn and priced at a time."""
FAN_RUNS = 20_000
"""Runs whose month-by-month results are kept for the fan chart (the first ones: runs are independent)."""
EXACT_LIMIT = 200_000
"""Most run-months the exact engine may price when the vectorised one cannot take an agreement."""

__all__ = [  # with the records and statistics of vested.simulate.summary, which others import from here
    "CHUNK", "EXACT_LIMIT", "FAN_RUNS", "Bin", "DriverNote", "ExactEngine", "ExactResult", "FanPoint", "LimitBinding",
    "PartyRisk", "PeriodEngine", "PeriodResult", "Plan", "Setup", "Simulation", "Summary", "World", "WorldFailed",
    "WorldRuns", "beats", "cents", "draw_chunks", "driver_bounds", "histogram", "make_engine", "run_worlds", "summarise",
    "summary_of",
]


class PeriodResult(Protocol):
    """One period over the runs: the net the customer pays, by term, the limits that bound, the state."""

    @property
    def net(self) -> Array: ...

    @property
    def flows(self) -> Mapping[str, Array]: ...

    @property
    def binds(self) -> Mapping[str, NDArray[np.bool_]]: ...

    @property
    def state(self) -> Any: ...


class PeriodEngine(Protocol):
    """Prices one period of an agreement over many runs (``VectorEngine`` is one)."""

    def initial_state(self, runs: int) -> Any: ...

    def price(self, values: Mapping[str, Array], state: Any, *, runs: int) -> PeriodResult: ...


# -- the exact engine, run by run (the reference, and the fallback for terms not vectorised) -----------

@dataclass(frozen=True)
class ExactResult:
    net: Array
    flows: Mapping[str, Array]
    binds: Mapping[str, NDArray[np.bool_]]
    state: Any


class ExactEngine:
    """``price_period`` run by run, in Decimal: each float driver becomes the shortest decimal that
    reads back as the same float (``Decimal(repr(x))``), the state of each run carried along."""

    def __init__(self, agreement: Agreement, labels: Sequence[str]):
        customer, supplier = agreement.party_with_role("customer"), agreement.party_with_role("supplier")
        assert customer is not None and supplier is not None
        self.agreement, self.labels = agreement, list(labels)
        self.customer, self.supplier = customer.id, supplier.id

    def initial_state(self, runs: int) -> Any:
        return 0, [{} for _ in range(runs)]

    def price(self, values: Mapping[str, Array], state: Any, *, runs: int) -> ExactResult:
        t, states = state
        net = np.zeros(runs)
        flows = {term.id: np.zeros(runs) for term in self.agreement.pricing}
        carried = []
        for r in range(runs):
            facts = Facts(values={m: Decimal(repr(float(v[r]))) for m, v in values.items()}, period=self.labels[t])
            priced = price_period(self.agreement, facts, states[r])
            if priced.statement is None:
                raise EvaluationError([d for d in priced.diagnostics if d.is_error])
            for term_id, amount in signed_by_term(priced.statement, self.customer, self.supplier).items():
                flows[term_id][r] = float(amount)
            net[r] = float(priced.statement.owed(self.customer, self.supplier))
            carried.append(priced.state)
        return ExactResult(net, flows, {}, (t + 1, carried))


def make_engine(agreement: Agreement, labels: Sequence[str], runs: int) -> tuple[PeriodEngine, str]:
    """The vectorised engine, or the exact one (with the reason) for an agreement it cannot take
    when the simulation is small enough; raises ``VectorUnsupported`` otherwise."""
    try:
        return VectorEngine(agreement), "vectorised (numpy, float64)"
    except VectorUnsupported as exc:
        if runs * len(labels) > EXACT_LIMIT:
            raise
        return ExactEngine(agreement, labels), f"exact, run by run ({exc})"


# -- the scenario and the worlds as arrays -------------------------------------------------------------------

@dataclass(frozen=True)
class World:
    """One agreement with a set of levers on the scenario, as arrays over the months."""

    agreement: Agreement
    levers: tuple[str, ...]
    needed: tuple[str, ...]
    """The drivers the agreement's terms read."""
    factors: Mapping[str, Array]
    """Per driver with effects: the levers' combined relative factor in each month."""
    shifts: Mapping[str, Array]
    exact: Mapping[str, Array]
    """Deterministic drivers after the levers' effects, computed in Decimal, then as floats."""
    customer_levers: Array
    """Running costs and investments of the levers the customer bears, per month."""
    supplier_levers: Array
    engine: PeriodEngine | None = None
    engine_note: str = ""


class Plan:
    """The scenario as arrays: months, discount factors, costs, the driver sampler and the drivers' ranges."""

    def __init__(self, scenario: Scenario, agreements: Sequence[Agreement],
                 observed: Mapping[str, Sequence[Decimal]] | None = None):
        periods = resolve_periods(scenario, agreements[0])
        if periods is None:
            raise ValueError("check the scenario against the agreement first (check_scenario_for)")
        self.scenario, self.periods = scenario, periods
        self.schedule = LeverSchedule(scenario, periods)
        self.labels = self.schedule.labels
        self.months = self.schedule.months
        self.monthly_rate = self.schedule.rate
        self.discount = np.array([float(factor) for factor in self.schedule.discount])
        self.sampler = Sampler(scenario, self.months, observed)
        self.bounds = driver_bounds(scenario, agreements)
        self.customer_fixed = float(sum((c.amount for c in scenario.customer.costs if c.amount is not None), ZERO))
        self.customer_per_unit = [(str(c.driver), float(c.per_unit)) for c in scenario.customer.costs if c.driver is not None]
        self.supplier_fixed = float(scenario.supplier.fixed_cost)
        self.supplier_per_unit = [(name, float(rate)) for name, rate in scenario.supplier.unit_costs.items()]
        compiler = DriverCompiler(list(scenario.drivers))
        self.computed = {name: compiler.compile(formula) for name in derived_drivers(scenario)
                         for formula in [scenario.drivers[name].formula] if formula is not None}
        """The computed drivers, in order, as numpy code over the other drivers' arrays."""

    def world(self, agreement: Agreement, levers: Sequence[str], engine: PeriodEngine | None = None,
              engine_note: str = "") -> World:
        """``agreement`` with ``levers`` (ids) in effect from their starts."""
        schedule, months = self.schedule, self.months
        chosen = schedule.mask([lever.id for lever in self.scenario.levers if lever.id in set(levers)])
        in_effect = [chosen & schedule.active[t] for t in range(months)]
        factors: dict[str, Array] = {}
        shifts: dict[str, Array] = {}
        exact: dict[str, Array] = {}
        for name, driver in self.scenario.drivers.items():
            if driver.formula is not None:
                continue  # computed each month from the drivers it reads
            changes = [schedule.change(name, levers) for levers in in_effect]
            if driver.uncertain is None:
                exact[name] = np.array([float(v * f + s) for v, (f, s) in zip(driver.values(months), changes, strict=True)])
            elif chosen & schedule.affects[name]:
                factors[name] = np.array([float(f) for f, _ in changes])
                shifts[name] = np.array([float(s) for _, s in changes])
        costs = [schedule.lever_costs(t, chosen) for t in range(months)]
        customer = np.array([float(c["customer_running"] + c["customer_investment"]) for c in costs])
        supplier = np.array([float(c["supplier_running"] + c["supplier_investment"]) for c in costs])
        needed = tuple(m for m in metrics_read(agreement) if m in self.scenario.drivers)
        return World(agreement, schedule.lever_ids(chosen), needed, factors, shifts, exact, customer, supplier, engine,
                     engine_note)

    def drivers(self, world: World, draws: Draws, t: int, clipped: dict[str, int]) -> dict[str, Array]:
        """Every driver's value in month ``t`` with the world's levers, clipped to its range."""
        values: dict[str, Array] = {}
        for name in self.scenario.drivers:
            if name in self.computed:
                continue
            if name in world.exact:
                value = np.full(draws.runs, world.exact[name][t])
            else:
                value = draws.base(name, t)
                if name in world.factors:
                    value = value * world.factors[name][t] + world.shifts[name][t]
            low, high = self.bounds.get(name, (None, None))
            if low is not None or high is not None:
                outside = (value < low if low is not None else False) | (value > high if high is not None else False)
                count = int(np.count_nonzero(outside))
                if count:
                    clipped[name] = clipped.get(name, 0) + count
                    value = np.clip(value, low, high)
            values[name] = value
        for name, code in self.computed.items():
            value = np.broadcast_to(np.asarray(code.run(values, {}), dtype=np.float64), (draws.runs,))
            low, high = self.bounds.get(name, (None, None))
            if low is not None or high is not None:
                outside = (value < low if low is not None else False) | (value > high if high is not None else False)
                count = int(np.count_nonzero(outside))
                if count:
                    clipped[name] = clipped.get(name, 0) + count
                    value = np.clip(value, low, high)
            values[name] = value
        return values


def driver_bounds(scenario: Scenario, agreements: Sequence[Agreement]) -> dict[str, tuple[float | None, float | None]]:
    """The range each driver must stay in: the metrics of that id the agreements declare, combined."""
    bounds: dict[str, tuple[float | None, float | None]] = {}
    for name in scenario.drivers:
        lows = [float(m.minimum) for a in agreements for m in a.metrics if m.id == name and m.minimum is not None]
        highs = [float(m.maximum) for a in agreements for m in a.metrics if m.id == name and m.maximum is not None]
        if lows or highs:
            bounds[name] = (max(lows) if lows else None, min(highs) if highs else None)
    return bounds


# -- running -------------------------------------------------------------------------------------------------------

@dataclass
class WorldRuns:
    """What one world gave in every run: each party's NPV, and counts over the run-months."""

    customer: Array
    supplier: Array
    customer_path: Array
    """Cumulative present value of the customer's cash flows at the end of each month, for the first
    :data:`FAN_RUNS` runs (runs × months)."""
    supplier_path: Array
    binds: dict[str, int] = field(default_factory=dict)
    """Run-months in which each cap (or other limit) bound."""
    clipped: dict[str, int] = field(default_factory=dict)
    paid: dict[str, float] = field(default_factory=dict)
    """What the customer paid under each term, summed over runs and months (undiscounted)."""
    payments: Array | None = None
    """The net payment per run and month of the first chunk, when traced."""
    values: dict[str, Array] | None = None
    """The values priced per run and month of the first chunk (driver -> runs × months), when traced."""


class WorldFailed(Exception):
    """The data make world ``index`` (of those run together) impossible to simulate; ``error`` says why."""

    def __init__(self, index: int, agreement: Agreement, error: EvaluationError | VectorError | VectorUnsupported):
        super().__init__(str(error))
        self.index, self.agreement, self.error = index, agreement, error


def draw_chunks(plan: Plan, runs: int, seed: int, chunk: int = CHUNK) -> Iterator[Draws]:
    """The drivers of ``runs`` runs, :data:`CHUNK` at a time: chunk *i* from the *i*-th child of the seed."""
    for index, child in enumerate(np.random.SeedSequence(seed).spawn(math.ceil(runs / chunk))):
        yield plan.sampler.draw(min(chunk, runs - index * chunk), np.random.default_rng(child))


def run_worlds(plan: Plan, worlds: Sequence[World], runs: int, seed: int, *, chunk: int = CHUNK,
               fan_runs: int = FAN_RUNS, trace: bool = False, draws: Sequence[Draws] | None = None) -> list[WorldRuns]:
    """Simulate ``runs`` runs of every world on the same draws (chunk by chunk); ``draws`` are the
    chunks already drawn (by :func:`draw_chunks` with the same runs, seed and chunk), to reuse them.
    Raises :class:`WorldFailed` when the data make a world impossible to simulate."""
    kept = min(runs, fan_runs)
    results = [WorldRuns(np.empty(runs), np.empty(runs), np.zeros((kept, plan.months)), np.zeros((kept, plan.months)))
               for _ in worlds]
    first = 0
    for index, chunk_draws in enumerate(draws if draws is not None else draw_chunks(plan, runs, seed, chunk)):
        for number, (world, result) in enumerate(zip(worlds, results, strict=True)):
            try:
                _run_chunk(plan, world, chunk_draws, result, first, kept, trace and index == 0)
            except (EvaluationError, VectorError) as exc:
                raise WorldFailed(number, world.agreement, exc) from exc
        first += chunk_draws.runs
    return results


def _run_chunk(plan: Plan, world: World, draws: Draws, out: WorldRuns, first: int, kept: int, trace: bool) -> None:
    engine = world.engine
    assert engine is not None, "give each world its engine (make_engine)"
    size, months = draws.runs, plan.months
    state = engine.initial_state(size)
    customer, supplier = np.zeros(size), np.zeros(size)
    keep = max(0, min(size, kept - first))
    if trace:
        out.payments = np.zeros((size, months))
        out.values = {name: np.zeros((size, months)) for name in world.needed}
    for t in range(months):
        drivers = plan.drivers(world, draws, t, out.clipped)
        result = engine.price({name: drivers[name] for name in world.needed}, state, runs=size)
        state = result.state
        paid = result.net
        own = plan.customer_fixed + sum((rate * drivers[name] for name, rate in plan.customer_per_unit), np.zeros(size))
        serve = plan.supplier_fixed + sum((rate * drivers[name] for name, rate in plan.supplier_per_unit), np.zeros(size))
        customer += plan.discount[t] * -(paid + own + world.customer_levers[t])
        supplier += plan.discount[t] * (paid - serve - world.supplier_levers[t])
        if keep:
            out.customer_path[first:first + keep, t] = customer[:keep]
            out.supplier_path[first:first + keep, t] = supplier[:keep]
        for key, mask in result.binds.items():
            out.binds[key] = out.binds.get(key, 0) + int(np.count_nonzero(mask))
        for term_id, flow in result.flows.items():
            out.paid[term_id] = out.paid.get(term_id, 0.0) + float(np.sum(flow))
        if out.payments is not None and out.values is not None and trace:
            out.payments[:, t] = paid
            for name in world.needed:
                out.values[name][:, t] = drivers[name]
    out.customer[first:first + size] = customer
    out.supplier[first:first + size] = supplier


# -- the view-model (its records and statistics are in vested.simulate.summary) -------------------------------

def summarise(plan: Plan, main: World, status_quo: World, runs: tuple[WorldRuns, WorldRuns], setup: Setup,
              npv_convention: str) -> Simulation:
    """The view-model of a simulation from the per-run results of the agreement and the status quo."""
    agreement, (ours, theirs) = main.agreement, runs
    count = len(ours.customer)
    customer_id, supplier_id = (_party(agreement, role) for role in ("customer", "supplier"))
    gains = ours.customer - theirs.customer, ours.supplier - theirs.supplier
    risks = tuple(PartyRisk(party, role, summary_of(mine), summary_of(other), summary_of(gain), float(np.mean(beats(gain))))
                  for party, role, mine, other, gain in ((customer_id, "customer", ours.customer, theirs.customer, gains[0]),
                                                         (supplier_id, "supplier", ours.supplier, theirs.supplier, gains[1])))
    run_months = count * plan.months
    limits = tuple(LimitBinding(world.agreement.id, key, n, n / run_months, under_status_quo)
                   for world, result, under_status_quo in ((main, ours, False), (status_quo, theirs, True))
                   for key, n in sorted(result.binds.items()))
    uncertain = tuple(DriverNote(name, marginal.spec.describe()) for name, marginal in plan.sampler.marginals.items())
    correlations = tuple(f"{c.between[0]} ~ {c.between[1]}: rho {c.rho.normalize():f}" for c in plan.scenario.correlations)
    clipped = tuple(DriverNote(name, _clip_note(plan, name), n / run_months) for name, n in sorted(ours.clipped.items()))
    kept = len(ours.customer_path)
    fans = [_fan(plan, ours_path - their_path) for ours_path, their_path in
            ((ours.customer_path, theirs.customer_path), (ours.supplier_path, theirs.supplier_path))]
    return Simulation(
        agreement_id=agreement.id, agreement_title=agreement.title, scenario_id=plan.scenario.id,
        currency=agreement.policy.currency, levers=main.levers, lever_choice=setup.lever_choice,
        status_quo=setup.status_quo, runs=count, seed=setup.seed, chunk=CHUNK, periods=tuple(plan.labels),
        engine=setup.engine, customer=risks[0], supplier=risks[1],
        p_both=float(np.mean(beats(gains[0]) & beats(gains[1]))), joint_gain=summary_of(gains[0] + gains[1]),
        limits=limits, uncertain=uncertain, correlations=correlations, clipped=clipped,
        paid_by_term={term: cents(total / count) for term, total in ours.paid.items()},
        fan_runs=kept, customer_fan=fans[0], supplier_fan=fans[1],
        customer_histogram=histogram(gains[0]), supplier_histogram=histogram(gains[1]), npv_convention=npv_convention,
    )


def _party(agreement: Agreement, role: str) -> str:
    party = agreement.party_with_role(role)
    assert party is not None
    return party.id


def _clip_note(plan: Plan, name: str) -> str:
    low, high = plan.bounds.get(name, (None, None))
    return "kept within its metric's range " + (f"{low:g}" if low is not None else "") + " to " + (
        f"{high:g}" if high is not None else "")


def _fan(plan: Plan, paths: Array) -> tuple[FanPoint, ...]:
    if len(paths) == 0:
        return ()
    levels = np.percentile(paths, [5, 25, 50, 75, 95], axis=0)
    return tuple(FanPoint(label, *(cents(float(v)) for v in levels[:, t])) for t, label in enumerate(plan.labels))

"""Find the deal: search tunable pricing parameters for the terms that create the most value both parties accept.

    tune(agreement, scenario, status_quo, seed=1) -> TuneResult

The scenario's ``tune:`` names parameters (a field of a term, a range, a step). A *candidate* is one
value for each, applied with ``dataclasses.replace`` on the term — which validates it again through
the format — and then the agreement's checks; a candidate the format or the checks refuse is
skipped with the reason, as is one the simulation refuses (a term's value out of what it accepts
in some run). For each valid candidate:

1. the supplier chooses its levers under the candidate terms (its most profitable combination,
   ``vested.core.alignment`` on the exact engine) — terms change behaviour, which is the point;
2. the risk simulation runs ``tune.runs`` runs with the seed, on the same draws for every candidate
   and for the status quo (common random numbers: differences between candidates are not noise
   between draws; drawn once and shared when they fit in :data:`DRAWN_BYTES`);
3. its *expected joint result* is the mean over the runs of customer NPV + supplier NPV, and it is
   *feasible* when each party's probability of beating the status quo is at least ``threshold`` and,
   when ``tune.split`` asks for one, each party's mean gain is at least its share of the joint gain
   (pricing moves value between the parties without changing the joint result, so the split is
   what the parties negotiate; every candidate reports it).

The best candidate maximises the expected joint result among the feasible ones. What the customer
pays the supplier cancels out of the joint result, so it depends on the terms only through the
levers they make the supplier pull; many candidates tie, and ties (to the cent) go to the candidate
whose lower probability of beating the status quo is higher (the more robust for both), then to the
one that changes the terms as written least (sum over the parameters of |candidate − written| ÷
|written|), then to the first in grid order.

Search: the whole grid when it has at most ``budget`` points (``search: grid`` forces it); otherwise
a seeded random search over half the budget of grid points, then local refinement from the best
found: each parameter one step up or down, moving to the best neighbour while it improves, until
the budget is spent. The Pareto frontier is taken over every valid candidate evaluated: those no
other candidate beats on both mean customer gain and mean supplier gain.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import product
from typing import Any, ClassVar

import numpy as np
from pydantic import ValidationError

from vested.core.alignment import align
from vested.core.checks import check_agreement
from vested.core.evaluation import EvaluationError, Evaluator
from vested.core.model import Agreement
from vested.core.scenario import Scenario, SplitTarget, TuneParameter, setting_value
from vested.core.scenario_checks import field_value, record_field
from vested.simulate.run import Plan, WorldFailed, WorldRuns, beats, cents, draw_chunks, make_engine, run_worlds
from vested.simulate.sampling import Draws
from vested.simulate.vector import VectorUnsupported

LeverRule = Callable[[Agreement], tuple[tuple[str, ...], str]]
"""Given a candidate agreement: the levers in effect and how they were chosen."""
DRAWN_BYTES = 256 * 2**20
"""Most memory the drivers' draws may take to be drawn once for every candidate (beyond: drawn per candidate)."""


@dataclass(frozen=True)
class Candidate:
    """One set of parameter values and what it gives (means over the runs, gains against the status quo)."""

    settings: tuple[str, ...]
    """One value per tunable parameter, as written in the scenario's notation."""
    valid: bool
    reason: str = ""
    """Why the candidate was skipped (the format or the checks refused it), if it was."""
    levers: tuple[str, ...] = ()
    expected_joint: Decimal = Decimal(0)
    """Mean over the runs of customer NPV + supplier NPV."""
    customer_gain: Decimal = Decimal(0)
    """Mean of the customer's NPV minus its status-quo NPV."""
    supplier_gain: Decimal = Decimal(0)
    p_customer: float = 0.0
    """Share of runs in which the customer beats the status quo."""
    p_supplier: float = 0.0
    p_both: float = 0.0
    feasible: bool = False
    """Both probabilities at least the threshold (and the gains split as ``tune.split`` asks, if it does)."""
    change: float = 0.0
    """How far from the terms as written: Σ |candidate − written| ÷ |written| over the parameters."""

    DERIVED: ClassVar[tuple[str, ...]] = ("joint_gain", "weaker_probability", "customer_share", "supplier_share")
    """Properties serialised with the fields (``vested.render.serialize``)."""

    @property
    def joint_gain(self) -> Decimal:
        return self.customer_gain + self.supplier_gain

    @property
    def customer_share(self) -> Decimal | None:
        """The customer's share of the joint gain (None when the candidate creates no value)."""
        return self.customer_gain / self.joint_gain if self.valid and self.joint_gain > 0 else None

    @property
    def supplier_share(self) -> Decimal | None:
        return self.supplier_gain / self.joint_gain if self.valid and self.joint_gain > 0 else None

    @property
    def weaker_probability(self) -> float:
        return min(self.p_customer, self.p_supplier)


@dataclass(frozen=True)
class ParameterNote:
    """A tunable parameter: where it is, what it is as written, the values tried."""

    title: str
    term: str
    field: str
    written: str
    low: str
    high: str
    values: int
    """How many values the grid has for it."""


@dataclass(frozen=True)
class TuneResult:
    agreement_id: str
    scenario_id: str
    currency: str
    parameters: tuple[ParameterNote, ...]
    threshold: Decimal
    runs: int
    seed: int
    lever_choice: str
    """How the levers were chosen (for the terms as written)."""
    status_quo: str
    method: str
    """grid, or random search + local refinement."""
    method_note: str
    grid_size: int
    as_written: Candidate
    """The agreement as written, evaluated the same way (for reference)."""
    best: Candidate | None
    """The best feasible candidate (None when no candidate meets the threshold)."""
    closest: Candidate | None
    """When none is feasible: the candidate closest to it (highest lower probability)."""
    frontier: tuple[Candidate, ...]
    """The Pareto frontier of (customer gain, supplier gain), by customer gain."""
    candidates: tuple[Candidate, ...]
    """Every candidate evaluated, in the order evaluated."""
    engine: str
    """The engine that prices the terms as written."""
    npv_convention: str
    split: SplitTarget | None = None
    """The split of the value created a feasible candidate must give (None: any split)."""

    DERIVED: ClassVar[tuple[str, ...]] = ("skipped",)
    """Properties serialised with the fields (``vested.render.serialize``)."""

    @property
    def skipped(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if not c.valid)


def tune(agreement: Agreement, scenario: Scenario, status_quo: Agreement, *, seed: int, status_quo_note: str,
         npv_convention: str, runs: int | None = None, levers: LeverRule | None = None,
         observed: Mapping[str, Sequence[Decimal]] | None = None, split: SplitTarget | None = None,
         progress: Callable[[str, int, int], None] | None = None) -> TuneResult:
    """Search the scenario's tunable parameters (see the module docstring). Raises ``WorldFailed`` when
    the status quo cannot be simulated, and ``VectorUnsupported`` when a term of the agreement as
    written cannot be simulated; a candidate that cannot be is skipped with the reason. ``progress`` is
    told each candidate evaluated: ("evaluating candidates", how many so far, how many the search will evaluate).
    ``split``: the split of the value created to require, instead of the scenario's ``tune.split``."""
    settings = scenario.tune
    assert settings is not None, "check_tuning first"
    runs = runs or settings.runs
    plan = Plan(scenario, (agreement, status_quo), observed)
    draws = list(draw_chunks(plan, runs, seed)) if plan.sampler.draw_bytes(runs) <= DRAWN_BYTES else None
    try:
        engine, _ = make_engine(status_quo, plan.labels, runs)
    except VectorUnsupported as exc:
        raise WorldFailed(0, status_quo, exc) from exc
    (baseline,) = run_worlds(plan, [plan.world(status_quo, (), engine)], runs, seed, fan_runs=0, draws=draws)
    tuner = Tuner(agreement, scenario, plan, baseline, levers or supplier_best(scenario), runs, seed, draws)
    tuner.progress = progress
    tuner.split = split or settings.split
    as_written = tuner.evaluate_agreement(agreement, written_settings(agreement, settings.parameters))
    method, how, size = search(tuner, settings.budget, settings.search, seed)
    candidates = tuple(tuner.seen.values())
    best, closest = best_of(candidates)
    return TuneResult(
        agreement_id=agreement.id, scenario_id=scenario.id, currency=agreement.policy.currency,
        parameters=parameter_notes(agreement, settings.parameters), threshold=settings.threshold, runs=runs, seed=seed,
        lever_choice=tuner.lever_choice, status_quo=status_quo_note, method=method, method_note=how, grid_size=size,
        as_written=as_written, best=best, closest=closest, frontier=frontier(candidates), candidates=candidates,
        engine=tuner.engine, npv_convention=npv_convention, split=tuner.split,
    )


class Tuner:
    """Evaluates candidates of one agreement on one scenario against the status quo (see the module docstring)."""

    def __init__(self, agreement: Agreement, scenario: Scenario, plan: Plan, baseline: WorldRuns, levers: LeverRule,
                 runs: int, seed: int, draws: Sequence[Draws] | None = None):
        assert scenario.tune is not None
        self.agreement, self.scenario, self.plan, self.baseline = agreement, scenario, plan, baseline
        self.parameters = scenario.tune.parameters
        self.threshold = float(scenario.tune.threshold)
        self.split = scenario.tune.split
        self.levers, self.runs, self.seed, self.draws = levers, runs, seed, draws
        self.written = tuple(_number(field_value(_term(agreement, p.term), p.field)) for p in self.parameters)
        _, self.engine = make_engine(agreement, plan.labels, runs)  # raises VectorUnsupported: nothing to tune
        self.lever_choice = ""
        """How the levers were chosen for the first candidate evaluated: the terms as written."""
        self.seen: dict[tuple[str, ...], Candidate] = {}
        self.progress: Callable[[str, int, int], None] | None = None
        self.planned = 0
        """How many candidates the search will evaluate (for ``progress``)."""

    def evaluate(self, settings: tuple[str, ...]) -> Candidate:
        if settings not in self.seen:
            self.seen[settings] = self._evaluate(settings)
            if self.progress is not None:
                self.progress("evaluating candidates", len(self.seen), max(self.planned, len(self.seen)))
        return self.seen[settings]

    def evaluate_agreement(self, agreement: Agreement, settings: tuple[str, ...]) -> Candidate:
        try:
            levers, how = self.levers(agreement)
        except EvaluationError as exc:
            return Candidate(settings, False, f"cannot be evaluated: {exc}")
        self.lever_choice = self.lever_choice or how
        try:
            engine, _ = make_engine(agreement, self.plan.labels, self.runs)
            (ours,) = run_worlds(self.plan, [self.plan.world(agreement, levers, engine)], self.runs, self.seed,
                                 fan_runs=0, draws=self.draws)
        except VectorUnsupported as exc:
            return Candidate(settings, False, str(exc))  # "term ... cannot be simulated: why"
        except WorldFailed as exc:
            return Candidate(settings, False, f"cannot be simulated: {exc.error}")
        customer, supplier = ours.customer - self.baseline.customer, ours.supplier - self.baseline.supplier
        p_customer, p_supplier = float(np.mean(beats(customer))), float(np.mean(beats(supplier)))
        values = [_number(field_value(_term(agreement, p.term), p.field)) for p in self.parameters]
        change = sum(float(abs(v - w) / (abs(w) or 1)) for v, w in zip(values, self.written, strict=True))
        customer_gain, supplier_gain = cents(float(np.mean(customer))), cents(float(np.mean(supplier)))
        split = self.split is None or self.split.met(customer_gain, supplier_gain)
        return Candidate(settings, True, "", levers, cents(float(np.mean(ours.customer + ours.supplier))),
                         customer_gain, supplier_gain, p_customer, p_supplier,
                         float(np.mean(beats(customer) & beats(supplier))),
                         p_customer >= self.threshold and p_supplier >= self.threshold and split, change)

    def _evaluate(self, settings: tuple[str, ...]) -> Candidate:
        candidate, reason = apply_settings(self.agreement, self.parameters, settings)
        if candidate is None:
            return Candidate(settings, False, reason)
        return self.evaluate_agreement(candidate, settings)


def rank(candidate: Candidate, order: int = 0) -> tuple[Any, ...]:
    """Higher is better: feasible, then the expected joint result, the weaker probability, the least change."""
    joint = candidate.expected_joint if candidate.feasible else Decimal(0)
    return (candidate.valid, candidate.feasible, joint, candidate.weaker_probability, candidate.expected_joint,
            -candidate.change, -order)


def apply_settings(agreement: Agreement, parameters: Sequence[TuneParameter],
                   settings: Sequence[str]) -> tuple[Agreement | None, str]:
    """The agreement with each parameter set to its value, validated through the format and the checks;
    or None and the reason it is refused."""
    pricing = list(agreement.pricing)
    for parameter, value in zip(parameters, settings, strict=True):
        index = next(i for i, term in enumerate(pricing) if term.id == parameter.term)
        try:
            pricing[index] = replace_at(pricing[index], parameter.field.split("."), value)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            return None, f"{parameter.title} = {value}: {first['msg']}"
    candidate = dataclasses.replace(agreement, pricing=tuple(pricing))
    problems = [d for d in check_agreement(candidate) if d.is_error]
    if problems:
        return None, f"{', '.join(f'{p.title} = {v}' for p, v in zip(parameters, settings, strict=True))}: {problems[0].message}"
    return candidate, ""


def replace_at(record: Any, path: Sequence[str], value: str) -> Any:
    """``record`` with the field at ``path`` set to ``value`` (as written), rebuilt with ``dataclasses.replace``
    (pydantic validates the new records)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(record, tuple):
        index = int(head)
        return (*record[:index], replace_at(record[index], rest, value), *record[index + 1:])
    name = record_field(type(record), head)
    assert name is not None, f"check_tuning lets only existing fields through ({head})"
    return dataclasses.replace(record, **{name: replace_at(getattr(record, name), rest, value)})


def search(tuner: Tuner, budget: int, mode: str, seed: int) -> tuple[str, str, int]:
    """Evaluate candidates (into ``tuner.seen``): (method, how, grid size)."""
    grids = [p.grid() for p in tuner.parameters]
    size = math.prod(len(g) for g in grids)
    tuner.planned = size if mode == "grid" or (mode == "auto" and size <= budget) else min(size, budget)
    if mode == "grid" or (mode == "auto" and size <= budget):
        for settings in product(*grids):
            tuner.evaluate(tuple(settings))
        return "grid", f"every one of the {size:,} combinations of the parameters' values", size
    rng = np.random.default_rng(seed)
    picks = min(size, max(1, budget // 2))
    chosen: dict[tuple[int, ...], None] = {}  # in the order drawn
    while len(chosen) < picks:
        chosen[tuple(int(rng.integers(0, len(g))) for g in grids)] = None
    for index in chosen:
        tuner.evaluate(_at(grids, index))

    def score(index: tuple[int, ...]) -> tuple[Any, ...]:
        return rank(tuner.seen[_at(grids, index)])

    index = max(chosen, key=score)
    while len(tuner.seen) < budget:
        neighbours = [(*index[:k], index[k] + d, *index[k + 1:]) for k in range(len(grids)) for d in (-1, 1)
                      if 0 <= index[k] + d < len(grids[k])]
        for n in [n for n in neighbours if _at(grids, n) not in tuner.seen][:budget - len(tuner.seen)]:
            tuner.evaluate(_at(grids, n))
        best = max((n for n in neighbours if _at(grids, n) in tuner.seen), key=score, default=index)
        if score(best) <= score(index):
            break
        index = best
    how = (f"seeded random search over {picks:,} of the {size:,} combinations (more than the budget of {budget:,}), then "
           "local refinement: each parameter one step up or down from the best, while that improves; the result is "
           "the best found, not guaranteed the best of the whole grid")
    return "random search + local refinement", how, size


def _at(grids: Sequence[Sequence[str]], index: Sequence[int]) -> tuple[str, ...]:
    return tuple(grid[i] for grid, i in zip(grids, index, strict=True))


def frontier(candidates: Sequence[Candidate]) -> tuple[Candidate, ...]:
    """The valid candidates no other beats on both customer gain and supplier gain (ties kept once)."""
    valid = [c for c in candidates if c.valid]
    points: dict[tuple[Decimal, Decimal], Candidate] = {}
    for c in valid:
        dominated = any(o.customer_gain >= c.customer_gain and o.supplier_gain >= c.supplier_gain
                        and (o.customer_gain, o.supplier_gain) != (c.customer_gain, c.supplier_gain) for o in valid)
        if not dominated:
            points.setdefault((c.customer_gain, c.supplier_gain), c)
    return tuple(sorted(points.values(), key=lambda c: (c.customer_gain, c.supplier_gain)))


def best_of(candidates: Sequence[Candidate]) -> tuple[Candidate | None, Candidate | None]:
    """(the best feasible candidate or None, the closest one when none is feasible)."""
    ranked = sorted(enumerate(candidates), key=lambda ic: rank(ic[1], ic[0]), reverse=True)
    top = ranked[0][1] if ranked and ranked[0][1].valid else None
    if top is not None and top.feasible:
        return top, None
    return None, top


def written_settings(agreement: Agreement, parameters: Sequence[TuneParameter]) -> tuple[str, ...]:
    """The parameters' values as written in the agreement, in the scenario's notation (30% for a rate of 0.3)."""
    result = []
    for p in parameters:
        value = _number(field_value(_term(agreement, p.term), p.field))
        percent = setting_value(p.range[0])[1]
        result.append(f"{(value * 100).normalize():f}%" if percent else f"{value.normalize():f}")
    return tuple(result)


def parameter_notes(agreement: Agreement, parameters: Sequence[TuneParameter]) -> tuple[ParameterNote, ...]:
    written = written_settings(agreement, parameters)
    return tuple(ParameterNote(p.title, p.term, p.field, w, p.range[0], p.range[1], len(p.grid()))
                 for p, w in zip(parameters, written, strict=True))


def supplier_best(scenario: Scenario) -> LeverRule:
    """The supplier's most profitable levers under each candidate (exact engine)."""
    def rule(agreement: Agreement) -> tuple[tuple[str, ...], str]:
        found = align(agreement, scenario, Evaluator(agreement, scenario))
        return found.supplier_best.levers, f"the supplier's most profitable choice under each candidate ({found.method})"
    return rule


def _term(agreement: Agreement, term_id: str) -> Any:
    return next(term for term in agreement.pricing if term.id == term_id)


def _number(value: Any) -> Decimal:
    return Decimal(value) if value is not None else Decimal(0)

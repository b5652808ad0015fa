"""Risk simulation and deal tuning as services for the faces (CLI, web, Python).

    simulate(ws, agreement, scenario, runs, seed, levers="best", status_quo_path=None) -> Result[Simulation]
    tune(ws, agreement, scenario, runs=None, seed=1, levers="best", status_quo_path=None) -> Result[TuneResult]

Each reads like its table of contents: check the runs and the seed -> load the agreement, the
status quo and the scenario, and check them against each other (``vested.services.deal``'s steps; and
``tune:`` against the agreement) -> read the history of the drivers resampled from measurements
(the workspace's store) -> choose the levers -> simulate (``vested.simulate.run``) or search
(``vested.simulate.tune``) -> put a file:line:column on every problem, in the file at fault. A
:class:`~vested.services.result.Result` holds the frozen result, or the diagnostics saying why there is none.

The status quo is ``status_quo_path``, else the scenario's ``status_quo:`` (a file next to it), else
the agreement itself — always with no levers, as in ``vested compare``. Levers (``levers``):
``"best"`` — the supplier's most profitable combination under the agreement, from the
deterministic alignment (the default); ``"none"``; ``"all"``; or lever ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TypeVar

from pydantic_core import PydanticCustomError

from vested.adapters.scenario_load import load_scenario
from vested.core.diagnostics import Diagnostic, error
from vested.core.economics import NPV_CONVENTION
from vested.core.evaluation import EvaluationError, monthly_rate
from vested.core.model import Agreement
from vested.core.money import percent
from vested.core.periods import months_between
from vested.core.scenario import DOCUMENT, Scenario, SplitTarget, parse_least_share
from vested.core.scenario_checks import check_tuning
from vested.services.agreements import AgreementRef
from vested.services.deal import LeverChoice, Pair, check_currencies, choose_levers, load_pair, resolve_status_quo
from vested.services.result import Refused, Result
from vested.services.workspace import Workspace
from vested.simulate.run import Plan, Setup, Simulation, WorldFailed, make_engine, run_worlds, summarise
from vested.simulate.tune import LeverRule, TuneResult, supplier_best
from vested.simulate.tune import tune as search_terms
from vested.simulate.vector import VectorError, VectorUnsupported

MAX_RUNS = 1_000_000
"""Most runs simulated (as the scenario's ``tune.runs``): memory grows with the runs."""
T = TypeVar("T")
Progress = Callable[[str, int, int], None]
"""Told what is being done: (what, how much is done, of how much)."""


@dataclass(frozen=True)
class _Deal:
    """The agreement and the status quo, each loaded and checked against the scenario (the same pair
    when the agreement is its own status quo)."""

    main: Pair
    status_quo: Pair
    status_quo_note: str

    @property
    def agreement(self) -> Agreement:
        return self.main.agreement

    @property
    def scenario(self) -> Scenario:
        return self.main.scenario

    def pair(self, agreement: Agreement) -> Pair:
        """The pair of ``agreement`` (the status quo's when it is that one)."""
        return self.status_quo if agreement is self.status_quo.agreement else self.main


def simulate(ws: Workspace, agreement_path: AgreementRef, scenario_path: str | Path, runs: int, seed: int,
             levers: LeverChoice = "best", status_quo_path: str | Path | None = None) -> Result[Simulation]:
    """Each party's result over ``runs`` runs of the scenario's uncertain drivers, against the status quo."""
    deal, problems = _load(agreement_path, scenario_path, status_quo_path, runs, seed)
    if deal is None:
        return Result(None, problems)
    try:
        observed, measured = _history(ws, deal)
        chosen, how = choose_levers(deal.main, levers, ", deterministic scenario")
        plan = Plan(deal.scenario, (deal.agreement, deal.status_quo.agreement), observed)
        engine, engine_note = _guard(deal, deal.main, lambda: make_engine(deal.agreement, plan.labels, runs))
        sq_engine, sq_note = (engine, engine_note) if deal.status_quo is deal.main else _guard(
            deal, deal.status_quo, lambda: make_engine(deal.status_quo.agreement, plan.labels, runs))
        worlds = plan.world(deal.agreement, chosen, engine), plan.world(deal.status_quo.agreement, (), sq_engine)
        ours, theirs = _guard(deal, deal.main, lambda: run_worlds(plan, worlds, runs, seed))
    except Refused as refused:
        return Result(None, (*problems, *refused.diagnostics))
    note = engine_note if sq_note == engine_note else f"{engine_note}; status quo: {sq_note}"
    simulation = summarise(plan, worlds[0], worlds[1], (ours, theirs), Setup(how, deal.status_quo_note, seed, note),
                           _convention(deal.scenario, plan.monthly_rate))
    return Result(simulation, (*problems, *measured))


def tune(ws: Workspace, agreement_path: AgreementRef, scenario_path: str | Path, runs: int | None = None, seed: int = 1,
         levers: LeverChoice = "best", status_quo_path: str | Path | None = None,
         min_share: str | Decimal | None = None, progress: Progress | None = None) -> Result[TuneResult]:
    """The terms, within the scenario's `tune:` ranges, that maximise the expected joint result while each
    party beats the status quo with at least the threshold's probability (and gets at least its share of
    the value created: the scenario's `tune.split`, or ``min_share`` for each party); and the Pareto frontier."""
    least, asked = _least_share(min_share)
    if asked:
        return Result(None, asked)
    deal, problems = _load(agreement_path, scenario_path, status_quo_path, runs if runs is not None else 1, seed)
    if deal is None:
        return Result(None, problems)
    found = deal.main.locate(check_tuning(deal.scenario, deal.agreement))
    if any(d.is_error for d in found):
        return Result(None, (*problems, *found))
    scenario = deal.scenario
    split = SplitTarget(customer=least, supplier=least) if least is not None else None
    try:
        observed, measured = _history(ws, deal)
        rule: LeverRule = supplier_best(scenario)
        if not (isinstance(levers, str) and levers == "best"):
            fixed = choose_levers(deal.main, levers)
            rule = lambda _agreement: fixed  # noqa: E731 - the same levers for every candidate
        result = _guard(deal, deal.main, lambda: search_terms(
            deal.agreement, scenario, deal.status_quo.agreement, seed=seed, status_quo_note=deal.status_quo_note,
            npv_convention=_convention(scenario, monthly_rate(scenario.discount_rate)),
            runs=runs, levers=rule, observed=observed, split=split, progress=progress))
    except Refused as refused:
        return Result(None, (*problems, *found, *refused.diagnostics))
    return Result(result, (*problems, *found, *measured))


# -- the steps -------------------------------------------------------------------------------------------------

def _least_share(given: str | Decimal | None) -> tuple[Decimal | None, tuple[Diagnostic, ...]]:
    """``--min-share`` as a share (40% -> 0.4), or the error saying how to write it."""
    if given is None:
        return None, ()
    try:
        least = parse_least_share(given)
    except (ValueError, PydanticCustomError) as exc:
        return None, (error("min-share", f"--min-share {given}: {exc}", "e.g. --min-share 40%", (), "command"),)
    if least * 2 > 1:
        return None, (error("min-share", f"--min-share {given}: each party cannot get more than half of the value created",
                            "e.g. --min-share 40%", (), "command"),)
    return least, ()


def _load(agreement_path: str | Path, scenario_path: str | Path, status_quo_path: str | Path | None,
          runs: int, seed: int) -> tuple[_Deal | None, tuple[Diagnostic, ...]]:
    asked = _check_command(runs, seed)
    if asked:
        return None, asked
    loaded = load_scenario(scenario_path)
    if not loaded.ok or loaded.scenario is None:
        return None, loaded.diagnostics
    status_quo_path, missing = resolve_status_quo(scenario_path, loaded, status_quo_path)
    if missing:
        return None, missing
    note = f"{Path(status_quo_path).name} with no levers" if status_quo_path is not None else \
        f"{Path(agreement_path).name} (the agreement itself) with no levers"
    main, problems = load_pair(agreement_path, loaded)
    status_quo = main
    if status_quo_path is not None and Path(status_quo_path).resolve() != Path(agreement_path).resolve():
        status_quo, found = load_pair(status_quo_path, loaded)
        problems = (*problems, *(d for d in found if d not in problems))
    if main is None or status_quo is None or any(d.is_error for d in problems):
        return None, problems
    problems = (*problems, *check_currencies([main, status_quo]))
    if any(d.is_error for d in problems):
        return None, problems
    return _Deal(main, status_quo, note), problems


def _check_command(runs: int, seed: int) -> tuple[Diagnostic, ...]:
    """The runs and the seed asked for: at least one run and at most :data:`MAX_RUNS`; a seed from 0."""
    problems = []
    if runs < 1:
        problems.append(error("runs", f"the number of runs is {runs}; simulate at least one run", "e.g. --runs 100000",
                              (), "command"))
    elif runs > MAX_RUNS:
        problems.append(error("runs", f"the number of runs is {runs:,}; simulate at most {MAX_RUNS:,} runs",
                              "e.g. --runs 100000 (percentiles and probabilities are within a fraction of a percent)",
                              (), "command"))
    if seed < 0:
        problems.append(error("seed", f"the seed is {seed}; a seed is a whole number from 0", "e.g. --seed 1", (), "command"))
    return tuple(problems)


def _history(ws: Workspace, deal: _Deal) -> tuple[dict[str, list[Decimal]], tuple[Diagnostic, ...]]:
    """The measured monthly values of each driver resampled from a metric's history (from the workspace's
    store), and what the measurement noted about those metrics. Each agreement is measured once, for
    every month its drivers resample."""
    wanted: list[tuple[str, str, list[str], Pair]] = []  # (driver, metric, months, the agreement that defines it)
    for name, driver in deal.scenario.drivers.items():
        spec = driver.uncertain
        if spec is None or spec.metric is None or spec.first is None or spec.last is None:
            continue
        pair = next((p for p in (deal.main, deal.status_quo) if p.agreement.metric(spec.metric) is not None), None)
        if pair is None:
            raise Refused(deal.main.locate([error(
                "unknown-metric", f"driver {name!r} resamples the history of metric {spec.metric!r}, which neither the "
                "agreement nor the status quo defines", "name a metric of the agreement, or give the observed values: "
                "`values: [...]`", ("drivers", name, "uncertain", "metric"), DOCUMENT)]))
        wanted.append((name, spec.metric, months_between(spec.first, spec.last), pair))
    if not wanted:
        return {}, ()
    from vested.services.running import measure_months, measuring

    rows: dict[int, dict[str, dict[str, Decimal]]] = {}
    notes: list[Diagnostic] = []
    for pair in {id(p): p for _, _, _, p in wanted}.values():
        months = sorted({m for _, _, ms, p in wanted if p is pair for m in ms})
        measured, failed = measuring(partial(measure_months, ws, pair.agreement, months))
        if measured is None:
            raise Refused(pair.locate(failed))
        table = measured.table
        rows[id(pair)] = measured.rows
        metrics = {metric for _, metric, _, p in wanted if p is pair}
        noted = [d for note, d in zip(table.notes, table.diagnostics, strict=True) if note.metric in metrics]
        notes.extend(d for d in pair.locate(noted) if d not in notes)
    observed: dict[str, list[Decimal]] = {}
    for name, metric, months, pair in wanted:
        values = [rows[id(pair)][m][metric] for m in months if metric in rows[id(pair)][m]]
        if not values:
            folder = str(ws.store.root)
            raise Refused((*notes, *deal.main.locate([error(
                "no-history", f"driver {name!r} resamples the history of {metric!r} from {months[0]} to {months[-1]}, "
                f"and the project folder {folder!r} has no measured value in those months", "ingest the data first "
                "(vested ingest), point to the project folder, or give the observed values: `values: [...]`",
                ("drivers", name, "uncertain", "metric"), DOCUMENT)])))
        observed[name] = values
    return observed, tuple(notes)


def _guard(deal: _Deal, pair: Pair, step: Callable[[], T]) -> T:
    """Run a step of the simulation of ``pair``'s agreement; turn what the data make impossible into
    diagnostics located in the agreement at fault (the status quo's, when a world of it failed)."""
    try:
        return step()
    except WorldFailed as failed:
        raise _refusal(deal.pair(failed.agreement), failed.error) from None
    except (EvaluationError, VectorUnsupported, VectorError) as exc:
        raise _refusal(pair, exc) from None


def _refusal(pair: Pair, exc: EvaluationError | VectorUnsupported | VectorError) -> Refused:
    agreement = pair.agreement
    if isinstance(exc, EvaluationError):
        return Refused(pair.locate(exc.diagnostics))
    if isinstance(exc, VectorUnsupported):
        return Refused(pair.locate([error("unsupported-term", f"agreement {agreement.id!r} cannot be simulated: {exc}",
                                          "simulate at most 200,000 run-months (runs × months) to price it run by run "
                                          "with the exact engine", _term_path(agreement, exc.term_id))]))
    return Refused(pair.locate([error("simulate-value", f"agreement {agreement.id!r}: {exc}",
                                      "keep the drivers' distributions within what the term accepts",
                                      _term_path(agreement, exc.term_id))]))


def _term_path(agreement: Agreement, term_id: str) -> tuple[str | int, ...]:
    index = next((i for i, term in enumerate(agreement.pricing) if term.id == term_id), None)
    return ("pricing", index) if index is not None else ("pricing",)


def _convention(scenario: Scenario, monthly: Decimal) -> str:
    return NPV_CONVENTION.format(rate=percent(scenario.discount_rate), monthly=percent(monthly))

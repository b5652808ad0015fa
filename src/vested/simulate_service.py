"""Risk simulation and deal tuning as services for the faces (CLI, web, Python).

    simulate_files(agreement, scenario, runs, seed, levers="best", status_quo_path=None) -> SimulateReport
    tune_files(agreement, scenario, runs=None, seed=1, levers="best", status_quo_path=None) -> TuneReport

Each reads like its table of contents: load the agreement, the status quo and the scenario ->
check the scenario against both (and ``tune:`` against the agreement) -> read the history of the
drivers resampled from measurements (the project folder) -> choose the levers -> simulate
(``vested.simulate.run``) or search (``vested.simulate.tune``) -> put a file:line:column on every
problem. A report holds a frozen result, or the diagnostics saying why there is none.

The status quo is ``status_quo_path``, else the scenario's ``status_quo:`` (a file next to it), else
the agreement itself — always with no levers, as in ``vested compare``. Levers (``levers``):
``"best"`` — the supplier's most profitable combination under the agreement, from the
deterministic alignment (the default); ``"none"``; ``"all"``; or lever ids.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from vested.adapters.load import load_agreement, locate
from vested.adapters.scenario_load import load_scenario, locate_pair
from vested.adapters.yamlsource import Source
from vested.core.alignment import align
from vested.core.diagnostics import Diagnostic, UserError, error
from vested.core.economics import NPV_CONVENTION
from vested.core.evaluation import EvaluationError, Evaluator, monthly_rate
from vested.core.facts import did_you_mean
from vested.core.model import Agreement
from vested.core.money import percent
from vested.core.periods import months_between
from vested.core.scenario import DOCUMENT, Scenario
from vested.core.scenario_checks import check_scenario_for, check_tuning
from vested.simulate.run import Plan, Setup, Simulation, make_engine, run_worlds, summarise
from vested.simulate.tune import LeverRule, TuneResult, supplier_best, tune
from vested.simulate.vector import VectorError, VectorUnsupported

LeverChoice = str | Sequence[str]
T = TypeVar("T")


@dataclass(frozen=True)
class SimulateReport:
    simulation: Simulation | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return self.simulation is not None and not any(d.is_error for d in self.diagnostics)


@dataclass(frozen=True)
class TuneReport:
    result: TuneResult | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return self.result is not None and not any(d.is_error for d in self.diagnostics)


@dataclass(frozen=True)
class _Deal:
    """The agreement, the status quo and the scenario, loaded and checked against each other."""

    agreement: Agreement
    agreement_path: Path
    agreement_source: Source
    status_quo: Agreement
    status_quo_path: Path
    status_quo_source: Source
    status_quo_note: str
    scenario: Scenario
    scenario_source: Source

    def locate(self, diagnostics: Sequence[Diagnostic], status_quo: bool = False) -> tuple[Diagnostic, ...]:
        source = self.status_quo_source if status_quo else self.agreement_source
        return locate_pair(diagnostics, source, self.scenario_source)


class _Refused(Exception):
    def __init__(self, diagnostics: Sequence[Diagnostic]):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = tuple(diagnostics)


def simulate_files(agreement_path: str | Path, scenario_path: str | Path, runs: int, seed: int,
                   levers: LeverChoice = "best", status_quo_path: str | Path | None = None,
                   project_dir: str | Path | None = None) -> SimulateReport:
    """Each party's result over ``runs`` runs of the scenario's uncertain drivers, against the status quo."""
    deal, problems = _load(agreement_path, scenario_path, status_quo_path, runs)
    if deal is None:
        return SimulateReport(None, problems)
    try:
        observed = _history(deal, project_dir)
        chosen, how = _levers(deal, levers)
        plan = Plan(deal.scenario, (deal.agreement, deal.status_quo), observed)
        engine, engine_note = _guard(deal, False, lambda: make_engine(deal.agreement, plan.labels, runs))
        sq_engine, sq_note = _guard(deal, True, lambda: make_engine(deal.status_quo, plan.labels, runs))
        worlds = plan.world(deal.agreement, chosen, engine), plan.world(deal.status_quo, (), sq_engine)
        ours, theirs = _guard(deal, False, lambda: run_worlds(plan, worlds, runs, seed))
    except _Refused as refused:
        return SimulateReport(None, (*problems, *refused.diagnostics))
    note = engine_note if sq_note == engine_note else f"{engine_note}; status quo: {sq_note}"
    simulation = summarise(plan, worlds[0], worlds[1], (ours, theirs), Setup(how, deal.status_quo_note, seed, note),
                           _convention(deal.scenario, plan.monthly_rate))
    return SimulateReport(simulation, problems)


def tune_files(agreement_path: str | Path, scenario_path: str | Path, runs: int | None = None, seed: int = 1,
               levers: LeverChoice = "best", status_quo_path: str | Path | None = None,
               project_dir: str | Path | None = None) -> TuneReport:
    """The terms, within the scenario's `tune:` ranges, that maximise the expected joint result while each
    party beats the status quo with at least the threshold's probability; and the Pareto frontier."""
    deal, problems = _load(agreement_path, scenario_path, status_quo_path, runs if runs is not None else 1)
    if deal is None:
        return TuneReport(None, problems)
    found = deal.locate(check_tuning(deal.scenario, deal.agreement))
    if any(d.is_error for d in found):
        return TuneReport(None, (*problems, *found))
    try:
        observed = _history(deal, project_dir)
        rule: LeverRule = supplier_best(deal.scenario)
        if not (isinstance(levers, str) and levers == "best"):
            fixed = _levers(deal, levers)
            rule = lambda _agreement: fixed  # noqa: E731 - the same levers for every candidate
        result = _guard(deal, False, lambda: tune(
            deal.agreement, deal.scenario, deal.status_quo, seed=seed, status_quo_note=deal.status_quo_note,
            npv_convention=_convention(deal.scenario, monthly_rate(deal.scenario.discount_rate)),
            runs=runs, levers=rule, observed=observed))
    except _Refused as refused:
        return TuneReport(None, (*problems, *found, *refused.diagnostics))
    return TuneReport(result, (*problems, *found))


# -- the steps -------------------------------------------------------------------------------------------------

def _load(agreement_path: str | Path, scenario_path: str | Path, status_quo_path: str | Path | None,
          runs: int) -> tuple[_Deal | None, tuple[Diagnostic, ...]]:
    if runs < 1:
        return None, (error("runs", f"the number of runs is {runs}; simulate at least one run", "e.g. --runs 100000",
                            (), "command"),)
    loaded = load_scenario(scenario_path)
    if not loaded.ok or loaded.scenario is None:
        return None, loaded.diagnostics
    scenario = loaded.scenario
    note_suffix = ""
    if status_quo_path is None and scenario.status_quo is not None:
        status_quo_path = Path(scenario_path).parent / scenario.status_quo
        if not Path(status_quo_path).is_file():
            missing = error("file", f"the status quo agreement {str(status_quo_path)!r} does not exist",
                            "give the agreement file that stands for today, relative to the scenario", ("status_quo",), DOCUMENT)
            return None, locate([missing], {DOCUMENT: loaded.source})
    if status_quo_path is None:
        status_quo_path, note_suffix = agreement_path, " (the agreement itself)"
    problems: list[Diagnostic] = list(loaded.diagnostics)
    sources = []
    for path in (agreement_path, status_quo_path):
        agreement = load_agreement(path, lint=False)
        problems.extend(d for d in agreement.diagnostics if d not in problems)
        if agreement.agreement is not None and agreement.ok:
            found = locate_pair(check_scenario_for(scenario, agreement.agreement), agreement.source, loaded.source)
            problems.extend(d for d in found if d not in problems)
        sources.append(agreement)
    main, status_quo = sources
    if any(d.is_error for d in problems) or main.agreement is None or status_quo.agreement is None:
        return None, tuple(problems)
    note = f"{Path(status_quo_path).name}{note_suffix} with no levers"
    return _Deal(main.agreement, Path(agreement_path), main.source, status_quo.agreement, Path(status_quo_path),
                 status_quo.source, note, scenario, loaded.source), tuple(problems)


def _levers(deal: _Deal, levers: LeverChoice) -> tuple[tuple[str, ...], str]:
    known = [lever.id for lever in deal.scenario.levers]
    if isinstance(levers, str) and levers in ("best", "none", "all"):
        if levers == "none":
            return (), "no levers"
        if levers == "all":
            return tuple(known), "every lever"
        try:
            best = align(deal.agreement, deal.scenario, Evaluator(deal.agreement, deal.scenario))
        except EvaluationError as exc:
            raise _Refused(deal.locate(exc.diagnostics)) from None
        return best.supplier_best.levers, f"the supplier's most profitable choice ({best.method}, deterministic scenario)"
    ids = [part.strip() for part in levers.split(",") if part.strip()] if isinstance(levers, str) else list(levers)
    unknown = [lever for lever in ids if lever not in known]
    if unknown:
        raise _Refused(deal.locate([error("unknown-lever", f"the scenario has no lever {lever!r}",
                                          did_you_mean(lever, known) or "add it under `levers:`", ("levers",), DOCUMENT)
                                    for lever in unknown]))
    return tuple(lever for lever in known if lever in ids), "as given"


def _history(deal: _Deal, project_dir: str | Path | None) -> dict[str, list[Decimal]]:
    """The measured monthly values of each driver resampled from a metric's history (from the project folder)."""
    from vested.services import measure_files

    observed: dict[str, list[Decimal]] = {}
    for name, driver in deal.scenario.drivers.items():
        spec = driver.uncertain
        if spec is None or spec.metric is None or spec.first is None or spec.last is None:
            continue
        where = ("drivers", name, "uncertain", "metric")
        path = next((p for a, p in ((deal.agreement, deal.agreement_path), (deal.status_quo, deal.status_quo_path))
                     if a.metric(spec.metric) is not None), None)
        if path is None:
            raise _Refused(deal.locate([error("unknown-metric", f"driver {name!r} resamples the history of metric "
                                              f"{spec.metric!r}, which neither the agreement nor the status quo defines",
                                              "name a metric of the agreement, or give the observed values: `values: [...]`",
                                              where, DOCUMENT)]))
        months = months_between(spec.first, spec.last)
        try:
            measured, _ = measure_files(path, months, project_dir)
        except UserError as exc:  # a measure that cannot be compiled: the agreement's problem, located there
            source = deal.agreement_source if path == deal.agreement_path else deal.status_quo_source
            raise _Refused(locate([exc.diagnostic], {"agreement": source})) from None
        rows = measured[1] if measured is not None else {}
        values = [rows[m][spec.metric] for m in months if spec.metric in rows.get(m, {})]
        if not values:
            folder = str(project_dir) if project_dir is not None else ".vested"
            raise _Refused(deal.locate([error("no-history", f"driver {name!r} resamples the history of {spec.metric!r} "
                                              f"from {spec.first} to {spec.last}, and the project folder {folder!r} has no "
                                              "measured value in those months", "ingest the data first (vested ingest), "
                                              "point to the project folder, or give the observed values: `values: [...]`",
                                              where, DOCUMENT)]))
        observed[name] = values
    return observed


def _guard(deal: _Deal, status_quo: bool, step: Callable[[], T]) -> T:
    """Run a step of the simulation; turn what the data makes impossible into located diagnostics."""
    agreement = deal.status_quo if status_quo else deal.agreement
    try:
        return step()
    except EvaluationError as exc:
        raise _Refused(deal.locate(exc.diagnostics, status_quo)) from None
    except VectorUnsupported as exc:
        raise _Refused(deal.locate([error("unsupported-term", f"agreement {agreement.id!r} cannot be simulated: {exc}",
                                          "simulate at most 200,000 run-months (runs × months) to price it run by run "
                                          "with the exact engine", _term_path(agreement, exc.term_id))], status_quo)) from None
    except VectorError as exc:
        raise _Refused(deal.locate([error("simulate-value", f"agreement {agreement.id!r}: {exc}",
                                          "keep the drivers' distributions within what the term accepts",
                                          _term_path(agreement, exc.term_id))], status_quo)) from None


def _term_path(agreement: Agreement, term_id: str) -> tuple[str | int, ...]:
    index = next((i for i, term in enumerate(agreement.pricing) if term.id == term_id), None)
    return ("pricing", index) if index is not None else ("pricing",)


def _convention(scenario: Scenario, monthly: Decimal) -> str:
    return NPV_CONVENTION.format(rate=percent(scenario.discount_rate), monthly=percent(monthly))

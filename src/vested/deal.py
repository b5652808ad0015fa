"""Test the deal before signing: one service function per job, for the faces (CLI, web, Python).

    economics_files(agreement, scenario, levers="best") -> EconomicsReport
    compare_files(a, b, scenario, status_quo=None, levers="best") -> CompareReport
    align_files(agreement, scenario) -> AlignReport

Each reads like its table of contents: load the agreement and the scenario -> check the scenario
against the agreement -> evaluate (``vested.core.economics`` / ``compare`` / ``alignment``) -> put
a file:line:column on every problem. A report holds a frozen result, or the diagnostics saying why
there is none.

Which levers are in effect (``levers``): ``"best"`` — the supplier's most profitable combination
under that agreement, since the supplier chooses how to deliver (the default); ``"none"``;
``"all"``; or lever ids (a sequence, or text separated by commas).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vested.adapters.load import load_agreement, locate
from vested.adapters.scenario_load import LoadedScenario, load_scenario, locate_pair
from vested.adapters.yamlsource import Source
from vested.core.alignment import Alignment, align
from vested.core.compare import Comparison, compare, outcome_of
from vested.core.diagnostics import Diagnostic, error
from vested.core.economics import Economics, economics
from vested.core.evaluation import EvaluationError, Evaluator
from vested.core.facts import did_you_mean
from vested.core.model import Agreement
from vested.core.scenario import DOCUMENT, Scenario
from vested.core.scenario_checks import check_scenario_for

LeverChoice = str | Sequence[str]
CHOICES = {"best": "the supplier's most profitable choice", "none": "no levers", "all": "every lever"}


@dataclass(frozen=True)
class EconomicsReport:
    agreement: Agreement | None
    scenario: Scenario | None
    economics: Economics | None
    lever_choice: str
    """How the levers in effect were chosen."""
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return self.economics is not None and not any(d.is_error for d in self.diagnostics)


@dataclass(frozen=True)
class CompareReport:
    comparison: Comparison | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return self.comparison is not None and not any(d.is_error for d in self.diagnostics)


@dataclass(frozen=True)
class AlignReport:
    alignment: Alignment | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return self.alignment is not None and not any(d.is_error for d in self.diagnostics)


@dataclass(frozen=True)
class _Pair:
    """An agreement loaded and checked against a scenario, ready to evaluate."""

    agreement: Agreement
    scenario: Scenario
    evaluator: Evaluator
    agreement_source: Source
    scenario_source: Source

    def locate(self, diagnostics: Sequence[Diagnostic]) -> tuple[Diagnostic, ...]:
        return locate_pair(diagnostics, self.agreement_source, self.scenario_source)


def economics_files(agreement_path: str | Path, scenario_path: str | Path, levers: LeverChoice = "best") -> EconomicsReport:
    """Each party's result per period and over the term, with the chosen levers in effect."""
    pair, problems = _load_pair(agreement_path, load_scenario(scenario_path))
    if pair is None:
        return EconomicsReport(None, None, None, "", problems)
    try:
        result, how = _evaluate(pair, levers)
    except _Refused as refused:
        return EconomicsReport(pair.agreement, pair.scenario, None, "", (*problems, *pair.locate(refused.diagnostics)))
    return EconomicsReport(pair.agreement, pair.scenario, result, how, problems)


def align_files(agreement_path: str | Path, scenario_path: str | Path) -> AlignReport:
    """The supplier's most profitable levers under the agreement, the joint best, and misalignment."""
    pair, problems = _load_pair(agreement_path, load_scenario(scenario_path))
    if pair is None:
        return AlignReport(None, problems)
    try:
        result = align(pair.agreement, pair.scenario, pair.evaluator)
    except EvaluationError as exc:
        return AlignReport(None, (*problems, *pair.locate(exc.diagnostics)))
    return AlignReport(result, problems)


def compare_files(a_path: str | Path, b_path: str | Path, scenario_path: str | Path,
                  status_quo_path: str | Path | None = None, levers: LeverChoice = "best") -> CompareReport:
    """Agreements A and B on one scenario, each against the status quo: the given status-quo
    agreement, else the scenario's `status_quo:` (a file next to it), else A — with no levers."""
    loaded = load_scenario(scenario_path)
    if not loaded.ok or loaded.scenario is None:
        return CompareReport(None, loaded.diagnostics)
    if status_quo_path is None and loaded.scenario.status_quo is not None:
        status_quo_path = Path(scenario_path).parent / loaded.scenario.status_quo
        if not status_quo_path.is_file():
            missing = error("file", f"the status quo agreement {str(status_quo_path)!r} does not exist",
                            "give the agreement file that stands for today, relative to the scenario",
                            ("status_quo",), DOCUMENT)
            return CompareReport(None, locate([missing], {DOCUMENT: loaded.source}))
    paths = [a_path, b_path, status_quo_path or a_path]
    problems: list[Diagnostic] = []
    results: list[tuple[Economics, str]] = []
    for index, path in enumerate(paths):
        pair, found = _load_pair(path, loaded)
        problems.extend(d for d in found if d not in problems)
        if pair is not None:
            try:
                results.append(_evaluate(pair, levers if index < 2 else "none"))
            except _Refused as refused:
                problems.extend(pair.locate(refused.diagnostics))
    if len(results) < len(paths) or any(d.is_error for d in problems):
        return CompareReport(None, tuple(problems))
    (a, how_a), (b, how_b), (status_quo, _) = results
    note = Path(paths[2]).name + ("" if status_quo_path else " (agreement A)") + " with no levers"
    comparison = compare((outcome_of(a), outcome_of(b)), (how_a, how_b), outcome_of(status_quo), note,
                         loaded.scenario.id, a.currency, a.npv_convention)
    return CompareReport(comparison, tuple(problems))


class _Refused(Exception):
    def __init__(self, diagnostics: Sequence[Diagnostic]):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = tuple(diagnostics)


def _load_pair(agreement_path: str | Path, loaded: LoadedScenario) -> tuple[_Pair | None, tuple[Diagnostic, ...]]:
    agreement = load_agreement(agreement_path, lint=False)
    problems = (*agreement.diagnostics, *loaded.diagnostics)
    if not agreement.ok or agreement.agreement is None or not loaded.ok or loaded.scenario is None:
        return None, problems
    found = locate_pair(check_scenario_for(loaded.scenario, agreement.agreement), agreement.source, loaded.source)
    problems = (*problems, *found)
    if any(d.is_error for d in found):
        return None, problems
    evaluator = Evaluator(agreement.agreement, loaded.scenario)
    return _Pair(agreement.agreement, loaded.scenario, evaluator, agreement.source, loaded.source), problems


def _evaluate(pair: _Pair, levers: LeverChoice) -> tuple[Economics, str]:
    chosen, how = _choose(pair, levers)
    try:
        return economics(pair.agreement, pair.scenario, chosen, pair.evaluator), how
    except EvaluationError as exc:
        raise _Refused(exc.diagnostics) from None


def _choose(pair: _Pair, levers: LeverChoice) -> tuple[tuple[str, ...], str]:
    """The lever ids in effect and how they were chosen; raises ``_Refused`` on unknown ids or data errors."""
    known = [lever.id for lever in pair.scenario.levers]
    if isinstance(levers, str) and levers in CHOICES:
        if levers == "none":
            return (), CHOICES["none"]
        if levers == "all":
            return tuple(known), CHOICES["all"]
        try:
            best = align(pair.agreement, pair.scenario, pair.evaluator)
        except EvaluationError as exc:
            raise _Refused(exc.diagnostics) from None
        return best.supplier_best.levers, f"{CHOICES['best']} ({best.method})"
    ids = [part.strip() for part in levers.split(",") if part.strip()] if isinstance(levers, str) else list(levers)
    unknown = [lever for lever in ids if lever not in known]
    if unknown:
        raise _Refused([error("unknown-lever", f"the scenario has no lever {lever!r}",
                              did_you_mean(lever, known) or "add it under `levers:`", ("levers",), DOCUMENT)
                        for lever in unknown])
    return tuple(lever for lever in known if lever in ids), "as given"

"""Test the deal before signing: economics, compare, align.

    economics(ws, agreement, scenario, levers="best") -> Result[EconomicsRun]
    compare(ws, a, b, scenario, status_quo=None, levers="best") -> Result[Comparison]
    align(ws, agreement, scenario) -> Result[Alignment]

Each reads like its table of contents: load the agreement and the scenario -> check the scenario
against the agreement (and agreements evaluated together against each other) -> evaluate
(``vested.core.economics`` / ``compare`` / ``alignment``) -> put a file:line:column on every
problem. A report holds a frozen result, or the diagnostics saying why there is none.

The steps are shared with the risk simulation (``vested.services.risk``): :func:`load_pair`,
:func:`resolve_status_quo`, :func:`check_currencies` and :func:`choose_levers`; a step that
refuses raises :class:`Refused`, its diagnostics located.

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
from vested.core.alignment import Alignment
from vested.core.alignment import align as find_alignment
from vested.core.compare import Comparison, check_currency, outcome_of
from vested.core.compare import compare as compare_outcomes
from vested.core.diagnostics import Diagnostic, error
from vested.core.economics import AgainstStatusQuo, Economics, against_status_quo
from vested.core.economics import economics as evaluate_economics
from vested.core.evaluation import EvaluationError, Evaluator
from vested.core.facts import did_you_mean
from vested.core.model import Agreement
from vested.core.scenario import DOCUMENT, Scenario
from vested.core.scenario_checks import check_scenario_for
from vested.services.agreements import AgreementRef
from vested.services.result import Refused, Result
from vested.services.workspace import Workspace

LeverChoice = str | Sequence[str]
CHOICES = {"best": "the supplier's most profitable choice", "none": "no levers", "all": "every lever"}


@dataclass(frozen=True)
class EconomicsRun:
    """Each party's economics under one agreement and scenario, and how the levers in effect were chosen."""

    agreement: Agreement
    scenario: Scenario
    economics: Economics
    lever_choice: str
    against_status_quo: AgainstStatusQuo | None = None
    """The customer's payback against the scenario's status quo (None: the scenario names none)."""


@dataclass(frozen=True)
class Pair:
    """An agreement loaded and checked against a scenario, ready to evaluate."""

    agreement: Agreement
    scenario: Scenario
    evaluator: Evaluator
    agreement_source: Source
    scenario_source: Source

    def locate(self, diagnostics: Sequence[Diagnostic]) -> tuple[Diagnostic, ...]:
        return locate_pair(diagnostics, self.agreement_source, self.scenario_source)


def economics(ws: Workspace, agreement: AgreementRef, scenario: str | Path, levers: LeverChoice = "best") -> Result[EconomicsRun]:
    """Each party's result per period and over the term, with the chosen levers in effect."""
    pair, problems = load_pair(agreement, load_scenario(scenario))
    if pair is None:
        return Result(None, problems)
    try:
        result, how = _evaluate(pair, levers)
    except Refused as refused:
        return Result(None, (*problems, *refused.diagnostics))
    case, found = _business_case(scenario, pair, result)
    return Result(EconomicsRun(pair.agreement, pair.scenario, result, how, case), (*problems, *found))


def _business_case(scenario_path: str | Path, pair: Pair, mine: Economics) -> tuple[AgainstStatusQuo | None,
                                                                                    tuple[Diagnostic, ...]]:
    """The customer's payback against the scenario's status quo (with no levers), when the scenario names one."""
    loaded = LoadedScenario(pair.scenario, (), pair.scenario_source)
    path, missing = resolve_status_quo(scenario_path, loaded, None)
    if missing or path is None:
        return None, missing
    if _same(path) == _same(pair.agreement_source.name):
        return None, ()  # the agreement is its own status quo: no business case to state
    today_pair, _problems = load_pair(path, loaded)
    if today_pair is None or today_pair.agreement.policy.currency != pair.agreement.policy.currency:
        return None, ()  # compare says what is wrong with the status quo; economics stands on its own
    try:
        today, _ = _evaluate(today_pair, "none")
    except Refused as refused:
        return None, refused.diagnostics
    return against_status_quo(mine, today, f"{Path(path).name} with no levers"), ()


def align(ws: Workspace, agreement: AgreementRef, scenario: str | Path) -> Result[Alignment]:
    """The supplier's most profitable levers under the agreement, the joint best, and misalignment."""
    pair, problems = load_pair(agreement, load_scenario(scenario))
    if pair is None:
        return Result(None, problems)
    try:
        result = find_alignment(pair.agreement, pair.scenario, pair.evaluator)
    except EvaluationError as exc:
        return Result(None, (*problems, *pair.locate(exc.diagnostics)))
    return Result(result, problems)


def compare(ws: Workspace, a_path: AgreementRef, b_path: AgreementRef, scenario_path: str | Path,
            status_quo_path: str | Path | None = None, levers: LeverChoice = "best") -> Result[Comparison]:
    """Agreements A and B on one scenario, each against the status quo: the given status-quo
    agreement, else the scenario's `status_quo:` (a file next to it), else A — with no levers."""
    loaded = load_scenario(scenario_path)
    if not loaded.ok or loaded.scenario is None:
        return Result(None, loaded.diagnostics)
    status_quo_path, missing = resolve_status_quo(scenario_path, loaded, status_quo_path)
    if missing:
        return Result(None, missing)
    paths = [a_path, b_path, status_quo_path or a_path]
    problems: list[Diagnostic] = []
    pairs: dict[Path, Pair | None] = {}  # a file given twice (the status quo is A) is loaded and evaluated once
    for path in paths:
        if _same(path) not in pairs:
            pairs[_same(path)], found = load_pair(path, loaded)
            problems.extend(d for d in found if d not in problems)
    loaded_pairs = [pair for pair in (pairs[_same(path)] for path in paths) if pair is not None]
    problems.extend(d for d in check_currencies(loaded_pairs) if d not in problems)
    results: list[tuple[Economics, str]] = []
    evaluated: dict[tuple[int, str], tuple[Economics, str]] = {}
    for index, path in enumerate(paths):
        pair = pairs[_same(path)]
        if pair is None:
            continue
        choice = levers if index < 2 else "none"
        key = (id(pair), choice if isinstance(choice, str) else ",".join(choice))
        try:
            if key not in evaluated:
                evaluated[key] = _evaluate(pair, choice)
            results.append(evaluated[key])
        except Refused as refused:
            problems.extend(d for d in refused.diagnostics if d not in problems)
    if len(results) < len(paths) or any(d.is_error for d in problems):
        return Result(None, tuple(problems))
    (a, how_a), (b, how_b), (status_quo, _) = results
    note = Path(paths[2]).name + ("" if status_quo_path else " (agreement A)") + " with no levers"
    comparison = compare_outcomes((outcome_of(a), outcome_of(b)), (how_a, how_b), outcome_of(status_quo), note,
                                  loaded.scenario.id, a.currency, a.npv_convention)
    return Result(comparison, tuple(problems))


# -- the steps (shared with vested.services.risk) --------------------------------------------------------

def load_pair(agreement_path: str | Path, loaded: LoadedScenario) -> tuple[Pair | None, tuple[Diagnostic, ...]]:
    """The agreement in ``agreement_path`` loaded and checked against the loaded scenario, or None and why."""
    agreement = load_agreement(agreement_path, lint=False)
    problems = (*agreement.diagnostics, *loaded.diagnostics)
    if not agreement.ok or agreement.agreement is None or not loaded.ok or loaded.scenario is None:
        return None, problems
    found = locate_pair(check_scenario_for(loaded.scenario, agreement.agreement), agreement.source, loaded.source)
    problems = (*problems, *found)
    if any(d.is_error for d in found):
        return None, problems
    evaluator = Evaluator(agreement.agreement, loaded.scenario)
    return Pair(agreement.agreement, loaded.scenario, evaluator, agreement.source, loaded.source), problems


def resolve_status_quo(scenario_path: str | Path, loaded: LoadedScenario,
                       given: str | Path | None) -> tuple[str | Path | None, tuple[Diagnostic, ...]]:
    """The status quo agreement's file: the one given, else the scenario's `status_quo:` (relative to the
    scenario file), else None (the agreement evaluated stands for today); or the error that it is missing."""
    if given is not None or loaded.scenario is None or loaded.scenario.status_quo is None:
        return given, ()
    path = Path(scenario_path).parent / loaded.scenario.status_quo
    if not path.is_file():
        missing = error("file", f"the status quo agreement {str(path)!r} does not exist",
                        "give the agreement file that stands for today, relative to the scenario",
                        ("status_quo",), DOCUMENT)
        return None, locate([missing], {DOCUMENT: loaded.source})
    return path, ()


def check_currencies(pairs: Sequence[Pair]) -> list[Diagnostic]:
    """Agreements evaluated together (compared, or against the status quo) must share a currency: the
    one most of them use (the first one's, on a tie). Each that differs is told so, in its own file."""
    if not pairs:
        return []
    currencies = [pair.agreement.policy.currency for pair in pairs]
    reference = pairs[max(range(len(pairs)), key=lambda i: (currencies.count(currencies[i]), -i))]
    problems: list[Diagnostic] = []
    for pair in pairs:
        problems.extend(d for d in pair.locate(check_currency(reference.agreement, pair.agreement)) if d not in problems)
    return problems


def choose_levers(pair: Pair, levers: LeverChoice, best_note: str = "") -> tuple[tuple[str, ...], str]:
    """The lever ids in effect and how they were chosen (``best_note`` is added to the search method of
    ``"best"``); raises :class:`Refused` on unknown ids or data the evaluation refuses."""
    known = [lever.id for lever in pair.scenario.levers]
    if isinstance(levers, str) and levers in CHOICES:
        if levers == "none":
            return (), CHOICES["none"]
        if levers == "all":
            return tuple(known), CHOICES["all"]
        try:
            best = find_alignment(pair.agreement, pair.scenario, pair.evaluator)
        except EvaluationError as exc:
            raise Refused(pair.locate(exc.diagnostics)) from None
        return best.supplier_best.levers, f"{CHOICES['best']} ({best.method}{best_note})"
    ids = [part.strip() for part in levers.split(",") if part.strip()] if isinstance(levers, str) else list(levers)
    unknown = [lever for lever in ids if lever not in known]
    if unknown:
        raise Refused(pair.locate([error("unknown-lever", f"the scenario has no lever {lever!r}",
                                         did_you_mean(lever, known) or "add it under `levers:`", ("levers",), DOCUMENT)
                                   for lever in unknown]))
    return tuple(lever for lever in known if lever in ids), "as given"


def _evaluate(pair: Pair, levers: LeverChoice) -> tuple[Economics, str]:
    chosen, how = choose_levers(pair, levers)
    try:
        return evaluate_economics(pair.agreement, pair.scenario, chosen, pair.evaluator), how
    except EvaluationError as exc:
        raise Refused(pair.locate(exc.diagnostics)) from None


def _same(path: str | Path) -> Path:
    """A file's identity, whichever way its path is written."""
    return Path(path).resolve()

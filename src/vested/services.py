"""One function per job, for the faces (CLI, web, Python): each reads like its table of contents.

Each returns a frozen report: what the job produced (None when it could not be done) and its
diagnostics, located in the files they are about. The measuring, settling and ingesting modules are
imported inside the functions that need them, so that a command that does not (``vested check``
without measures) starts without loading DuckDB.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from vested.adapters.load import Loaded, load_agreement, load_agreement_text, load_facts, locate, read_text
from vested.adapters.yamlsource import Source
from vested.core.diagnostics import Diagnostic, error
from vested.core.model import Agreement
from vested.core.periods import add_months, months_between, parse_month
from vested.core.pricing import Priced, price_period
from vested.core.scorecard import TREND_PERIODS, Scorecard, build_scorecard
from vested.core.statement import Statement

if TYPE_CHECKING:  # imported where they are used (see the module doc)
    from vested.ingest import IngestReport
    from vested.measure import MetricTable
    from vested.project import Project
    from vested.settle import SettleResult

T = TypeVar("T")


@dataclass(frozen=True)
class CheckReport:
    path: str
    agreement: Agreement | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def check_file(path: str | Path) -> CheckReport:
    """Load, validate, check and lint one agreement file; then compile its measures (filters of the wrong type)."""
    loaded = load_agreement(path)
    return CheckReport(str(path), loaded.agreement, (*loaded.diagnostics, *measure_problems(loaded)))


def measure_problems(loaded: Loaded) -> tuple[Diagnostic, ...]:
    """Compile a sound agreement's measures to SQL once, so a filter the engine would refuse is reported now."""
    agreement = loaded.agreement
    if not loaded.ok or agreement is None or not any(m.measure for m in agreement.metrics):
        return ()
    from vested.measure.compile import compile_plan
    from vested.measure.fragments import MeasureError
    from vested.measure.months import first_month

    try:
        compile_plan(agreement, [first_month(agreement) or "2025-01"], {})
    except MeasureError as exc:
        return locate([exc.diagnostic], {"agreement": loaded.source})
    return ()


@dataclass(frozen=True)
class PriceReport:
    agreement: Agreement | None
    statement: Statement | None
    diagnostics: tuple[Diagnostic, ...]
    state: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """State the stateful terms carry into the next period."""


def price_files(agreement_path: str | Path, facts_path: str | Path) -> PriceReport:
    """Load an agreement and a facts file, price the period: a statement, or the reasons there is none."""
    loaded: Loaded = load_agreement(agreement_path, lint=False)
    if not loaded.ok or loaded.agreement is None:
        return PriceReport(loaded.agreement, None, loaded.diagnostics)
    facts = load_facts(loaded.agreement, facts_path)
    if facts.facts is None:
        return PriceReport(loaded.agreement, None, facts.diagnostics)
    priced: Priced = price_period(loaded.agreement, facts.facts)
    problems = locate(priced.diagnostics, {"agreement": loaded.source, "facts": facts.source})
    return PriceReport(loaded.agreement, priced.statement, (*facts.diagnostics, *problems), priced.state)


@dataclass(frozen=True)
class IngestOutcome:
    """An ingest: the report of the data checked and stored, or (``report`` None) why nothing was read."""

    report: IngestReport | None
    diagnostics: tuple[Diagnostic, ...] = ()
    """Why the source was not read: the agreement has errors, or the options do not fit the source."""

    @property
    def ok(self) -> bool:
        return self.report is not None and self.report.ok


def ingest_path(agreement_path: str | Path, dataset: str, source: str, *, project_dir: str | Path | None, who: str,
                quarantine: str | Path | None = None, table: str | None = None, query: str | None = None) -> IngestOutcome:
    """Load the agreement, then ingest a file (or, when ``source`` is a database URL, a table or query)."""
    from datetime import UTC, datetime

    from vested.ingest import ingest_file, ingest_sql
    from vested.project import open_project

    loaded = load_agreement(agreement_path, lint=False)
    if not loaded.ok or loaded.agreement is None:
        return IngestOutcome(None, loaded.diagnostics)
    is_url = "://" in source
    if not is_url and (table or query):
        return IngestOutcome(None, (error("options", "--table and --query read from a database URL, not from a file",
                                          "drop the option, or give a URL such as sqlite:///data.db", (), "command"),))
    project = open_project(project_dir)
    now = datetime.now(UTC)  # the face reads the clock; the core never does
    quarantine_path = Path(quarantine) if quarantine else None
    if is_url:
        return IngestOutcome(ingest_sql(loaded.agreement, project, dataset, source, table=table, query=query, who=who,
                                        now=now, quarantine=quarantine_path))
    return IngestOutcome(ingest_file(loaded.agreement, project, dataset, source, who=who, now=now, quarantine=quarantine_path))


@dataclass(frozen=True)
class RunAgreement:
    """An agreement loaded to run on data: its file as read (for locating problems), its text (for hashing)."""

    loaded: Loaded
    text: str
    diagnostics: tuple[Diagnostic, ...]
    """What loading and compiling its measures found."""

    @property
    def agreement(self) -> Agreement | None:
        """The agreement, or None when it has errors (nothing is measured or settled then)."""
        return self.loaded.agreement if not any(d.is_error for d in self.diagnostics) else None

    def locate(self, diagnostics: Sequence[Diagnostic]) -> tuple[Diagnostic, ...]:
        """Put a file:line:column on the problems found running it (at the metric, the term, the measure)."""
        return locate(diagnostics, {"agreement": self.loaded.source})


def load_for_run(agreement_path: str | Path) -> RunAgreement:
    """An agreement that must be free of errors before measuring or settling, with its text (for hashing)."""
    text, problem = read_text(agreement_path, "agreement")
    if problem is not None:
        return RunAgreement(Loaded(None, (problem,), Source(str(agreement_path))), "", (problem,))
    loaded = load_agreement_text(text, str(agreement_path), lint=False)
    return RunAgreement(loaded, text, (*loaded.diagnostics, *measure_problems(loaded)))


def measuring(run: Callable[[], T]) -> tuple[T | None, tuple[Diagnostic, ...]]:
    """Run a measurement; a problem the engine finds in the data (a missing column) becomes a diagnostic."""
    from vested.measure.fragments import MeasureError

    try:
        return run(), ()
    except MeasureError as exc:
        return None, (exc.diagnostic,)


def month_range(period: str | None, first: str | None, last: str | None) -> tuple[list[str], Diagnostic | None]:
    """The months a command covers: --period P, or --from A --to B (both included)."""
    try:
        if period:
            parse_month(period)
            return [period], None
        if first and last:
            months = months_between(first, last)
            if not months:
                return [], error("period", f"--to {last} is before --from {first}", "swap them", (), "command")
            return months, None
    except ValueError as exc:
        return [], error("period", str(exc), "write months as YYYY-MM, e.g. 2025-06", (), "command")
    return [], error("period", "say which months: --period YYYY-MM, or --from YYYY-MM --to YYYY-MM", "", (), "command")


@dataclass(frozen=True)
class Measured:
    """Each metric's value per month: measured from the batches (with the engine's notes), or reported."""

    table: MetricTable
    rows: dict[str, dict[str, Decimal]]
    """Month -> metric -> value, for every month measured (a metric without a value is left out)."""


def measure_months(agreement: Agreement, project: Project, months: Sequence[str]) -> Measured:
    """Measure ``months`` from the project's batches, and add the values reported for them."""
    from vested.measure.engine import measure_project
    from vested.settle import month_values, reported_values

    table = measure_project(agreement, project, months)
    reported = reported_values(project, months)
    return Measured(table, {month: month_values(agreement, table, reported, month) for month in months})


def score_history(agreement: Agreement, project: Project, months: Sequence[str]) -> Measured:
    """What the scorecards of ``months`` read: those months, and the trend's earlier months before the first."""
    first = min(months, key=parse_month)
    last = max(months, key=parse_month)
    return measure_months(agreement, project, months_between(add_months(first, -TREND_PERIODS), last))


@dataclass(frozen=True)
class MeasureReport:
    agreement: Agreement | None
    measured: Measured | None
    diagnostics: tuple[Diagnostic, ...]


def measure_files(agreement_path: str | Path, months: list[str], project_dir: str | Path | None) -> MeasureReport:
    """Each metric's value per month, measured from the project's batches (and the reported values)."""
    from vested.project import open_project

    run = load_for_run(agreement_path)
    agreement = run.agreement
    if agreement is None:
        return MeasureReport(None, None, run.diagnostics)
    measured, failed = measuring(lambda: measure_months(agreement, open_project(project_dir), months))
    if measured is None:
        return MeasureReport(agreement, None, run.locate(failed))
    return MeasureReport(agreement, measured, run.locate(measured.table.diagnostics))


@dataclass(frozen=True)
class ScorecardReport:
    agreement: Agreement | None
    scorecard: Scorecard | None
    diagnostics: tuple[Diagnostic, ...]


def scorecard_files(agreement_path: str | Path, period: str, project_dir: str | Path | None) -> ScorecardReport:
    """The scorecard of ``period`` (earlier months give the trend)."""
    from vested.project import open_project

    run = load_for_run(agreement_path)
    agreement = run.agreement
    if agreement is None:
        return ScorecardReport(None, None, run.diagnostics)
    history, failed = measuring(lambda: score_history(agreement, open_project(project_dir), [period]))
    if history is None:
        return ScorecardReport(agreement, None, run.locate(failed))
    return ScorecardReport(agreement, build_scorecard(agreement, period, history.rows), run.locate(history.table.diagnostics))


@dataclass(frozen=True)
class SettleReport:
    agreement: Agreement | None
    result: SettleResult | None
    """The months settled and written (None: nothing could be measured)."""
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.ok


def settle_files(agreement_path: str | Path, months: list[str], project_dir: str | Path | None, *,
                 replace: bool = False) -> SettleReport:
    """Settle the months in order and write each statement to the project."""
    from vested.project import open_project
    from vested.settle import settle_months

    run = load_for_run(agreement_path)
    agreement = run.agreement
    if agreement is None:
        return SettleReport(None, None, run.diagnostics)
    result, failed = measuring(lambda: settle_months(agreement, run.text, open_project(project_dir), months, replace=replace))
    if result is None:
        return SettleReport(agreement, None, run.locate(failed))
    return SettleReport(agreement, result, run.locate(result.diagnostics))

"""One function per job, for the faces (CLI, web, Python): each reads like its table of contents."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vested.adapters.load import Loaded, load_agreement, load_facts
from vested.core.diagnostics import Diagnostic
from vested.core.model import Agreement
from vested.core.pricing import Priced, price_period
from vested.core.statement import Statement


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
    from vested.adapters.load import locate
    from vested.measure.compile import compile_plan
    from vested.measure.fragments import MeasureError

    start = agreement.calendar.start if agreement.calendar else "2025-01"
    try:
        compile_plan(agreement, [start if len(start) == 7 else f"{start[:4]}-01"], {})
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
    from vested.adapters.load import locate

    problems = locate(priced.diagnostics, {"agreement": loaded.source, "facts": facts.source})
    return PriceReport(loaded.agreement, priced.statement, (*facts.diagnostics, *problems), priced.state)


def ingest_path(agreement_path: str | Path, dataset: str, source: str, *, project_dir: str | Path | None, who: str,
                quarantine: str | Path | None = None, table: str | None = None, query: str | None = None) -> Any:
    """Load the agreement, then ingest a file (or, when ``source`` is a database URL, a table or query)."""
    from datetime import UTC, datetime

    from vested.ingest import IngestReport, ingest_file, ingest_sql
    from vested.project import open_project

    loaded = load_agreement(agreement_path, lint=False)
    if not loaded.ok or loaded.agreement is None:
        return CheckReport(str(agreement_path), loaded.agreement, loaded.diagnostics)
    project = open_project(project_dir)
    now = datetime.now(UTC)  # the face reads the clock; the core never does
    quarantine_path = Path(quarantine) if quarantine else None
    report: IngestReport
    if "://" not in source and (table or query):
        from vested.core.diagnostics import error

        return CheckReport(str(agreement_path), loaded.agreement, (error(
            "options", "--table and --query read from a database URL, not from a file",
            "drop the option, or give a URL such as sqlite:///data.db", (), "command"),))
    if "://" in source:
        report = ingest_sql(loaded.agreement, project, dataset, source, table=table, query=query, who=who, now=now,
                            quarantine=quarantine_path)
    else:
        report = ingest_file(loaded.agreement, project, dataset, source, who=who, now=now, quarantine=quarantine_path)
    return report


def load_for_run(agreement_path: str | Path) -> tuple[Agreement | None, str, tuple[Diagnostic, ...]]:
    """An agreement that must be free of errors before measuring or settling, with its text (for hashing)."""
    from vested.adapters.load import load_agreement_text, read_text

    text, problem = read_text(agreement_path, "agreement")
    if problem is not None:
        return None, "", (problem,)
    loaded = load_agreement_text(text, str(agreement_path), lint=False)
    problems = (*loaded.diagnostics, *measure_problems(loaded))
    if not loaded.ok or any(d.is_error for d in problems):
        return None, text, problems
    return loaded.agreement, text, problems


def measuring(run: Callable[[], Any]) -> tuple[Any, tuple[Diagnostic, ...]]:
    """Run a measurement; a problem the engine finds in the data (a missing column) becomes a diagnostic."""
    from vested.measure.fragments import MeasureError

    try:
        return run(), ()
    except MeasureError as exc:
        return None, (exc.diagnostic,)


def month_range(period: str | None, first: str | None, last: str | None) -> tuple[list[str], Diagnostic | None]:
    """The months a command covers: --period P, or --from A --to B (both included)."""
    from vested.core.diagnostics import error
    from vested.core.periods import months_between, parse_month

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


def measure_files(agreement_path: str | Path, months: list[str], project_dir: str | Path | None) -> tuple[Any, tuple[Diagnostic, ...]]:
    """Each metric's value per month, measured from the project's batches (and the reported values)."""
    from vested.measure.engine import measure_project
    from vested.project import open_project
    from vested.settle import month_values, reported_values

    agreement, _, problems = load_for_run(agreement_path)
    if agreement is None:
        return None, problems
    project = open_project(project_dir)
    table, failed = measuring(lambda: measure_project(agreement, project, months))
    if table is None:
        return None, failed
    reported = reported_values(project, months)
    rows = {month: month_values(agreement, table, reported, month) for month in months}
    return (agreement, rows, table), tuple(table.diagnostics)


def scorecard_files(agreement_path: str | Path, period: str, project_dir: str | Path | None) -> tuple[Any, tuple[Diagnostic, ...]]:
    """The scorecard of ``period`` (earlier months give the trend)."""
    from vested.core.periods import add_months
    from vested.core.scorecard import build_scorecard

    months = [add_months(period, -i) for i in range(3, -1, -1)]
    measured, problems = measure_files(agreement_path, months, project_dir)
    if measured is None:
        return None, problems
    agreement, rows, _ = measured
    return (agreement, build_scorecard(agreement, period, rows)), problems


def settle_files(agreement_path: str | Path, months: list[str], project_dir: str | Path | None, *,
                 replace: bool = False) -> tuple[Any, tuple[Diagnostic, ...]]:
    """Settle the months in order and write each statement to the project."""
    from vested.project import open_project
    from vested.settle import settle_months

    agreement, text, problems = load_for_run(agreement_path)
    if agreement is None:
        return None, problems
    result, failed = measuring(lambda: settle_months(agreement, text, open_project(project_dir), months, replace=replace))
    if result is None:
        return None, failed
    return (agreement, result), result.diagnostics

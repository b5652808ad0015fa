"""Run an agreement on real data: ingest measurements, measure, score, settle.

    ingest(ws, agreement, dataset, source, quarantine=None, table=None, query=None) -> Result[IngestReport]
    measure(ws, agreement, months) -> Result[Measured]
    scorecard(ws, agreement, period) -> Result[ScoredPeriod]
    settle(ws, agreement, months, replace=False) -> Result[SettledMonths]

Each reads like its table of contents: load the agreement (once, with its text) -> read what the
workspace's store holds -> measure with the workspace's engine -> score or price -> record -> put a
file:line:column on every problem. The ingest, measure and settle modules are imported inside the
functions that need them, so that ``vested check`` starts without loading DuckDB.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from vested.core.diagnostics import Diagnostic, Severity, error
from vested.core.measured import MetricTable
from vested.core.model import Agreement
from vested.core.periods import add_months, months_between, parse_month, parse_month_argument
from vested.core.scorecard import TREND_PERIODS, Scorecard, build_scorecard
from vested.core.settlement import SettleResult, month_values
from vested.services.agreements import AgreementRef, load_for_run
from vested.services.result import Result, guarded
from vested.services.workspace import Workspace

if TYPE_CHECKING:  # imported where they are used (see the module doc)
    from vested.ingest import IngestReport

T = TypeVar("T")


def ingest(ws: Workspace, agreement: AgreementRef, dataset: str, source: str, *, quarantine: str | Path | None = None,
           table: str | None = None, query: str | None = None) -> Result[IngestReport]:
    """Load the agreement, then ingest a file (or, when ``source`` is a database URL, a table or query).

    Refused: the report, with its problems as errors. With a quarantine file, the rows put there are
    warnings (the ingest of the other rows went ahead).
    """
    return guarded(lambda: _ingest(ws, agreement, dataset, source, quarantine, table, query))


def _ingest(ws: Workspace, agreement: AgreementRef, dataset: str, source: str, quarantine: str | Path | None,
            table: str | None, query: str | None) -> Result[IngestReport]:
    from vested.adapters.load import load_agreement
    from vested.ingest import ingest_file, ingest_sql
    from vested.services.signoff import may_record

    loaded = load_agreement(agreement, lint=False)
    if not loaded.ok or loaded.agreement is None:
        return Result(None, loaded.diagnostics)
    refused = may_record(ws, loaded.agreement, "ingest")
    if refused:
        return Result(None, refused)
    is_url = "://" in source
    if not is_url and (table or query):
        return Result(None, (error("options", "--table and --query read from a database URL, not from a file",
                                   "drop the option, or give a URL such as sqlite:///data.db", (), "command"),))
    quarantine_path = Path(quarantine) if quarantine else None
    if is_url:
        report = ingest_sql(loaded.agreement, ws.store, dataset, source, table=table, query=query, who=ws.actor,
                            now=ws.now(), quarantine=quarantine_path)
    else:
        report = ingest_file(loaded.agreement, ws.store, dataset, source, who=ws.actor, now=ws.now(),
                             quarantine=quarantine_path)
    found = report.diagnostics()
    if report.ok:  # the bad rows were quarantined: the command did what it was asked
        found = tuple(dataclasses.replace(d, severity=Severity.WARNING) for d in found)
    return Result(report, found)


def measuring(run: Callable[[], T]) -> tuple[T | None, tuple[Diagnostic, ...]]:
    """Run a measurement (or a settlement); a problem the engine finds in the data (a missing column), or a
    store that cannot be read or written, becomes a diagnostic."""
    from vested.measure.fragments import MeasureError

    try:
        found = guarded(lambda: Result(run()))
    except MeasureError as exc:
        return None, (exc.diagnostic,)
    return found.value, found.diagnostics


def month_range(period: str | None, first: str | None, last: str | None) -> tuple[list[str], Diagnostic | None]:
    """The months a command covers: --period P, or --from A --to B (both included); a wrong one names its option."""
    if period:
        month, problem = parse_month_argument(period, "--period")
        return ([month] if month else []), problem
    if first and last:
        start, problem = parse_month_argument(first, "--from")
        end, other = parse_month_argument(last, "--to")
        if problem or other or start is None or end is None:
            return [], problem or other
        months = months_between(start, end)
        if not months:
            return [], error("period", f"--to {last} is before --from {first}", "swap them", (), "command")
        return months, None
    return [], error("period", "say which months: --period YYYY-MM, or --from YYYY-MM --to YYYY-MM", "", (), "command")


@dataclass(frozen=True)
class Measured:
    """Each metric's value per month: measured from the batches (with the engine's notes), or reported."""

    agreement: Agreement
    table: MetricTable
    rows: dict[str, dict[str, Decimal]]
    """Month -> metric -> value, for every month measured (a metric without a value is left out)."""


def measure_months(ws: Workspace, agreement: Agreement, months: Sequence[str]) -> Measured:
    """Measure ``months`` from the store's batches (one engine call), and add the values reported for them."""
    from vested.services.settling import dated_batches, measure_batches, reported_in

    batches = dated_batches(agreement, ws)
    table = measure_batches(ws, agreement, batches, months)
    reported = reported_in(ws, batches, months)
    return Measured(agreement, table, {month: month_values(agreement, table, reported, month) for month in months})


def score_history(ws: Workspace, agreement: Agreement, months: Sequence[str]) -> Measured:
    """What the scorecards of ``months`` read: those months, and the trend's earlier months before the first."""
    first = min(months, key=parse_month)
    last = max(months, key=parse_month)
    return measure_months(ws, agreement, months_between(add_months(first, -TREND_PERIODS), last))


def measure(ws: Workspace, agreement: AgreementRef, months: Sequence[str]) -> Result[Measured]:
    """Each metric's value per month, measured from the store's batches (and the reported values)."""
    run = load_for_run(agreement)
    found = run.agreement
    if found is None:
        return Result(None, run.diagnostics)
    measured, failed = measuring(lambda: measure_months(ws, found, months))
    if measured is None:
        return Result(None, run.locate(failed))
    return Result(measured, run.locate(measured.table.diagnostics))


@dataclass(frozen=True)
class ScoredPeriod:
    agreement: Agreement
    scorecard: Scorecard


def scorecard(ws: Workspace, agreement: AgreementRef, period: str) -> Result[ScoredPeriod]:
    """The scorecard of ``period`` (earlier months give the trend)."""
    run = load_for_run(agreement)
    found = run.agreement
    if found is None:
        return Result(None, run.diagnostics)
    history, failed = measuring(lambda: score_history(ws, found, [period]))
    if history is None:
        return Result(None, run.locate(failed))
    return Result(ScoredPeriod(found, build_scorecard(found, period, history.rows)), run.locate(history.table.diagnostics))


@dataclass(frozen=True)
class SettledMonths:
    agreement: Agreement
    result: SettleResult
    """The months settled and recorded, or why the next one could not be."""


def settle(ws: Workspace, agreement: AgreementRef, months: Sequence[str], *, replace: bool = False,
           progress: Callable[[str, int, int], None] | None = None) -> Result[SettledMonths]:
    """Settle the months in order and record each statement in the store.

    The value is there whenever the months could be measured (some may be settled before the one
    that stopped the run); the diagnostics say why the run stopped.
    """
    from vested.services.settling import settle_months
    from vested.services.signoff import may_record

    run = load_for_run(agreement)
    found = run.agreement
    if found is None:
        return Result(None, run.diagnostics)
    refused = guarded(lambda: Result(True, may_record(ws, found, "propose")))
    if not refused.ok:
        return Result(None, refused.diagnostics)
    result, failed = measuring(lambda: settle_months(ws, found, run.text, months, replace=replace, progress=progress))
    if result is None:
        return Result(None, run.locate(failed))
    return Result(SettledMonths(found, result), run.locate(result.diagnostics))

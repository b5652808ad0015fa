"""Settle periods: measure, price, and record each month's statement in the project folder.

    settle_months(agreement, text, project, months) -> SettleResult

For each month, in order: the metric values measured from the ingested batches, plus the values
reported directly, become the month's facts; the pricing engine prices them with the state the
previous month's statement carried out; the settlement (statement, facts, state in and out, and a
hash of every input) is written atomically to ``statements/<agreement>/<month>.json``. The file is
canonical JSON with no clock in it, so settling the same inputs again gives the same bytes, and
settling a range is the same as settling its months one by one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from vested import __version__
from vested.core.diagnostics import Diagnostic, error
from vested.core.facts import Facts
from vested.core.model import Agreement
from vested.core.periods import add_months, month_bounds
from vested.core.pricing import price_period
from vested.core.statement import Statement
from vested.measure.combine import MetricTable
from vested.measure.engine import measure_project
from vested.project import Batch, Project
from vested.render.serialize import dumps, to_jsonable

ENGINE = f"vested {__version__}"


@dataclass(frozen=True)
class Settlement:
    """One settled month: the statement, what went in, and the state carried out."""

    period: str
    statement: Statement
    facts: Mapping[str, Decimal]
    state_in: Mapping[str, Any]
    state_out: Mapping[str, Any]
    inputs: Mapping[str, Any]
    inputs_hash: str
    text: str
    """The canonical JSON written to the project (byte-for-byte reproducible)."""


@dataclass(frozen=True)
class SettleResult:
    settlements: tuple[Settlement, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    written: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def reported_values(project: Project, months: Sequence[str]) -> dict[str, dict[str, Decimal]]:
    """Values reported directly (the built-in ``reported`` dataset): metric -> month -> value."""
    files = [str(batch.data_file) for batch in project.batches("reported")]
    values: dict[str, dict[str, Decimal]] = {}
    if not files:
        return values
    wanted = set(months)
    con = duckdb.connect(":memory:")
    try:
        rows = con.execute("SELECT metric, period, CAST(value AS VARCHAR) FROM read_parquet(?)", [files]).fetchall()
    finally:
        con.close()
    for metric, period, value in rows:
        if period in wanted:
            values.setdefault(metric, {})[period] = Decimal(value).normalize()
    return values


def month_values(agreement: Agreement, table: MetricTable, reported: Mapping[str, Mapping[str, Decimal]], month: str) -> dict[str, Decimal]:
    """The facts of one month: measured values (where there is one) and reported values."""
    values: dict[str, Decimal] = {}
    for metric in agreement.metrics:
        if metric.id in table.values:
            value = table.values[metric.id].get(month)
            if value is not None:
                values[metric.id] = value
        elif metric.id in reported and month in reported[metric.id]:
            values[metric.id] = reported[metric.id][month]
    return values


def missing_value_diagnostics(agreement: Agreement, table: MetricTable, values: Mapping[str, Decimal], month: str,
                              problems: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Explain a missing fact: no data measured (with the engine's reason) or nothing reported."""
    explained = []
    for problem in problems:
        if problem.code != "missing-fact":
            explained.append(problem)
            continue
        for metric in agreement.metrics:
            if metric.id not in values and f"'{metric.id}'" in problem.message:
                note = next((n for n in table.notes if n.metric == metric.id and n.month == month and n.blank), None)
                if note is not None:
                    reason = re.sub(rf"^{re.escape(metric.id)}: (no value for {month}: )?", "", note.message)
                    message, hint = f"{month}: metric {metric.id!r} has no value: {reason}", note.hint
                elif metric.measure is not None:
                    message = f"{month}: metric {metric.id!r} has no value: no data in this month"
                    hint = f"ingest the month's {metric.measure.dataset} data"
                else:
                    message = f"{month}: metric {metric.id!r} has no reported value"
                    hint = f"ingest it: vested ingest AGREEMENT reported FILE (metric {metric.id}, period {month})"
                explained.append(error("missing-fact", message, hint, ("metrics",)))
                break
        else:
            explained.append(problem)
    return explained


def month_end_utc(agreement: Agreement, month: str) -> datetime:
    """The instant the month ends in the agreement's time zone (periods are cut in local time)."""
    zone = ZoneInfo(agreement.calendar.time_zone if agreement.calendar else "UTC")
    end = month_bounds(month)[1]
    return datetime(end.year, end.month, end.day, tzinfo=zone).astimezone(UTC)


def can_affect(batch: Batch, month: str, end: datetime) -> bool:
    """Whether a batch holds rows from before the month ends: a batch of later data never changes the month.

    Windows (quarter to date, rolling months) only look back, so rows after the month's end cannot
    enter its measurement; leaving such batches out of the inputs keeps a settled month reproducible
    while later months' data arrives.
    """
    first = (batch.manifest.get("time_range") or [None])[0]
    if first is None:
        return True
    if batch.dataset == "reported":
        return str(first)[:7] <= month
    return datetime.fromisoformat(str(first)) < end


def inputs_of(agreement_text: str, project: Project, agreement: Agreement, month: str, values: Mapping[str, Decimal],
              state_in: Mapping[str, Any]) -> dict[str, Any]:
    datasets = [d.id for d in agreement.datasets] + ["reported"]
    end = month_end_utc(agreement, month)
    batches = [{"dataset": b.dataset, "batch_id": b.batch_id, "sha256": b.manifest.get("sha256", "")}
               for dataset in datasets for b in project.batches(dataset) if can_affect(b, month, end)]
    return {
        "agreement": {"id": agreement.id, "sha256": hashlib.sha256(agreement_text.encode("utf-8")).hexdigest()},
        "period": month,
        "engine": ENGINE,
        "batches": batches,
        "facts": to_jsonable(dict(sorted(values.items()))),
        "state_in": to_jsonable(state_in),
    }


def previous_state(project: Project, agreement: Agreement, month: str) -> tuple[dict[str, Any] | None, Diagnostic | None]:
    """The state the previous month carried out; empty at the start of the agreement."""
    start = agreement.calendar.start if agreement.calendar else None
    previous = project.read_statement(agreement.id, add_months(month, -1))
    if previous is not None:
        return dict(previous.get("state_out", {})), None
    if start is None or month <= start:
        return {}, None
    # Statements form a chain: a month's state comes from the month before, so months settle in order.
    return None, error("settle-order", f"{add_months(month, -1)} is not settled, and {month} carries on from it",
                       f"settle in order from the first unsettled month: vested settle --from ... --to {month}", ())


def settle_months(agreement: Agreement, agreement_text: str, project: Project, months: Sequence[str], *,
                  replace: bool = False) -> SettleResult:
    """Settle ``months`` in order; stop at the first month that cannot be settled (nothing half-written)."""
    table = measure_project(agreement, project, months)
    reported = reported_values(project, months)
    settlements: list[Settlement] = []
    written: list[str] = []
    state: dict[str, Any] | None = None
    for month in months:
        if state is None:
            state, problem = previous_state(project, agreement, month)
            if problem is not None or state is None:
                return SettleResult(tuple(settlements), (problem,) if problem else (), tuple(written))
        values = month_values(agreement, table, reported, month)
        priced = price_period(agreement, Facts(values=values, period=month), state)
        if priced.statement is None:
            return SettleResult(tuple(settlements),
                                tuple(missing_value_diagnostics(agreement, table, values, month, priced.diagnostics)),
                                tuple(written))
        inputs = inputs_of(agreement_text, project, agreement, month, values, state)
        inputs_hash = hashlib.sha256(dumps(inputs).encode("utf-8")).hexdigest()
        record = {"inputs": inputs, "inputs_hash": inputs_hash, "statement": priced.statement, "state_out": priced.state}
        text = dumps(record)
        existing = project.statement_path(agreement.id, month)
        if existing.is_file() and existing.read_text(encoding="utf-8") != text and not replace:
            old = project.read_statement(agreement.id, month) or {}
            return SettleResult(tuple(settlements), (error(
                "settled", f"{month} is already settled from other inputs (hash {str(old.get('inputs_hash', '?'))[:12]}, "
                f"now {inputs_hash[:12]})", "pass --replace to settle it again from the current inputs", ()),), tuple(written))
        project.write_statement(agreement.id, month, text)
        written.append(str(existing))
        settlements.append(Settlement(month, priced.statement, values, state, priced.state, inputs, inputs_hash, text))
        state = json.loads(dumps(priced.state))  # exactly what the next month would read back from the file
    return SettleResult(tuple(settlements), tuple(table.diagnostics), tuple(written))

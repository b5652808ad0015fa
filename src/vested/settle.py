"""Settle periods: measure, price, and record each month's statement in the project folder.

    settle_months(agreement, text, project, months) -> SettleResult

For each month, in order: the metric values measured from the ingested batches, plus the values
reported directly, become the month's facts; the pricing engine prices them with the state the
previous month's statement carried out; the settlement (statement, facts, state in and out, and a
hash of every input) is written atomically to ``statements/<agreement>/<month>.json``. The file is
canonical JSON with no clock in it, so settling the same inputs again gives the same bytes, and
settling a range is the same as settling its months one by one. Statements form a chain (each
month starts from the state the month before carried out): a month is settled only after the month
before it, and a month settled again is written only if the settled month after it still follows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from vested import __version__
from vested.core.diagnostics import Diagnostic, error
from vested.core.facts import Facts
from vested.core.measures import Dataset
from vested.core.model import Agreement
from vested.core.periods import add_months, parse_month
from vested.core.pricing import price_period
from vested.core.statement import Statement
from vested.ingest.datasets import REPORTED, dataset_for
from vested.measure.combine import MetricTable
from vested.measure.engine import measure_project
from vested.measure.months import first_month, local_bounds
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
    """The month's pricing problems, each saying the month: a missing fact explained, at its metric in the agreement.

    A metric without a value has no data measured (with the engine's reason) or nothing reported.
    """
    explained = []
    index = {metric.id: i for i, metric in enumerate(agreement.metrics)}
    for problem in problems:
        where = problem.path  # a missing value is at ("values", metric id) in the facts the month was priced from
        metric_id = str(where[1]) if problem.code == "missing-fact" and len(where) == 2 and where[0] == "values" else ""
        if metric_id not in index or metric_id in values:
            explained.append(dataclasses.replace(problem, message=f"{month}: {problem.message}"))
            continue
        metric = agreement.metrics[index[metric_id]]
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
        explained.append(error("missing-fact", message, hint, ("metrics", index[metric.id])))
    return explained


@dataclass(frozen=True)
class DatedBatch:
    """A batch, and the instant its first row is at (None: unknown, so it may affect any month)."""

    batch: Batch
    first: datetime | None


def dated_batches(agreement: Agreement, project: Project) -> list[DatedBatch]:
    """Every batch a month's inputs may list (the agreement's datasets, then ``reported``), read once."""
    zone = ZoneInfo(agreement.calendar.time_zone if agreement.calendar else "UTC")
    found = []
    for dataset_id in [d.id for d in agreement.datasets] + [REPORTED.id]:
        dataset = dataset_for(agreement, dataset_id)
        for batch in project.batches(dataset_id):
            found.append(DatedBatch(batch, first_instant(batch, dataset, zone)))
    return found


def first_instant(batch: Batch, dataset: Dataset | None, zone: ZoneInfo) -> datetime | None:
    """The instant of a batch's first row, read from its manifest's ``time_range`` in its time column's form.

    The form follows the type the column was stored with (``vested.ingest.write.time_text``): a
    timestamp is a UTC instant; a date is a local day, which starts at local midnight; a month (the
    ``reported`` dataset's period) starts at the local midnight of its first day, as the measurement
    places rows. None when the manifest does not say (the batch is then listed for every month).
    """
    first = (batch.manifest.get("time_range") or [None])[0]
    time = dataset.time if dataset is not None else ""
    declared = dataset.column(time) if dataset is not None else None
    kind = batch.manifest.get("columns", {}).get(time) or (declared.type if declared is not None else None)
    if first is None or kind is None:
        return None
    try:
        if kind == "timestamp":
            instant = datetime.fromisoformat(str(first))
            return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
        if kind == "date":
            day = date.fromisoformat(str(first))
            return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        return local_bounds(str(first), zone)[0]
    except ValueError:
        return None


def inputs_of(agreement_text: str, agreement: Agreement, batches: Sequence[DatedBatch], month: str,
              values: Mapping[str, Decimal], state_in: Mapping[str, Any]) -> dict[str, Any]:
    """What a month is settled from. A batch of later data never changes the month, so it is left out.

    Windows (quarter to date, rolling months) only look back, so rows after the month's end cannot
    enter its measurement; leaving such batches out of the inputs keeps a settled month reproducible
    while later months' data arrives.
    """
    zone = ZoneInfo(agreement.calendar.time_zone if agreement.calendar else "UTC")
    end = local_bounds(month, zone)[1]
    return {
        "agreement": {"id": agreement.id, "sha256": hashlib.sha256(agreement_text.encode("utf-8")).hexdigest()},
        "period": month,
        "engine": ENGINE,
        "batches": [{"dataset": d.batch.dataset, "batch_id": d.batch.batch_id, "sha256": d.batch.manifest.get("sha256", "")}
                    for d in batches if d.first is None or d.first < end],
        "facts": to_jsonable(dict(sorted(values.items()))),
        "state_in": to_jsonable(state_in),
    }


def previous_state(project: Project, agreement: Agreement, month: str) -> tuple[dict[str, Any] | None, Diagnostic | None]:
    """The state the previous month carried out; empty in the agreement's first month (and before it)."""
    start = first_month(agreement)
    previous = project.read_statement(agreement.id, add_months(month, -1))
    if previous is not None:
        return dict(previous.get("state_out", {})), None
    if start is None or parse_month(month) <= parse_month(start):
        return {}, None
    # Statements form a chain: a month's state comes from the month before, so months settle in order.
    return None, error("settle-order", f"{add_months(month, -1)} is not settled, and {month} carries on from it",
                       f"settle in order from the first unsettled month: vested settle --from ... --to {month}", (), "project")


def settle_months(agreement: Agreement, agreement_text: str, project: Project, months: Sequence[str], *,
                  replace: bool = False, measured: MetricTable | None = None) -> SettleResult:
    """Settle ``months`` (consecutive, in order) and write them; stop at the first month that cannot be settled.

    The months before that one are written, as they would be one by one; that one is not written at
    all. Nothing is written when the settled month after the last one written was settled from
    another state than the one now carried out: writing would break the chain of statements.
    ``measured``: the metric table of (at least) these months, when the caller has measured them.
    """
    table = measured if measured is not None else measure_project(agreement, project, months)
    reported = reported_values(project, months)
    batches = dated_batches(agreement, project)
    settlements: list[Settlement] = []
    stopped: tuple[Diagnostic, ...] = ()
    state: dict[str, Any] | None = None
    for month in months:
        if state is None:
            state, problem = previous_state(project, agreement, month)
            if problem is not None or state is None:
                stopped = (problem,) if problem else ()
                break
        values = month_values(agreement, table, reported, month)
        priced = price_period(agreement, Facts(values=values, period=month), state)
        if priced.statement is None:
            stopped = tuple(missing_value_diagnostics(agreement, table, values, month, priced.diagnostics))
            break
        inputs = inputs_of(agreement_text, agreement, batches, month, values, state)
        inputs_hash = hashlib.sha256(dumps(inputs).encode("utf-8")).hexdigest()
        text = dumps({"inputs": inputs, "inputs_hash": inputs_hash, "statement": priced.statement, "state_out": priced.state})
        refused = changed_inputs(project, agreement, month, text, inputs_hash) if not replace else None
        if refused is not None:
            stopped = (refused,)
            break
        settlements.append(Settlement(month, priced.statement, values, state, priced.state, inputs, inputs_hash, text))
        state = json.loads(dumps(priced.state))  # exactly what the next month would read back from the file
    broken = broken_chain(project, agreement, settlements)
    if broken is not None:
        return SettleResult((), (*stopped, broken), ())
    written = tuple(str(project.write_statement(agreement.id, s.period, s.text)) for s in settlements)
    return SettleResult(tuple(settlements), stopped or table.diagnostics_of(months), written)


def changed_inputs(project: Project, agreement: Agreement, month: str, text: str, inputs_hash: str) -> Diagnostic | None:
    """A month already settled from other inputs is not settled again without ``--replace``."""
    path = project.statement_path(agreement.id, month)
    if not path.is_file():
        return None
    old = path.read_text(encoding="utf-8")
    if old == text:
        return None
    old_hash = str(json.loads(old).get("inputs_hash", "?"))
    return error("settled", f"{month} is already settled from other inputs (hash {old_hash[:12]}, now {inputs_hash[:12]})",
                 "pass --replace to settle it again from the current inputs", (), "project")


def broken_chain(project: Project, agreement: Agreement, settlements: Sequence[Settlement]) -> Diagnostic | None:
    """Refuse to write months whose last one would no longer carry into the settled month after it.

    Each statement records the state it started from (``inputs.state_in``); settling a month again
    (``--replace``) with other inputs can change the state it carries out. The months after it are
    then settled from a state that no longer exists, so they are settled again too, in the same run.
    """
    if not settlements:
        return None
    last = settlements[-1]
    after = add_months(last.period, 1)
    following = project.read_statement(agreement.id, after)
    if following is None or following.get("inputs", {}).get("state_in") == json.loads(last.text)["state_out"]:
        return None
    end = after
    while project.statement_path(agreement.id, add_months(end, 1)).is_file():
        end = add_months(end, 1)
    return error("chain", f"{after} is settled and carries on from the state {last.period} carried out when it was "
                 f"settled; settling {last.period} now carries out another state, so nothing was written",
                 f"settle the months after it again too: vested settle --from {settlements[0].period} --to {end} --replace", (),
                 "project")

"""Settle periods: measure, price, and record each month's statement in the workspace's store.

    settle_months(ws, agreement, text, months, replace=False, measured=None) -> SettleResult

The table of contents of one settlement run: list the batches once -> measure the months (one
engine call) and read the reported values -> for each month, in order: the facts, the state the
previous month carried out, the inputs (only batches that can affect the month), price and make
the canonical text (``vested.core.settlement``) -> refuse what would break the chain -> record.
Settling a range is the same as settling its months one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from vested import __version__
from vested.core.canonical import text_hash
from vested.core.diagnostics import Diagnostic
from vested.core.measured import MetricTable
from vested.core.measures import Dataset
from vested.core.model import Agreement
from vested.core.periods import add_months, parse_month
from vested.core.settlement import (
    BatchInput,
    Settlement,
    SettleResult,
    broken_chain,
    carried_out,
    carried_state,
    chain_break,
    changed_inputs,
    month_inputs,
    month_values,
    outside_term,
    settle_month,
)
from vested.ingest.datasets import REPORTED, dataset_for
from vested.measure.months import local_bounds
from vested.services.workspace import Workspace
from vested.storage import Batch

ENGINE = f"vested {__version__}"


@dataclass(frozen=True)
class DatedBatch:
    """A batch, and the instant its first row is at (None: unknown, so it may affect any month)."""

    batch: Batch
    first: datetime | None


def dated_batches(agreement: Agreement, ws: Workspace) -> list[DatedBatch]:
    """Every batch a month's inputs may list (the agreement's datasets, then ``reported``), read once."""
    zone = ZoneInfo(agreement.calendar.time_zone if agreement.calendar else "UTC")
    found = []
    for dataset_id in [d.id for d in agreement.datasets] + [REPORTED.id]:
        dataset = dataset_for(agreement, dataset_id)
        for batch in ws.store.batches(dataset_id):
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


def batches_for(agreement: Agreement, batches: Sequence[DatedBatch], month: str) -> list[BatchInput]:
    """The batches a month is settled from. A batch of later data never changes the month, so it is left out.

    Windows (quarter to date, rolling months) only look back, so rows after the month's end cannot
    enter its measurement; leaving such batches out of the inputs keeps a settled month reproducible
    while later months' data arrives.
    """
    zone = ZoneInfo(agreement.calendar.time_zone if agreement.calendar else "UTC")
    end = local_bounds(month, zone)[1]
    return [BatchInput(d.batch.dataset, d.batch.batch_id, str(d.batch.manifest.get("sha256", "")))
            for d in batches if d.first is None or d.first < end]


def measure_batches(ws: Workspace, agreement: Agreement, batches: Sequence[DatedBatch], months: Sequence[str]) -> MetricTable:
    """The metric table of ``months``, from batches already listed (one engine call)."""
    sources = {d.id: [b.batch.data_file for b in batches if b.batch.dataset == d.id] for d in agreement.datasets}
    return ws.engine.measure(agreement, sources, months)


def reported_in(ws: Workspace, batches: Sequence[DatedBatch], months: Sequence[str]) -> dict[str, dict[str, Decimal]]:
    """The values reported directly for ``months``, from batches already listed: metric -> month -> value."""
    return ws.engine.reported([b.batch.data_file for b in batches if b.batch.dataset == REPORTED.id], months)


def recorded_chain_break(ws: Workspace, agreement: Agreement, first: str | None) -> Diagnostic | None:
    """Whether the months recorded before ``first`` form a chain, reading only the links that can be broken.

    A link breaks only when a month is recorded again after the month that follows it (a ``settle
    --replace`` stopped half-way, or a damaged record). The record knows the order in which the
    months' current revisions were recorded, so only those links are read, with the link a settle
    builds on: a settle's work does not grow with the months recorded before it. A project kept as
    files knows no order, so only the link the settle builds on is read there.
    """
    if first is None:
        return None
    order = ws.store.revision_order(agreement.id)
    links = {add_months(first, -2)}
    if order is not None:
        links |= {p for p, seq in order.items() if parse_month(add_months(p, 1)) < parse_month(first)
                  and add_months(p, 1) in order and seq > order[add_months(p, 1)]}
    for period in sorted(links, key=parse_month):
        records = []
        for month in (period, add_months(period, 1)):
            record = ws.store.read_statement(agreement.id, month)
            if record is not None:
                records.append((month, record))
        broken = chain_break(agreement, records)
        if broken is not None:
            return broken
    return None


def settle_months(ws: Workspace, agreement: Agreement, agreement_text: str, months: Sequence[str], *,
                  replace: bool = False, measured: MetricTable | None = None,
                  progress: Callable[[str, int, int], None] | None = None) -> SettleResult:
    """Settle ``months`` (consecutive, in order) and record them; stop at the first month that cannot be settled.

    The months before that one are recorded, as they would be one by one; that one is not recorded
    at all. Nothing is recorded when the settled month after the last one would no longer follow
    from the state now carried out (the chain of statements would break). ``measured``: the metric
    table of (at least) these months, when the caller has measured them. ``progress`` is told each step:
    (what, months done, months).
    """
    store = ws.store
    refused = outside_term(agreement, months) or recorded_chain_break(ws, agreement, months[0] if months else None)
    if refused is not None:
        return SettleResult((), (refused,), ())
    batches = dated_batches(agreement, ws)
    tell = progress or (lambda step, done, total: None)
    tell(f"measure {len(months)} month(s)", 0, len(months))
    table = measured if measured is not None else measure_batches(ws, agreement, batches, months)
    reported = reported_in(ws, batches, months)
    agreement_sha256 = text_hash(agreement_text)
    engine = f"{ENGINE}; metrics by {ws.engine.name}"  # which engine and version computed the facts
    settlements: list[Settlement] = []
    stopped: tuple[Diagnostic, ...] = ()
    state: dict[str, Any] | None = None
    for done, month in enumerate(months):
        tell(f"settle {month}", done, len(months))
        if state is None:
            state, problem = carried_state(agreement, month, store.read_statement(agreement.id, add_months(month, -1)))
            if problem is not None or state is None:
                stopped = (problem,) if problem else ()
                break
        values = month_values(agreement, table, reported, month)
        inputs = month_inputs(agreement, agreement_sha256, month, engine, batches_for(agreement, batches, month), values, state)
        settled = settle_month(agreement, table, values, month, state, inputs)
        if not isinstance(settled, Settlement):
            stopped = tuple(settled)
            break
        refused = None if replace else changed_inputs(month, store.statement_text(agreement.id, month), settled)
        if refused is not None:
            stopped = (refused,)
            break
        settlements.append(settled)
        state = carried_out(settled)
    if settlements:
        last = settlements[-1]
        end = add_months(last.period, 1)
        while store.read_statement(agreement.id, add_months(end, 1)) is not None:
            end = add_months(end, 1)
        broken = broken_chain(settlements[0].period, last, store.read_statement(agreement.id, add_months(last.period, 1)), end)
        if broken is not None:
            return SettleResult((), (*stopped, broken), ())
    if settlements:
        store.register_agreement(agreement_text, agreement.id)  # the version every statement cites, by hash
    written = tuple(store.write_statement(agreement.id, s.period, s.text) for s in settlements)
    return SettleResult(tuple(settlements), stopped or table.diagnostics_of(months), written)

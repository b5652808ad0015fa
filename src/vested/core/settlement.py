"""Settlement's rules: a month's facts, what it is settled from, its canonical text, and the chain of months.

    month_values(agreement, table, reported, month) -> facts
    settle_month(agreement, month, values, state_in, inputs) -> Settlement | diagnostics
    carried_state(agreement, month, previous) -> the state the month starts from, or why it cannot
    changed_inputs(month, old_text, settlement) / broken_chain(...) -> the refusals that keep the chain whole

Pure: the settling service (``vested.services.settling``) reads the batches and the statements
already recorded, measures, and calls these rules; nothing here reads a file or a clock. A month's
text is canonical JSON (``vested.core.canonical``) with no clock in it, so settling the same inputs
again gives the same bytes. Statements form a chain: each month starts from the state the month
before carried out, so a month is settled only after the month before it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

from vested.core.canonical import canonical_data, canonical_hash, canonical_text
from vested.core.diagnostics import Diagnostic, error
from vested.core.facts import Facts
from vested.core.measured import MetricTable
from vested.core.model import Agreement
from vested.core.periods import add_months, parse_month
from vested.core.pricing import price_period
from vested.core.statement import Statement


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
    """The canonical JSON recorded (byte-for-byte reproducible)."""


@dataclass(frozen=True)
class SettleResult:
    """The months settled (and where they were recorded), or why the next one could not be."""

    settlements: tuple[Settlement, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    written: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


@dataclass(frozen=True)
class BatchInput:
    """A batch a month is settled from, as its inputs list it."""

    dataset: str
    batch_id: str
    sha256: str


def first_month(agreement: Agreement) -> str | None:
    """The agreement's first month (``calendar.start``), or None when it has no calendar.

    A start written as a year or a quarter (before calendar starts were months) counts from January
    of its year: the one place that says so, for settling, measuring and checking alike.
    """
    start = str(agreement.calendar.start) if agreement.calendar is not None else None
    if start is None:
        return None
    try:
        parse_month(start)
        return start
    except ValueError:
        return f"{start[:4]}-01"  # a checked period: a year (2025) or a quarter (2025-Q2)


def month_values(agreement: Agreement, table: MetricTable, reported: Mapping[str, Mapping[str, Decimal]],
                 month: str) -> dict[str, Decimal]:
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


def month_inputs(agreement: Agreement, agreement_sha256: str, month: str, engine: str, batches: Sequence[BatchInput],
                 values: Mapping[str, Decimal], state_in: Mapping[str, Any]) -> dict[str, Any]:
    """What a month is settled from: the agreement's text (by hash), the engine, the batches, the facts, the state in."""
    return {
        "agreement": {"id": agreement.id, "sha256": agreement_sha256},
        "period": month,
        "engine": engine,
        "batches": [{"dataset": b.dataset, "batch_id": b.batch_id, "sha256": b.sha256} for b in batches],
        "facts": canonical_data(dict(sorted(values.items()))),
        "state_in": canonical_data(state_in),
    }


def settle_month(agreement: Agreement, table: MetricTable, values: Mapping[str, Decimal], month: str,
                 state_in: Mapping[str, Any], inputs: Mapping[str, Any]) -> Settlement | list[Diagnostic]:
    """Price the month from its facts and the state carried in; its settlement, or why it has none."""
    priced = price_period(agreement, Facts(values=dict(values), period=month), dict(state_in))
    if priced.statement is None:
        return missing_value_diagnostics(agreement, table, values, month, priced.diagnostics)
    inputs_hash = canonical_hash(inputs)
    text = canonical_text({"inputs": inputs, "inputs_hash": inputs_hash, "statement": priced.statement,
                           "state_out": priced.state})
    return Settlement(month, priced.statement, dict(values), state_in, priced.state, inputs, inputs_hash, text)


def carried_out(settlement: Settlement) -> dict[str, Any]:
    """The state a settled month carries out, exactly as the next month reads it back from its record."""
    data: dict[str, Any] = json.loads(settlement.text)["state_out"]
    return data


def carried_state(agreement: Agreement, month: str,
                  previous: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, Diagnostic | None]:
    """The state ``month`` starts from: what the previous month's record carried out; empty in the first month."""
    if previous is not None:
        return dict(previous.get("state_out", {})), None
    start = first_month(agreement)
    if start is None or parse_month(month) <= parse_month(start):
        return {}, None
    # Statements form a chain: a month's state comes from the month before, so months settle in order.
    return None, error("settle-order", f"{add_months(month, -1)} is not settled, and {month} carries on from it",
                       f"settle in order from the first unsettled month: vested settle --from ... --to {month}", (), "project")


def outside_term(agreement: Agreement, months: Sequence[str]) -> Diagnostic | None:
    """Months before the agreement's first month or after its last are not settled (nothing is owed then)."""
    start = first_month(agreement)
    if start is None or agreement.calendar is None:
        return None
    last = add_months(start, agreement.calendar.months - 1)
    outside = [m for m in months if parse_month(m) < parse_month(start) or parse_month(m) > parse_month(last)]
    if not outside:
        return None
    shown = outside[0] if len(outside) == 1 else f"{outside[0]} to {outside[-1]}" if len(outside) == len(months) else \
        ", ".join(outside[:3]) + (" …" if len(outside) > 3 else "")
    return error("settle-term", f"{shown} {'is' if len(outside) == 1 else 'are'} outside the agreement's term "
                 f"({start} to {last}, {agreement.calendar.months} months)",
                 f"settle months from {start} to {last}, or change `calendar:` if the term is wrong", ("calendar",))


def chain_break(agreement: Agreement, records: Sequence[tuple[str, Mapping[str, Any]]]) -> Diagnostic | None:
    """The first settled month that does not carry on from the month before it, in records sorted by month.

    A month recorded again (``--replace``) by a run that was stopped half-way can leave the months
    after it settled from a state that no longer exists: nothing more is settled on such a chain.
    """
    for (before, earlier), (month, later) in pairwise(records):
        if add_months(before, 1) != month:
            continue
        if later.get("inputs", {}).get("state_in") != earlier.get("state_out"):
            return error("chain", f"the settled months are not a chain: {month} does not carry on from the state "
                         f"{before} carried out", f"settle them again from {month}: vested settle --from {month} --to "
                         f"{records[-1][0]} --replace", (), "project")
    return None


def changed_inputs(month: str, old_text: str | None, settlement: Settlement) -> Diagnostic | None:
    """A month already settled from other inputs is not settled again without ``--replace``."""
    if old_text is None or old_text == settlement.text:
        return None
    try:
        old_hash = str(json.loads(old_text).get("inputs_hash", "?"))
    except (ValueError, AttributeError):
        old_hash = "?"
    return error("settled", f"{month} is already settled from other inputs (hash {old_hash[:12]}, now "
                 f"{settlement.inputs_hash[:12]})", "pass --replace to settle it again from the current inputs", (), "project")


def broken_chain(first: str, last: Settlement, following: Mapping[str, Any] | None, end: str) -> Diagnostic | None:
    """Refuse to record months whose last one would no longer carry into the settled month after it.

    Each statement records the state it started from (``inputs.state_in``); settling a month again
    (``--replace``) with other inputs can change the state it carries out. The months after it (up
    to ``end``, the last settled one) are then settled from a state that no longer exists, so they
    are settled again too, in the same run.
    """
    after = add_months(last.period, 1)
    if following is None or following.get("inputs", {}).get("state_in") == carried_out(last):
        return None
    return error("chain", f"{after} is settled and carries on from the state {last.period} carried out when it was "
                 f"settled; settling {last.period} now carries out another state, so nothing was written",
                 f"settle the months after it again too: vested settle --from {first} --to {end} --replace", (),
                 "project")

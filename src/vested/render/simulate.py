"""The risk simulation and the deal search as terminal tables and JSON (from the same frozen results).

    simulate_table(simulation) / simulate_json(simulation)
    tune_table(result) / tune_json(result)

The charts are in :mod:`vested.render.risk_charts` (altair is loaded only when charts are asked for).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from vested.core.economics import show_money
from vested.core.money import percent
from vested.render.fit import fitted, money_column, text_column
from vested.render.serialize import to_jsonable
from vested.simulate.run import PartyRisk, Simulation, Summary
from vested.simulate.tune import Candidate, TuneResult


def share(value: float) -> str:
    """A probability or a share of run-months: 99.87%."""
    return f"{value * 100:.2f}%"


# -- simulate ---------------------------------------------------------------------------------------------------

def simulate_table(s: Simulation) -> Group:
    title = (f"{s.agreement_title} on scenario {s.scenario_id} ({s.currency}): {s.runs:,} runs, seed {s.seed}, "
             f"{s.periods[0]} to {s.periods[-1]}")
    table = Table(title=title)
    text_column(table, "")
    for column in ("mean", "P5", "P50", "P95", "expected shortfall", "P(beats the status quo)"):
        money_column(table, column)
    for risk in (s.customer, s.supplier):
        _party_rows(table, risk)
    table.add_row(Text("value created (both gains)", style="bold"), *_summary_cells(s.joint_gain),
                  Text(f"both: {share(s.p_both)}", style="bold"))
    parts: list[Any] = [fitted(table)]
    text = Text()
    text.append(f"Both beat the status quo in {share(s.p_both)} of runs; the customer in {share(s.customer.p_beats)}, "
                f"the supplier in {share(s.supplier.p_beats)}.\n", style="bold")
    text.append(f"Levers: {', '.join(s.levers) or 'none'} ({s.lever_choice}). Status quo: {s.status_quo}.\n")
    parts.append(text)
    if s.limits:
        limits = Table(title="How often each limit binds (share of run-months)")
        for column in ("agreement", "limit", "run-months", "share"):
            (money_column if column in ("run-months", "share") else text_column)(limits, column)
        for limit in s.limits:
            limits.add_row(limit.agreement_id + (" (status quo)" if limit.status_quo else ""), limit.limit,
                           f"{limit.run_months:,}", share(limit.share))
        parts.append(fitted(limits))
    drivers = Table(title="Uncertain drivers")
    text_column(drivers, "driver")
    text_column(drivers, "distribution")
    for note in s.uncertain:
        drivers.add_row(note.driver, note.note)
    for correlation in s.correlations:
        drivers.add_row("correlation", correlation)
    for note in s.clipped:
        drivers.add_row(note.driver, f"{note.note}: clipped in {share(note.share)} of run-months")
    parts.append(fitted(drivers))
    notes = Text(style="dim")
    notes.append("Customer figures are the NPV of all its costs (negative: higher is better); supplier figures the NPV "
                 "of its margin. Gain: the agreement's NPV minus the status quo's on the same draws.\n")
    notes.append(f"NPV: {s.npv_convention}.\nStatistics: {s.statistics_note}.\n")
    notes.append(f"Engine: {s.engine}; {s.chunk:,} runs per chunk; the fan chart uses the first {s.fan_runs:,} runs.")
    parts.append(notes)
    return Group(*parts)


def _party_rows(table: Table, risk: PartyRisk) -> None:
    name = f"{risk.role} ({risk.party})"
    table.add_row(f"{name}: NPV", *_summary_cells(risk.result), "")
    table.add_row(f"{name}: status quo NPV", *_summary_cells(risk.status_quo), "", style="dim")
    table.add_row(Text(f"{name}: gain", style="bold"), *_summary_cells(risk.gain), Text(share(risk.p_beats), style="bold"))


def _summary_cells(summary: Summary) -> list[str]:
    return [show_money(summary.mean), show_money(summary.p5), show_money(summary.p50), show_money(summary.p95),
            show_money(summary.expected_shortfall)]


def simulate_json(s: Simulation) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(s)
    return data


# -- tune -------------------------------------------------------------------------------------------------------

def tune_table(r: TuneResult) -> Group:
    parameters = Table(title=f"Tuning {r.agreement_id} on scenario {r.scenario_id} ({r.currency}): {r.runs:,} runs per "
                       f"candidate, seed {r.seed}; each party must beat the status quo in at least "
                       f"{percent(r.threshold)} of runs{split_target(r)}")
    for column in ("parameter", "term.field", "as written", "range", "values"):
        (money_column if column == "values" else text_column)(parameters, column)
    for p in r.parameters:
        parameters.add_row(p.title, f"{p.term}.{p.field}", p.written, f"{p.low} to {p.high}", str(p.values))
    titles = [p.title for p in r.parameters]
    table = Table(title="Best terms against the terms as written (means over the runs)")
    text_column(table, "")
    for column in (*titles, "levers", "expected joint NPV", "customer gain", "supplier gain", "split (customer/supplier)",
                   "P(customer)", "P(supplier)", "P(both)"):
        (text_column if column == "levers" else money_column)(table, column)
    rows = [("as written", r.as_written)]
    if r.best is not None:
        rows.append(("best", r.best))
    elif r.closest is not None:
        rows.append(("closest (not feasible)", r.closest))
    for name, candidate in rows:
        table.add_row(Text(name, style="bold"), *_candidate_cells(candidate))
    frontier = Table(title="Pareto frontier: no other candidate gives both parties more")
    for column in (*titles, "levers", "expected joint NPV", "customer gain", "supplier gain", "split (customer/supplier)",
                   "P(customer)", "P(supplier)", "P(both)"):
        (text_column if column == "levers" else money_column)(frontier, column)
    for candidate in _spread(r.frontier, r.best):
        style = "bold" if candidate == r.best else ("" if candidate.feasible else "dim")
        frontier.add_row(*_candidate_cells(candidate), style=style)
    text = Text()
    if r.best is not None:
        text.append(f"Best: {settings_text(r, r.best)} — expected joint NPV {show_money(r.best.expected_joint)}, both beat the "
                    f"status quo in {share(r.best.p_both)} of runs; the value created splits {split_text(r.best)} "
                    "(customer/supplier).\n", style="bold")
    else:
        text.append(f"No candidate lets each party beat the status quo in {percent(r.threshold)} of runs"
                    f"{split_target(r)}.\n", style="bold")
    text.append("The customer pays what the supplier receives, so many terms create the same joint value and differ only "
                "in how they split it: the split column is what the parties negotiate"
                + (" (--min-share or tune.split sets the least share each must get).\n" if r.split is None else ".\n"))
    if len(r.frontier) > FRONTIER_ROWS:
        text.append(f"The frontier has {len(r.frontier):,} candidates; {FRONTIER_ROWS} are shown, evenly spread (all in "
                    "--json).\n")
    skipped = r.skipped
    if skipped:
        text.append(f"{len(skipped)} candidate(s) skipped, e.g. {skipped[0].reason}.\n")
    text.append(f"Search: {r.method} — {r.method_note}; {len(r.candidates):,} candidates evaluated of {r.grid_size:,}.\n",
                style="dim")
    text.append(f"Levers: {r.lever_choice}. Status quo: {r.status_quo}. Feasible rows in the frontier are bold or plain, "
                f"infeasible dim. NPV: {r.npv_convention}. Engine: {r.engine}.", style="dim")
    return Group(fitted(parameters), fitted(table), fitted(frontier, keys=len(titles)), text)


FRONTIER_ROWS = 15
"""Most rows of the frontier shown in the terminal."""


def _spread(frontier: tuple[Candidate, ...], best: Candidate | None) -> list[Candidate]:
    """At most :data:`FRONTIER_ROWS` candidates of the frontier, evenly spread, the best among them."""
    if len(frontier) <= FRONTIER_ROWS:
        return list(frontier)
    picked = {round(i * (len(frontier) - 1) / (FRONTIER_ROWS - 1)) for i in range(FRONTIER_ROWS)}
    if best is not None and best in frontier:
        picked.discard(min(picked, key=lambda i: abs(i - frontier.index(best))))
        picked.add(frontier.index(best))
    return [frontier[i] for i in sorted(picked)]


def settings_text(r: TuneResult, c: Candidate) -> str:
    return ", ".join(f"{p.title} {v}" for p, v in zip(r.parameters, c.settings, strict=True))


def _candidate_cells(c: Candidate) -> list[str]:
    if not c.valid:
        return [*c.settings, c.reason, "", "", "", "", "", "", ""]
    return [*c.settings, ", ".join(c.levers) or "none", show_money(c.expected_joint), show_money(c.customer_gain),
            show_money(c.supplier_gain), split_text(c), share(c.p_customer), share(c.p_supplier), share(c.p_both)]


def split_text(c: Candidate) -> str:
    """How a candidate splits the value it creates: 56.7% / 43.3% (customer / supplier)."""
    if c.customer_share is None or c.supplier_share is None:
        return "no value created"
    return f"{_one_place(c.customer_share)} / {_one_place(c.supplier_share)}"


def _one_place(value: Decimal) -> str:
    return percent(value.quantize(Decimal("0.001")))


def split_target(r: TuneResult) -> str:
    """The split the tuning asks for, as a clause ("" when it asks for none)."""
    if r.split is None:
        return ""
    return (f", and get at least its share of the value created (customer {percent(r.split.customer)}, "
            f"supplier {percent(r.split.supplier)})")


def tune_json(r: TuneResult) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(r)
    return data

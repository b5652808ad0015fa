"""The risk simulation and the deal search as terminal tables, JSON and charts (from the same frozen results).

    simulate_table(report) / simulate_json(report) / write_simulate_charts(report, folder)
    tune_table(report) / tune_json(report) / write_tune_charts(report, folder)

Charts are altair specifications rendered offline by vl-convert (``vested.render.charts``), each
written as SVG and PNG: a fan chart of each party's cumulative gain over the status quo month by
month (P5-P95 and P25-P75 bands, the median line), a histogram of each party's gain over the term,
and for the search the candidates' (customer gain, supplier gain) with the Pareto frontier.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import altair as alt
from rich.console import Group
from rich.table import Table
from rich.text import Text

from vested.core.economics import show_money
from vested.core.money import percent
from vested.project import atomic_write_bytes
from vested.render.charts import HEIGHT, INK, NEUTRAL, PALETTE, WIDTH, png, svg
from vested.render.serialize import to_jsonable
from vested.simulate.run import Bin, FanPoint, PartyRisk, Simulation, Summary
from vested.simulate.tune import Candidate, TuneResult
from vested.simulate_service import SimulateReport, TuneReport


def share(value: float) -> str:
    """A probability or a share of run-months: 99.87%."""
    return f"{value * 100:.2f}%"


# -- simulate ---------------------------------------------------------------------------------------------------

def simulate_table(report: SimulateReport) -> Group:
    s = report.simulation
    assert s is not None
    title = (f"{s.agreement_title} on scenario {s.scenario_id} ({s.currency}): {s.runs:,} runs, seed {s.seed}, "
             f"{s.periods[0]} to {s.periods[-1]}")
    table = Table(title=title)
    for column in ("", "mean", "P5", "P50", "P95", "expected shortfall", "P(beats the status quo)"):
        table.add_column(column, justify="left" if not column else "right")
    for risk in (s.customer, s.supplier):
        _party_rows(table, risk)
    table.add_row(Text("value created (both gains)", style="bold"), *_summary_cells(s.joint_gain),
                  Text(f"both: {share(s.p_both)}", style="bold"))
    parts: list[Any] = [table]
    text = Text()
    text.append(f"Both beat the status quo in {share(s.p_both)} of runs; the customer in {share(s.customer.p_beats)}, "
                f"the supplier in {share(s.supplier.p_beats)}.\n", style="bold")
    text.append(f"Levers: {', '.join(s.levers) or 'none'} ({s.lever_choice}). Status quo: {s.status_quo}.\n")
    parts.append(text)
    if s.limits:
        limits = Table(title="How often each limit binds (share of run-months)")
        for column in ("agreement", "limit", "run-months", "share"):
            limits.add_column(column, justify="right" if column in ("run-months", "share") else "left")
        for limit in s.limits:
            limits.add_row(limit.agreement_id + (" (status quo)" if limit.status_quo else ""), limit.limit,
                           f"{limit.run_months:,}", share(limit.share))
        parts.append(limits)
    drivers = Table(title="Uncertain drivers")
    drivers.add_column("driver")
    drivers.add_column("distribution")
    for note in s.uncertain:
        drivers.add_row(note.driver, note.note)
    for correlation in s.correlations:
        drivers.add_row("correlation", correlation)
    for note in s.clipped:
        drivers.add_row(note.driver, f"{note.note}: clipped in {share(note.share)} of run-months")
    parts.append(drivers)
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


def simulate_json(report: SimulateReport) -> dict[str, Any]:
    s = report.simulation
    assert s is not None
    data: dict[str, Any] = to_jsonable(s)
    return data


def fan_chart(points: tuple[FanPoint, ...], *, title: str, currency: str) -> alt.LayerChart:
    rows = [{"period": p.period, **{k: float(getattr(p, k)) for k in ("p5", "p25", "p50", "p75", "p95")}} for p in points]
    periods = [p.period for p in points]
    x = alt.X("period:O", title=None, sort=periods, axis=alt.Axis(labelAngle=-45, labelOverlap=True))
    base = alt.Chart(alt.InlineData(values=rows))
    outer = base.mark_area(opacity=0.25, color=PALETTE[0]).encode(
        x=x, y=alt.Y("p5:Q", title=f"cumulative gain ({currency}, present value)"), y2="p95:Q")
    inner = base.mark_area(opacity=0.45, color=PALETTE[0]).encode(x=x, y="p25:Q", y2="p75:Q")
    median = base.mark_line(color=INK).encode(x=x, y="p50:Q", tooltip=[alt.Tooltip("period:O")] + [
        alt.Tooltip(f"{k}:Q", format=",.0f") for k in ("p5", "p25", "p50", "p75", "p95")])
    zero = alt.Chart(alt.InlineData(values=[{"zero": 0.0}])).mark_rule(color=NEUTRAL, strokeDash=[4, 4]).encode(y="zero:Q")
    return alt.LayerChart(layer=[outer, inner, median, zero]).properties(title=title, width=WIDTH, height=HEIGHT)


def histogram_chart(bins: tuple[Bin, ...], *, title: str, currency: str) -> alt.LayerChart:
    rows = [{"low": float(b.low), "high": float(b.high), "runs": b.runs} for b in bins]
    bars = alt.Chart(alt.InlineData(values=rows)).mark_bar(color=PALETTE[0], opacity=0.8).encode(
        x=alt.X("low:Q", title=f"gain against the status quo over the term ({currency}, NPV)", bin="binned"),
        x2="high:Q", y=alt.Y("runs:Q", title="runs"),
        tooltip=[alt.Tooltip("low:Q", format=",.0f"), alt.Tooltip("high:Q", format=",.0f"), alt.Tooltip("runs:Q")])
    zero = alt.Chart(alt.InlineData(values=[{"zero": 0.0}])).mark_rule(color=PALETTE[4]).encode(x="zero:Q")
    return alt.LayerChart(layer=[bars, zero]).properties(title=title, width=WIDTH, height=HEIGHT)


def simulate_charts(s: Simulation) -> dict[str, alt.TopLevelMixin]:
    """The charts by file stem."""
    fans = [fan_chart(points, title=f"{role.capitalize()}: cumulative gain over the status quo (P5-P95, P25-P75, median)",
                      currency=s.currency) for role, points in (("customer", s.customer_fan), ("supplier", s.supplier_fan))]
    return {
        "fan": alt.vconcat(*fans).properties(title=f"{s.agreement_title}: {s.runs:,} runs, seed {s.seed}"),
        "histogram-customer": histogram_chart(s.customer_histogram, currency=s.currency,
                                              title=f"Customer: gain over the term, {s.runs:,} runs "
                                                    f"(beats the status quo in {share(s.customer.p_beats)})"),
        "histogram-supplier": histogram_chart(s.supplier_histogram, currency=s.currency,
                                              title=f"Supplier: gain over the term, {s.runs:,} runs "
                                                    f"(beats the status quo in {share(s.supplier.p_beats)})"),
    }


def write_simulate_charts(report: SimulateReport, folder: str | Path) -> list[Path]:
    """Write every chart as SVG and PNG into ``folder`` (created if needed); the files written."""
    assert report.simulation is not None
    return _write(simulate_charts(report.simulation), Path(folder))


def _write(charts: dict[str, alt.TopLevelMixin], folder: Path) -> list[Path]:
    """Render every chart first, then write each file atomically: a chart that fails to render
    leaves no file half-written, and a reader sees an old file or the new one."""
    files = {}
    for stem, chart in charts.items():
        files[folder / f"{stem}.svg"] = svg(chart, stem).encode("utf-8")
        files[folder / f"{stem}.png"] = png(chart)
    for path, data in files.items():
        atomic_write_bytes(path, data)
    return list(files)


# -- tune -------------------------------------------------------------------------------------------------------

def tune_table(report: TuneReport) -> Group:
    r = report.result
    assert r is not None
    parameters = Table(title=f"Tuning {r.agreement_id} on scenario {r.scenario_id} ({r.currency}): {r.runs:,} runs per "
                       f"candidate, seed {r.seed}; each party must beat the status quo in at least "
                       f"{percent(r.threshold)} of runs")
    for column in ("parameter", "term.field", "as written", "range", "values"):
        parameters.add_column(column, justify="right" if column == "values" else "left")
    for p in r.parameters:
        parameters.add_row(p.title, f"{p.term}.{p.field}", p.written, f"{p.low} to {p.high}", str(p.values))
    titles = [p.title for p in r.parameters]
    table = Table(title="Best terms against the terms as written (means over the runs)")
    for column in ("", *titles, "levers", "expected joint NPV", "customer gain", "supplier gain", "P(customer)",
                   "P(supplier)", "P(both)"):
        table.add_column(column, justify="left" if column in ("", "levers") else "right")
    rows = [("as written", r.as_written)]
    if r.best is not None:
        rows.append(("best", r.best))
    elif r.closest is not None:
        rows.append(("closest (not feasible)", r.closest))
    for name, candidate in rows:
        table.add_row(Text(name, style="bold"), *_candidate_cells(candidate))
    frontier = Table(title="Pareto frontier: no other candidate gives both parties more")
    for column in (*titles, "levers", "expected joint NPV", "customer gain", "supplier gain", "P(customer)", "P(supplier)",
                   "P(both)"):
        frontier.add_column(column, justify="left" if column == "levers" else "right")
    for candidate in _spread(r.frontier, r.best):
        style = "bold" if candidate == r.best else ("" if candidate.feasible else "dim")
        frontier.add_row(*_candidate_cells(candidate), style=style)
    text = Text()
    if r.best is not None:
        text.append(f"Best: {_settings(r, r.best)} — expected joint NPV {show_money(r.best.expected_joint)}, both beat the "
                    f"status quo in {share(r.best.p_both)} of runs.\n", style="bold")
    else:
        text.append(f"No candidate lets each party beat the status quo in {percent(r.threshold)} of runs.\n", style="bold")
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
    return Group(parameters, table, frontier, text)


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


def _settings(r: TuneResult, c: Candidate) -> str:
    return ", ".join(f"{p.title} {v}" for p, v in zip(r.parameters, c.settings, strict=True))


def _candidate_cells(c: Candidate) -> list[str]:
    if not c.valid:
        return [*c.settings, c.reason, "", "", "", "", "", ""]
    return [*c.settings, ", ".join(c.levers) or "none", show_money(c.expected_joint), show_money(c.customer_gain),
            show_money(c.supplier_gain), share(c.p_customer), share(c.p_supplier), share(c.p_both)]


def tune_json(report: TuneReport) -> dict[str, Any]:
    assert report.result is not None
    data: dict[str, Any] = to_jsonable(report.result)
    return data


def frontier_chart(r: TuneResult) -> alt.LayerChart:
    frontier = {c.settings for c in r.frontier}
    rows = [{"customer": float(c.customer_gain), "supplier": float(c.supplier_gain),
             "kind": ("best" if r.best is not None and c.settings == r.best.settings else
                      "frontier" if c.settings in frontier else "feasible" if c.feasible else "not feasible"),
             "terms": _settings(r, c)} for c in r.candidates if c.valid]
    kinds = ["best", "frontier", "feasible", "not feasible"]
    points = alt.Chart(alt.InlineData(values=rows)).mark_point(filled=True, size=60).encode(
        x=alt.X("customer:Q", title=f"customer gain ({r.currency}, NPV)"),
        y=alt.Y("supplier:Q", title=f"supplier gain ({r.currency}, NPV)"),
        color=alt.Color("kind:N", title=None, sort=kinds, scale=alt.Scale(domain=kinds, range=[PALETTE[4], PALETTE[0],
                                                                                              PALETTE[3], NEUTRAL])),
        tooltip=[alt.Tooltip("terms:N"), alt.Tooltip("customer:Q", format=",.0f"), alt.Tooltip("supplier:Q", format=",.0f")])
    line_rows = [{"customer": float(c.customer_gain), "supplier": float(c.supplier_gain)} for c in r.frontier]
    line = alt.Chart(alt.InlineData(values=line_rows)).mark_line(color=PALETTE[0]).encode(x="customer:Q", y="supplier:Q")
    return alt.LayerChart(layer=[line, points]).properties(
        title=f"Candidates for {r.agreement_id}: gains over the status quo (mean of {r.runs:,} runs)", width=WIDTH,
        height=HEIGHT * 2)


def write_tune_charts(report: TuneReport, folder: str | Path) -> list[Path]:
    assert report.result is not None
    return _write({"frontier": frontier_chart(report.result)}, Path(folder))



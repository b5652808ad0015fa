"""The risk simulation's and the deal search's charts, as SVG and PNG files (no file is written here).

Charts are altair specifications rendered offline by vl-convert (``vested.render.charts``): a fan
chart of each party's cumulative gain over the status quo month by month (P5-P95 and P25-P75 bands,
the median line), a histogram of each party's gain over the term, and for the search the
candidates' (customer gain, supplier gain) with the Pareto frontier.
"""

from __future__ import annotations

import altair as alt

from vested.render.charts import HEIGHT, INK, NEUTRAL, PALETTE, WIDTH, png, svg
from vested.render.simulate import settings_text, share
from vested.simulate.run import Bin, FanPoint, Simulation
from vested.simulate.tune import TuneResult


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


def simulate_chart_files(s: Simulation) -> dict[str, bytes]:
    """Every chart of a simulation as files: ``{"fan.svg": ..., "fan.png": ..., ...}``."""
    return chart_files(simulate_charts(s))


def chart_files(charts: dict[str, alt.TopLevelMixin]) -> dict[str, bytes]:
    """Each chart rendered as SVG and PNG, by file name (all rendered before any is written)."""
    files = {}
    for stem, chart in charts.items():
        files[f"{stem}.svg"] = svg(chart, stem).encode("utf-8")
        files[f"{stem}.png"] = png(chart)
    return files


def frontier_chart(r: TuneResult) -> alt.LayerChart:
    frontier = {c.settings for c in r.frontier}
    rows = [{"customer": float(c.customer_gain), "supplier": float(c.supplier_gain),
             "kind": ("best" if r.best is not None and c.settings == r.best.settings else
                      "frontier" if c.settings in frontier else "feasible" if c.feasible else "not feasible"),
             "terms": settings_text(r, c)} for c in r.candidates if c.valid]
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


def tune_chart_files(r: TuneResult) -> dict[str, bytes]:
    """The search's chart as files: ``{"frontier.svg": ..., "frontier.png": ...}``."""
    return chart_files({"frontier": frontier_chart(r)})

"""The board pack as one self-contained HTML page: inline CSS, inline SVG charts, no script.

    render_pack_html(view, with_charts=True) -> str

The page is the Jinja2 template ``templates/pack/pack.html.j2`` (shipped in the package,
autoescaped: a label from an agreement or a comment from the record is text, never markup) filled
from :class:`~vested.render.pack.PackView`. Its CSS (``pack.css`` beside the template) carries the print layout WeasyPrint uses for the
PDF (``vested.render.pack_pdf``): A4 pages numbered "page N of M", a table of contents whose
entries show the page each section starts on, each major section on a new page.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import altair as alt
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from vested.core.money import show_money
from vested.core.scorecard import ScoreRow
from vested.render import charts
from vested.render.pack import (
    PackMonth,
    PackView,
    amount,
    attainment,
    binding_sentence,
    customer_sentences,
    customer_signed,
    figure_text,
    number,
    possessive,
    score,
    supplier_sentences,
    verdict,
)

TOC = (("summary", "Executive summary"), ("scorecard", "Scorecard"), ("incentives", "Caps, corridors and the supplier's incentive"),
       ("payments", "Payments and sign-off"), ("signatures", "Signatures"), ("disputes", "Disputes and decisions"),
       ("statements", "Statements"))
STATUS_CSS = {"met": "met", "not met": "miss", "worsening": "miss", "improving": "better"}


def _environment() -> Environment:
    return Environment(loader=PackageLoader("vested.render", "templates/pack"), autoescape=select_autoescape(["j2", "html"]),
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render_pack_html(view: PackView, *, with_charts: bool = True) -> str:
    """The pack as one HTML page (``with_charts=False`` leaves the charts out, for speed)."""
    has_scorecard = any(m.scorecard is not None and m.scorecard.rows for m in view.months)
    c = view.summary.comparison
    context: dict[str, Any] = {
        "view": view, "title": f"{view.title} — board pack {view.period_text}",
        "toc": [(anchor, heading) for anchor, heading in TOC if anchor != "scorecard" or has_scorecard],
        "verdict": verdict(view), "customer": customer_sentences(view), "supplier": supplier_sentences(view),
        "comparison": c, "comparison_head": _comparison_head(view), "figures": _figures(view),
        "comparison_months": _comparison_months(view),
        "scorecard": _scorecard(view) if has_scorecard else None,
        "bindings": [{"sentence": binding_sentence(view, b), "every": b.every_month, "label": b.label, "term_id": b.term_id,
                      "limit": b.limit, "pays": "the supplier" if b.supplier_earns else "the customer",
                      "count": f"{len(b.months)} of {b.of}", "months": ", ".join(b.months)} for b in view.bindings],
        "months": [_month(view, m) for m in view.months],
        "total_paid": amount(view, view.summary.paid),
        "signoff_total": _signoff_total(view),
        **_signatures(view),
        "no_signatures": ("The record holds no signature of these months yet." if any(m.signoff for m in view.months)
                          else "This project is kept as files, which hold no sign-off; bring it into the record "
                          "(vested store import) to sign."),
        "disputes": [{**d.__dict__, "party": view.name(d.party), "at": _day(d.at),
                      "resolutions": [{**r.__dict__, "party": view.name(r.party), "at": _day(r.at)} for r in d.resolutions]}
                     for d in view.disputes],
        "rights": [(decision, ", ".join(view.name(o) for o in owners)) for decision, owners in view.decision_rights],
        "charts": _charts(view) if with_charts else {},
    }
    return _environment().get_template("pack.html.j2").render(context)


# -- the summary ------------------------------------------------------------------------------------


def _comparison_head(view: PackView) -> str:
    c = view.summary.comparison
    if c is None:
        return ""
    return {"settled": "the other contract, as settled", "scenario": "the status quo, as forecast",
            "previous year": "a year earlier"}.get(c.kind, c.label)


def _comparison_months(view: PackView) -> str:
    c = view.summary.comparison
    if c is None:
        return ""
    return (f"{len(c.periods)} month{'s' * (len(c.periods) != 1)}, {c.periods[0]} to {c.periods[-1]}"
            + ("" if c.periods == view.summary.periods else " (the months both have)") + f": {c.label}")


def _figures(view: PackView) -> list[tuple[str, ...]]:
    s, c = view.summary, view.summary.comparison
    customer, supplier = view.name(s.customer), view.name(s.supplier)

    def money(value: Decimal | None) -> str:
        return "—" if value is None else show_money(value, view.step)

    def row(label: str, now: Decimal | None, then: Decimal | None) -> tuple[str, ...]:
        if c is None:
            return (label, money(now))
        return (label, money(now), money(then), money(None if now is None or then is None else now - then))

    if c is None:
        return [row(f"{customer} paid", s.paid, None), row(f"{possessive(supplier)} cost to serve", s.cost, None),
                row(f"{possessive(supplier)} margin", s.margin, None)]
    return [row(f"{customer} paid", c.paid_now, c.paid_then),
            row(f"{possessive(supplier)} revenue", c.paid_now, c.paid_then),
            row(f"{possessive(supplier)} cost to serve", c.cost_now, c.cost_then),
            row(f"{possessive(supplier)} margin", c.margin_now, c.margin_then)]


# -- scorecard, months -------------------------------------------------------------------------------


def _scorecard(view: PackView) -> dict[str, Any]:
    outcomes: dict[str, ScoreRow] = {}
    for m in view.months:
        for r in m.scorecard.rows if m.scorecard else ():
            outcomes[r.outcome_id] = r
    rows = []
    warnings: list[str] = []
    for m in view.months:
        if m.scorecard is None:
            continue
        by_id = {r.outcome_id: r for r in m.scorecard.rows}
        cells = []
        for oid in outcomes:
            found = by_id.get(oid)
            cells.append({"value": number(found.value) if found else "—", "status": found.status if found else "",
                          "attainment": attainment(found.attainment) if found else "",
                          "css": STATUS_CSS.get(found.status, "nodata") if found else ""})
        rows.append({"period": m.period, "cells": cells, "score": score(m.scorecard.overall)})
        warnings.extend(f"{m.period}: {w}" for w in m.scorecard.warnings)
    return {"outcomes": [{"id": oid, "target": number(r.target)} for oid, r in outcomes.items()], "rows": rows,
            "warnings": warnings}


def _month(view: PackView, m: PackMonth) -> dict[str, Any]:
    s = m.statement
    customer, supplier = view.summary.customer, view.summary.supplier
    net = [f"{view.name(n.payer)} owes {view.name(n.payee)} {amount(view, n.amount)}" for n in s.net] or ["nothing is owed"]
    signoff = m.signoff
    return {
        "period": m.period, "anchor": f"statement-{m.period}", "revision": m.revision,
        "paid": show_money(s.owed(customer, supplier), view.step),
        "status": signoff.status if signoff else "not kept", "status_css": (signoff.status if signoff else "none"),
        "awaiting": ", ".join(view.name(p) for p in signoff.awaiting) if signoff else "",
        "lines": [{"label": line.label, "type": line.term_type, "term": line.term_id,
                   "flow": f"{view.name(line.payer)} → {view.name(line.payee)}", "amount": show_money(line.amount, view.step),
                   "formula": line.formula, "calculation": line.calculation,
                   "inputs": ", ".join(f"{k} = {v}" for k, v in line.inputs), "notes": line.notes} for line in s.lines],
        "net": net, "rounding": s.rounding,
        "figures": [f"{term}: " + ", ".join(f"{k.replace('_', ' ')} {figure_text(v)}" for k, v in f.items())
                    for term, f in s.figures.items() if f],
    }


def _signatures(view: PackView) -> dict[str, Any]:
    """One row a period, one column a party: who signed its current revision, when, and the signature."""
    parties = (view.summary.customer, view.summary.supplier)
    rows, signers = [], {}
    for m in view.months:
        if m.signoff is None or not m.signoff.signatures:
            continue
        by_party = {s.party: s for s in m.signoff.signatures}
        for s in m.signoff.signatures:
            signers[s.signer] = (s.signer, s.name, view.name(s.party))
        rows.append({"period": m.period, "revision": m.revision,
                     "cells": [{"signer": by_party[p].signer, "at": _day(by_party[p].at),
                                "signature": _abbreviate(by_party[p].signature)} if p in by_party else None for p in parties]})
    return {"signatures": rows, "signers": list(signers.values()), "signature_parties": [view.name(p) for p in parties]}


def _signoff_total(view: PackView) -> str:
    kept = [m.signoff for m in view.months if m.signoff is not None]
    if not kept:
        return "not kept"
    final = sum(1 for s in kept if s.status == "final")
    return f"{final} of {len(view.months)} final"


def _day(at: str) -> str:
    """A recorded time as the pack shows it: its date and minutes, UTC as recorded."""
    return at[:16].replace("T", " ") if at else "—"


def _abbreviate(signature: str) -> str:
    return signature if len(signature) <= 40 else f"{signature[:32]}…"


# -- charts ------------------------------------------------------------------------------------------


def _charts(view: PackView) -> dict[str, Any]:
    found: dict[str, Any] = {"trends": []}
    counter = iter(range(1, 1000))

    def ids() -> str:
        return f"pack{next(counter)}"

    c = view.summary.comparison
    if c is not None and c.by_period:
        data = [{"period": p, "contract": label, "amount": value} for p, now, then in c.by_period
                for label, value in (("this agreement", now), (_comparison_head(view), then))]
        found["comparison"] = Markup(charts.net_paid_svg(data, title="Net paid by the customer each month",
                                                         currency=view.currency, id_prefix=ids()))
    data = [{"period": m.period, "line": line.label,
             "amount": customer_signed(line.payer, line.payee, line.amount, view.summary.customer)}
            for m in view.months for line in m.statement.lines]
    if data:
        found["payments"] = Markup(charts.payments_svg(data, title="Paid each month, by statement line (credits below zero)",
                                                       currency=view.currency, id_prefix=ids()))
    trends: dict[str, list[tuple[str, ScoreRow]]] = {}
    for m in view.months:
        for r in m.scorecard.rows if m.scorecard else ():
            trends.setdefault(r.outcome_id, []).append((m.period, r))
    for outcome, rows in trends.items():
        last = rows[-1][1]
        points = [{"period": p, "value": r.value} for p, r in rows]
        found["trends"].append(Markup(charts.trend_svg(points, title=f"{last.statement} ({outcome})",
                                                       unit=view.units.get(last.metric, ""), baseline=last.baseline,
                                                       target=last.target, id_prefix=ids())))
    if trends:
        found["attainment"] = Markup(charts.svg(attainment_chart(trends), ids()))
    return found


def attainment_chart(trends: dict[str, list[tuple[str, ScoreRow]]]) -> alt.LayerChart:
    """Each outcome's attainment per month (percent of the way from baseline to target; 100% is the target)."""
    periods = list(dict.fromkeys(p for rows in trends.values() for p, _ in rows))
    values = [{"period": p, "outcome": oid, "attainment": float(r.attainment) if r.attainment is not None else None}
              for oid, rows in trends.items() for p, r in rows]
    x = alt.X("period:O", title=None, sort=periods, axis=alt.Axis(labelAngle=-45))
    lines = alt.Chart(alt.InlineData(values=values)).mark_line(point=True).encode(
        x=x, y=alt.Y("attainment:Q", title="attainment (%)"),
        color=alt.Color("outcome:N", title=None, scale=alt.Scale(range=charts.PALETTE),
                        legend=alt.Legend(orient="bottom", labelLimit=360)))
    target = alt.Chart(alt.InlineData(values=[{"period": p, "level": 100.0} for p in periods])).mark_line(
        strokeDash=[6, 4], color=charts.GOOD).encode(x=x, y="level:Q")
    return alt.LayerChart(layer=[lines, target]).properties(title="Attainment of each outcome (100% = target)",
                                                             width=charts.WIDTH, height=charts.HEIGHT)

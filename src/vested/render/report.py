"""The static HTML report of settled periods: scorecards, explained statements, charts, a comparison.

    contract_report(agreement, [(period, scorecard, statement), ...]) -> ContractReport
    render_report(ReportView(title=..., contracts=(...))) -> str

Where it sits: after **settle**; it renders the frozen view-model :class:`ReportView` that the
caller fills from the settlement results. The page is one self-contained file: inline CSS,
inline SVG charts (``vested.render.charts``), no script, no external resource, so it opens
offline and can be mailed or archived as it is. Every text that comes from an agreement or a
statement goes through ``_e`` (``html.escape``): a label is data, never markup.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from vested.core.model import Agreement
from vested.core.money import HUNDRED, ZERO, percent, show
from vested.core.scorecard import Scorecard, ScoreRow
from vested.core.statement import Statement, StatementLine
from vested.render import charts
from vested.render.statement import StatementView, fmt, money


@dataclass(frozen=True)
class ReportMonth:
    """One settled period of a contract: its statement and (when it has outcomes) its scorecard."""

    period: str
    statement: Statement
    scorecard: Scorecard | None = None


@dataclass(frozen=True)
class ContractReport:
    """One contract's periods, with what a reader needs to name things."""

    agreement_id: str
    title: str
    customer: str
    """The party id of the customer (the one that pays for the service)."""
    supplier: str
    """The party id of the supplier."""
    months: tuple[ReportMonth, ...]
    names: Mapping[str, str] = field(default_factory=dict)
    """Party id -> display name."""
    units: Mapping[str, str] = field(default_factory=dict)
    """Metric id -> unit (percent, hours, ...), for the scorecards and charts."""
    currency: str = ""
    summary: str = ""

    def name(self, party: str) -> str:
        return self.names.get(party, party)

    def paid(self, month: ReportMonth) -> Decimal:
        """Net amount the customer paid the supplier in ``month`` (negative when money flowed back)."""
        return month.statement.owed(self.customer, self.supplier)


@dataclass(frozen=True)
class ReportView:
    """Everything the HTML report shows, filled by the caller from the settlement results."""

    title: str
    contracts: tuple[ContractReport, ...]
    intro: str = ""
    """A paragraph under the title (the story of the report)."""
    notes: tuple[str, ...] = ()
    """Provenance shown under the intro: where the data came from, the engine version, ..."""
    events: Mapping[str, str] = field(default_factory=dict)
    """Period -> what happened then (e.g. "remote support goes live"), shown in the comparison."""


def contract_report(agreement: Agreement, months: Iterable[tuple[str, Scorecard | None, Statement]], *,
                    summary: str | None = None) -> ContractReport:
    """A contract's report from its agreement and its settled ``(period, scorecard, statement)`` in order."""
    customer = agreement.party_with_role("customer")
    supplier = agreement.party_with_role("supplier")
    parties = [p.id for p in agreement.parties]
    return ContractReport(
        agreement_id=agreement.id, title=agreement.title,
        customer=customer.id if customer else parties[0], supplier=supplier.id if supplier else parties[-1],
        months=tuple(ReportMonth(period, statement, scorecard) for period, scorecard, statement in months),
        names={p.id: p.name for p in agreement.parties}, units={m.id: m.unit for m in agreement.metrics},
        currency=agreement.policy.currency, summary=agreement.summary.strip() if summary is None else summary)


def render_report(view: ReportView, *, with_charts: bool = True) -> str:
    """The report as one HTML page (``with_charts=False`` leaves the charts out, for speed)."""
    ids = _Ids()
    body = [
        f"<header><h1>{_e(view.title)}</h1>",
        f"<p class=\"intro\">{_e(view.intro)}</p>" if view.intro else "",
        ("<ul class=\"notes\">" + "".join(f"<li>{_e(n)}</li>" for n in view.notes) + "</ul>") if view.notes else "",
        "</header>",
        _nav(view),
        _comparison(view, ids, with_charts),
        *(_contract(c, _section(i, c), ids, with_charts) for i, c in enumerate(view.contracts)),
        "<footer>Every amount is explained on its statement line: the formula, then the numbers that went in. "
        "Charts draw money as approximations; the tables carry the exact amounts.</footer>",
    ]
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{_e(view.title)}</title>\n"
            f"<style>{CSS}</style>\n</head>\n<body>\n" + "\n".join(part for part in body if part) + "\n</body>\n</html>\n")


# -- sections --------------------------------------------------------------------------------------


def _nav(view: ReportView) -> str:
    links = ["<a href=\"#comparison\">Comparison</a>"]
    links += [f"<a href=\"#{_section(i, c)}\">{_e(c.title)}</a>" for i, c in enumerate(view.contracts)]
    return "<nav>" + " · ".join(links) + "</nav>"


def _comparison(view: ReportView, ids: _Ids, with_charts: bool) -> str:
    contracts = view.contracts
    periods = sorted({m.period for c in contracts for m in c.months})
    paid = [{m.period: c.paid(m) for m in c.months} for c in contracts]
    two = len(contracts) == 2
    head = "".join(f"<th class=\"num\">{_e(c.title)}<br><span class=\"sub\">{_e(c.name(c.customer))} → "
                   f"{_e(c.name(c.supplier))}</span></th>" for c in contracts)
    if two:
        head += f"<th class=\"num\">difference<br><span class=\"sub\">{_e(contracts[1].title)} − {_e(contracts[0].title)}</span></th>"
    rows = []
    for period in periods:
        cells = [by_period.get(period) for by_period in paid]
        row = "".join(f"<td class=\"num\">{_money(v)}</td>" for v in cells)
        if two:
            row += f"<td class=\"num\">{_money(_minus(cells[1], cells[0]))}</td>"
        event = view.events.get(period, "")
        rows.append(f"<tr><th scope=\"row\">{_e(period)}</th>{row}<td>{_e(event)}</td></tr>")
    totals = [sum(by_period.values(), ZERO) for by_period in paid]
    total_row = "".join(f"<td class=\"num\">{_money(t)}</td>" for t in totals)
    if two:
        total_row += f"<td class=\"num\">{_money(totals[1] - totals[0])}</td>"
    currency = next((c.currency for c in contracts if c.currency), "")
    chart = ""
    if with_charts and periods:
        data = [{"period": m.period, "contract": c.title, "amount": c.paid(m)} for c in contracts for m in c.months]
        chart = _figure(charts.net_paid_svg(data, title="Net paid by the customer each period", currency=currency,
                                            id_prefix=ids.next()))
    sentences = [f"Over {len(c.months)} period{'s' * (len(c.months) != 1)}, {c.name(c.customer)} paid {c.name(c.supplier)} "
                 f"{money(t)} {c.currency} net under {c.title}." for c, t in zip(contracts, totals, strict=True)]
    return ("<section id=\"comparison\"><h2>Comparison</h2>"
            + "".join(f"<p>{_e(s)}</p>" for s in sentences) + chart
            + f"<table><caption>Net paid per period ({_e(currency)})</caption><thead><tr><th>period</th>{head}<th>note</th></tr></thead>"
            + "<tbody>" + "".join(rows) + "</tbody>"
            + f"<tfoot><tr><th scope=\"row\">total</th>{total_row}<td></td></tr></tfoot></table></section>")


def _contract(contract: ContractReport, anchor: str, ids: _Ids, with_charts: bool) -> str:
    trends = _trends(contract)
    parts = [f"<section id=\"{anchor}\"><h2>{_e(contract.title)}</h2>",
             f"<p class=\"parties\">{_e(contract.name(contract.customer))} (customer) and "
             f"{_e(contract.name(contract.supplier))} (supplier) · agreement <code>{_e(contract.agreement_id)}</code></p>"]
    if contract.summary:
        parts.append(f"<p>{_e(contract.summary)}</p>")
    if with_charts and contract.months:
        data = [{"period": m.period, "line": line.label, "amount": _signed(contract, line)}
                for m in contract.months for line in m.statement.lines]
        parts.append(_figure(charts.payments_svg(data, title="Paid each period, by statement line (credits below zero)",
                                                 currency=contract.currency, id_prefix=ids.next())))
        for outcome, rows in trends.items():
            last = rows[-1][1]
            points = [{"period": period, "value": row.value} for period, row in rows]
            parts.append(_figure(charts.trend_svg(points, title=f"{last.statement} ({outcome})",
                                                  unit=contract.units.get(last.metric, ""), baseline=last.baseline,
                                                  target=last.target, id_prefix=ids.next())))
    if any(m.scorecard is not None for m in contract.months):
        parts.append(_scorecard_overview(contract, anchor, trends))
    parts.append("<h3>Period by period</h3>")
    parts.extend(_month(contract, month, anchor) for month in contract.months)
    parts.append("</section>")
    return "\n".join(parts)


def _trends(contract: ContractReport) -> dict[str, list[tuple[str, ScoreRow]]]:
    """Each outcome's scorecard rows, period by period."""
    found: dict[str, list[tuple[str, ScoreRow]]] = {}
    for month in contract.months:
        for row in month.scorecard.rows if month.scorecard else ():
            found.setdefault(row.outcome_id, []).append((month.period, row))
    return found


def _scorecard_overview(contract: ContractReport, section: str, trends: dict[str, list[tuple[str, ScoreRow]]]) -> str:
    outcomes = list(trends)
    titles = {oid: rows[-1][1] for oid, rows in trends.items()}
    head = "".join(f"<th>{_e(oid)}<br><span class=\"sub\">target {_number(titles[oid].target)}</span></th>" for oid in outcomes)
    rows = []
    for month in contract.months:
        card = month.scorecard
        if card is None:
            continue
        by_id = {r.outcome_id: r for r in card.rows}
        cells = "".join(_status_cell(by_id.get(oid)) for oid in outcomes)
        warn = f"<td class=\"warn\">{len(card.warnings)} ⚠</td>" if card.warnings else "<td></td>"
        rows.append(f"<tr><th scope=\"row\"><a href=\"#{_anchor(section, month.period)}\">{_e(month.period)}</a></th>"
                    f"{cells}<td class=\"num\">{_score(card.overall)}</td>{warn}</tr>")
    return (f"<h3>Scorecards</h3><table class=\"overview\"><thead><tr><th>period</th>{head}<th>overall score</th>"
            f"<th>warnings</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _status_cell(row: ScoreRow | None) -> str:
    if row is None:
        return "<td></td>"
    return f"<td class=\"{_status_class(row.status)}\">{_number(row.value)} <span class=\"sub\">{_e(row.status)}</span></td>"


def _month(contract: ContractReport, month: ReportMonth, section: str) -> str:
    view = StatementView(contract.title, month.statement, dict(contract.names))
    net = "; ".join(view.net_sentences())
    score = f" · score {_score_text(month.scorecard.overall)}" if month.scorecard is not None else ""
    warned = " · ⚠ warning" if month.scorecard is not None and month.scorecard.warnings else ""
    parts = [f"<details id=\"{_anchor(section, month.period)}\"><summary><strong>{_e(month.period)}</strong> · "
             f"{_e(net)}{_e(score)}{_e(warned)}</summary>"]
    if month.scorecard is not None:
        parts.append(_scorecard_table(contract, month.scorecard))
    parts.append(_statement_table(contract, view))
    parts.append("</details>")
    return "\n".join(parts)


def _scorecard_table(contract: ContractReport, card: Scorecard) -> str:
    rows = []
    for r in card.rows:
        unit = contract.units.get(r.metric, "")
        supports = f" · supports {_e(r.parent)}" if r.parent else ""
        outcome = f"{_e(r.statement)}<br><span class=\"sub\">{_e(r.outcome_id)}{supports}</span>"
        rows.append(
            f"<tr><td>{outcome}</td><td><code>{_e(r.metric)}</code> <span class=\"sub\">{_e(unit)}, {_e(r.direction)} is better</span></td>"
            f"<td class=\"num\">{_number(r.value)}</td><td class=\"num\">{_number(r.baseline)}</td>"
            f"<td class=\"num\">{_number(r.target)}</td>"
            f"<td class=\"num\">{_attainment(r.attainment)}</td><td class=\"{_status_class(r.status)}\">{_e(r.status)}</td>"
            f"<td class=\"num\">{_e(percent(r.weight)) if r.weight else '—'}</td></tr>")
    warnings = "".join(f"<p class=\"warning\">⚠ {_e(w)}</p>" for w in card.warnings)
    return (f"<table class=\"scorecard\"><caption>Scorecard {_e(card.period)} · overall score {_score(card.overall)}</caption>"
            "<thead><tr><th>outcome</th><th>metric</th><th class=\"num\">value</th><th class=\"num\">baseline</th>"
            "<th class=\"num\">target</th><th class=\"num\">attainment</th><th>status</th><th class=\"num\">weight</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>{warnings}")


def _statement_table(contract: ContractReport, view: StatementView) -> str:
    s = view.statement
    rows = []
    for line in s.lines:
        inputs = ", ".join(f"{name} = {value}" for name, value in line.inputs)
        notes = "".join(f"<li>{_e(n)}</li>" for n in line.notes)
        how = (f"<div class=\"formula\">{_e(line.formula)}</div><div class=\"calc\">{_e(line.calculation)}</div>"
               + (f"<div class=\"sub\">inputs: {_e(inputs)}</div>" if inputs else "")
               + (f"<ul class=\"line-notes\">{notes}</ul>" if notes else ""))
        rows.append(f"<tr><td>{_e(line.label)}<br><span class=\"sub\">{_e(line.term_type)} · {_e(line.term_id)}</span></td>"
                    f"<td>{_e(view.name(line.payer))} → {_e(view.name(line.payee))}</td>"
                    f"<td class=\"num\">{_e(money(line.amount))}</td><td>{how}</td></tr>")
    net = "".join(f"<p class=\"net\">Net: {_e(sentence)}</p>" for sentence in view.net_sentences())
    figures = [f"{term}: " + ", ".join(f"{k.replace('_', ' ')} {fmt(v)}" for k, v in f.items()) for term, f in s.figures.items() if f]
    extra = "".join(f"<li>{_e(f)}</li>" for f in figures)
    return (f"<table class=\"statement\"><caption>Statement {_e(s.period or '')} ({_e(s.currency)})</caption>"
            "<thead><tr><th>term</th><th>payer → payee</th><th class=\"num\">amount</th><th>how it was calculated</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>{net}<p class=\"sub\">Rounding: {_e(s.rounding)}</p>"
            + (f"<ul class=\"figures\">{extra}</ul>" if extra else ""))


# -- small pieces ----------------------------------------------------------------------------------


class _Ids:
    """Distinct id prefixes for the inline SVGs of one page."""

    def __init__(self) -> None:
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"chart{self.count}"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _anchor(*parts: str) -> str:
    """An id attribute value from free text: letters, digits and dashes only."""
    return "-".join("".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in p) for p in parts)


def _section(index: int, contract: ContractReport) -> str:
    """The id of a contract's section: its position makes it unique even if two agreements share an id."""
    return _anchor(f"c{index + 1}", contract.agreement_id)


def _figure(svg: str) -> str:
    return f"<figure>{svg}</figure>"


def _signed(contract: ContractReport, line: StatementLine) -> Decimal:
    """A line's amount as the customer sees it: positive when it pays, negative when it receives."""
    return -line.amount if line.payee == contract.customer else line.amount


def _minus(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None or b is None else a - b


def _money(value: Decimal | None) -> str:
    return "—" if value is None else _e(money(value))


def _number(value: Decimal | None) -> str:
    """A metric value for reading: at most two decimals, no trailing zeros (exact values are in the data)."""
    if value is None:
        return "—"
    rounded = value.quantize(Decimal("0.01")) if value.as_tuple().exponent < -2 else value  # type: ignore[operator]
    return _e(show(rounded))


def _attainment(value: Decimal | None) -> str:
    if value is None:
        return "—"
    shown = value.quantize(Decimal("0.1"))
    return _e(f"{shown if shown != 0 else abs(shown)}%")  # no "-0.0%"


def _score_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{min(value, HUNDRED).quantize(Decimal('0.1'))} / 100"


def _score(value: Decimal | None) -> str:
    return _e(_score_text(value))


def _status_class(status: str) -> str:
    return {"met": "met", "not met": "miss", "worsening": "miss", "improving": "better"}.get(status, "nodata")


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#24292f;margin:0 auto;max-width:1100px;padding:1.5rem}
h1{font-size:1.7rem;margin:.2rem 0}h2{border-bottom:2px solid #d0d7de;padding-bottom:.2rem;margin-top:2.5rem}
h3{margin-top:1.6rem}nav{margin:1rem 0;padding:.5rem 0;border-top:1px solid #d0d7de;border-bottom:1px solid #d0d7de}
a{color:#0969da}.intro{font-size:1.05rem}.notes,.sub{color:#57606a;font-size:.85em}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1rem}caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;vertical-align:top;text-align:left}thead th{background:#f6f8fa}
tbody th{white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}tfoot th,tfoot td{font-weight:700;background:#f6f8fa}
.met{background:#dafbe1}.miss{background:#ffebe9}.better{background:#fff8c5}.nodata{background:#f6f8fa;color:#57606a}
.warn{color:#9a6700;font-weight:600}.warning{background:#fff8c5;border-left:4px solid #d4a72c;padding:.4rem .6rem}
.formula{font-weight:600}.calc{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em;white-space:pre-wrap}
.net{font-weight:600}details{border:1px solid #d0d7de;border-radius:6px;padding:.4rem .8rem;margin:.4rem 0}
summary{cursor:pointer}figure{margin:1rem 0;overflow-x:auto}figure svg{max-width:100%;height:auto}
code{background:#f6f8fa;padding:0 .2rem;border-radius:3px}footer{margin-top:3rem;color:#57606a;font-size:.85em}
@media print{details{border:none}details>summary{list-style:none}}
"""

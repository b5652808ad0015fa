"""The HTML report and its charts: well-formed, self-contained, every line shown, every label escaped.

The views are made by hand here (statements and scorecards as records), and one from small
agreements priced inline, so the expected amounts and totals are computed in the test.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal as D
from html.parser import HTMLParser
from typing import Any

import pytest

from tests.helpers import agreement, minimal, price
from vested.core.model import Agreement
from vested.core.scorecard import Scorecard, ScoreRow, build_scorecard
from vested.core.statement import NetAmount, Statement, StatementLine
from vested.render import charts
from vested.render.report import ContractReport, ReportMonth, ReportView, contract_report, render_report

SVG = "{http://www.w3.org/2000/svg}svg"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
EVIL = "<script>alert('x')</script> & co"


class StrictParser(HTMLParser):
    """Collects problems: a closing tag that does not close the innermost open element, or left open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.links: list[str] = []
        self.ids: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attributes(attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attributes(attrs)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def _attributes(self, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "srcset", "action", "poster", "data"):
                self.links.append(value or "")
            if name == "id":
                self.ids.append(value or "")


def parse(page: str) -> StrictParser:
    parser = StrictParser()
    parser.feed(page)
    parser.close()
    assert parser.problems == []
    assert parser.stack == [], f"left open: {parser.stack}"
    return parser


def line(label: str, amount: str, payer: str = "acme", payee: str = "deskco", term: str = "fee") -> StatementLine:
    return StatementLine(term_id=term, term_type="fixed_fee", label=label, payer=payer, payee=payee, amount=D(amount),
                         exact=D(amount), formula="fee = fixed amount per period", calculation=f"{amount} = {amount}",
                         inputs=(("amount", amount),), notes=("a note <b>kept as text</b>",))


def statement(period: str, lines: tuple[StatementLine, ...], net: str) -> Statement:
    return Statement(agreement_id="hand", period=period, currency="USD", lines=lines,
                     net=(NetAmount("acme", "deskco", D(net)),), rounding="half up to 0.01 per line")


def score_row(value: str, status: str = "not met") -> ScoreRow:
    return ScoreRow(outcome_id="stores_trading", statement="Stores can sell <every> hour", metric="store_availability",
                    direction="higher", value=D(value), baseline=D("97.8"), target=D("99.5"), attainment=D("50"),
                    status=status, weight=D("0.6"), parent=None, previous=())  # type: ignore[arg-type]


def hand_view() -> ReportView:
    names = {"acme": "Acme Retail", "deskco": "DeskCo Services"}
    task = ContractReport(
        agreement_id="task", title="Task-based", customer="acme", supplier="deskco", names=names, currency="USD",
        months=(ReportMonth("2025-06", statement("2025-06", (line("Calls handled", "150000.00", term="calls"),
                                                             line("On-site visits", "162000.00", term="visits")), "312000.00")),
                ReportMonth("2025-07", statement("2025-07", (line("Calls handled", "110000.00", term="calls"),
                                                             line("On-site visits", "32400.00", term="visits")), "142400.00"))))
    credit = line(EVIL, "5400.00", payer="deskco", payee="acme", term="credits")
    vested = ContractReport(
        agreement_id="vested", title="Vested", customer="acme", supplier="deskco", names=names, currency="USD",
        units={"store_availability": "percent"},
        months=(ReportMonth("2025-06", statement("2025-06", (line("Store fee", "270000.00"), credit), "264600.00"),
                            Scorecard("vested", "2025-06", (score_row("98.65"),), D("30"),
                                      ("watermelon: outcome 'stores_trading' <is red>",))),
                ReportMonth("2025-07", statement("2025-07", (line("Store fee", "270000.00"),), "270000.00"),
                            Scorecard("vested", "2025-07", (score_row("99.6", "met"),), D("100"), ()))))
    return ReportView(title="Help desk <report>", contracts=(task, vested), intro="Two contracts, one story.",
                      notes=("seed 7",), events={"2025-07": "remote support <live>"})


@pytest.fixture(scope="module")
def page() -> str:
    return render_report(hand_view())


# -- the page --------------------------------------------------------------------------------------


def test_the_page_is_well_formed_html(page: str) -> None:
    parser = parse(page)
    assert page.startswith("<!DOCTYPE html>")
    assert len(parser.ids) == len(set(parser.ids)), "an id is used twice (charts must not clash)"


def test_every_statement_line_label_and_amount_is_shown(page: str) -> None:
    text = " ".join(parse(page).text)
    for contract in hand_view().contracts:
        for month in contract.months:
            for item in month.statement.lines:
                assert item.label in text
                assert f"{item.amount:,.2f}" in text
                assert item.formula in text and item.calculation in text
            assert f"{month.statement.net[0].amount:,.2f}" in text


def test_the_comparison_totals_and_differences(page: str) -> None:
    text = " ".join(parse(page).text)
    # task-based: 312,000 + 142,400 = 454,400; Vested: 264,600 + 270,000 = 534,600
    assert "454,400.00" in text and "534,600.00" in text
    # differences (Vested − task-based): 264,600 − 312,000 = −47,400 and 270,000 − 142,400 = 127,600
    assert "-47,400.00" in text and "127,600.00" in text
    # total difference 534,600 − 454,400 = 80,200
    assert "80,200.00" in text
    assert "remote support <live>" in text


def test_the_scorecard_shows_value_baseline_target_attainment_status_and_warnings(page: str) -> None:
    text = " ".join(parse(page).text)
    assert "98.65" in text and "97.8" in text and "99.5" in text and "50.0%" in text
    assert "not met" in text and "met" in text
    assert "30.0 / 100" in text and "100.0 / 100" in text
    assert "watermelon: outcome 'stores_trading' <is red>" in text
    assert "60%" in text  # the weight


def test_labels_are_escaped_never_markup(page: str) -> None:
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in page
    assert "<b>kept as text</b>" not in page and "<every>" not in page and "<report>" not in page
    assert EVIL in " ".join(parse(page).text)


def test_no_external_resource(page: str) -> None:
    links = parse(page).links
    assert links, "the page has its own anchors"
    assert all(link.startswith("#") for link in links), [link for link in links if not link.startswith("#")]
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "@import" not in page and "url(http" not in page


def test_charts_are_inline_svg_one_per_outcome_and_per_contract(page: str) -> None:
    # one comparison chart, one payments chart per contract, one trend per outcome (the Vested one has one)
    assert page.count("<svg") == 1 + 2 + 1
    for svg in re.findall(r"<svg.*?</svg>", page, re.DOTALL):
        assert ET.fromstring(svg).tag == SVG
    assert "<svg" not in render_report(hand_view(), with_charts=False)


# -- from agreements -------------------------------------------------------------------------------

PER_CALL = minimal("""
- {id: call_fee, type: per_unit, label: Calls handled, quantity: calls, rate: 25}
""", "- {id: calls, unit: count}")

PER_STORE = minimal("""
- {id: store_fee, type: fixed_fee, label: Working stores, amount: 1000}
""", """
- {id: uptime, unit: percent}
""", """
outcomes:
  - {id: up, statement: Stores trade, metric: uptime, direction: higher, target: 99.5, weight: 100%,
     baseline: {value: 97.5, period: 2024}}
""")


def settled(priced_agreement: Agreement, facts: str) -> Statement:
    statement = price(priced_agreement, facts).statement
    assert statement is not None
    return statement


def test_a_report_from_priced_agreements() -> None:
    task, vested = agreement(PER_CALL), agreement(PER_STORE)
    calls = {"2025-06": 40, "2025-07": 30}
    uptime = {"2025-06": D("98.5"), "2025-07": D("99.5")}
    history: dict[str, dict[str, D | None]] = {}
    task_months: list[tuple[str, Scorecard | None, Statement]] = []
    vested_months: list[tuple[str, Scorecard | None, Statement]] = []
    for period in calls:
        history[period] = {"uptime": uptime[period]}
        task_months.append((period, None, settled(task, f"period: {period}\nvalues: {{calls: {calls[period]}}}")))
        vested_months.append((period, build_scorecard(vested, period, history),
                              settled(vested, f"period: {period}\nvalues: {{uptime: {uptime[period]}}}")))
    view = ReportView(title="Two contracts", contracts=(contract_report(task, task_months), contract_report(vested, vested_months)))
    first = view.contracts[0]
    assert (first.customer, first.supplier, first.name("buyer")) == ("buyer", "seller", "Buyer Co")
    page = render_report(view, with_charts=False)
    text = " ".join(parse(page).text)
    # 25 × 40 = 1,000 and 25 × 30 = 750: 1,750 under the per-call contract; 2 × 1,000 under the per-store one
    assert "1,750.00" in text and "2,000.00" in text
    assert "Buyer Co paid Seller Co 1,750.00 USD net" in text
    # (98.5 − 97.5) ÷ (99.5 − 97.5) = 50% in June; met in July
    assert "50.0%" in text and "100.0%" in text


# -- charts ----------------------------------------------------------------------------------------


def test_trend_chart_is_valid_svg_with_baseline_and_target() -> None:
    rows: list[dict[str, Any]] = [{"period": "2025-05", "value": D("97.9")}, {"period": "2025-06", "value": None},
                                  {"period": "2025-07", "value": D("99.1")}]
    svg = charts.trend_svg(rows, title="Store availability", unit="percent", baseline=D("97.8"), target=D("99.5"))
    root = ET.fromstring(svg)
    assert root.tag == SVG
    text = " ".join(t for t in root.itertext())
    assert "Store availability" in text and "baseline 97.8" in text and "target 99.5" in text


def test_payments_and_net_charts_are_valid_svg_and_escape_labels() -> None:
    payments = charts.payments_svg([{"period": "2025-06", "line": EVIL, "amount": D("-5400")},
                                    {"period": "2025-06", "line": "Fee", "amount": D("270000")}], title="Paid", currency="USD")
    net = charts.net_paid_svg([{"period": "2025-06", "contract": "Task <based>", "amount": D("312000")},
                               {"period": "2025-06", "contract": "Vested", "amount": D("264600")}], title="Net", currency="USD")
    for svg in (payments, net):
        assert ET.fromstring(svg).tag == SVG
        assert "<script" not in svg
    assert EVIL in " ".join(ET.fromstring(payments).itertext())


def test_chart_ids_are_prefixed_for_one_page() -> None:
    svg = '<svg><defs><clipPath id="clip1"/></defs><g clip-path="url(#clip1)"><use href="#clip1"/></g></svg>'
    assert charts._prefix_ids(svg, "c7") == ('<svg><defs><clipPath id="c7-clip1"/></defs><g clip-path="url(#c7-clip1)">'
                                              '<use href="#c7-clip1"/></g></svg>')


def test_png_rendering() -> None:
    chart = charts.net_paid_chart([{"period": "2025-06", "contract": "A", "amount": 1}], title="Net", currency="USD")
    assert charts.png(chart).startswith(b"\x89PNG\r\n\x1a\n")

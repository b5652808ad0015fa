"""Board packs: the per-party summary, caps that bind, sign-off, and the PDF's pages and contents.

The help-desk demo is run once (both contracts settled in their own records, the Vested one signed
off); every figure the tests expect is computed here from the statements' JSON in the records, not
read from the pack. A small agreement written inline shows the pack is made for any agreement.
"""

from __future__ import annotations

import io
import json
import re
import textwrap
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from vested.core.money import show_money
from vested.core.periods import months_between
from vested.render.pack_html import render_pack_html
from vested.render.pack_pdf import render_pack_pdf
from vested.services import deal
from vested.services.report import Against, board_pack
from vested.services.running import ingest, settle
from vested.services.workspace import open_workspace

SCENARIO = Path(__file__).resolve().parents[1] / "examples" / "helpdesk" / "scenario.yaml"
TASK_BASED = SCENARIO.parent / "task-based.yaml"
MONTHS = months_between("2025-01", "2026-06")


def clock() -> datetime:
    return datetime(2026, 7, 3, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from vested.services.demo import run_story

    out = tmp_path_factory.mktemp("demo")
    run_story(out)
    return out


def paid_by_acme(project: Path, agreement_id: str) -> dict[str, Decimal]:
    """Net paid by acme to deskco per month, read from each current statement's JSON in the record."""
    ws = open_workspace(project, "reader")
    found = {}
    for period in MONTHS:
        record = ws.record.statement(agreement_id, period)
        assert record is not None
        net = json.loads(record.text)["statement"]["net"]
        found[period] = sum((Decimal(n["amount"]) * (1 if n["payer"] == "acme" else -1) for n in net), Decimal(0))
    ws.close()
    return found


def pdf_pages(data: bytes) -> list[str]:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(io.BytesIO(data))
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def flat(text: str) -> str:
    """Page text with line breaks (and hyphenless wraps) as spaces, for matching sentences."""
    return re.sub(r"\s+", " ", text.replace("\r", " "))


# -- the help-desk pack ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_pdf(story: Path) -> tuple[bytes, object]:
    ws = open_workspace(story / "helpdesk-vested", "reader", clock=clock)
    against = Against(TASK_BASED, open_workspace(story / "helpdesk-task-based", "reader"))
    result = board_pack(ws, story / "agreements" / "vested.yaml", None, SCENARIO, against)
    assert result.ok, result.diagnostics
    assert result.value is not None
    return render_pack_pdf(result.value), result.value


def test_the_demo_pack_shows_that_both_parties_won(story: Path, demo_pdf: tuple[bytes, object]) -> None:
    data, _ = demo_pdf
    vested_paid = sum(paid_by_acme(story / "helpdesk-vested", "helpdesk-vested").values(), Decimal(0))
    task_paid = sum(paid_by_acme(story / "helpdesk-task-based", "helpdesk-task-based").values(), Decimal(0))
    assert vested_paid < task_paid
    # the supplier's cost to serve over the same months, as the scenario estimates it under each contract
    ws = open_workspace(story / "helpdesk-vested", "reader")
    costs = []
    for agreement, levers in ((story / "agreements" / "vested.yaml", "best"), (TASK_BASED, "none")):
        run = deal.economics(ws, agreement, SCENARIO, levers).value
        assert run is not None
        costs.append(sum((p.money.supplier_cost + p.money.supplier_investment for p in run.economics.periods
                          if p.period in MONTHS), Decimal(0)))
    margin_vested, margin_task = vested_paid - costs[0], task_paid - costs[1]
    assert margin_vested > margin_task

    summary = flat(pdf_pages(data)[1])
    assert "Executive summary" in summary
    assert (f"Both parties won: Acme Retail paid {show_money(task_paid - vested_paid)} USD less than under "
            "“Store IT help desk (task-based)”, as settled, and DeskCo Services' margin is "
            f"{show_money(margin_vested - margin_task)} USD higher.") in summary
    assert f"Acme Retail paid DeskCo Services {show_money(vested_paid)} USD net over 18 months, 2025-01 to 2026-06." in summary
    assert f"margin {show_money(margin_vested)} USD" in summary
    assert f"margin {show_money(margin_task)} USD" in summary
    for figure in (vested_paid, task_paid, costs[0], costs[1], margin_vested, margin_task):
        assert show_money(figure) in summary
    doc = " ".join((Path(__file__).resolve().parents[1] / "docs" / "reports.md").read_text(encoding="utf-8").split())
    for figure in (task_paid - vested_paid, margin_vested - margin_task, vested_paid, task_paid, margin_vested, margin_task):
        assert show_money(figure) in doc, "docs/reports.md shows the demo's figures"


def test_every_page_is_numbered_and_the_contents_give_the_pages_sections_start_on(demo_pdf: tuple[bytes, object]) -> None:
    pages = [flat(p) for p in pdf_pages(demo_pdf[0])]
    count = len(pages)
    assert count > 5
    for number, text in enumerate(pages, start=1):
        assert f"page {number} of {count}" in text
    contents = pages[0]
    entries = dict(re.findall(r"(Executive summary|Scorecard|Caps, corridors and the supplier's incentive|Payments and sign-off|"
                              r"Signatures|Disputes and decisions|Statements) ?\.{3,} ?(\d+)", contents))
    assert list(entries) == ["Executive summary", "Scorecard", "Caps, corridors and the supplier's incentive",
                             "Payments and sign-off", "Signatures", "Disputes and decisions", "Statements"]
    for heading, page in entries.items():
        assert heading in pages[int(page) - 1], f"{heading} is not on page {page}"


def test_the_pack_shows_the_sign_off_the_signatures_the_dispute_and_the_version(story: Path,
                                                                                 demo_pdf: tuple[bytes, object]) -> None:
    data, _ = demo_pdf
    text = flat(" ".join(pdf_pages(data)))
    assert "18 of 18 final" in text
    ws = open_workspace(story / "helpdesk-vested", "reader")
    signature = ws.record.signatures("helpdesk-vested", "2025-01")[0].signature
    version = ws.record.statement("helpdesk-vested", "2025-01")
    assert version is not None
    ws.close()
    assert signature[:32] in text
    assert version.agreement_hash in text
    assert "Pack made 2026-07-03" in text
    assert "the outage on the 12th was planned maintenance" in text
    assert "Closed: both parties signed the resolution." in text


def test_a_cap_that_binds_is_counted_from_the_statements_figures(story: Path, demo_pdf: tuple[bytes, object]) -> None:
    data, _ = demo_pdf
    ws = open_workspace(story / "helpdesk-vested", "reader")
    binding = []
    for period in MONTHS:
        record = ws.record.statement("helpdesk-vested", period)
        assert record is not None
        if json.loads(record.text)["statement"]["figures"]["shared_value"]["cap_binds"]:
            binding.append(period)
    ws.close()
    assert binding and binding[-1] == MONTHS[-1]
    text = flat(" ".join(pdf_pages(data)))
    assert f"The cap of 'Shared value of less downtime' (shared_value) binds in every month since {binding[0]}" in text
    assert "has gained nothing under this term from further improvement" in text


def test_the_demo_pack_as_html_is_one_self_contained_page(demo_pdf: tuple[bytes, object]) -> None:
    from vested.render.pack import PackView

    view = demo_pdf[1]
    assert isinstance(view, PackView)
    page = render_pack_html(view)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert not re.search(r'(src|href)="(https?:|//)', page)
    assert page.count("<svg") >= 5  # comparison, payments, three trends, attainment
    for anchor in ("summary", "scorecard", "incentives", "payments", "signatures", "disputes", "statements"):
        assert f'id="{anchor}"' in page and f'href="#{anchor}"' in page
    for period in MONTHS:
        assert f'id="statement-{period}"' in page
    assert page.count('class="verdict win"') == 1


# -- any agreement ---------------------------------------------------------------------------------------

CAPPED = textwrap.dedent("""\
    vested: 1
    id: capped
    title: Fee and <capped> savings
    parties:
      - {id: buyer, name: Buyer & Co, role: customer}
      - {id: seller, name: Seller Ltd, role: supplier}
    metrics:
      - {id: downtime, unit: money, minimum: 0, reported_by: buyer}
    outcomes:
      - id: less_downtime
        statement: Less downtime
        metric: downtime
        direction: lower
        baseline: {value: 1000, period: 2024, source: invoices}
        target: 600
    pricing:
      - {id: fee, type: fixed_fee, amount: 1000}
      - {id: share, label: Shared savings, type: gainshare, baseline: 1000, actual: downtime, sharing_rate: 50%, cap: 10%}
    """)


def test_a_pack_of_any_agreement_against_the_previous_year(tmp_path: Path) -> None:
    (tmp_path / "capped.yaml").write_text(CAPPED)
    months = months_between("2025-01", "2026-02")
    downtime = {m: 700 - 10 * i for i, m in enumerate(months)}
    reported = tmp_path / "reported.csv"
    reported.write_text("metric,period,value,reported_by\n" + "".join(f"downtime,{m},{v},buyer\n" for m, v in downtime.items()))
    ws = open_workspace(tmp_path / "project", "someone", clock=clock)
    assert ingest(ws, tmp_path / "capped.yaml", "reported", str(reported)).ok
    assert settle(ws, tmp_path / "capped.yaml", months).ok

    result = board_pack(ws, tmp_path / "capped.yaml", ["2026-01", "2026-02", "2026-03"])
    view = result.value
    assert view is not None
    assert [d.message for d in result.diagnostics] == ["not settled, so not in the pack: 2026-03"]
    # savings (1000 - downtime) x 50% is over the cap (10% of 1000 = 100) every month: 1,100 a month, then and now
    assert view.summary.paid == Decimal(2200)
    comparison = view.summary.comparison
    assert comparison is not None and comparison.kind == "previous year"
    assert (comparison.paid_now, comparison.paid_then, comparison.periods) == (Decimal(2200), Decimal(2200), ("2026-01", "2026-02"))
    [cap] = view.bindings
    assert (cap.term_id, cap.limit, cap.months, cap.every_month) == ("share", "cap", ("2026-01", "2026-02"), True)

    page = render_pack_html(view, with_charts=False)
    assert "Fee and &lt;capped&gt; savings" in page and "<capped>" not in page
    assert "Buyer &amp; Co paid Seller Ltd 2,200.00 USD net over 2 months, 2026-01 to 2026-02." in page
    assert ("binds in every month (2 of 2): Seller Ltd gains nothing under this term from further improvement") in page
    assert "no scenario gives the supplier&#39;s cost to serve" in page
    assert "proposed" in page  # nobody signed: the statements are only proposed
    text = flat(" ".join(pdf_pages(render_pack_pdf(view, with_charts=False))))
    assert "Buyer & Co paid Seller Ltd 2,200.00 USD" in text
    assert "0 of 2 final" in text


def test_a_pack_of_months_never_settled_is_refused_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "capped.yaml").write_text(CAPPED)
    result = board_pack(open_workspace(tmp_path / "project", "someone"), tmp_path / "capped.yaml", ["2025-01"])
    assert result.value is None
    [problem] = result.errors
    assert "capped has no settled month in 2025-01" in problem.message


def test_the_command_writes_the_pack_and_says_where(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vested.cli import app

    (tmp_path / "capped.yaml").write_text(CAPPED)
    reported = tmp_path / "reported.csv"
    reported.write_text("metric,period,value,reported_by\ndowntime,2025-01,700,buyer\ndowntime,2025-02,650,buyer\n")
    ws = open_workspace(tmp_path / "project", "someone")
    assert ingest(ws, tmp_path / "capped.yaml", "reported", str(reported)).ok
    assert settle(ws, tmp_path / "capped.yaml", ["2025-01", "2025-02"]).ok
    ws.close()
    out = tmp_path / "pack.html"
    run = CliRunner().invoke(app, ["report", str(tmp_path / "capped.yaml"), "--project", str(tmp_path / "project"),
                                   "--format", "html", "--out", str(out), "--json"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert (data["ok"], data["file"], data["months"]) == (True, str(out), ["2025-01", "2025-02"])
    assert data["summary"]["paid"] == "2200.00"
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_every_option_docs_reports_md_shows_exists() -> None:
    import typer.main

    from vested.cli import app

    command = getattr(typer.main.get_command(app), "commands", {})["report"]
    known = {opt for param in command.params for opt in param.opts}
    doc = (Path(__file__).resolve().parents[1] / "docs" / "reports.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", "\n".join(re.findall(r"```sh\n(.*?)```", doc, flags=re.S))))
    assert shown <= known
    assert shown >= {"--period", "--from", "--to", "--scenario", "--against", "--against-project", "--format"}

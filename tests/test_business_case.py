"""The customer's business case is stated against the status quo, and says so; a lever's own payback
stays against the same agreement without the lever (issue: economics named one baseline only)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.helpers import ws
from vested.core.finance import payback
from vested.services import deal

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "helpdesk"


def test_the_help_desk_business_case_is_against_the_task_based_contract() -> None:
    run = deal.economics(ws(), EXAMPLES / "vested.yaml", EXAMPLES / "scenario.yaml").value
    today = deal.economics(ws(), EXAMPLES / "task-based.yaml", EXAMPLES / "scenario.yaml", "none").value
    compared = deal.compare(ws(), EXAMPLES / "task-based.yaml", EXAMPLES / "vested.yaml", EXAMPLES / "scenario.yaml").value
    assert run is not None and today is not None and compared is not None
    case = run.against_status_quo
    assert case is not None and case.status_quo == "task-based.yaml with no levers"
    # the NPV gain is what compare reports for the Vested agreement against the same status quo
    assert abs(case.customer_npv_gain - compared.positions[1].customer_change) < Decimal("0.01")
    # the payback, worked out here from the two contracts' monthly costs
    mine, base = run.economics.periods, today.economics.periods
    invested = [p.money.customer_investment for p in mine]
    start = next(t for t, amount in enumerate(invested) if amount > 0)
    savings = [b.money.customer_total_cost - a.money.customer_total_cost + a.money.customer_investment
               for a, b in zip(mine[start:], base[start:], strict=True)]
    assert case.payback_months == payback(sum(invested), savings)
    # against the status quo the customer also saves the Vested agreement's lower fees: sooner than the lever alone
    [remote] = [i for i in run.economics.investments if i.lever == "remote_support"]
    assert case.payback_months is not None and remote.payback_months is not None
    assert case.payback_months < remote.payback_months


def test_the_agreement_that_is_its_own_status_quo_has_no_business_case() -> None:
    run = deal.economics(ws(), EXAMPLES / "task-based.yaml", EXAMPLES / "scenario.yaml").value
    assert run is not None and run.against_status_quo is None


def test_the_output_names_each_baseline() -> None:
    from rich.console import Console

    from vested.render.deal import economics_table

    run = deal.economics(ws(), EXAMPLES / "vested.yaml", EXAMPLES / "scenario.yaml").value
    assert run is not None
    console = Console(width=100, record=True)
    console.print(economics_table(run.economics, run.lever_choice, run.against_status_quo))
    text = " ".join(console.export_text().split())
    assert "Against the status quo (task-based.yaml with no levers)" in text
    assert "against the same scenario without that lever" in text

"""Economics, comparison and alignment on tiny agreements and scenarios, every number worked by hand.

The tiny world: a supplier does jobs for a customer; 20 jobs a month for two months, then 30. The
task-based agreement pays 100 a month plus 10 a job. The supplier's cost to serve is 40 a month plus
6 a job. The customer loses 2 per unit of `downtime` (50 a month) and pays 7 a month for licences.
Levers: `automate` (from month 2: the supplier invests 90 and pays 5 a month; jobs −50%,
downtime −10), `kiosk` (from month 3: the customer invests 60; downtime −50%) and `dashboard`
(the supplier invests 80, the customer pays 10 a month; no effect at all).
"""

from __future__ import annotations

import textwrap
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tests.helpers import agreement, minimal, ws
from vested.adapters.scenario_load import load_scenario_text
from vested.core.alignment import align
from vested.core.compare import outcome_of, position, verdict
from vested.core.economics import economics
from vested.core.evaluation import EvaluationError, Evaluator
from vested.core.finance import discounted_payback, irr, npv, payback
from vested.core.model import Agreement
from vested.core.scenario import Scenario
from vested.core.scenario_checks import check_scenario_for
from vested.render.deal import align_json, align_table, compare_json, compare_table, economics_json, economics_table
from vested.render.diagnostics import format_diagnostics
from vested.services import deal

D = Decimal
TASK_BASED = agreement(minimal(
    """
    - {id: base, type: fixed_fee, amount: 100}
    - {id: per_job, type: per_unit, quantity: jobs, rate: 10}
    """,
    "- {id: jobs, unit: count}",
))

TINY = """\
scenario: 1
id: tiny
discount_rate: 0%
periods: {start: 2025-01, months: 4}
drivers:
  jobs: {series: [20, 20, 30, 30]}
  downtime: 50
customer:
  costs:
    - {label: Lost sales, driver: downtime, per_unit: 2}
    - {label: Licences, amount: 7}
supplier: {fixed_cost: 40, unit_costs: {jobs: 6}}
levers:
  - id: automate
    starts: 2025-02
    investment: {paid_by: supplier, amount: 90}
    running_cost: {paid_by: supplier, amount: 5}
    effects: {jobs: -50%, downtime: {add: -10}}
  - id: kiosk
    after: 2
    investment: {paid_by: customer, amount: 60}
    effects: {downtime: -50%}
  - id: dashboard
    investment: {paid_by: supplier, amount: 80}
    running_cost: {paid_by: customer, amount: 10}
"""
ONE_PERCENT_A_MONTH = "0.126825030131969720661201"  # 1.01 ** 12 − 1, exactly


def scenario(text: str = TINY, rate: str | None = None) -> Scenario:
    if rate is not None:
        text = text.replace("discount_rate: 0%", f"discount_rate: {rate}")
    loaded = load_scenario_text(textwrap.dedent(text), "scenario.yaml")
    assert loaded.scenario is not None and loaded.ok, format_diagnostics(loaded.diagnostics)
    return loaded.scenario


def fixed_fee(amount: int) -> Agreement:
    return agreement(minimal(f"- {{id: fee, type: fixed_fee, amount: {amount}}}"))


def test_each_month_by_hand_without_levers() -> None:
    e = economics(TASK_BASED, scenario())
    # month 1: pays 100 + 10 × 20 = 300; own costs 2 × 50 + 7 = 107; supplier cost 40 + 6 × 20 = 160
    # month 3: pays 100 + 10 × 30 = 400; supplier cost 40 + 6 × 30 = 220
    assert [p.money.customer_pays for p in e.periods] == [300, 300, 400, 400]
    assert [p.money.customer_total_cost for p in e.periods] == [407, 407, 507, 507]
    assert [p.money.supplier_margin for p in e.periods] == [140, 140, 180, 180]
    assert [dict(p.payments) for p in e.periods][2] == {"base": 100, "per_job": 300}
    assert e.totals.customer_total_cost == 1828 and e.totals.supplier_cost == 760 and e.totals.supplier_margin == 640
    assert e.customer_npv == -1828 and e.supplier_npv == 640  # at 0% the NPV is the plain sum
    assert e.investments == ()


def test_each_month_by_hand_with_levers() -> None:
    e = economics(TASK_BASED, scenario(), ["automate", "kiosk"])
    assert [p.levers for p in e.periods] == [(), ("automate",), ("automate", "kiosk"), ("automate", "kiosk")]
    # automate from month 2: jobs 20 × 50% = 10, then 15; downtime 50 − 10 = 40
    # kiosk from month 3 as well: downtime 50 × 50% − 10 = 15 (relative first, then the addition)
    assert [p.drivers["jobs"] for p in e.periods] == [20, 10, 15, 15]
    assert [p.drivers["downtime"] for p in e.periods] == [50, 40, 15, 15]
    assert [p.money.customer_pays for p in e.periods] == [300, 200, 250, 250]
    # own costs 2 × downtime + 7; the kiosk's 60 in month 3
    assert [p.money.customer_own_costs for p in e.periods] == [107, 87, 37, 37]
    assert [p.money.customer_investment for p in e.periods] == [0, 0, 60, 0]
    # supplier cost 40 + 6 × jobs + 5 running from month 2; its 90 in month 2
    assert [p.money.supplier_cost for p in e.periods] == [160, 105, 135, 135]
    assert [p.money.supplier_margin for p in e.periods] == [140, 5, 115, 115]
    assert e.customer_npv == -(407 + 287 + 347 + 287) and e.supplier_npv == 375


def test_npv_discounts_every_month_at_the_monthly_rate_from_the_first() -> None:
    e = economics(TASK_BASED, scenario(rate=ONE_PERCENT_A_MONTH))
    assert abs(e.monthly_rate - D("0.01")) < D("1e-25")
    expected = sum((D(m) / D("1.01") ** k for k, m in enumerate([140, 140, 180, 180], start=1)), D(0))
    assert abs(e.supplier_npv - expected) < D("0.005")
    assert e.supplier_npv == npv(e.monthly_rate, [140, 140, 180, 180], "excel")
    # the monthly rate is 1% to all 40 working digits: exact, no "≈" (the annual rate is cut for display)
    assert "(1 + ≈12.6825%)^(1/12) − 1 = 1% a month" in e.npv_convention
    assert "month k (k = 1 for the first month) is discounted k months" in e.npv_convention


def test_an_investment_pays_back_from_its_payers_incremental_flows() -> None:
    e = economics(TASK_BASED, scenario(rate=ONE_PERCENT_A_MONTH), ["kiosk"])
    (kiosk,) = e.investments
    # The customer's flows with the kiosk minus without: 0, 0, 100 − 50 saved... i.e. month 3
    # saves 2 × 25 = 50 in lost sales (and pays 60), month 4 saves 50: from the investment on, 50, 50.
    assert kiosk.paid_by == "customer" and kiosk.period == "2025-03" and kiosk.incremental_flows == (50, 50)
    assert kiosk.payback_months == D("1.2") == payback(60, [50, 50])  # 50 repays 50 in month 1, 10/50 of month 2
    # discounted: 50/1.01 = 49.504950 in month 1, then 60 − 49.504950 = 10.495050 of 50/1.01² = 49.014802
    assert abs(kiosk.discounted_payback_months - (1 + (60 - D(50) / D("1.01")) / (D(50) / D("1.01") ** 2))) < D("1e-20")
    assert kiosk.discounted_payback_months == discounted_payback(60, [50, 50], e.monthly_rate)
    # IRR: 50x + 50x² = 60 with x = 1/(1 + r): x = (−1 + √5.8)/2
    with localcontext() as ctx:
        ctx.prec = 40
        x = (-1 + D("5.8").sqrt()) / 2
        expected = 1 / x - 1
    assert kiosk.irr_monthly is not None and abs(kiosk.irr_monthly - expected) < D("1e-20")
    assert kiosk.irr_monthly == irr([-60, 50, 50])
    assert kiosk.irr_annual is not None and abs(kiosk.irr_annual - ((1 + expected) ** 12 - 1)) < D("1e-18")
    # incremental NPV: −10 in month 3 and +50 in month 4
    assert abs(kiosk.incremental_npv - (D(-10) / D("1.01") ** 3 + D(50) / D("1.01") ** 4)) < D("1e-20")


def test_an_investment_that_never_pays_back() -> None:
    e = economics(TASK_BASED, scenario(), ["automate"])
    (automate,) = e.investments
    # Paid per job, the supplier loses by automating: its margin falls by 135 in month 2 (90 invested
    # included) and by 65 in months 3 and 4, so there is nothing to pay the 90 back with.
    assert automate.incremental_flows == (-45, -65, -65)
    assert automate.payback_months is None and automate.discounted_payback_months is None
    assert automate.irr_monthly is None


def test_the_fast_npvs_equal_the_month_by_month_ones_for_every_combination() -> None:
    s = scenario(rate="8%")
    for a in (TASK_BASED, fixed_fee(350)):
        evaluator = Evaluator(a, s)
        for mask in range(8):
            e = economics(a, s, evaluator.lever_ids(mask))
            customer, supplier = evaluator.npvs(mask)
            assert abs(customer - e.customer_npv) < D("1e-15") and abs(supplier - e.supplier_npv) < D("1e-15")


def test_state_is_carried_from_month_to_month() -> None:
    # A cumulative target cost: each month pays the change in the supplier's 50% share of
    # (target to date − actual to date). Shares 10, 15, 5 -> payments 10, 5, −10.
    cumulative = agreement(minimal(
        """
        - id: share
          type: target_cost
          target: {metric: target_to_date}
          actual: cost_to_date
          assessment: cumulative
          ranges: [{supplier_share: 50%}]
        """,
        "- {id: target_to_date}\n- {id: cost_to_date}",
    ))
    s = scenario("""\
scenario: 1
id: cumulative
discount_rate: 0%
periods: {start: 2025-01, months: 3}
drivers:
  target_to_date: {series: [100, 200, 300]}
  cost_to_date: {series: [80, 170, 290]}
levers:
  - {id: lean, starts: 2025-02, effects: {cost_to_date: -10%}}
""")
    evaluator = Evaluator(cumulative, s)
    assert [evaluator.payment(t, 0) for t in range(3)] == [10, 5, -10]
    # lean from month 2: costs to date 80, 153, 261 -> shares 10, 23.5, 19.5 -> payments 10, 13.5, −4
    assert [evaluator.payment(t, 1) for t in range(3)] == [10, D("13.5"), -4]
    assert not evaluator.stateless
    assert evaluator.npvs(1) == (D("-19.5"), D("19.5"))
    fresh = Evaluator(cumulative, s)
    assert fresh.npvs(1) == (D("-19.5"), D("19.5")) and fresh.npvs(0) == (D(-5), D(5))


def test_a_driver_pushed_out_of_its_metric_range_is_an_error_at_the_lever() -> None:
    capped = agreement(minimal("- {id: fee, type: per_unit, quantity: uptime, rate: 1}",
                               "- {id: uptime, unit: percent, minimum: 0, maximum: 100}"))
    s = scenario("""\
scenario: 1
id: s
discount_rate: 0%
periods: {start: 2025-01, months: 2}
drivers: {uptime: 99.5}
levers:
  - {id: monitor, after: 1, effects: {uptime: {add: 1}}}
""")
    assert check_scenario_for(s, capped) == []
    with pytest.raises(EvaluationError) as raised:
        align(capped, s)
    (d,) = raised.value.diagnostics
    assert d.code == "driver-range" and d.path == ("levers", 0, "effects", "uptime") and d.document == "scenario"
    assert "in 2025-02 with monitor, driver 'uptime' is 100.5, above the metric's maximum 100" in d.message


# -- compare: the four verdicts --------------------------------------------------------------------------

def test_the_verdict_names_each_partys_result_customer_first() -> None:
    assert verdict(D(60), D(135)) == ("win-win", "the customer saves 60.00 and the supplier gains 135.00 (NPV): "
                                                 "both are better off than the status quo")
    assert verdict(D(260), D(-65))[0] == "win-lose"
    assert verdict(D(-140), D(335))[0] == "lose-win"
    assert verdict(D(-40), D(-80)) == ("lose-lose", "the customer is 40.00 worse off and the supplier loses 80.00 "
                                                    "(NPV): neither is better off than the status quo")
    assert verdict(D("0.004"), D(10))[0] == "lose-win"  # less than a cent is no gain
    assert verdict(D(0), D(0))[1].startswith("nothing changes")


@pytest.mark.parametrize(("fee", "levers", "customer", "supplier", "expected"), [
    # fixed fee A a month instead of paying per job; status quo: task-based, no levers (customer
    # total 1,828, supplier margin 640). With automate the customer's total is 4A + 368 (own costs
    # 107 + 87 × 3) and the supplier's margin 4A − 535 − 90; with the dashboard 4A + 428 + 40 and
    # 4A − 760 − 80.
    (350, ["automate"], 1828 - 1768, 775 - 640, "win-win"),
    (300, ["automate"], 1828 - 1568, 575 - 640, "win-lose"),
    (400, ["automate"], 1828 - 1968, 975 - 640, "lose-win"),
    (350, ["dashboard"], 1828 - 1868, 560 - 640, "lose-lose"),
])
def test_each_verdict_against_the_status_quo(fee: int, levers: list[str], customer: int, supplier: int,
                                             expected: str) -> None:
    s = scenario()
    status_quo = outcome_of(economics(TASK_BASED, s))
    p = position(outcome_of(economics(fixed_fee(fee), s, levers)), status_quo, "as given")
    assert (p.customer_change, p.supplier_change, p.verdict) == (customer, supplier, expected)
    assert p.value_created == customer + supplier
    if customer + supplier > 0:
        assert p.customer_share == D(customer) / D(customer + supplier)
    else:
        assert p.customer_share is None


# -- alignment -------------------------------------------------------------------------------------------

def test_paid_per_job_the_supplier_skips_automation_which_both_together_would_want() -> None:
    a = align(TASK_BASED, scenario())
    # Supplier margins (0%): none 640, automate 375, kiosk 640, dashboard 560. Indifferent between
    # none and the kiosk (the customer's investment), it is taken to pick what is better for both.
    assert a.supplier_best.levers == ("kiosk",) and a.supplier_best.supplier_npv == 640
    # Joint = −(own costs + the customer's lever costs + supplier costs + investments):
    # none −(428 + 760) = −1188; automate + kiosk −(268 + 60 + 535 + 90) = −953, the best.
    assert a.joint_best.levers == ("automate", "kiosk") and a.joint_best.joint_npv == -953
    assert a.misaligned and a.supplier_best.joint_npv == -(328 + 60 + 760)
    assert "leaves out automate" in a.reason and "195.00 of joint value" in a.reason
    assert a.method == "exhaustive" and a.combinations == a.total_combinations == 8


def test_paid_a_fixed_fee_the_supplier_automates_and_is_aligned() -> None:
    a = align(fixed_fee(350), scenario())
    assert a.supplier_best.levers == ("automate", "kiosk") and a.supplier_best.supplier_npv == 1400 - 535 - 90
    assert not a.misaligned and a.joint_best == a.supplier_best
    # against no levers under the same fee: (1,400 + 428) − (1,400 + 268 own costs + 60 for the kiosk)
    assert a.customer_change == 1828 - (1400 + 268 + 60)
    automate = next(e for e in a.lever_effects if e.lever == "automate")
    assert automate.chosen and automate.supplier_change == 1400 - 535 - 90 - (1400 - 760)


def test_the_joint_best_does_not_depend_on_the_agreement() -> None:
    s = scenario(rate="8%")
    bests = {align(a, s).joint_best for a in (TASK_BASED, fixed_fee(300), fixed_fee(400))}
    assert len({(b.levers, b.joint_npv.quantize(D("0.01"))) for b in bests}) == 1


def many_levers(count: int, months: int = 60) -> str:
    """Levers that each add 2^i jobs (so every combination gives a different number of jobs) and cost
    the supplier 4 × 2^i + (+1 if i is even else −1) a month: under 10 a job, lever i earns the
    supplier 10 × 2^i − 6 × 2^i − that cost = −1 if i is even, +1 if odd."""
    levers = "\n".join(f"  - {{id: l{i}, running_cost: {{paid_by: supplier, amount: {4 * 2 ** i + (1 if i % 2 == 0 else -1)}}}, "
                       f"effects: {{jobs: {{add: {2 ** i}}}}}}}" for i in range(count))
    return (f"scenario: 1\nid: many\ndiscount_rate: 5%\nperiods: {{start: 2025-01, months: {months}}}\n"
            f"drivers: {{jobs: 100, downtime: 0}}\nsupplier: {{fixed_cost: 40, unit_costs: {{jobs: 6}}}}\nlevers:\n{levers}\n")


def test_exhaustive_search_prices_each_distinct_month_once() -> None:
    s = scenario(many_levers(10))
    a = align(TASK_BASED, s)
    assert a.method == "exhaustive" and a.combinations == 1024
    assert a.engine_calls == 1024  # one per combination, not 60 per combination: the drivers are constant
    assert a.supplier_best.levers == tuple(f"l{i}" for i in range(1, 10, 2))


def test_beyond_fifteen_levers_a_local_search_says_so_and_finds_the_separable_optimum() -> None:
    s = scenario(many_levers(16, months=3))
    a = align(TASK_BASED, s)
    assert a.method == "local search" and "16 levers is more than the 15" in a.method_note
    assert "local optimum" in a.method_note and a.combinations < 2 ** 16
    assert a.supplier_best.levers == tuple(f"l{i}" for i in range(1, 16, 2))


def test_over_the_engine_budget_the_search_is_local_and_says_why() -> None:
    a = align(TASK_BASED, scenario(many_levers(6, months=3)), budget=10)
    assert a.method == "local search" and "more than the budget of 10" in a.method_note
    assert a.supplier_best.levers == ("l1", "l3", "l5")


# -- the services and their renderings ----------------------------------------------------------------------

def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


TASK_BASED_TEXT = minimal("- {id: base, type: fixed_fee, amount: 100}\n- {id: per_job, type: per_unit, quantity: jobs, rate: 10}",
                          "- {id: jobs, unit: count}")


def test_the_services_price_files_and_render_tables_and_json(tmp_path: Path) -> None:
    task = write(tmp_path, "task.yaml", TASK_BASED_TEXT)
    fee = write(tmp_path, "fee.yaml", minimal("- {id: fee, type: fixed_fee, amount: 350}"))
    s = write(tmp_path, "scenario.yaml", TINY + "status_quo: task.yaml\n")
    report = deal.economics(ws(), fee, s, levers="automate")
    assert report.ok and report.value.lever_choice == "as given", format_diagnostics(report.diagnostics)
    data = economics_json(report.value.economics, report.value.lever_choice)
    assert data["levers"] == ["automate"] and D(data["totals"]["supplier_margin"]) == 775  # 1,400 − 535 − 90
    assert D(data["periods"][1]["money"]["customer_total_cost"]) == 437  # 350 + 87
    assert "Customer NPV -1,768.00" in render(economics_table(report.value.economics, report.value.lever_choice))
    best = deal.economics(ws(), fee, s)  # default: the supplier's most profitable choice
    assert best.value.economics is not None and best.value.economics.levers == ("automate", "kiosk")
    assert best.value.lever_choice == "the supplier's most profitable choice (exhaustive)"
    compared = deal.compare(ws(), task, fee, s)  # the status quo is the scenario's: task.yaml
    assert compared.value is not None, format_diagnostics(compared.diagnostics)
    # Per job, the supplier's best is the kiosk (it is indifferent; the kiosk is better for both): the
    # customer saves 40 (2 × 25 lost sales in months 3 and 4, less 60), the supplier is no better off.
    task_based, fixed = compared.value.positions
    assert (task_based.verdict, fixed.verdict) == ("win-lose", "win-win")
    assert "the supplier is no better off" in task_based.reason
    assert D(compare_json(compared.value)["positions"][0]["customer_change"]) == 40
    assert "win-win" in render(compare_table(compared.value))
    aligned = deal.align(ws(), task, s)
    assert aligned.value is not None and aligned.value.misaligned
    assert D(align_json(aligned.value)["supplier_best"]["joint_npv"]) == -1148
    assert "MISALIGNED" in render(align_table(aligned.value))


def test_the_services_locate_problems_in_the_scenario(tmp_path: Path) -> None:
    task = write(tmp_path, "task.yaml", TASK_BASED_TEXT)
    tickets = write(tmp_path, "tickets.yaml", TASK_BASED_TEXT.replace("jobs", "tickets"))
    good = write(tmp_path, "good.yaml", TINY + "status_quo: old.yaml\n")
    report = deal.align(ws(), tickets, good)
    assert report.value is None
    (d,) = report.diagnostics
    assert d.code == "missing-driver" and d.location is not None and (d.location.file, d.location.line) == (str(good), 5)
    assert "needs driver 'tickets': term 'per_job'" in d.message
    (d,) = deal.compare(ws(), task, task, good).diagnostics
    assert d.location is not None and d.location.line == TINY.count("\n") + 1 and "old.yaml" in d.message
    (d,) = deal.economics(ws(), task, good, levers=["automate", "kisok"]).diagnostics
    assert d.code == "unknown-lever" and "did you mean 'kiosk'?" in d.hint


def render(renderable: Any) -> str:
    console = Console(width=240, record=True)
    console.print(renderable)
    return console.export_text()


def test_agreements_in_different_currencies_are_not_compared(tmp_path: Path) -> None:
    # 350 euros a month against 100 dollars plus 10 a job: the NPVs cannot be subtracted without a rate.
    task = write(tmp_path, "task.yaml", TASK_BASED_TEXT)
    euros = minimal("- {id: fee, type: fixed_fee, amount: 350}", extra="policy: {currency: EUR}\n")
    fee = write(tmp_path, "fee.yaml", euros)
    s = write(tmp_path, "scenario.yaml", TINY + "status_quo: task.yaml\n")
    report = deal.compare(ws(), task, fee, s)
    assert report.value is None
    (d,) = report.diagnostics
    assert d.code == "currency" and d.is_error and "EUR" in d.message and "USD" in d.message
    assert d.location is not None and d.location.file == str(fee)
    assert d.location.line == euros.splitlines().index("policy: {currency: EUR}") + 1
    # the status quo in another currency is located in the status quo
    (d,) = deal.compare(ws(), fee, fee, s).diagnostics
    assert d.code == "currency" and d.location is not None and d.location.file == str(task)

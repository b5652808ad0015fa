"""Scenario drivers computed from others, co-funded levers and levers that need the customer's consent.

The tiny world (0% discount, three months): 1,000 calls a month at 0.25 hours a call and 40 an
hour, so labour costs 1,000 × 0.25 × 40 = 10,000; 500 orders with 90% perfect, 450 perfect orders.
The agreement reimburses labour at cost plus 10% and pays 3 per perfect order: 10,000 + 1,000 +
450 × 3 = 12,350 a month. The supplier's cost to serve is its labour.

Levers: `self_service` (calls −40%; an investment of 300 split 50/50; a running cost of 30 of which
the customer pays 10), `kiosk` (the customer invests 600; the perfect rate +0.1; it needs the
customer's consent) and `quality_push` (the supplier invests 100; the perfect rate +0.05).
"""

from __future__ import annotations

import textwrap
from decimal import Decimal

import numpy as np

from tests.helpers import agreement, minimal
from vested.adapters.scenario_load import load_scenario_text
from vested.core.alignment import align
from vested.core.evaluation import Evaluator
from vested.core.scenario import Scenario
from vested.core.scenario_checks import check_scenario_for
from vested.simulate.run import Plan, run_worlds
from vested.simulate.vector import VectorEngine

D = Decimal
AGREEMENT = agreement(minimal(
    """
    - {id: labour, type: cost_plus, cost: labour_cost, fee_rate: 10%}
    - {id: perfect_fee, type: per_unit, quantity: perfect_orders, rate: 3}
    """,
    """
    - {id: labour_cost, unit: money}
    - {id: perfect_orders, unit: count}
    """,
))
WORLD = """\
scenario: 1
id: tiny
discount_rate: 0%
periods: {start: 2025-01, months: 3}
drivers:
  calls: 1000
  hours_per_call: 0.25
  hourly_rate: 40
  labour_cost: {formula: "calls × hours_per_call × hourly_rate"}
  orders: 500
  perfect_rate: 0.9
  perfect_orders: {formula: "orders × perfect_rate"}
supplier: {unit_costs: {labour_cost: 1}}
levers:
  - id: self_service
    investment: {amount: 300, split: 50/50}
    running_cost: {amount: 30, customer_amount: 10}
    effects: {calls: -40%}
  - id: kiosk
    investment: {paid_by: customer, amount: 600}
    effects: {perfect_rate: {add: 0.1}}
    needs_consent: true
  - id: quality_push
    investment: {paid_by: supplier, amount: 100}
    effects: {perfect_rate: {add: 0.05}}
"""


def scenario(text: str = WORLD) -> Scenario:
    loaded = load_scenario_text(textwrap.dedent(text), "scenario.yaml")
    assert loaded.scenario is not None and loaded.ok, loaded.diagnostics
    return loaded.scenario


def evaluator(text: str = WORLD) -> Evaluator:
    s = scenario(text)
    assert not [d for d in check_scenario_for(s, AGREEMENT) if d.is_error]
    return Evaluator(AGREEMENT, s)


def test_a_lever_on_calls_changes_the_labour_cost_computed_from_calls() -> None:
    ev = evaluator()
    none, self_service = 0, ev.mask(["self_service"])
    assert ev.drivers(0, none)["labour_cost"] == D(10000)
    assert ev.drivers(0, self_service)["labour_cost"] == D(6000)      # 600 × 0.25 × 40
    assert ev.payment(0, none) == D(12350)                            # 10,000 + 1,000 + 450 × 3
    assert ev.payment(0, self_service) == D(7950)                     # 6,000 + 600 + 1,350
    assert ev.costs(0, self_service)["supplier_operating"] == D(6000)  # the computed driver in the cost to serve


def test_a_co_funded_lever_puts_each_party_s_part_in_its_own_costs() -> None:
    ev = evaluator()
    costs = ev.costs(0, ev.mask(["self_service"]))
    assert (costs["customer_investment"], costs["supplier_investment"]) == (D(150), D(150))  # 300 split 50/50
    assert (costs["customer_running"], costs["supplier_running"]) == (D(10), D(20))           # 10 of the 30
    # over the three months: the supplier 3 × (7,950 − 6,000 − 20) − 150 = 5,640; the customer −(3 × (7,950 + 10) + 150)
    assert ev.npvs(ev.mask(["self_service"])) == (D(-24030), D(5640))


def test_the_supplier_does_not_spend_the_customer_s_money_without_its_consent() -> None:
    # supplier NPVs: none 3 × 2,350 = 7,050; quality_push 7,050 + 3 × 25 × 3 − 100 = 7,175;
    # kiosk 7,050 + 3 × 50 × 3 = 7,500; kiosk + quality_push 7,050 + 3 × 75 × 3 − 100 = 7,625
    ev = evaluator()
    assert ev.npvs(ev.mask(["kiosk", "quality_push"]))[1] == D(7625)
    refused = align(AGREEMENT, scenario())
    assert refused.supplier_best.levers == ("quality_push",) and refused.supplier_best.supplier_npv == D(7175)
    assert "kiosk" in refused.method_note
    assert all("kiosk" not in choice.levers for choice in refused.ranking)
    agreed = align(AGREEMENT, scenario(WORLD.replace("    needs_consent: true\n", "    needs_consent: true\n    customer_agrees: true\n")))
    assert agreed.supplier_best.levers == ("kiosk", "quality_push")


def test_a_computed_driver_is_checked_in_the_scenario() -> None:
    broken = WORLD.replace("calls × hours_per_call", "cals × hours_per_call").replace(
        "effects: {calls: -40%}", "effects: {labour_cost: -40%}")
    loaded = load_scenario_text(broken, "scenario.yaml")
    found = {(d.code, d.location.line if d.location else 0, d.location.column if d.location else 0, d.hint)
             for d in loaded.diagnostics if d.is_error}
    # line 9: `  labour_cost: {formula: "cals × ...`; the name starts after the quote, column 27
    assert ("unknown-name", 9, 27, "did you mean 'calls'?") in found
    assert any(code == "lever-effect" for code, *_ in found)
    cycle = load_scenario_text(WORLD.replace("orders: 500", 'orders: {formula: "perfect_orders + 50"}'), "scenario.yaml")
    assert any(d.code == "formula-cycle" and "orders → perfect_orders → orders" in d.message for d in cycle.diagnostics)


def test_the_risk_simulation_computes_the_driver_run_by_run() -> None:
    uncertain = WORLD.replace("  calls: 1000\n", "  calls: {value: 1000, uncertain: {distribution: uniform, low: 800, high: 1200}}\n")
    s = scenario(uncertain)
    plan = Plan(s, (AGREEMENT,))
    (traced,) = run_worlds(plan, [plan.world(AGREEMENT, (), VectorEngine(AGREEMENT))], 20, seed=5, trace=True)
    assert traced.values is not None and traced.payments is not None
    labour, perfect = traced.values["labour_cost"], traced.values["perfect_orders"]
    assert np.ptp(labour) > 0  # it varies with the calls drawn
    assert labour.min() >= 800 * 0.25 * 40 and labour.max() <= 1200 * 0.25 * 40
    # every payment is labour × 1.1 + 450 × 3, whatever the calls drawn
    assert np.allclose(traced.payments, labour * 1.1 + perfect * 3, atol=0.005)
    assert np.allclose(perfect, 450)

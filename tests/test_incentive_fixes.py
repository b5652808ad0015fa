"""Incentive contracts the format used to refuse: FPIF with no customer share of overruns, CPIF without fee limits."""

from decimal import Decimal

from vested.adapters.load import load_agreement_text
from vested.core.facts import Facts
from vested.core.pricing import price_period

HEAD = """vested: 1
id: incentives
title: Incentive fixes
parties:
  - {id: buyer, name: Buyer, role: customer}
  - {id: seller, name: Seller, role: supplier}
metrics:
  - {id: cost, unit: money}
pricing:
"""


def _price(term: str, cost: str):
    loaded = load_agreement_text(HEAD + term, "a.yaml", lint=False)
    assert loaded.agreement is not None
    priced = price_period(loaded.agreement, Facts(values={"cost": Decimal(cost)}, period="2025-01"))
    return loaded, priced


FPIF = """  - id: depot
    type: fixed_price_incentive
    actual_cost: cost
    target_cost: 100000
    target_profit: 10000
    ceiling_price: 120000
    underrun_share: 70/30
    overrun_share: 0/100
"""


def test_fpif_with_no_customer_overrun_share_is_priced_with_a_warning():
    loaded, priced = _price(FPIF, "112000")
    assert not any(d.is_error for d in loaded.diagnostics)
    warning = [d for d in loaded.diagnostics if d.code == "pta-undefined"]
    assert len(warning) == 1 and warning[0].location is not None and warning[0].location.line == 17
    assert priced.statement is not None
    # the supplier bears the whole 12,000 overrun: profit 10,000 − 12,000 = −2,000, price 110,000
    assert priced.statement.lines[0].amount == Decimal("110000.00")
    assert "undefined" in str(priced.statement.figures["depot"]["point_of_total_assumption"])


CPIF = """  - id: refresh
    type: cost_plus_incentive_fee
    actual_cost: cost
    target_cost: 500000
    target_fee: 35000
    underrun_share: 80/20
    overrun_share: 75/25
"""


def test_cpif_without_minimum_and_maximum_fee_is_unclamped():
    loaded, priced = _price(CPIF, "700000")
    assert loaded.ok
    assert priced.statement is not None
    # 35,000 − 25% × 200,000 = −15,000: no minimum fee, so the fee is negative (a refund of fee)
    fee = priced.statement.lines[1]
    assert fee.amount == Decimal("15000.00") and fee.payer == "seller"
    _, low = _price(CPIF, "300000")
    assert low.statement is not None
    assert low.statement.lines[1].amount == Decimal("75000.00")  # 35,000 + 20% × 200,000
    assert low.statement.figures["refresh"]["range_of_incentive_effectiveness"] == [None, None]


def test_cpif_with_only_a_minimum_fee_still_checks_the_target_fee():
    loaded = load_agreement_text(HEAD + CPIF + "    minimum_fee: 40000\n", "a.yaml", lint=False)
    assert [d.code for d in loaded.diagnostics if d.is_error] == ["fee-range"]


def test_a_comma_in_unquoted_flow_text_hints_to_quote_it():
    workload = "workload:\n  - {what: Keep vans (a, b), owner: seller}\nmetrics:"
    text = HEAD.replace("metrics:", workload) + "  - {id: fee, type: fixed_fee, amount: 1}\n"
    loaded = load_agreement_text(text, "a.yaml", lint=False)
    [problem] = [d for d in loaded.diagnostics if d.code == "unknown-key"]
    assert "'b)'" in problem.message
    assert "quotes" in problem.hint and '"..., b)"' in problem.hint
    assert problem.location is not None and problem.location.line == 8


def test_the_vector_engine_prices_a_cpif_without_fee_limits_as_the_exact_engine() -> None:
    import numpy as np

    from vested.simulate import VectorEngine

    loaded = load_agreement_text(HEAD + CPIF, "a.yaml", lint=False)
    assert loaded.agreement is not None
    costs = [Decimal("300000"), Decimal("500000"), Decimal("700000"), Decimal("612345.67")]
    result = VectorEngine(loaded.agreement).price({"cost": np.array([float(c) for c in costs])})
    for run, cost in enumerate(costs):
        priced = price_period(loaded.agreement, Facts(values={"cost": cost}, period="2025-01"))
        assert priced.statement is not None
        assert abs(result.net[run] - float(priced.statement.owed("buyer", "seller"))) < 0.005
    # by hand: 300,000 + 35,000 + 20% × 200,000 = 375,000; 700,000 + 35,000 − 25% × 200,000 = 685,000
    assert list(np.round(result.net[:3], 2)) == [375000.0, 535000.0, 685000.0]

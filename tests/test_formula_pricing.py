"""Formulas and adjustments in pricing: hand-worked statements, and the invariants of adjustments."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import PARTIES, agreement, diagnostics, price
from vested.core.facts import Facts
from vested.core.money import round_amount
from vested.core.pricing import price_period

D = Decimal
HEAD = "vested: 1\nid: f\ntitle: Formulas\n" + PARTIES


def lines(text: str, facts: str) -> list[tuple[str, str, Decimal]]:
    priced = price(text, facts)
    assert priced.statement is not None, [d.message for d in priced.diagnostics]
    return [(line.label, line.payer, line.amount) for line in priced.statement.lines]


MSR = HEAD + """metrics:
  - {id: spend, unit: money}
  - {id: members, unit: count}
tables:
  - id: msr
    bands:
      - {from: 3000, to: 5000, start: 5.0%, end: 3.9%}
      - {from: 5000, value: 3.9%}
pricing:
  - id: savings
    type: gainshare
    baseline: 10000000
    actual: spend
    sharing_rate: 50%
    minimum_savings_rate: {formula: "lookup(msr, members)"}
"""


def test_savings_below_the_interpolated_minimum_rate_are_not_shared() -> None:
    # 4,000 members: 4.45%, so 445,000 of savings are needed; 400,000 (4%) are not enough
    assert lines(MSR, "values: {spend: 9600000, members: 4000}") == [("savings", "buyer", D("0.00"))]
    # 3,500 members: 5.0% − 500/2,000 × 1.1% = 4.725%; savings of 480,000 (4.8%) clear it: 50% of 480,000
    assert lines(MSR, "values: {spend: 9520000, members: 3500}") == [("savings", "buyer", D("240000.00"))]
    # 4,800 members: 5.0% − 1,800/2,000 × 1.1% = 4.01%; 4.8% clears it too
    assert lines(MSR, "values: {spend: 9520000, members: 4800}") == [("savings", "buyer", D("240000.00"))]


def test_members_outside_the_table_are_an_error_at_the_formula() -> None:
    priced = price(MSR, "values: {spend: 9520000, members: 2000}")
    assert priced.statement is None
    [problem] = priced.diagnostics
    assert problem.code == "formula-value" and "no band of table 'msr' holds 2,000" in problem.message
    assert problem.path == ("pricing", 0, "minimum_savings_rate", "formula") and problem.offset == 12


LOSS_RATE = HEAD + """metrics:
  - {id: spend, unit: money}
  - {id: quality, unit: percent}
pricing:
  - id: risk
    type: gainshare
    baseline: 100000
    actual: spend
    sharing_rate: 50%
    losses: {sharing_rate: {formula: "clamp(1 − 0.6 × quality, 40%, 60%)"}}
"""


def test_the_loss_rate_is_clamped_to_its_floor_and_ceiling() -> None:
    # quality 50: 1 − 0.3 = 70% → 60% of the 10,000 loss; quality 100: 1 − 0.6 = 40%; quality 75: 55%
    assert lines(LOSS_RATE, "values: {spend: 110000, quality: 50}") == [("risk", "seller", D("6000.00"))]
    assert lines(LOSS_RATE, "values: {spend: 110000, quality: 100}") == [("risk", "seller", D("4000.00"))]
    assert lines(LOSS_RATE, "values: {spend: 110000, quality: 75}") == [("risk", "seller", D("5500.00"))]


WITHHELD = HEAD + """metrics:
  - {id: spend, unit: money}
pricing:
  - id: savings
    type: gainshare
    baseline: 100000
    actual: spend
    sharing_rate: 50%
    losses: {sharing_rate: 50%}
    adjustments:
      - {kind: withhold, value: 2%, applies_to: payments, label: sequestration}
      - {kind: ceiling, value: 9000, label: payment limit}
      - {kind: floor, value: -3000, label: loss limit}
"""


def test_withholding_applies_to_payments_and_the_limits_come_after_it() -> None:
    # savings 30,000 → 15,000; 2% withheld = 300 → 14,700; the ceiling cuts it to 9,000 (5,700 back)
    assert lines(WITHHELD, "values: {spend: 70000}") == [
        ("savings", "buyer", D("15000.00")),
        ("savings: sequestration", "seller", D("300.00")),
        ("savings: payment limit", "seller", D("5700.00")),
    ]
    # a loss of 20,000 → 10,000 owed; nothing withheld; the floor of −3,000 gives 7,000 back
    assert lines(WITHHELD, "values: {spend: 120000}") == [
        ("savings", "seller", D("10000.00")),
        ("savings: loss limit", "buyer", D("7000.00")),
    ]
    # below both limits: only the withholding, 2% of 50% × 4,000 = 40
    assert lines(WITHHELD, "values: {spend: 96000}") == [
        ("savings", "buyer", D("2000.00")),
        ("savings: sequestration", "seller", D("40.00")),
    ]


def test_a_withheld_line_explains_itself() -> None:
    priced = price(WITHHELD, "values: {spend: 96000}")
    assert priced.statement is not None
    withheld = priced.statement.lines[1]
    assert withheld.calculation == "2,000 × 2% = 40"


def test_adjustments_read_other_terms_and_a_circle_of_terms_is_refused_at_the_name() -> None:
    text = HEAD + """pricing:
  - {id: fee, type: fixed_fee, amount: 1000, adjustments: [{kind: ceiling, value: {formula: "cap × 2"}}]}
  - {id: cap, type: fixed_fee, amount: 400, adjustments: [{kind: floor, value: {formula: "fee"}}]}
"""
    [problem] = [d for d in diagnostics(text, lint=False) if d.code == "cycle"]
    assert "fee → cap → fee" in problem.message
    assert problem.location is not None and problem.location.line == 8
    assert problem.location.column == text.splitlines()[7].index('"cap') + 2


def test_a_rule_refuses_the_facts_at_the_value() -> None:
    text = HEAD + """metrics:
  - {id: orders, unit: count}
  - {id: perfect_orders, unit: count}
rules:
  - {id: within, check: "perfect_orders <= orders", message: perfect orders cannot exceed orders}
pricing:
  - {id: fee, type: per_unit, quantity: perfect_orders, rate: 1.5}
"""
    priced = price(text, "values: {orders: 4000, perfect_orders: 4100}")
    [problem] = priced.diagnostics
    assert problem.code == "rule" and problem.document == "facts" and problem.path == ("values", "perfect_orders")
    assert lines(text, "values: {orders: 4000, perfect_orders: 4000}") == [("fee", "buyer", D("6000.00"))]


def test_parameters_reading_outcome_targets_and_baselines() -> None:
    text = HEAD + """metrics:
  - {id: quality, unit: percent}
outcomes:
  - {id: good, statement: Good, metric: quality, direction: higher, target: 90, baseline: {value: 70, period: 2024}}
parameters:
  - {id: progress, value: "(good − good.baseline) / (good.target − good.baseline)"}
pricing:
  - id: bonus
    type: outcome_incentive
    outcome: good
    kind: bonus
    amount: {formula: "10000 × progress"}
    curve: {zero_at: 0, full_at: 100}
"""
    # quality 85: progress (85% − 70%) ÷ (90% − 70%) = 75%; the amount 7,500, earned at 85% → 6,375
    assert lines(text, "values: {quality: 85}") == [("bonus", "buyer", D("6375.00"))]


@settings(max_examples=60, deadline=None)
@given(spend=st.decimals(min_value=0, max_value=200000, places=2), rate=st.decimals(min_value=0, max_value=1, places=3))
def test_withholding_never_makes_a_payment_larger_and_never_touches_a_loss(spend: Decimal, rate: Decimal) -> None:
    base = agreement(WITHHELD.replace("value: 2%", f"value: {rate}").replace(
        "      - {kind: ceiling, value: 9000, label: payment limit}\n      - {kind: floor, value: -3000, label: loss limit}\n", ""))
    priced = price_period(base, Facts(values={"spend": spend}, period="2025-01"))
    assert priced.statement is not None
    owed = priced.statement.owed("buyer", "seller")
    shared = round_amount(abs(D(100000) - spend) / 2)
    if spend <= 100000:
        withheld = round_amount(shared * rate)
        assert owed == shared - withheld and 0 <= owed <= shared
    else:
        assert owed == -shared  # the loss is owed in full: nothing withheld


def test_a_factor_with_thirds_is_exact_so_a_half_cent_rounds_as_a_tie() -> None:
    text = HEAD + """metrics:
  - {id: owed, unit: money}
  - {id: months_affected, unit: count}
pricing:
  - id: loss
    type: fixed_fee
    payer: seller
    payee: buyer
    amount: 0.09
    adjustments:
      - {kind: factor, label: relief, value: {formula: "1 − months_affected / 12 × 50%"}}
"""
    # 0.09 × (1 − 4/12 × 50%) = 0.09 × 5/6 = 0.075: the relief is exactly 0.015, half a cent, which rounds up;
    # from 60 digits of 5/6 (0.8333...33) it would come to 0.01499... and round down
    assert lines(text, "values: {owed: 0, months_affected: 4}") == [("loss", "seller", D("0.09")),
                                                                     ("loss: relief", "buyer", D("0.02"))]


def test_a_per_unit_rate_and_a_fee_rate_may_be_formulas() -> None:
    text = HEAD + """metrics:
  - {id: parcels, unit: count}
  - {id: fuel_index, unit: index}
  - {id: cost, unit: money}
  - {id: quality, unit: percent}
parameters:
  - {id: base_rate, value: 4.00, unit: money}
pricing:
  - {id: parcels_fee, type: per_unit, quantity: parcels, rate: {formula: "base_rate × fuel_index / 100"}}
  - {id: works, type: cost_plus, cost: cost, fee_rate: {formula: "if quality >= 90% then 8% else 5%"}}
"""
    # 4.00 × 105 / 100 = 4.20 a parcel × 1,000 = 4,200; quality 92 ≥ 90: fee 8% of 10,000 = 800
    assert lines(text, "values: {parcels: 1000, fuel_index: 105, cost: 10000, quality: 92}") == [
        ("parcels fee", "buyer", D("4200.00")), ("works: cost", "buyer", D("10000.00")), ("works: fee", "buyer", D("800.00"))]
    assert lines(text, "values: {parcels: 1000, fuel_index: 105, cost: 10000, quality: 89.5}")[2][2] == D("500.00")

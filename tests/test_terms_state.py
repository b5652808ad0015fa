"""Terms that carry state from one period to the next: margin matching and award-fee rollover.

Each test prices several periods in a row, handing each period the state the previous one
returned, and compares every period with figures worked out by hand in the test.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.helpers import agreement, minimal, price
from vested.core.model import Agreement
from vested.core.pricing import Priced

MARGIN_MATCHING = minimal(
    """
    - {id: service_fee, type: fixed_fee, amount: 10000}
    - id: fuel_adjustment
      type: margin_matching
      index: fuel_index
      base_index: 100
      band: 5%
      pass_through: 80%
      applies_to: service_fee
    """,
    "- {id: fuel_index, unit: index, minimum: 0}",
)


def run_periods(terms: Agreement, periods: list[str]) -> list[Priced]:
    """Price each period's facts in turn, carrying the state each period returns into the next."""
    results: list[Priced] = []
    state: dict[str, Any] = {}
    for facts in periods:
        priced = price(terms, facts, state)
        assert priced.statement is not None, priced.diagnostics
        results.append(priced)
        state = {term: dict(values) for term, values in priced.state.items()}
    return results


def test_margin_matching_carries_the_reset_index_and_resets_when_the_index_leaves_the_band() -> None:
    terms = agreement(MARGIN_MATCHING)
    periods = run_periods(terms, [f"values: {{fuel_index: {index}}}" for index in (103, 108, 111, 102)])
    # By hand, base 100, band ±5% around the index at the last reset, 80% passed through on 10,000:
    #   103: 3% from 100, inside the band: no reset; price stays at base: 0
    #   108: 8% from 100, outside: reset to 108; 10,000 × 80% × (108 ÷ 100 − 1) = 640
    #   111: 2.78% from 108, inside: no reset; the adjustment of the last reset carries on: 640
    #   102: −5.56% from 108, outside: reset to 102; 10,000 × 80% × (102 ÷ 100 − 1) = 160
    expected = [("100", False, "0"), ("108", True, "640"), ("108", False, "640"), ("102", True, "160")]
    for priced, (reset_index, reset, adjustment) in zip(periods, expected, strict=True):
        assert priced.statement is not None
        figures = priced.statement.figures["fuel_adjustment"]
        assert figures["reset_index"] == Decimal(reset_index)
        assert figures["reset"] is reset
        assert Decimal(priced.state["fuel_adjustment"]["reset_index"]) == Decimal(reset_index)
        assert priced.statement.owed("buyer", "seller") == Decimal(10000) + Decimal(adjustment)


def test_margin_matching_without_carried_state_measures_from_the_base_index() -> None:
    """The same 111 as period three above, priced with no state: 11% from 100 is a reset to 111."""
    (priced,) = run_periods(agreement(MARGIN_MATCHING), ["values: {fuel_index: 111}"])
    assert priced.statement is not None
    assert priced.statement.figures["fuel_adjustment"]["reset_index"] == Decimal(111)
    # 10,000 × 80% × (111 ÷ 100 − 1) = 880
    assert priced.statement.owed("buyer", "seller") == Decimal(10880)


def test_margin_matching_index_falling_below_the_base_lowers_the_price() -> None:
    (priced,) = run_periods(agreement(MARGIN_MATCHING), ["values: {fuel_index: 90}"])
    assert priced.statement is not None
    (adjustment,) = [line for line in priced.statement.lines if line.term_id == "fuel_adjustment"]
    # 10,000 × 80% × (90 ÷ 100 − 1) = −800: the supplier passes 800 back to the customer.
    assert (adjustment.payer, adjustment.payee, adjustment.amount) == ("seller", "buyer", Decimal(800))
    assert priced.statement.owed("buyer", "seller") == Decimal(9200)


def test_margin_matching_on_a_zero_price_shows_no_negative_zero() -> None:
    text = MARGIN_MATCHING.replace("amount: 10000", "amount: 0")
    (priced,) = run_periods(agreement(text), ["values: {fuel_index: 90}"])
    assert priced.statement is not None
    for line in priced.statement.lines:
        assert line.amount == 0 and not line.amount.is_signed(), line


AWARD_FEE = """
    - id: award
      type: award_fee
      pool: 100000
      rollover: {rollover}
      factors: [{{score: quality, weight: 100%}}]
      bands:
        - {{rating: Unsatisfactory, from: 0, to: 50, earns: 0}}
        - {{rating: Satisfactory or better, from: 50, earns: score}}
    """


def award_fee(rollover: bool) -> Agreement:
    return agreement(minimal(AWARD_FEE.format(rollover=str(rollover).lower()),
                             "- {id: quality, unit: score, minimum: 0, maximum: 100}"))


def test_award_fee_rollover_adds_the_unearned_fee_to_the_next_pool() -> None:
    periods = run_periods(award_fee(True), [f"values: {{quality: {score}}}" for score in (80, 40, 90)])
    # By hand, 100,000 a period:
    #   80 → pool 100,000, earns 80% = 80,000; 20,000 unearned carried over
    #   40 → pool 100,000 + 20,000 = 120,000, Unsatisfactory earns 0; 120,000 carried over
    #   90 → pool 100,000 + 120,000 = 220,000, earns 90% = 198,000; 22,000 carried over
    expected = [(80000, 20000), (0, 120000), (198000, 22000)]
    for priced, (fee, carried) in zip(periods, expected, strict=True):
        assert priced.statement is not None
        assert priced.statement.figures["award"]["fee"] == fee
        assert priced.statement.figures["award"]["unearned"] == carried
        assert Decimal(priced.state["award"]["carried_over"]) == carried
        assert priced.statement.owed("buyer", "seller") == fee


def test_award_fee_without_rollover_forgets_the_unearned_fee() -> None:
    periods = run_periods(award_fee(False), [f"values: {{quality: {score}}}" for score in (80, 40, 90)])
    assert [p.statement.figures["award"]["fee"] for p in periods if p.statement] == [80000, 0, 90000]
    assert all("award" not in p.state for p in periods)


def test_award_fee_score_outside_0_to_100_is_refused() -> None:
    """A score of 120 would earn 120% of the pool; the pricer refuses it rather than overpay."""
    terms = agreement(minimal(AWARD_FEE.format(rollover="false"), "- {id: quality, unit: score}"))
    priced = price(terms, "values: {quality: 120}")
    assert priced.statement is None
    assert [d.code for d in priced.diagnostics] == ["score-range"]

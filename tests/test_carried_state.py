"""Carried state: what one period hands the next, read back safely and recorded as the lines paid.

* State written by hand in a facts file (or damaged on its way) is user data: every term that reads
  it refuses a bad entry with a ``state`` diagnostic located at ``state.<term>.<key>`` in the facts
  file, never an internal error.
* Under per-line rounding a statement pays rounded lines; what a term carries to later periods
  (credits given, fee paid, share assessed) is what those lines paid, so no cent is lost or paid
  twice between periods. Under per-statement rounding the exact amounts are carried.

Expected values are worked out by hand in each test.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from typing import Any

import pytest

from tests.helpers import agreement, diagnostics, minimal, price
from vested.adapters.load import load_facts_text, locate
from vested.core.diagnostics import Diagnostic
from vested.core.model import Agreement
from vested.core.pricing import Priced, price_period

D = Decimal
PER_STATEMENT = "policy: {rounding: {apply: per_statement}}\n"

AWARD_FEE = """
- id: award
  type: award_fee
  pool: 0.25
  rollover: true
  factors: [{score: quality, weight: 100%}]
  bands:
    - {rating: Unsatisfactory, from: 0, to: 50, earns: 0}
    - {rating: Satisfactory or better, from: 50, earns: score}
"""
QUALITY = "- {id: quality, unit: score, minimum: 0, maximum: 100}"

TARGET_COST = """
- id: share
  type: target_cost
  target: 100
  actual: cost_to_date
  assessment: cumulative
  ranges: [{supplier_share: 50%}]
"""
COST = "- {id: cost_to_date, unit: money}"

CREDITS = """
- id: credits
  type: service_credits
  base: 2.5
  rolling_cap: {periods: 3, rate: 100%}
  earn_back: {periods: 1}
  service_levels:
    - {metric: uptime, target: 99, tiers: [{to: 99, credit: 5%}]}
    - {metric: speed, target: 99, tiers: [{to: 99, credit: 5%}]}
"""
LEVELS = "- {id: uptime, unit: percent}\n- {id: speed, unit: percent}"

MARGIN = """
- {id: fee, type: fixed_fee, amount: 1000}
- {id: fuel, type: margin_matching, index: fuel_index, base_index: 100, band: 5%, applies_to: fee}
"""
INDEX = "- {id: fuel_index, unit: index, minimum: 0}"

PLAN = """
- id: plan
  type: installment_plan
  principal: 300
  interest: 1%
  payment: payment
"""
PAYMENT = "- {id: payment, unit: money}"

LATE = """
- id: late
  type: late_delivery_penalty
  due: {metric: due}
  amount: 100
  repeat_failures: {window: 60 days, at_least: 3, surcharge: 50}
"""
DUE = "- {id: due, kind: timestamp}"


def run(terms: Agreement, periods: list[str]) -> list[Priced]:
    """Price each period in turn, handing it the state the period before returned."""
    results: list[Priced] = []
    state: dict[str, Any] = {}
    for facts in periods:
        priced = price(terms, facts, state)
        assert priced.statement is not None, priced.diagnostics
        results.append(priced)
        state = {term: dict(values) for term, values in priced.state.items()}
    return results


def owed(priced: Priced, payer: str = "buyer", payee: str = "seller") -> Decimal:
    assert priced.statement is not None, priced.diagnostics
    return priced.statement.owed(payer, payee)


def only_problem(priced: Priced) -> Diagnostic:
    assert priced.statement is None
    (problem,) = priced.diagnostics
    return problem


# --- #6: what is carried is what the lines paid ---------------------------------------------------


def test_award_fee_rollover_carries_what_the_rounded_fee_line_did_not_pay() -> None:
    periods = run(agreement(minimal(AWARD_FEE, QUALITY)), ["values: {quality: 50}", "values: {quality: 100}"])
    # By hand: P1 earns 50% of 0.25 = 0.125, a line of 0.13 (half up); 0.25 − 0.13 = 0.12 carried.
    # P2 earns 100% of 0.25 + 0.12 = 0.37. Paid over both: 0.50, the two pools exactly (not 0.51).
    assert [owed(p) for p in periods] == [D("0.13"), D("0.37")]
    assert D(periods[0].state["award"]["carried_over"]) == D("0.12")


def test_award_fee_rollover_under_per_statement_rounding_carries_the_exact_remainder() -> None:
    (priced,) = run(agreement(minimal(AWARD_FEE, QUALITY, PER_STATEMENT)), ["values: {quality: 50}"])
    assert D(priced.state["award"]["carried_over"]) == D("0.125")


def test_cumulative_target_cost_assesses_to_date_what_the_lines_paid() -> None:
    periods = run(agreement(minimal(TARGET_COST, COST)),
                  ["values: {cost_to_date: 99.75}", "values: {cost_to_date: 99.5}"])
    # By hand: P1 gain 50% × (100 − 99.75) = 0.125, a line of 0.13; assessed to date 0.13.
    # P2 gain to date 50% × 0.5 = 0.25; minus 0.13 already assessed = 0.12. Paid in all: 0.25 = the share.
    assert [owed(p) for p in periods] == [D("0.13"), D("0.12")]
    assert [D(p.state["share"]["assessed_to_date"]) for p in periods] == [D("0.13"), D("0.25")]


def test_earn_back_returns_the_credit_the_customer_was_paid() -> None:
    terms = agreement(minimal(CREDITS, LEVELS))
    missed, met = "values: {uptime: 98, speed: 98}", "values: {uptime: 99.5, speed: 99.5}"
    first, second = run(terms, [missed, met])
    # By hand: each level misses, 5% × 2.5 = 0.125 each, two lines of 0.13: the customer gets 0.26.
    assert owed(first, "seller", "buyer") == D("0.26")
    assert first.state["credits"]["pending"] == [{"credit": "0.26", "remaining": 1, "period": None}]
    assert first.state["credits"]["history"] == [{"base": "2.5", "credit": "0.26"}]
    # P2 meets both targets: the 0.26 given is returned, so over the two periods nobody is a cent short.
    assert owed(second) == D("0.26")


# --- #3: bad carried state is a located facts error, in every term that reads state ---------------


AWARD = (minimal(AWARD_FEE, QUALITY), "values: {quality: 80}")
SHARE = (minimal(TARGET_COST, COST), "values: {cost_to_date: 99}")
FUEL = (minimal(MARGIN, INDEX), "values: {fuel_index: 101}")
SLA = (minimal(CREDITS, LEVELS), "values: {uptime: 98, speed: 99}")
LOAN = (minimal(PLAN, PAYMENT), "values: {payment: 100}")
DELIVERY = (minimal(LATE, DUE), "as_of: 2025-06-10T00:00:00Z\nvalues: {due: '2025-06-01T00:00:00Z'}")


@pytest.mark.parametrize(("terms", "state", "path"), [
    (AWARD, {"award": {"carried_over": "lots"}}, ("state", "award", "carried_over")),
    (SHARE, {"share": {"assessed_to_date": [1]}}, ("state", "share", "assessed_to_date")),
    (FUEL, {"fuel": {"reset_index": "NaN"}}, ("state", "fuel", "reset_index")),
    (SLA, {"credits": {"history": [{"base": "2.5", "credit": True}]}}, ("state", "credits", "history", 0, "credit")),
    (SLA, {"credits": {"pending": "0.26"}}, ("state", "credits", "pending")),
    (SLA, {"credits": {"pending": [{"credit": "0.26", "remaining": "soon"}]}},
     ("state", "credits", "pending", 0, "remaining")),
    (LOAN, {"plan": {"balance": "x", "total_paid": 0, "next_installment": 1, "status": "active"}},
     ("state", "plan", "balance")),
    (LOAN, {"plan": {"balance": "200"}}, ("state", "plan", "total_paid")),
    (LOAN, {"plan": {"balance": "200", "total_paid": 100, "next_installment": 1.5, "status": "active"}},
     ("state", "plan", "next_installment")),
    (LOAN, {"plan": {"balance": "200", "total_paid": 100, "next_installment": 2, "status": "paused"}},
     ("state", "plan", "status")),
    (DELIVERY, {"late": {"failures": ["last tuesday"]}}, ("state", "late", "failures", 0)),
    (DELIVERY, {"late": {"failures": "2025-05-01T00:00:00Z"}}, ("state", "late", "failures")),
], ids=["award-fee", "target-cost", "margin-matching", "credit-history", "credit-pending-not-a-list",
        "credit-pending-remaining", "installment-balance", "installment-missing-key", "installment-number",
        "installment-status", "late-failure", "late-failures-not-a-list"])
def test_bad_carried_state_is_a_facts_error_at_its_entry(terms: tuple[str, str], state: dict[str, Any],
                                                         path: tuple[Any, ...]) -> None:
    text, facts = terms
    problem = only_problem(price(agreement(text), facts, state))
    assert (problem.code, problem.document, problem.path) == ("state", "facts", path)
    assert problem.message.startswith("carried state ")


@pytest.mark.parametrize("terms", [AWARD, SHARE, FUEL, SLA, LOAN, DELIVERY], ids=lambda t: t[0].split("type: ")[-1][:12])
def test_sound_carried_state_still_prices(terms: tuple[str, str]) -> None:
    """The same terms with no state (their first period) price: the refusals above are about the state alone."""
    text, facts = terms
    assert price(agreement(text), facts).statement is not None


def test_a_bad_state_entry_in_a_facts_file_is_reported_at_its_line() -> None:
    terms = agreement(minimal(AWARD_FEE, QUALITY))
    text = textwrap.dedent("""\
        period: 2025-06
        values:
          quality: 80
        state:
          award:
            carried_over: a lot
        """)
    facts = load_facts_text(terms, text, "facts.yaml")
    assert facts.facts is not None
    (problem,) = locate(price_period(terms, facts.facts).diagnostics, {"facts": facts.source})
    assert problem.location is not None
    assert (problem.location.file, problem.location.line) == ("facts.yaml", 6)
    assert "award.carried_over" in problem.message and "'a lot'" in problem.message


# --- #4: a price index of zero -------------------------------------------------------------------


def test_a_price_index_of_zero_is_refused_not_stored() -> None:
    problem = only_problem(price(agreement(minimal(MARGIN, INDEX)), "values: {fuel_index: 0}"))
    # Before: a −100% movement, reset to 0 and stored; every later period then divided by zero.
    assert problem.code == "index-range" and problem.document == "agreement"
    assert problem.path == ("pricing", 1, "index")


def test_a_stored_reset_index_of_zero_is_refused() -> None:
    problem = only_problem(price(agreement(minimal(MARGIN, INDEX)), "values: {fuel_index: 101}",
                                 {"fuel": {"reset_index": "0"}}))
    assert (problem.code, problem.path) == ("state", ("state", "fuel", "reset_index"))


def test_margin_matching_still_resets_from_a_good_stored_index() -> None:
    # By hand: reset at 110 carried; 112 is 1.8% from it, inside ±5%: no reset; 1,000 × (110 ÷ 100 − 1) = 100.
    priced = price(agreement(minimal(MARGIN, INDEX)), "values: {fuel_index: 112}", {"fuel": {"reset_index": "110"}})
    assert owed(priced) == D(1100)


# --- #10: a missing value is located at its metric ----------------------------------------------


def test_a_missing_value_names_its_metric_in_the_path() -> None:
    problem = only_problem(price(agreement(minimal(AWARD_FEE, QUALITY)), "values: {}"))
    assert (problem.code, problem.document, problem.path) == ("missing-fact", "facts", ("values", "quality"))


def test_a_missing_exchange_rate_names_its_metric_in_the_path() -> None:
    terms = agreement(minimal("- {id: fee, type: fixed_fee, amount: 100, currency: EUR}", "- {id: eur_usd, unit: rate}",
                              "policy: {currency: USD, conversions: [{from: EUR, rate: eur_usd}]}\n"))
    problem = only_problem(price(terms, "values: {}"))
    assert (problem.code, problem.path) == ("missing-fact", ("values", "eur_usd"))


# --- #5: a rounding step is above zero ------------------------------------------------------------


@pytest.mark.parametrize("step", ["0", "-0.01"])
def test_a_rounding_step_of_zero_or_below_is_refused_when_checked(step: str) -> None:
    text = minimal("- {id: fee, type: fixed_fee, amount: 100}", "", f"policy: {{rounding: {{step: {step}}}}}\n")
    errors = [d for d in diagnostics(text, lint=False) if d.is_error]
    assert [(d.path, d.code) for d in errors] == [(("policy", "rounding", "step"), "invalid-number")]
    assert "above zero" in errors[0].hint


def test_a_positive_step_such_as_nickels_is_accepted() -> None:
    terms = agreement(minimal("- {id: fee, type: fixed_fee, amount: 100.12}", "", "policy: {rounding: {step: 0.05}}\n"))
    assert owed(price(terms, "values: {}")) == D("100.10")

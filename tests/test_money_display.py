"""Showing numbers: "≈" marks a value cut for reading, and only that; statements show the policy's places.

``money.show`` writes numbers into explanations (up to six places); ``money.show_money`` writes
amounts on statements and readings on scorecards, at the places of the agreement's rounding step.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from rich.console import Console

from tests.helpers import agreement, minimal, price
from vested.core.money import percent, show, show_money
from vested.render.run import reading
from vested.render.statement import statement_table, statement_view

D = Decimal


@pytest.mark.parametrize(("value", "shown"), [
    (D("6.000000000"), "6"),                 # a DECIMAL(38,9) column: exact, not approximate
    (D("1234.500000000"), "1,234.5"),
    (D(2) / D(3), "≈0.666667"),              # a quotient that does not terminate is cut
    (D("1.0000001"), "≈1"),                  # the seventh place is cut: approximate
    (D("0.1234565"), "≈0.123456"),           # half even at the sixth place
])
def test_show_marks_only_a_value_that_was_cut(value: Decimal, shown: str) -> None:
    assert show(value) == shown


def test_percent_marks_only_a_share_that_was_cut() -> None:
    assert percent(D("0.250000000")) == "25%"
    # (1 + 12.6825...%)^(1/12) − 1 to 40 digits is exactly 1%: 0.0100...0
    assert percent(D("0.010000000000000000000000000000000000000")) == "1%"
    assert percent(D(1) / D(3)) == "≈33.3333%"


@pytest.mark.parametrize(("amount", "step", "shown"), [
    (D(1000) / D(3), D("0.01"), "≈333.33"),
    (D("1250"), D("0.01"), "1,250.00"),
    (D("1235"), D("1"), "1,235.00"),         # at least two places, as statements always showed
    (D("12.500"), D("0.01"), "12.50"),
    (D("100.124"), D("0.001"), "100.124"),   # a finer step shows its places
    (D("-1234.5"), D("0.05"), "-1,234.50"),
])
def test_show_money_uses_the_places_of_the_rounding_step(amount: Decimal, step: Decimal, shown: str) -> None:
    assert show_money(amount, step) == shown


@pytest.mark.parametrize(("value", "shown"), [
    (D("99.998"), "≈100.00"),   # never a round 100 that would claim a perfect month
    (D("99.5"), "99.5"),
    (D("12"), "12"),
    (D("99.990000000"), "99.99"),
    (D("1234.567"), "≈1,234.57"),
])
def test_a_scorecard_reading_shows_two_places_at_most(value: Decimal, shown: str) -> None:
    assert reading(value) == shown


def rendered(text: str, facts: str) -> str:
    terms = agreement(text)
    priced = price(terms, facts)
    assert priced.statement is not None, priced.diagnostics
    out = io.StringIO()
    Console(file=out, width=240, color_system=None).print(statement_table(statement_view(terms, priced.statement)))
    return out.getvalue()


MARGIN = """
- {id: fee, type: fixed_fee, amount: 1000}
- {id: fuel, type: margin_matching, index: fuel_index, base_index: 3, band: 5%, applies_to: fee}
"""


def test_a_statement_rounded_on_the_net_shows_its_exact_lines_cut_to_cents() -> None:
    # By hand: the index moves from 3 to 4, a reset: 1,000 × (4 ÷ 3 − 1) = 333.33… (exact on the line);
    # the net 1,333.33… rounds to 1,333.33.
    text = minimal(MARGIN, "- {id: fuel_index, unit: index}", "policy: {rounding: {apply: per_statement}}\n")
    shown = rendered(text, "values: {fuel_index: 4}")
    assert "≈333.33" in shown and "333.3333333" not in shown
    assert "owes Seller Co 1,333.33 USD" in shown


def test_a_statement_with_a_finer_step_shows_its_places() -> None:
    text = minimal("- {id: fee, type: fixed_fee, amount: 100.1235}", "", "policy: {rounding: {step: 0.001}}\n")
    shown = rendered(text, "values: {}")
    assert "100.124" in shown  # half up to 0.001

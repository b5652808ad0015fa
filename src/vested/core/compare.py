"""Compare agreements on one scenario against the status quo: who gains, how big the pie, the verdict.

    position(economics, status_quo) -> Position
    verdict(customer_change, supplier_change) -> (verdict, reason)
    check_currency(reference, other) -> [Diagnostic]   agreements evaluated together share a currency

Each party's change is the difference of its NPV from the status quo's (the customer's NPV is of
its costs, so a rise is a saving; the supplier's is of its margin). The value created — the size of
the pie — is the sum of the two changes; the split is each party's part of it. A party *wins* when
it ends up better off by at least a cent. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from vested.core.diagnostics import Diagnostic, error
from vested.core.economics import Economics, Money, show_money
from vested.core.model import Agreement
from vested.core.money import CENT

Verdict = Literal["win-win", "win-lose", "lose-win", "lose-lose"]
VERDICT_ORDER = "customer-supplier: the customer's result first, the supplier's second"


@dataclass(frozen=True)
class Outcome:
    """One agreement with a set of levers: each party's NPV and the undiscounted totals."""

    agreement_id: str
    agreement_title: str
    levers: tuple[str, ...]
    customer_npv: Decimal
    supplier_npv: Decimal
    totals: Money


@dataclass(frozen=True)
class Position:
    """One agreement against the status quo."""

    outcome: Outcome
    lever_choice: str
    """How the levers were chosen (the supplier's most profitable choice, none, as given)."""
    customer_change: Decimal
    """Change in the customer's NPV: its cost saved (negative: it pays more)."""
    supplier_change: Decimal
    """Change in the supplier's NPV: its margin gained."""
    value_created: Decimal
    """The size of the pie: both changes together."""
    customer_share: Decimal | None
    """The customer's part of the value created, when there is any."""
    supplier_share: Decimal | None
    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class Comparison:
    """Two agreements side by side on one scenario, each against the same status quo."""

    scenario_id: str
    currency: str
    status_quo: Outcome
    status_quo_note: str
    positions: tuple[Position, ...]
    npv_convention: str
    verdict_order: str = VERDICT_ORDER


def outcome_of(economics: Economics) -> Outcome:
    return Outcome(economics.agreement_id, economics.agreement_title, economics.levers,
                   economics.customer_npv, economics.supplier_npv, economics.totals)


def verdict(customer_change: Decimal, supplier_change: Decimal) -> tuple[Verdict, str]:
    """win-win, win-lose, lose-win or lose-lose (customer first), with the reason in words."""
    customer_wins, supplier_wins = customer_change >= CENT, supplier_change >= CENT
    customer = (f"the customer saves {show_money(customer_change)}" if customer_wins else
                f"the customer is {show_money(abs(customer_change))} worse off" if customer_change <= -CENT else
                "the customer is no better off")
    supplier = (f"the supplier gains {show_money(supplier_change)}" if supplier_wins else
                f"the supplier loses {show_money(abs(supplier_change))}" if supplier_change <= -CENT else
                "the supplier is no better off")
    result: Verdict = ("win-win" if customer_wins and supplier_wins else "win-lose" if customer_wins else
                       "lose-win" if supplier_wins else "lose-lose")
    summary = {"win-win": "both are better off than the status quo",
               "win-lose": "only the customer is better off than the status quo",
               "lose-win": "only the supplier is better off than the status quo",
               "lose-lose": "neither is better off than the status quo"}[result]
    if abs(customer_change) < CENT and abs(supplier_change) < CENT:
        return result, "nothing changes against the status quo (NPV): neither is better off"
    return result, f"{customer} and {supplier} (NPV): {summary}"


def position(outcome: Outcome, status_quo: Outcome, lever_choice: str) -> Position:
    customer_change = outcome.customer_npv - status_quo.customer_npv
    supplier_change = outcome.supplier_npv - status_quo.supplier_npv
    pie = customer_change + supplier_change
    shares = (customer_change / pie, supplier_change / pie) if pie >= CENT else (None, None)
    result, reason = verdict(customer_change, supplier_change)
    return Position(outcome, lever_choice, customer_change, supplier_change, pie, shares[0], shares[1], result, reason)


def compare(outcomes: tuple[Outcome, ...], choices: tuple[str, ...], status_quo: Outcome, status_quo_note: str,
            scenario_id: str, currency: str, npv_convention: str) -> Comparison:
    positions = tuple(position(o, status_quo, c) for o, c in zip(outcomes, choices, strict=True))
    return Comparison(scenario_id, currency, status_quo, status_quo_note, positions, npv_convention)



def check_currency(reference: Agreement, other: Agreement) -> list[Diagnostic]:
    """An agreement evaluated together with ``reference`` (compared with it, or its status quo) must
    be in the same currency: NPVs in two currencies cannot be subtracted. The problem is ``other``'s."""
    mine, theirs = other.policy.currency, reference.policy.currency
    if mine == theirs:
        return []
    return [error("currency", f"agreement {other.id!r} is in {mine} and agreement {reference.id!r} in {theirs}: "
                  "their results cannot be compared without an exchange rate",
                  f"compare agreements in one currency: restate this one in {theirs}",
                  ("policy", "currency"), "agreement")]

"""The statement of a period: one explained line per charge, and the net each party owes.

A statement is the product the parties sign off. Every line carries the formula that produced it
and the numbers that went in, so any figure on it can explain itself. Lines always read "payer
pays payee a positive amount"; a charge that came out negative is shown flowing the other way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vested.core.money import ZERO, round_amount


@dataclass(frozen=True)
class StatementLine:
    """One charge on a statement, with its explanation."""

    term_id: str
    term_type: str
    label: str
    payer: str
    payee: str
    amount: Decimal
    """The amount shown: rounded by the policy when rounding is per line, else exact."""
    exact: Decimal
    """The amount before rounding."""
    formula: str
    calculation: str
    inputs: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class NetAmount:
    """What one party owes another after netting every line between them."""

    payer: str
    payee: str
    amount: Decimal


@dataclass(frozen=True)
class Statement:
    """The priced result of one period of one agreement."""

    agreement_id: str
    period: str | None
    currency: str
    lines: tuple[StatementLine, ...]
    net: tuple[NetAmount, ...]
    rounding: str
    figures: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Figures each term reports besides money (point of total assumption, rating, rate, ...), by term id."""

    def owed(self, payer: str, payee: str) -> Decimal:
        """Net amount ``payer`` owes ``payee`` (negative when the money flows the other way)."""
        for n in self.net:
            if (n.payer, n.payee) == (payer, payee):
                return n.amount
            if (n.payer, n.payee) == (payee, payer):
                return -n.amount
        return ZERO


def signed_by_term(statement: Statement, customer: str, supplier: str) -> dict[str, Decimal]:
    """What ``customer`` pays ``supplier`` under each term with a line between them, the lines summed
    (negative: the supplier pays); the lines between other parties are left out."""
    by_term: dict[str, Decimal] = {}
    for line in statement.lines:
        if (line.payer, line.payee) == (customer, supplier):
            by_term[line.term_id] = by_term.get(line.term_id, ZERO) + line.amount
        elif (line.payer, line.payee) == (supplier, customer):
            by_term[line.term_id] = by_term.get(line.term_id, ZERO) - line.amount
    return by_term


def net_amounts(lines: Iterable[StatementLine], mode: str, step: Decimal, per_statement: bool) -> tuple[NetAmount, ...]:
    """Net the lines pairwise. Per-statement rounding rounds only here, once per pair."""
    balances: dict[tuple[str, str], Decimal] = {}
    for line in lines:
        a, b = sorted((line.payer, line.payee))
        sign = 1 if (line.payer, line.payee) == (a, b) else -1
        amount = line.exact if per_statement else line.amount
        balances[(a, b)] = balances.get((a, b), ZERO) + sign * amount
    result = []
    for (a, b), balance in sorted(balances.items()):
        # The direction comes from the exact balance; the policy rounds the amount owed, so that
        # ceiling and floor mean the same whichever party happens to sort first.
        payer, payee = (a, b) if balance >= 0 else (b, a)
        owed = abs(balance)
        if per_statement:
            owed = round_amount(owed, mode, step)
        result.append(NetAmount(payer, payee, owed))
    return tuple(result)

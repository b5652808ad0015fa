"""A statement as a view-model, and its renderings: a terminal table and plain JSON."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from vested.core.model import Agreement
from vested.core.money import CENT, show, show_money
from vested.core.statement import Statement
from vested.render.fit import fitted, money_column, text_column
from vested.render.serialize import to_jsonable


@dataclass(frozen=True)
class StatementView:
    """What a reader of a statement sees, with party names resolved."""

    title: str
    statement: Statement
    names: dict[str, str]
    step: Decimal = CENT
    """The agreement's rounding step: amounts show its places, and an exact line is cut to them with "≈"."""
    mode: str = "half_up"
    """The agreement's rounding mode."""
    per_statement: bool = False
    """Whether only the net is rounded (the lines keep full precision)."""

    def name(self, party_id: str) -> str:
        return self.names.get(party_id, party_id)

    def net_sentences(self) -> list[str]:
        if not self.statement.net:
            return ["nothing is owed"]
        return [f"{self.name(n.payer)} owes {self.name(n.payee)} {money(n.amount, self.step)} {self.statement.currency}"
                for n in self.statement.net]


def statement_view(agreement: Agreement, statement: Statement) -> StatementView:
    rounding = agreement.policy.rounding
    return StatementView(agreement.title, statement, {p.id: p.name for p in agreement.parties}, rounding.step,
                         rounding.mode, rounding.apply == "per_statement")


def statement_table(view: StatementView) -> Group:
    s = view.statement
    table = Table(title=f"{view.title} — statement for {s.period or 'the period'} ({s.currency})", show_lines=True,
                  expand=False)
    text_column(table, "term")
    text_column(table, "payer → payee")
    money_column(table, "amount")
    text_column(table, "how it was calculated")
    for line in s.lines:
        explanation = Text(line.formula, style="bold")
        explanation.append(f"\n{line.calculation}", style="")
        for note in line.notes:
            explanation.append(f"\n· {note}", style="italic")
        table.add_row(line.label, f"{view.name(line.payer)} → {view.name(line.payee)}", money(line.amount, view.step), explanation)
    footer = Text("\n".join(f"Net: {sentence}" for sentence in view.net_sentences()), style="bold")
    footer.append(f"\nRounding: {s.rounding}", style="dim")
    figures = [f"{term}: " + ", ".join(f"{k.replace('_', ' ')} {fmt(v)}" for k, v in f.items())
               for term, f in s.figures.items() if f]
    if figures:
        footer.append("\n" + "\n".join(figures), style="dim")
    return Group(fitted(table), footer)


money = show_money
"""An amount as it stands on a statement (``money.show_money``; the name the report and the demo use)."""


def fmt(value: Any) -> str:
    """A figure as a statement's footer shows it: numbers through ``money.show``, yes/no for a flag."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return show(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return str(to_jsonable(value))


def statement_json(view: StatementView) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(view.statement)
    data["parties"] = view.names
    data["net_text"] = view.net_sentences()
    return data

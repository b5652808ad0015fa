"""The demo's story as a view-model, and its two renderings: the terminal sections and JSON.

``vested demo`` prints the sections (:func:`demo_sections`) or the JSON (:func:`demo_json`) of one
:class:`DemoView`, built by :func:`vested.services.demo.demo_view`: the same months, amounts, differences
and totals in both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.console import RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from vested.core.diagnostics import Diagnostic
from vested.core.model import Agreement
from vested.core.money import show_money
from vested.core.scorecard import Scorecard
from vested.core.statement import Statement
from vested.render.diagnostics import diagnostics_json, format_diagnostic
from vested.render.fit import Fitted, fitted, money_column, text_column
from vested.render.run import scorecard_json, scorecard_table
from vested.render.statement import statement_json, statement_table, statement_view


@dataclass(frozen=True)
class DemoContract:
    """One contract of the story: what checking it said, what it paid, its last statement and scorecard."""

    file: str
    agreement: Agreement
    checked: tuple[Diagnostic, ...]
    """What ``vested check`` says about the agreement."""
    diagnostics: tuple[Diagnostic, ...]
    """Everything found on the way: checking, ingesting, settling."""
    paid: Mapping[str, Decimal]
    """What the customer paid the supplier each month settled, net of credits."""
    total: Decimal
    last_statement: Statement | None
    last_scorecard: Scorecard | None

    @property
    def step(self) -> Decimal:
        return self.agreement.policy.rounding.step


@dataclass(frozen=True)
class PaidMonth:
    """One month of the comparison: what each contract paid (None: not settled), and the difference."""

    month: str
    amounts: tuple[Decimal | None, ...]
    difference: Decimal | None
    """The last contract's amount less the first's, when there are two contracts and both were settled."""


@dataclass(frozen=True)
class DemoRecord:
    """The Vested agreement's statements in the shared record: who signed them off, the dispute, the verification."""

    store: str
    users: tuple[tuple[str, str, str, str, str], ...]
    """(user id, name, role, party, private key file) of each user."""
    final: tuple[str, ...]
    """The months both parties signed."""
    dispute: str
    entries: int
    head: str | None
    verified: bool


@dataclass(frozen=True)
class DemoView:
    report: str
    """The HTML report written."""
    months: tuple[str, ...]
    contracts: tuple[DemoContract, ...]
    """The contracts that loaded, in the story's order (the Vested agreement last)."""
    paid: tuple[PaidMonth, ...]
    total_difference: Decimal | None
    problems: tuple[Diagnostic, ...]
    """The errors of every contract (the demo then exits 1)."""
    record: DemoRecord | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def step(self) -> Decimal:
        """The places the comparison shows: the finest rounding step of the contracts."""
        return min((c.step for c in self.contracts), default=Decimal("0.01"))


def demo_json(view: DemoView) -> dict[str, Any]:
    ids = [c.agreement.id for c in view.contracts]
    return {
        "ok": view.ok,
        "report": view.report,
        "contracts": [{
            "file": c.file,
            "agreement": c.agreement.id,
            "diagnostics": diagnostics_json(c.diagnostics),
            "paid": {m: str(v) for m, v in c.paid.items()},
            "total": str(c.total),
            "last_statement": statement_json(statement_view(c.agreement, c.last_statement)) if c.last_statement else None,
            "last_scorecard": scorecard_json(c.last_scorecard) if c.last_scorecard else None,
        } for c in view.contracts],
        "months": [{"month": p.month, "paid": {i: str(a) if a is not None else None for i, a in zip(ids, p.amounts, strict=True)},
                    "difference": str(p.difference) if p.difference is not None else None} for p in view.paid],
        "total_difference": str(view.total_difference) if view.total_difference is not None else None,
        "record": None if view.record is None else {
            "store": view.record.store, "final": list(view.record.final), "dispute": view.record.dispute,
            "ledger_entries": view.record.entries, "head": view.record.head, "verified": view.record.verified,
            "users": [{"user_id": u, "name": n, "role": r, "party": p, "key_file": k} for u, n, r, p, k in view.record.users]},
    }


def demo_sections(view: DemoView) -> Iterator[RenderableType]:
    """The story in the terminal, section by section."""
    yield Rule("[bold]1. Two contracts for the same help desk")
    for c in view.contracts:
        yield Text.from_markup(f"[bold]{c.agreement.title}[/bold]  [dim]{c.file}[/dim]")
        yield from (Text(format_diagnostic(d)) for d in c.checked)
        if not c.checked:
            yield Text("vested check: no errors, no warnings")
    if view.months:
        yield Rule(f"[bold]2. Settled month by month, {view.months[0]} to {view.months[-1]}")
    yield comparison_table(view)
    last = view.months[-1] if view.months else ""
    vested = view.contracts[-1] if view.contracts else None
    if vested is not None and vested.last_scorecard is not None:
        yield Rule(f"[bold]3. The Vested scorecard, {last}")
        yield scorecard_table(vested.agreement, vested.last_scorecard)
        yield from (Text.from_markup("[bold yellow]warning:[/] ") + Text(w) for w in vested.last_scorecard.warnings)
    yield Rule(f"[bold]4. Every amount explained: {last} under each contract")
    for c in view.contracts:
        if c.last_statement is not None:
            yield statement_table(statement_view(c.agreement, c.last_statement))
    yield from (Text(format_diagnostic(d)) for d in view.problems)
    if view.record is not None:
        r = view.record
        yield Rule("[bold]5. Signed off by both parties, in one record both trust")
        for user, name, role, party, key in r.users:
            yield Text(f"{user} ({role} of {party}): {name}; private key {key}")
        yield Text(f"{len(r.final)} of {len(view.months)} Vested statements signed by both parties (final). "
                   f"Disputed and resolved: {r.dispute}.")
        yield Text(f"vested verify: {r.entries} ledger entries, " + ("the chain and every file and signature verify"
                                                                      if r.verified else "DOES NOT VERIFY")
                   + f"; head {r.head}. The record: {r.store}")
    yield Rule(f"[bold]{6 if view.record is not None else 5}. The report")
    yield Text.from_markup(f"Scorecards, statements and charts for every month: [bold]{view.report}[/bold] "
                           "(open it in a browser)")


def comparison_table(view: DemoView) -> Fitted:
    """What the customer paid each month under each contract, the difference, and the totals."""
    table = Table(caption="What Acme pays DeskCo each month, net of credits. Task-based: the help desk as it was "
                          "(DeskCo never proposes remote support). Vested: remote support from 2025-06.")
    text_column(table, "month")
    for c in view.contracts:
        money_column(table, c.agreement.id)
    money_column(table, "difference")
    for p in view.paid:
        cells = [show_money(a, c.step) if a is not None else "—" for a, c in zip(p.amounts, view.contracts, strict=True)]
        table.add_row(p.month, *cells, show_money(p.difference, view.step) if p.difference is not None else "")
    difference = show_money(view.total_difference, view.step) if view.total_difference is not None else ""
    table.add_row("[bold]total", *(f"[bold]{show_money(c.total, c.step)}" for c in view.contracts),
                  f"[bold]{difference}" if difference else "")
    return fitted(table)

"""Small helpers so tests read like the domain: agreements written inline as YAML text."""

from __future__ import annotations

import textwrap
from typing import Any

from vested.adapters.load import load_agreement_text, load_facts_text
from vested.core.diagnostics import Diagnostic
from vested.core.model import Agreement
from vested.core.pricing import Priced, price_period
from vested.render.diagnostics import format_diagnostics
from vested.services.workspace import Workspace, open_workspace
from vested.storage.folder import Project

PARTIES = """\
parties:
  - {id: buyer, name: Buyer Co, role: customer}
  - {id: seller, name: Seller Co, role: supplier}
"""


def agreement(text: str, *, lint: bool = False) -> Agreement:
    """Load an agreement from inline YAML; fail the test with the diagnostics if it has errors."""
    loaded = load_agreement_text(textwrap.dedent(text), "inline.yaml", lint=lint)
    errors = [d for d in loaded.diagnostics if d.is_error]
    assert loaded.agreement is not None and not errors, format_diagnostics(loaded.diagnostics)
    return loaded.agreement


def diagnostics(text: str, *, lint: bool = True) -> tuple[Diagnostic, ...]:
    """All diagnostics of an inline agreement (errors and warnings), located in 'inline.yaml'."""
    return load_agreement_text(textwrap.dedent(text), "inline.yaml", lint=lint).diagnostics


def price(agreement_or_text: Agreement | str, facts: str, state: dict[str, Any] | None = None) -> Priced:
    """Price inline facts YAML against an agreement; fail on facts errors (pricing errors are returned)."""
    a = agreement(agreement_or_text) if isinstance(agreement_or_text, str) else agreement_or_text
    loaded = load_facts_text(a, textwrap.dedent(facts), "facts.yaml")
    assert loaded.facts is not None, format_diagnostics(loaded.diagnostics)
    return price_period(a, loaded.facts, state)


def minimal(pricing: str, metrics: str = "", extra: str = "") -> str:
    """A minimal agreement text around a pricing section (indented as a YAML list under `pricing:`)."""
    return (
        "vested: 1\nid: t\ntitle: Test\n" + PARTIES
        + (("metrics:\n" + textwrap.indent(textwrap.dedent(metrics).strip("\n"), "  ") + "\n") if metrics.strip() else "")
        + "pricing:\n" + textwrap.indent(textwrap.dedent(pricing).strip("\n"), "  ") + "\n"
        + textwrap.dedent(extra)
    )


def ws(project: Any = None, who: str = "test", store: str | None = None) -> Workspace:
    """A workspace over a project folder (``None``: ``.vested`` in the current folder), acting as ``who``:
    recording in the shared record (SQLite in the folder), or, given a folder :class:`Project`, in its files."""
    if isinstance(project, Project):
        return open_workspace(project.root, who, store="folder")
    return open_workspace(project, who, store=store)


def recorded(project: Any) -> Any:
    """The shared record of a project folder (its SQLite store), to look at what a command recorded."""
    from pathlib import Path

    from vested.storage.record import open_store

    return open_store(f"sqlite:///{Path(project) / 'vested.db'}", files=Path(project) / "files")


def recorded_statements(project: Any, agreement_id: str) -> dict[str, bytes]:
    """Each settled month's current statement text, by ``<period>.json`` (as the folder kept them)."""
    with recorded(project) as store:
        latest = {s.period: s for s in store.statements(agreement_id)}
        return {f"{period}.json": store.statement(agreement_id, period).text.encode("utf-8") for period in sorted(latest)}

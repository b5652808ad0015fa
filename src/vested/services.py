"""One function per job, for the faces (CLI, web, Python): each reads like its table of contents."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vested.adapters.load import Loaded, load_agreement, load_facts
from vested.core.diagnostics import Diagnostic
from vested.core.model import Agreement
from vested.core.pricing import Priced, price_period
from vested.core.statement import Statement


@dataclass(frozen=True)
class CheckReport:
    path: str
    agreement: Agreement | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def check_file(path: str | Path) -> CheckReport:
    """Load, validate, check and lint one agreement file."""
    loaded = load_agreement(path)
    return CheckReport(str(path), loaded.agreement, loaded.diagnostics)


@dataclass(frozen=True)
class PriceReport:
    agreement: Agreement | None
    statement: Statement | None
    diagnostics: tuple[Diagnostic, ...]


def price_files(agreement_path: str | Path, facts_path: str | Path) -> PriceReport:
    """Load an agreement and a facts file, price the period: a statement, or the reasons there is none."""
    loaded: Loaded = load_agreement(agreement_path, lint=False)
    if not loaded.ok or loaded.agreement is None:
        return PriceReport(loaded.agreement, None, loaded.diagnostics)
    facts = load_facts(loaded.agreement, facts_path)
    if facts.facts is None:
        return PriceReport(loaded.agreement, None, facts.diagnostics)
    priced: Priced = price_period(loaded.agreement, facts.facts)
    from vested.adapters.load import locate

    problems = locate(priced.diagnostics, {"agreement": loaded.source, "facts": facts.source})
    return PriceReport(loaded.agreement, priced.statement, (*facts.diagnostics, *problems))

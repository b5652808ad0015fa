"""Write an agreement: check it, price one period from a facts file; and load one to run on data.

    check(ws, agreement) -> Result[Agreement]
    price(ws, agreement, facts) -> Result[PricedPeriod]
    load_for_run(agreement) -> RunAgreement (the agreement, its text, what loading found)

``check`` loads, validates, checks and lints the file, then compiles its measures to SQL once so a
filter the engine would refuse is reported now (sqlglot only: neither DuckDB nor SQLAlchemy is
loaded). An agreement is named by its file today (``AgreementRef``); the store will also name it by
id and version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vested.adapters.load import Loaded, load_agreement, load_agreement_text, load_facts, locate, read_text
from vested.adapters.yamlsource import Source
from vested.core.diagnostics import Diagnostic
from vested.core.model import Agreement
from vested.core.pricing import price_period
from vested.core.statement import Statement
from vested.services.result import Result
from vested.services.workspace import Workspace

if TYPE_CHECKING:
    from vested.core.scenario import Scenario

AgreementRef = str | Path
"""How a service is told which agreement: its YAML file."""


def check(ws: Workspace, document: AgreementRef) -> Result[Agreement | Scenario]:
    """Check one file: an agreement (load, validate, check, lint, then compile its measures: filters of
    the wrong type), or a scenario on its own (told by its first key, ``scenario:``)."""
    if is_scenario_file(document):
        from vested.adapters.scenario_load import load_scenario  # the scenario checks load numpy: only for a scenario

        scenario = load_scenario(document)
        return Result(scenario.scenario, scenario.diagnostics)
    loaded = load_agreement(document)
    return Result(loaded.agreement, (*loaded.diagnostics, *measure_problems(loaded)))


def is_scenario_file(path: AgreementRef) -> bool:
    """A scenario is told from an agreement by its top-level keys: `scenario: 1` where an agreement has `vested: 1`.

    Read through the adapter's bounded reader (a device such as /dev/zero, a huge file or a FIFO is
    never read whole) and looked at line by line: the YAML itself is parsed, with its limits, once
    the kind of document is known.
    """
    import re

    text, problem = read_text(path, "agreement")
    if problem is not None:
        return False  # checking it as an agreement reports the problem at its place
    keys = set(re.findall(r"^([A-Za-z_]+):", text, flags=re.MULTILINE))
    return "scenario" in keys and "vested" not in keys


def measure_problems(loaded: Loaded) -> tuple[Diagnostic, ...]:
    """Compile a sound agreement's measures to SQL once, so a filter the engine would refuse is reported now."""
    agreement = loaded.agreement
    if not loaded.ok or agreement is None or not any(m.measure for m in agreement.metrics):
        return ()
    from vested.core.settlement import first_month
    from vested.measure.compile import compile_plan
    from vested.measure.fragments import MeasureError

    try:
        compile_plan(agreement, [first_month(agreement) or "2025-01"], {})
    except MeasureError as exc:
        return locate([exc.diagnostic], {"agreement": loaded.source})
    return ()


@dataclass(frozen=True)
class PricedPeriod:
    """One period priced from a facts file: the statement, and the state the stateful terms carry on."""

    agreement: Agreement
    statement: Statement
    state: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def price(ws: Workspace, agreement: AgreementRef, facts: str | Path) -> Result[PricedPeriod]:
    """Load an agreement and a facts file, price the period: a statement, or the reasons there is none."""
    loaded = load_agreement(agreement, lint=False)
    if not loaded.ok or loaded.agreement is None:
        return Result(None, loaded.diagnostics)
    read = load_facts(loaded.agreement, facts)
    if read.facts is None:
        return Result(None, read.diagnostics)
    priced = price_period(loaded.agreement, read.facts)
    problems = locate(priced.diagnostics, {"agreement": loaded.source, "facts": read.source})
    value = PricedPeriod(loaded.agreement, priced.statement, priced.state) if priced.statement is not None else None
    return Result(value, (*read.diagnostics, *problems))


@dataclass(frozen=True)
class RunAgreement:
    """An agreement loaded to run on data: its file as read (for locating problems), its text (for hashing)."""

    loaded: Loaded
    text: str
    diagnostics: tuple[Diagnostic, ...]
    """What loading and compiling its measures found."""

    @property
    def agreement(self) -> Agreement | None:
        """The agreement, or None when it has errors (nothing is measured or settled then)."""
        return self.loaded.agreement if not any(d.is_error for d in self.diagnostics) else None

    def locate(self, diagnostics: Sequence[Diagnostic]) -> tuple[Diagnostic, ...]:
        """Put a file:line:column on the problems found running it (at the metric, the term, the measure)."""
        return locate(diagnostics, {"agreement": self.loaded.source})


def load_for_run(agreement: AgreementRef) -> RunAgreement:
    """An agreement that must be free of errors before measuring or settling, with its text (read once)."""
    text, problem = read_text(agreement, "agreement")
    if problem is not None:
        return RunAgreement(Loaded(None, (problem,), Source(str(agreement))), "", (problem,))
    loaded = load_agreement_text(text, str(agreement), lint=False)
    return RunAgreement(loaded, text, (*loaded.diagnostics, *measure_problems(loaded)))

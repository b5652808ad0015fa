"""``vested demo``: the help-desk story from the seed, end to end, on the embedded examples.

A retail chain pays its help-desk supplier per call and per on-site visit; the Vested agreement
that replaces it pays for supported, working stores, shares the value of less downtime and gives
credits when stores cannot trade. The demo checks both agreements (the task-based one draws the
Activity Trap warning) and prices a sample month under each.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from vested.adapters.load import Loaded, load_agreement_text, load_facts_text, locate
from vested.core.diagnostics import Diagnostic
from vested.core.pricing import price_period
from vested.core.statement import Statement

EXAMPLE_PACKAGE = "vested"


def example_text(*parts: str) -> str:
    """The text of an embedded example file (shipped inside the package)."""
    node = resources.files(EXAMPLE_PACKAGE).joinpath("examples", *parts)
    return node.read_text(encoding="utf-8")


@dataclass(frozen=True)
class DemoContract:
    name: str
    loaded: Loaded
    statement: Statement | None
    diagnostics: tuple[Diagnostic, ...]


def price_example(folder: str, agreement_file: str, facts_file: str) -> DemoContract:
    """Check one embedded agreement and price one embedded month of facts."""
    name = f"examples/{folder}/{agreement_file}"
    loaded = load_agreement_text(example_text(folder, agreement_file), name)
    if loaded.agreement is None or not loaded.ok:
        return DemoContract(name, loaded, None, loaded.diagnostics)
    facts = load_facts_text(loaded.agreement, example_text(folder, facts_file), f"examples/{folder}/{facts_file}")
    if facts.facts is None:
        return DemoContract(name, loaded, None, facts.diagnostics)
    priced = price_period(loaded.agreement, facts.facts)
    problems = locate(priced.diagnostics, {"agreement": loaded.source, "facts": facts.source})
    return DemoContract(name, loaded, priced.statement, (*loaded.diagnostics, *problems))


def run_demo() -> list[DemoContract]:
    """The two help-desk contracts, checked and priced for June 2025."""
    return [
        price_example("helpdesk", "task-based.yaml", "facts-2025-06.yaml"),
        price_example("helpdesk", "vested.yaml", "vested-facts-2025-06.yaml"),
    ]


def demo_summary(contracts: list[DemoContract]) -> dict[str, Any]:
    """What the customer pays the supplier under each contract, for the comparison line."""
    summary: dict[str, Any] = {}
    for contract in contracts:
        agreement = contract.loaded.agreement
        if agreement is None or contract.statement is None:
            continue
        customer = agreement.party_with_role("customer")
        supplier = agreement.party_with_role("supplier")
        if customer and supplier:
            summary[agreement.id] = contract.statement.owed(customer.id, supplier.id)
    return summary

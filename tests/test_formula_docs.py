"""Every example of docs/formulas.md loads and prices to the statement the page shows.

The page's examples are agreements without their parties: the test adds a customer `buyer` and a
supplier `seller`, loads the agreement, loads the facts block that follows, and compares the
statement with the text block after it (label | payer → payee | amount). The numbers in the page
were worked out by hand (and are written out next to each example); this test holds the engine to
them. A `refused` example shows the error instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from vested.adapters.load import load_agreement_text, load_facts_text
from vested.adapters.scenario_load import load_scenario_text
from vested.core.alignment import align
from vested.core.money import show_money
from vested.core.pricing import price_period

DOC = Path(__file__).resolve().parent.parent / "docs" / "formulas.md"
HEAD = """vested: 1
id: example
title: Formula example
parties:
  - {id: buyer, name: Buyer, role: customer}
  - {id: seller, name: Seller, role: supplier}
"""


@dataclass(frozen=True)
class Example:
    line: int
    refused: bool
    agreement: str
    facts: str | None
    expected: str


def blocks() -> list[tuple[int, str, str]]:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        if lines[i].startswith("```") and lines[i].strip() != "```":
            start, info, body = i + 1, lines[i][3:].strip(), []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            found.append((start, info, "\n".join(body) + "\n"))
        i += 1
    return found


def examples() -> list[Example]:
    raw = blocks()
    result = []
    for n, (line, info, text) in enumerate(raw):
        words = info.split()
        if words[:1] != ["yaml"] or "formula" not in words:
            continue
        facts = raw[n + 1][2] if n + 1 < len(raw) and raw[n + 1][1] == "yaml facts" else None
        expected = raw[n + (2 if facts is not None else 1)]
        assert expected[1] == "text", f"formulas.md:{line}: the example needs a text block with its result"
        result.append(Example(line, "refused" in words, text, facts, expected[2].strip()))
    return result


EXAMPLES = examples()


def test_the_page_has_an_example_for_every_case() -> None:
    assert len(EXAMPLES) >= 11


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"formulas.md:{e.line}")
def test_formula_example(example: Example) -> None:
    loaded = load_agreement_text(HEAD + example.agreement, "example.yaml", lint=False)
    errors = [d for d in loaded.diagnostics if d.is_error]
    if example.refused and example.facts is None:
        assert [f"error: {d.message} [{d.code}]" for d in errors] == [example.expected]
        return
    assert not errors, [d.message for d in errors]
    assert loaded.agreement is not None and example.facts is not None
    facts = load_facts_text(loaded.agreement, example.facts, "facts.yaml")
    assert facts.facts is not None, facts.diagnostics
    priced = price_period(loaded.agreement, facts.facts)
    if example.refused:
        assert [f"error: {d.message} [{d.code}]" for d in priced.diagnostics] == [example.expected]
        return
    assert priced.statement is not None, [d.message for d in priced.diagnostics]
    shown = [f"{line.label.lower()} | {line.payer} → {line.payee} | {show_money(line.amount)}"
             for line in priced.statement.lines]
    assert shown == example.expected.splitlines()


def scenario_examples() -> list[tuple[int, str, str, str]]:
    """(line, agreement, scenario, expected) of each `yaml scenario` block, with the agreement before it."""
    raw, found = blocks(), []
    for n, (line, info, text) in enumerate(raw):
        if info == "yaml scenario":
            agreement = next(body for _, kind, body in reversed(raw[:n]) if kind == "yaml formula")
            found.append((line, agreement, text, raw[n + 1][2].strip()))
    return found


@pytest.mark.parametrize("example", scenario_examples(), ids=lambda e: f"formulas.md:{e[0]}")
def test_scenario_example(example: tuple[int, str, str, str]) -> None:
    _, agreement_text, scenario_text, expected = example
    loaded = load_agreement_text(HEAD + agreement_text, "example.yaml", lint=False)
    scenario = load_scenario_text(scenario_text, "scenario.yaml")
    assert loaded.agreement is not None and scenario.scenario is not None and scenario.ok, scenario.diagnostics
    result = align(loaded.agreement, scenario.scenario)
    shown = [f"{label}: {', '.join(choice.levers) or 'none'} | customer {show_money(choice.customer_npv)} | "
             f"supplier {show_money(choice.supplier_npv)}"
             for label, choice in (("supplier's best", result.supplier_best), ("joint best", result.joint_best))]
    assert shown == expected.splitlines()
    assert result.misaligned

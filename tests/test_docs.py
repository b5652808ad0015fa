"""The documentation of the agreement format, kept true by tests.

* Every field of every record has a description (the reference and editors show it).
* docs/format-reference.md and docs/lint.md are what ``vested.render.reference`` generates.
* docs/terms.md has a section with a YAML example for every term type; every example loads, and
  the worked numbers in the text are what the engine computes.
* Every YAML block of docs/format.md (and docs/lint.md) is checked for what it claims to be: a
  whole agreement that loads without errors or warnings, a facts file that loads against it, a
  fragment that loads once put into it, or a `yaml refused` example that the loader refuses with
  the message shown under it. So every key the docs use exists in the format.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from tests.helpers import agreement, minimal, price
from vested.adapters.load import load_agreement_text, load_facts_text
from vested.core.format import agreement_schema
from vested.core.terms import TERM_TYPES, Term
from vested.render.diagnostics import format_diagnostics
from vested.render.reference import GENERATED

DOCS = Path(__file__).resolve().parents[1] / "docs"
REGENERATE = "python -m vested.render.reference   # from the repository root; rewrites docs/format-reference.md and docs/lint.md"
FACTS_KEYS = {"period", "as_of", "values", "state"}


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


# -- code blocks ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    info: str
    text: str
    output: str | None = None
    """The ```text block right after a `yaml refused` block: what vested reports."""

    @property
    def name(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def kind(self) -> str:
        if "refused" in self.info.split()[1:]:
            return "refused"
        first = next((ln for ln in self.text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
        if first.strip() == "vested: 1":
            return "agreement"
        data = yaml.safe_load(self.text)
        if isinstance(data, list):
            return "terms"
        if isinstance(data, dict) and set(data) <= FACTS_KEYS:
            return "facts"
        return "fragment"


def code_blocks(doc: str) -> list[Block]:
    """The fenced code blocks of a document, with the output block that follows a refused example."""
    lines = read(doc).splitlines()
    raw: list[tuple[int, str, str]] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("```") and lines[i].strip() != "```":
            start, info, body = i + 1, lines[i][3:].strip(), []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            raw.append((start, info, "\n".join(body) + "\n"))
        i += 1
    blocks = []
    for n, (start, info, body) in enumerate(raw):
        output = None
        if n + 1 < len(raw) and raw[n + 1][1] == "text" and "refused" in info:
            output = raw[n + 1][2]
        blocks.append(Block(doc, start, info, body, output))
    return blocks


def yaml_blocks(doc: str) -> list[Block]:
    return [b for b in code_blocks(doc) if b.info.split()[:1] == ["yaml"]]


# -- completing examples with what they refer to -------------------------------------------------

def references(terms: list[Any]) -> tuple[dict[str, str], list[str], list[str]]:
    """Metrics (with the kind each must be), outcomes and terms that the terms refer to."""
    metrics: dict[str, str] = {}
    outcomes: list[str] = []
    others: list[str] = []
    own = {item.get("id") for item in terms if isinstance(item, dict)}
    for item in terms:
        try:
            term = TypeAdapter(Term).validate_python(item)
        except ValidationError:
            continue  # the load reports it, at its line
        for ref in term.references():
            if ref.kind == "metric":
                metrics.setdefault(ref.id, "number" if ref.expect == "any" else ref.expect)
            elif ref.kind == "outcome" and ref.id not in outcomes:
                outcomes.append(ref.id)
            elif ref.kind == "term" and ref.id not in own and ref.id not in others:
                others.append(ref.id)
    return metrics, outcomes, others


def outcome_direction(terms: list[Any], outcome_id: str) -> str:
    """Lower is better when a linear curve on the outcome earns more at a lower value."""
    for item in terms:
        curve = item.get("curve", {}) if isinstance(item, dict) else {}
        if item.get("outcome") == outcome_id and "zero_at" in curve and "full_at" in curve:
            return "lower" if Decimal(str(curve["full_at"])) < Decimal(str(curve["zero_at"])) else "higher"
    return "higher"


def declarations(terms: list[Any], metrics_known: set[str], outcomes_known: set[str],
                 terms_known: set[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Declarations of the metrics, outcomes and terms referred to but not defined."""
    metrics, outcomes, others = references(terms)
    new_metrics = [{"id": m, "kind": kind} for m, kind in metrics.items() if m not in metrics_known]
    new_outcomes = []
    for o in outcomes:
        if o not in outcomes_known:
            new_outcomes.append({"id": o, "statement": o, "metric": f"{o}_value",
                                 "direction": outcome_direction(terms, o), "target": 1})
            new_metrics.append({"id": f"{o}_value", "kind": "number"})
    new_terms = [{"id": t, "type": "fixed_fee", "amount": 10000} for t in others if t not in terms_known]
    return new_metrics, new_outcomes, new_terms


def flow(items: list[dict[str, Any]]) -> str:
    """YAML list items, one flow mapping per line (JSON is YAML)."""
    return "".join(f"- {json.dumps(item)}\n" for item in items)


def term_example_agreement(block: Block) -> str:
    """A terms.md example inside tests.helpers.minimal, with what it refers to declared."""
    terms = yaml.safe_load(block.text)
    metrics, outcomes, others = declarations(terms, set(), set(), set())
    extra = ("outcomes:\n" + textwrap.indent(flow(outcomes), "  ")) if outcomes else ""
    return minimal(block.text + flow(others), flow(metrics), extra)


def completed(data: dict[str, Any]) -> dict[str, Any]:
    """Agreement data with the metrics, outcomes and terms its terms and outcomes refer to declared."""
    data = dict(data)
    metrics = list(data.get("metrics") or [])
    outcomes = list(data.get("outcomes") or [])
    pricing = list(data.get("pricing") or [])
    new_metrics, new_outcomes, new_terms = declarations(
        pricing, {m["id"] for m in metrics}, {o["id"] for o in outcomes}, {t["id"] for t in pricing})
    metrics += new_metrics
    known = {m["id"] for m in metrics}
    metrics += [{"id": o["metric"]} for o in [*outcomes, *new_outcomes] if o.get("metric") not in known]
    data.update(metrics=metrics, outcomes=[*outcomes, *new_outcomes], pricing=[*pricing, *new_terms])
    return data


def context(block: Block) -> str:
    """The agreement a fragment or facts block reads against: the last whole agreement above it."""
    before = [b for b in yaml_blocks(block.doc) if b.kind == "agreement" and b.line < block.line]
    return before[-1].text if before else minimal("- {id: fee, type: fixed_fee, amount: 1000}")


def with_fragment(block: Block) -> str:
    """The fragment's keys put into its context agreement (replacing those keys), as YAML text."""
    data = yaml.safe_load(context(block))
    data.update(yaml.safe_load(block.text))
    return json.dumps(completed(data), indent=1, default=str)


def without_location(text: str) -> list[str]:
    return [re.sub(r"^\S+:\d+:\d+: ", "", line.strip()) for line in text.splitlines() if line.strip()]


# -- (a) every field is documented ----------------------------------------------------------------

def test_every_field_of_every_record_has_a_description() -> None:
    schema = agreement_schema()
    records = {"Agreement": schema, **schema["$defs"]}
    undocumented = [f"{record}.{key}" for record, definition in sorted(records.items())
                    for key, field in definition.get("properties", {}).items()
                    if not str(field.get("description", "")).strip()]
    assert not undocumented, (
        f"{len(undocumented)} fields have no description; add a docstring under each field "
        "(or Field(description=...)):\n  " + "\n  ".join(undocumented))


# -- (b) generated documents are current ----------------------------------------------------------

@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_document_is_current(name: str) -> None:
    path = DOCS / name
    assert path.exists(), f"docs/{name} is missing; generate it with:\n  {REGENERATE}"
    assert path.read_text(encoding="utf-8") == GENERATED[name](), (
        f"docs/{name} differs from what the code generates; regenerate it with:\n  {REGENERATE}")


# -- (c) every term type has a section with an example -------------------------------------------

def term_sections() -> dict[str, str]:
    """terms.md sections by the term type their heading names: ## Fixed fee (`fixed_fee`)."""
    sections: dict[str, str] = {}
    for part in re.split(r"^(?=## )", read("terms.md"), flags=re.MULTILINE):
        heading = re.match(r"## .*\(`([a-z_]+)`\)\s*$", part.splitlines()[0]) if part.startswith("## ") else None
        if heading:
            sections[heading.group(1)] = part
    return sections


@pytest.mark.parametrize("type_name", list(TERM_TYPES))
def test_term_type_has_a_section_with_a_yaml_example(type_name: str) -> None:
    section = term_sections().get(type_name)
    assert section is not None, f"docs/terms.md has no section `## ... (`{type_name}`)`"
    examples = [yaml.safe_load(body) for body in re.findall(r"^```yaml\n(.*?)^```", section, re.MULTILINE | re.DOTALL)]
    assert any(isinstance(e, list) and any(t.get("type") == type_name for t in e) for e in examples), (
        f"the {type_name} section of docs/terms.md has no ```yaml example of a `type: {type_name}` term")


def test_terms_md_has_no_section_for_an_unknown_type() -> None:
    assert set(term_sections()) <= set(TERM_TYPES), set(term_sections()) - set(TERM_TYPES)


# -- (d) every terms.md example loads -------------------------------------------------------------

@pytest.mark.parametrize("block", yaml_blocks("terms.md"), ids=lambda b: b.name)
def test_term_example_loads(block: Block) -> None:
    assert block.kind == "terms", f"{block.name}: a terms.md example is a list of terms (`- id: ...`)"
    agreement(term_example_agreement(block))


# -- the worked numbers of terms.md are what the engine computes ----------------------------------

@dataclass(frozen=True)
class Worked:
    term: str
    facts: str
    amount: str
    """The term's amount by hand, customer to supplier positive (supplier to customer negative)."""
    says: tuple[str, ...] = ()
    """Text of terms.md that states this result."""
    change: tuple[str, str] = ("", "")
    """A variant of the example: replace this text with that."""
    state: dict[str, Any] | None = None
    figures: tuple[tuple[str, Any], ...] = ()


WORKED = [
    Worked("store_fee", "values: {}", "270000", ("270,000",)),
    Worked("working_store_fee", "values: {working_stores: 400}", "270000", ("675 × 400 = 270,000",)),
    Worked("parcel_fee", "values: {parcels_delivered: 6200}", "24120",
           ("1,000 × 4.20 + 4,000 × 3.90 + 1,200 × 3.60 = 4,200 + 15,600 + 4,320 =\n24,120",)),
    Worked("parcel_fee", "values: {parcels_delivered: 6200}", "22320", ("6,200 × 3.60 = 22,320",),
           change=("method: graduated", "method: all_units"), figures=(("tier", 3),)),
    Worked("repairs", "values: {engineer_hours: 120, technician_hours: 80, materials_cost: 3000}", "18300",
           ("120 × 85 = 10,200", "80 × 60 = 4,800", "3,000 × (1 + 10%) = 3,300")),
    Worked("build_out", "values: {allowable_cost: 50000}", "54000", ("50,000 × 8% = 4,000",)),
    Worked("depot_upgrade", "values: {depot_actual_cost: 90000}", "103000", ("| 90,000 | 10,000 + 30% × 10,000 = 13,000 | 103,000 |",),
           figures=(("point_of_total_assumption", Decimal("114285.71")),)),
    Worked("depot_upgrade", "values: {depot_actual_cost: 112000}", "118400", ("| 112,000 | 10,000 − 30% × 12,000 = 6,400 | 118,400 |",)),
    Worked("depot_upgrade", "values: {depot_actual_cost: 118000}", "120000", ("held by the ceiling: 2,000 | 120,000 |",),
           figures=(("profit", Decimal(2000)),)),
    Worked("network_refresh", "values: {refresh_actual_cost: 460000}", "503000", ("35,000 + 20% × 40,000 = 43,000",),
           figures=(("fee", Decimal(43000)), ("range_of_incentive_effectiveness", [Decimal(425000), Decimal(580000)]))),
    Worked("network_refresh", "values: {refresh_actual_cost: 600000}", "615000", ("the fee is 15,000 and\nthe price 615,000",)),
    Worked("quarterly_award", "values: {technical_score: 88, schedule_score: 80, cost_score: 70}", "73800",
           ("90,000 × 82% = 73,800",), figures=(("rating", "Very good"), ("unearned", Decimal(16200)))),
    Worked("depot_build", "values: {price_for_work_done: 760000}", "20000", ("50% × 40,000 = 20,000",)),
    Worked("depot_build", "values: {price_for_work_done: 920000}", "-80000",
           ("50% × 80,000 + 100% × 40,000 = 80,000",)),
    Worked("shared_value", "values: {downtime_cost: 95000}", "7500", ("30% × 25,000 = 7,500",)),
    Worked("shared_value", "values: {downtime_cost: 95000}", "6780", ("30% × (25,000 − 2,400) = 6,780",),
           change=("  cap: 15%\n", "  cap: 15%\n  share_from: corridor\n")),
    Worked("shared_value", "values: {downtime_cost: 130000}", "-3000", ("the supplier pays 30% × 10,000 = 3,000",)),
    Worked("availability_credits", "values: {store_availability: 98.6, response_minutes: 42}", "-10800",
           ("2% × 270,000 = 5,400", "2 × 1% × 270,000 = 5,400", "The total, 10,800"),
           change=("{term: store_fee}", "270000")),
    Worked("sla_pool", "values: {uptime: 99.7, restore_hours: 3.5, answered_in_time: 85}", "-12000",
           ("80% × 70% ×\n12,000 = 6,720", "70% × 100% × 12,000 = 8,400", "reduces\nthe credit to 12,000"),
           change=("{term: managed_service_fee}", "100000"), figures=(("cap_binds", True),)),
    Worked("availability_bonus", "values: {stores_trading_value: 98.9}", "12000", ("20,000 × 60% = 12,000",)),
    Worked("satisfaction_at_risk", "values: {happy_stores_value: 3.9}", "-13500", ("27,000 × (1 − 50%) =\n13,500",)),
    Worked("parts_price_reset", "values: {parts_index: 104}", "0", ("index is 104",),
           change=("applies_to: fleet_fee", "applies_to: fleet_fee\n- {id: fleet_fee, type: fixed_fee, amount: 60000}")),
    Worked("parts_price_reset", "values: {parts_index: 107}", "2100", ("60,000 × 50% × (107 ÷ 100 − 1) = 2,100",),
           change=("applies_to: fleet_fee", "applies_to: fleet_fee\n- {id: fleet_fee, type: fixed_fee, amount: 60000}")),
    Worked("parts_price_reset", "values: {parts_index: 105}", "2100", ("price stays reset: 2,100 again",),
           change=("applies_to: fleet_fee", "applies_to: fleet_fee\n- {id: fleet_fee, type: fixed_fee, amount: 60000}"),
           state={"parts_price_reset": {"reset_index": "107"}}),
    Worked("late_goods", "values: {agreed_delivery: 2025-06-02T12:00:00Z, delivered_at: 2025-06-06T09:00:00Z, "
           "goods_value: 20000}", "-3150", ("3 ÷ 2 × 10.5% × 20,000 = 3,150",),
           figures=(("buyer_may_terminate", False),)),
    Worked("po_failure", "as_of: 2025-06-20T00:00:00Z\nvalues: {order_due: 2025-06-01T00:00:00Z, "
           "order_delivered: 2025-06-11T00:00:00Z, order_value: 8000}", "-1300",
           ("9 days after its due time", "exceeds the 7-day step:\n10% of the order's value"),
           state={"po_failure": {"failures": ["2025-04-10T00:00:00+00:00", "2025-05-15T00:00:00+00:00"]}},
           figures=(("surcharge_applies", True),)),
    Worked("shock_deduction", "values: {shock_g: [1.2, 2.8, 3.1, 0.9]}", "-100", ("2 × 50 = 100",)),
    Worked("cold_chain_deduction", "values: {temperature_c: [3.5, 9.0, 7.2], humidity_pct: [85, 88], crates: 1000}",
           "-500", ("1 × 0.50 × 1,000 = 500",)),
    Worked("equipment_financing", "values: {installment_paid: 2500, is_closing_payment: false}", "2500",
           ("grows by 1.5% to 7,612.50",), figures=(("balance", Decimal("7612.50")),)),
    Worked("equipment_financing", "values: {installment_paid: 2500, is_closing_payment: false}", "2500",
           ("rounded to 5,189.19",), figures=(("balance", Decimal("5189.19")),),
           state={"equipment_financing": {"balance": "7612.50", "total_paid": "2500", "next_installment": 2,
                                          "status": "active"}}),
    Worked("equipment_financing", "values: {installment_paid: 5439.19, is_closing_payment: true}", "5439.19",
           ("5,189.19 + 250 = 5,439.19",),
           state={"equipment_financing": {"balance": "5189.19", "total_paid": "5000", "next_installment": 3,
                                          "status": "active"}}),
]


def example(term_id: str) -> Block:
    return next(b for b in yaml_blocks("terms.md") if re.match(rf"- id: {term_id}\n", b.text))


@pytest.mark.parametrize("case", WORKED, ids=lambda c: f"{c.term}-{c.amount}")
def test_worked_example_in_terms_md_holds(case: Worked) -> None:
    block = example(case.term)
    old, new = case.change
    assert old in block.text, f"{case.term}: the example no longer contains {old!r}"
    variant = Block(block.doc, block.line, block.info, block.text.replace(old, new))
    priced = price(term_example_agreement(variant), case.facts, case.state)
    assert priced.statement is not None, format_diagnostics(priced.diagnostics)
    lines = [line for line in priced.statement.lines if line.term_id == case.term]
    total = sum((line.amount if line.payer == "buyer" else -line.amount for line in lines), Decimal(0))
    assert total == Decimal(case.amount)
    figures = priced.statement.figures[case.term]
    for name, expected in case.figures:
        actual = figures[name]
        if isinstance(expected, Decimal) and isinstance(actual, Decimal):
            actual = actual.quantize(Decimal("0.01"))
        assert actual == expected, f"figure {name}"
    text = " ".join(read("terms.md").split())
    for said in case.says:
        assert " ".join(said.split()) in text, f"docs/terms.md no longer says {said!r}"


# -- (e) the YAML blocks of format.md (and the generated lint.md) ---------------------------------

def checked_blocks() -> list[Block]:
    return [b for doc in ("format.md", "lint.md") for b in yaml_blocks(doc)]


def test_format_md_has_a_whole_agreement_and_its_facts() -> None:
    kinds = [b.kind for b in yaml_blocks("format.md")]
    assert kinds.index("agreement") < kinds.index("facts")


@pytest.mark.parametrize("block", checked_blocks(), ids=lambda b: f"{b.name}-{b.kind}")
def test_doc_yaml_block_is_what_it_claims(block: Block) -> None:
    if block.kind == "agreement":
        loaded = load_agreement_text(block.text, block.name)
        assert loaded.ok and not loaded.diagnostics, format_diagnostics(loaded.diagnostics)
    elif block.kind == "facts":
        facts = load_facts_text(agreement(context(block)), block.text, block.name)
        assert facts.facts is not None and not facts.diagnostics, format_diagnostics(facts.diagnostics)
    elif block.kind == "fragment":
        loaded = load_agreement_text(with_fragment(block), block.name, lint=False)
        assert loaded.ok, format_diagnostics(loaded.diagnostics)
    elif block.kind == "refused":
        loaded = load_agreement_text(with_fragment(block), block.name, lint=False)
        assert not loaded.ok, f"{block.name} is shown as refused, but it loads"
        assert block.output is not None, f"{block.name}: show what vested reports in a ```text block after it"
        reported = without_location(format_diagnostics(loaded.diagnostics))
        for line in without_location(block.output):
            assert line in reported, f"{block.name}: vested no longer reports {line!r}:\n" + "\n".join(reported)
    else:
        pytest.fail(f"{block.name}: a {block.kind} block is not expected in {block.doc}")


def test_format_md_example_statement_is_as_described() -> None:
    blocks = yaml_blocks("format.md")
    fleet = next(b for b in blocks if b.kind == "agreement")
    facts = next(b for b in blocks if b.kind == "facts")
    priced = price(fleet.text, facts.text)
    assert priced.statement is not None, format_diagnostics(priced.diagnostics)
    fee = Decimal(60000)
    bonus = Decimal(5000) * (Decimal("97.8") - 96) / (99 - 96)               # linear curve: 60% earned
    returned = Decimal(3000) * (1 - Decimal("0.5"))                          # 82 reaches the step at 80
    savings = Decimal("0.5") * (30000 - 26500)                               # 3,500 clears the 600 corridor
    adjustment = fee * Decimal("0.5") * (Decimal(108) / 100 - 1)             # index 109 is within 5% of 108
    expected = fee + bonus + savings + adjustment - returned
    assert priced.statement.owed("parcelco", "fleetcare") == expected == Decimal("65650")
    assert "Parcel Co owes FleetCare 65,650.00 GBP" in read("format.md")


@pytest.mark.parametrize(("apply", "net", "says"), [
    ("per_line", "3000.02", "`per_line` gives 1,000.01 + 2,000.01 = 3,000.02"),
    ("per_statement", "3000.01", "`per_statement` gives 3,000.01"),
])
def test_format_md_rounding_example_holds(apply: str, net: str, says: str) -> None:
    text = minimal("""
        - {id: a, type: fixed_fee, amount: 1000.005}
        - {id: b, type: fixed_fee, amount: 2000.005}
        """, extra=f"policy: {{rounding: {{mode: half_up, step: 0.01, apply: {apply}}}}}\n")
    priced = price(text, "values: {}")
    assert priced.statement is not None, format_diagnostics(priced.diagnostics)
    assert priced.statement.owed("buyer", "seller") == Decimal(net)
    assert says in " ".join(read("format.md").split())


def test_format_md_names_every_top_level_key_and_facts_key() -> None:
    text = read("format.md")
    keys = list(agreement_schema()["properties"]) + sorted(FACTS_KEYS)
    missing = [key for key in keys if f"`{key}" not in text]
    assert not missing, f"docs/format.md does not mention: {missing}"


# -- links between the documents ------------------------------------------------------------------

def anchors(doc: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", read(doc), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


@pytest.mark.parametrize("doc", ["format.md", "terms.md", "lint.md", "format-reference.md"])
def test_links_between_docs_resolve(doc: str) -> None:
    text = read(doc)
    broken = []
    for target, anchor in re.findall(r"\]\(([\w\-.]*\.md|)(?:#([\w\-]+))?\)", text):
        file = target or doc
        if not (DOCS / file).exists():
            broken.append(f"{target}#{anchor}")
        elif anchor and anchor not in anchors(file):
            broken.append(f"{file}#{anchor}")
    assert not broken, f"broken links in docs/{doc}: {broken}"

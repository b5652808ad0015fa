"""Fuzzing `vested check` and pricing: whatever the text, loading never raises, and every problem
found is a located diagnostic with a message.

(a) text built from YAML-ish tokens and the format's own keys; (b) mutations of the example
agreements; (c) random facts files priced against the help-desk agreements.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import minimal
from vested.adapters.load import Loaded, LoadedFacts, load_agreement_text, load_facts_text
from vested.core.diagnostics import Diagnostic
from vested.core.format import agreement_schema
from vested.core.model import Agreement
from vested.core.pricing import price_period

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "helpdesk"
FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def format_words() -> tuple[list[str], list[str]]:
    """Every key of the format, and every fixed value (term types, modes, roles), from its schema."""
    keys: set[str] = set()
    values: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    keys.update(value)
                elif key == "enum":
                    values.update(str(v) for v in value)
                elif key == "const":
                    values.add(str(value))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(agreement_schema())
    return sorted(keys), sorted(values)


def check_diagnostics(text: str, diagnostics: tuple[Diagnostic, ...]) -> None:
    last_line = len(text.splitlines()) + 1
    for d in diagnostics:
        assert d.location is not None, d
        assert 1 <= d.location.line <= last_line, (d, last_line)
        assert d.location.column >= 1, d
        assert d.message.strip(), d
        assert d.code.strip(), d


def check_loaded(text: str) -> Loaded:
    loaded = load_agreement_text(text, "fuzz.yaml")
    check_diagnostics(text, loaded.diagnostics)
    if not any(d.is_error for d in loaded.diagnostics):
        assert loaded.agreement is not None and loaded.ok
    return loaded


# --- (a) text from YAML-ish tokens -------------------------------------------------------------------

KEYS = st.sampled_from(format_words()[0])
FIXED = st.sampled_from(format_words()[1])
NUMBERS = st.one_of(
    st.integers(-10**6, 10**7).map(str),
    st.decimals(-10**6, 10**6, places=3, allow_nan=False).map(str),
    st.sampled_from(["0", "-0", "1e3", "1.5e10", "0x1F", "0o17", "017", "1_000", "1,250.50", ".inf", "-.inf", ".nan",
                     "1.0e999999", "9" * 40, "1" + "0" * 29, "'" + "9" * 40 + "'", "'1,000,000,000,000,000,000'",
                     "99999999999999", "1:30", "2024-01-01", "2025-06", "2025-Q2", "2025-06-30T17:00:00Z"]),
)
PERCENTS = st.one_of(st.integers(-50, 250).map(lambda n: f"{n}%"), st.sampled_from(["80/20", "70/30", "80/30", "0/100",
                                                                                   "99.5%", "%", "1 month", "2 days"]))
SPECIAL = st.sampled_from([
    ":", ": ", "-", "- ", "?", "|", ">", "#", "'", '"', "[", "]", "{", "}", ",", "&a", "*a", "&b", "*b", "!!python/object",
    "!!python/object/apply:os.system", "!!binary", "!!set", "!!omap", "!!str", "!!int", "!!float", "!!timestamp", "!foo",
    "!!timestamp x", "!!timestamp 2025-13-45", "!!int abc", "!!float x", "!!bool maybe", "!!null x", "!!map x", "!!seq",
    "&a [*a]", "&a {k: *a}",
    "<<", "<<: *a", "---", "...", "%YAML 1.1", "\t", "\r\n", "\r", "\\", "@", "`", "~", "null", "true", "no", "yes",
    "é", "€", "✓", "\u2028", "\x85", "\ufeff", "\x00", "\x07", "𝔘", "日本", "\u200b",
])
TOKEN = st.one_of(KEYS, FIXED, NUMBERS, PERCENTS, SPECIAL, st.text(max_size=4))
INDENT = st.sampled_from(["", "", "  ", "    ", "      ", " ", "   ", "\t", "- ", "  - ", "    - "])


@st.composite
def token_soup(draw: st.DrawFn) -> str:
    """Lines of random tokens: mostly nonsense, sometimes almost YAML."""
    lines = draw(st.lists(st.tuples(INDENT, st.lists(TOKEN, max_size=6)), max_size=12))
    return "\n".join(indent + " ".join(tokens) for indent, tokens in lines)


@st.composite
def block_lines(draw: st.DrawFn) -> str:
    """Indented `key: value` and `- item` lines: the shape of an agreement, with wrong turns."""
    out = []
    for _ in range(draw(st.integers(0, 25))):
        indent = " " * draw(st.sampled_from([0, 0, 2, 2, 4, 4, 6, 8, 1, 3]))
        dash = draw(st.sampled_from(["", "", "", "- "]))
        key = draw(st.one_of(KEYS, KEYS, KEYS, TOKEN))
        value = draw(st.one_of(st.just(""), FIXED, NUMBERS, PERCENTS, KEYS, TOKEN, st.text(max_size=8)))
        anchor = draw(st.sampled_from(["", "", "", "&a ", "*a", "!!str ", "!!python/object "]))
        separator = draw(st.sampled_from([": ", ": ", ": ", ":", " ", ":\t"]))
        out.append(f"{indent}{dash}{key}{separator}{anchor}{value}")
    return "\n".join(out)


@st.composite
def flow_agreements(draw: st.DrawFn) -> str:
    """A plausible agreement head, then flow mappings and lists built from the format's words."""
    head = "vested: 1\nid: fuzz\ntitle: Fuzz\nparties:\n  - {id: buyer, name: B, role: customer}\n" \
           "  - {id: seller, name: S, role: supplier}\n"

    def flow(depth: int) -> st.SearchStrategy[str]:
        scalar = st.one_of(FIXED, NUMBERS, PERCENTS, KEYS, st.sampled_from(["buyer", "seller", "x", "''", '""', "~"]))
        if depth == 0:
            return scalar
        inner = flow(depth - 1)
        mapping = st.lists(st.tuples(KEYS, inner), max_size=5).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}")
        sequence = st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]")
        return st.one_of(scalar, mapping, sequence)

    sections = draw(st.lists(st.tuples(KEYS, flow(3)), max_size=6))
    return head + "".join(f"{key}: {value}\n" for key, value in sections)


@FUZZ
@given(token_soup())
def test_token_soup_never_crashes_check(text: str) -> None:
    check_loaded(text)


@FUZZ
@given(block_lines())
def test_block_shaped_text_never_crashes_check(text: str) -> None:
    check_loaded(text)


@FUZZ
@given(flow_agreements())
def test_flow_shaped_agreements_never_crash_check(text: str) -> None:
    check_loaded(text)


# --- (b) mutations of the example agreements ------------------------------------------------------------

EXAMPLE_TEXTS = [(EXAMPLES / name).read_text(encoding="utf-8") for name in ("vested.yaml", "task-based.yaml")]
REPLACEMENTS = st.one_of(FIXED, NUMBERS, PERCENTS, SPECIAL, KEYS,
                         st.sampled_from(["[]", "{}", "[1, 2]", "{a: 1}", "''", "~", "true", "-1", "100%", "1 month"]))


@st.composite
def mutated_examples(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(EXAMPLE_TEXTS)).splitlines()
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent", "scalar", "drop", "insert"]))
        line = lines[i]
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, line)
        elif kind == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "indent":
            lines[i] = " " * draw(st.integers(1, 4)) + line
        elif kind == "dedent":
            lines[i] = line[draw(st.integers(1, 4)):]
        elif kind == "scalar" and ": " in line:
            key, _, _ = line.partition(": ")
            lines[i] = f"{key}: {draw(REPLACEMENTS)}"
        elif kind == "drop" and line:
            k = draw(st.integers(0, len(line) - 1))
            lines[i] = line[:k] + line[k + 1:]
        elif kind == "insert":
            k = draw(st.integers(0, len(line)))
            lines[i] = line[:k] + draw(TOKEN) + line[k:]
    return "\n".join(lines) + "\n"


@FUZZ
@given(mutated_examples())
def test_mutated_examples_never_crash_check(text: str) -> None:
    check_loaded(text)


def test_the_examples_themselves_are_valid() -> None:
    for text in EXAMPLE_TEXTS:
        loaded = check_loaded(text)
        assert loaded.ok, loaded.diagnostics


# --- (c) random facts priced against the help-desk agreements ---------------------------------------------


@cache
def helpdesk(name: str) -> Agreement:
    loaded = load_agreement_text((EXAMPLES / name).read_text(encoding="utf-8"), name)
    assert loaded.agreement is not None and loaded.ok
    return loaded.agreement




def between(low: int, high: int) -> st.SearchStrategy[str]:
    """Sound values of a metric declared between low and high."""
    return st.one_of(st.decimals(low, high, places=2).map(str), st.integers(low, high).map(str))


BAD_VALUES = st.one_of(
    st.decimals(-10**9, 10**12, places=2, allow_nan=False).map(str),
    st.sampled_from(["-1", "1e3", "1.0e20", "1.0e40", "1" + "0" * 27, "'" + "9" * 40 + "'", "99999999999999",
                     "99.5%", "'95,000'", "'95000 USD'", "ninety", "true", "~", "[]",
                     "[1, 2]", "{a: 1}", ".nan", ".inf", "2025-06-30", "2025-06-30T17:00:00Z", "''",
                     "!!python/object x", "*a", "&a 5", "101", "6", "0.5"]),
)
WRONG_NAMES = st.sampled_from(["store_availabilty", "call", "period", "12", "~", "'a b'", "values"])
PERIODS = st.sampled_from(["2025-06", "2025-06", "2025-06", "2025-06", "2025-Q2", "2025", "2025-06-01", "'2025-13'", "June", "~", "[2025]"])
AS_OF = st.sampled_from(["2025-06-30T17:00:00Z", "2025-06-30T17:00:00Z", "2025-06-30T17:00:00+02:00", "2025-06-30T17:00:00", "2025-06-30",
                         "'yesterday'", "17", "~"])
STATE = st.sampled_from(["", "", "state: {}\n", "state: {store_fee: {a: 1}}\n", "state: {nothing: {}}\n", "state: [1]\n",
                         "state: {call_fee: 3}\n", "state: {shared_value: {carried_over: 'x'}}\n",
                         "state: {availability_credits: {history: [1, x], earned: '?'}}\n"])


@st.composite
def facts_texts(draw: st.DrawFn, metrics: dict[str, st.SearchStrategy[str]]) -> str:
    """A facts file for an agreement with these metrics: mostly sound values, now and then a wrong one."""
    def now_and_then(wrong: st.SearchStrategy[str], sound: str) -> str:
        return draw(wrong) if draw(st.integers(0, 7)) == 0 else sound

    parts = []
    if draw(st.integers(0, 4)):
        parts.append(f"period: {now_and_then(PERIODS, '2025-06')}\n")
    if draw(st.booleans()):
        parts.append(f"as_of: {now_and_then(AS_OF, '2025-06-30T17:00:00Z')}\n")
    if draw(st.integers(0, 9)) == 0:
        parts.append(f"{draw(st.sampled_from(['valeus', 'notes', '- x']))}: {draw(BAD_VALUES)}\n")
    pairs = []
    for metric, sound in metrics.items():
        if draw(st.integers(0, 9)):
            bad = draw(st.integers(0, 14)) == 0
            pairs.append((metric, draw(BAD_VALUES if bad else sound)))
    if draw(st.integers(0, 9)) == 0:
        pairs.append((draw(WRONG_NAMES), draw(between(0, 100))))
    parts.append("values:\n" + "".join(f"  {name}: {value}\n" for name, value in draw(st.permutations(pairs))))
    parts.append(now_and_then(STATE, ""))
    return "".join(draw(st.permutations(parts)))


def check_facts_and_price(agreement: Agreement, text: str) -> None:
    loaded: LoadedFacts = load_facts_text(agreement, text, "facts.yaml")
    check_diagnostics(text, loaded.diagnostics)
    if loaded.facts is None:
        assert any(d.is_error for d in loaded.diagnostics)
        return
    assert not any(d.is_error for d in loaded.diagnostics)
    priced = price_period(agreement, loaded.facts)
    if priced.statement is None:
        assert priced.diagnostics and all(d.is_error and d.message for d in priced.diagnostics)


@settings(max_examples=500, deadline=None)
@given(facts_texts({"calls": between(0, 10**5), "onsite_visits": between(0, 500)}))
def test_random_facts_never_crash_pricing_the_task_based_help_desk(text: str) -> None:
    check_facts_and_price(helpdesk("task-based.yaml"), text)


@settings(max_examples=500, deadline=None)
@given(facts_texts({"store_availability": between(90, 100), "satisfaction": between(1, 5),
                    "first_contact_resolution": between(0, 100), "downtime_cost": between(0, 250_000)}))
def test_random_facts_never_crash_pricing_the_vested_help_desk(text: str) -> None:
    check_facts_and_price(helpdesk("vested.yaml"), text)


def test_a_product_too_large_to_show_is_a_diagnostic_not_a_crash() -> None:
    # Each number is below the 15-digit limit, but rate × quantity = 10**28 cannot be quantized at
    # the default precision of 28 digits.
    agreement = load_agreement_text(minimal("- {id: call_fee, type: per_unit, quantity: calls, rate: 100000000000000}",
                                            "- {id: calls, unit: count}"), "a.yaml").agreement
    assert agreement is not None
    facts = load_facts_text(agreement, "values: {calls: 100000000000000}\n", "facts.yaml").facts
    assert facts is not None
    priced = price_period(agreement, facts)
    assert priced.statement is None and priced.diagnostics

"""Bad input never wins (agreements): each class of hostile input is refused with a located error.

Three classes, each generated: months outside the supported calendar (1900-01 to 2999-12), numbers
spelt in ways a parser would take silently, and inputs that exhaust time or memory (size, nesting,
aliases, endless files). Every case must end in diagnostics with a file:line:column, never in an
exception, and quickly.
"""

from __future__ import annotations

import os
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import PARTIES
from vested.adapters.load import PER_CODE, load_agreement, load_agreement_text
from vested.adapters.yamlsource import MAX_BYTES, MAX_DEPTH
from vested.core.periods import parse_month, parse_month_argument

HOSTILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEAD = "vested: 1\nid: t\ntitle: T\n" + PARTIES  # six lines
HEAD_LINES = HEAD.count("\n")


def errors(text: str) -> list[tuple[int, str, str]]:
    loaded = load_agreement_text(text, "hostile.yaml", lint=False)
    for d in loaded.diagnostics:
        assert d.location is not None and d.location.line >= 1 and d.location.column >= 1, d
    return [(d.location.line, d.code, d.message) for d in loaded.diagnostics if d.is_error and d.location]


# --- months outside 1900-01 ... 2999-12 -----------------------------------------------------------------

YEARS = st.one_of(st.integers(0, 9999), st.sampled_from([0, 1, 1899, 1900, 2999, 3000, 9999]))
MONTHS = st.one_of(st.integers(0, 99), st.integers(1, 12))


@HOSTILE
@given(YEARS, MONTHS, st.sampled_from(["calendar", "baseline"]))
def test_a_month_outside_the_calendar_is_refused_where_it_is_written(year: int, month: int, where: str) -> None:
    label = f"{year:04d}-{month:02d}"
    valid = 1900 <= year <= 2999 and 1 <= month <= 12
    if where == "calendar":
        text = HEAD + f"calendar: {{start: '{label}', months: 1, time_zone: UTC}}\n"
    else:  # a baseline's period: any Period value
        text = HEAD + ("metrics:\n  - {id: m}\noutcomes:\n  - {id: o, statement: S, metric: m, direction: higher, "
                       f"baseline: {{value: 91, period: '{label}'}}, target: 97}}\n")
    found = [e for e in errors(text) if "period" in e[1] or "month" in e[2] or "calendar" in e[2]]
    if valid:
        assert not found, found
    else:
        assert found and all(line == HEAD_LINES + 1 + 3 * (where == "baseline") for line, _, _ in found), (label, found)


@HOSTILE
@given(YEARS, MONTHS)
def test_the_month_parser_of_the_command_line_names_the_option(year: int, month: int) -> None:
    label = f"{year:04d}-{month:02d}"
    month_label, problem = parse_month_argument(label, "--period")
    if 1900 <= year <= 2999 and 1 <= month <= 12:
        assert month_label == label and problem is None and parse_month(label) == (year, month)
    else:
        assert month_label is None and problem is not None and problem.is_error
        assert problem.message.startswith(f"--period {label}: "), problem.message
        assert ("month" in problem.message) if not 1 <= month <= 12 else ("calendar" in problem.message)


def test_month_13_reads_as_the_issue_asks() -> None:
    _, problem = parse_month_argument("2025-13", "--period")
    assert problem is not None and problem.message.startswith("--period 2025-13: month 13 does not exist")
    _, garbage = parse_month_argument("June", "--from")
    assert garbage is not None and garbage.message.startswith("--from June: not a month label")


@HOSTILE
@given(st.integers(1, 1200), st.integers(2990, 2999), st.integers(1, 12))
def test_an_agreement_running_past_2999_is_refused(months: int, year: int, month: int) -> None:
    text = HEAD + f"calendar: {{start: '{year}-{month:02d}', months: {months}, time_zone: UTC}}\n"
    last_index = year * 12 + month - 1 + months - 1
    found = [e for e in errors(text) if e[1] == "calendar"]
    assert bool(found) == (last_index > 2999 * 12 + 11), (year, month, months, found)


# --- numbers: one spelling -----------------------------------------------------------------------------

OTHER_DIGITS = ["٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "０１２３４５６７８９", "߀߁߂߃߄߅߆߇߈߉"]


@st.composite
def odd_numbers(draw: st.DrawFn) -> str:
    """A number as YAML text, spelt in one of the ways the format refuses."""
    digits = str(draw(st.integers(1, 10**7)))
    form = draw(st.sampled_from(["plus", "underscore", "spaces", "script", "negative-zero", "leading-zero", "hex",
                                 "bare-point", "trailing-point"]))
    if form == "plus":
        text = "+" + digits
    elif form == "underscore":
        text = digits[:1] + "_" + digits[1:] + "0"
    elif form == "spaces":
        return repr(" " * draw(st.integers(0, 3)) + digits + " " * draw(st.integers(1, 3)))  # quoted: plain YAML drops them
    elif form == "script":
        script = draw(st.sampled_from(OTHER_DIGITS))
        return "'" + "".join(script[int(c)] for c in digits) + "'"
    elif form == "negative-zero":
        text = draw(st.sampled_from(["-0", "-0.0", "-0.000", "-00"]))
    elif form == "leading-zero":
        text = "0" + digits
    elif form == "hex":
        text = draw(st.sampled_from(["0x1F", "0o17", "0b101", "-0x10"]))
    elif form == "bare-point":
        text = "." + digits
    else:
        text = digits + "."
    return draw(st.sampled_from([text, f"'{text}'", f'"{text}"']))


@HOSTILE
@given(odd_numbers())
def test_an_odd_spelling_of_a_number_is_refused_with_a_hint(number: str) -> None:
    text = HEAD + f"pricing:\n  - {{id: f, type: fixed_fee, amount: {number}}}\n"
    loaded = load_agreement_text(text, "hostile.yaml", lint=False)
    refused = [d for d in loaded.diagnostics if d.is_error]
    assert refused, f"{number} was accepted"
    d = refused[0]
    assert d.location is not None and d.location.line == HEAD_LINES + 2, d
    assert d.code == "invalid-number" and d.hint, d


@HOSTILE
@given(st.integers(-10**9, 10**9), st.integers(0, 6), st.booleans())
def test_the_one_spelling_is_read_exactly(whole: int, places: int, quoted: bool) -> None:
    number = Decimal(whole).scaleb(-places)
    if number.is_zero():
        number = Decimal(0).scaleb(-places)
    shown = format(number, "f")
    text = HEAD + f"pricing:\n  - {{id: f, type: fixed_fee, amount: {repr(shown) if quoted else shown}}}\n"
    loaded = load_agreement_text(text, "hostile.yaml", lint=False)
    assert loaded.agreement is not None, loaded.diagnostics
    assert loaded.agreement.pricing[0].amount == Decimal(whole) / 10**places  # type: ignore[union-attr]


@pytest.mark.parametrize("rate", ["+25%", "25 %", " 25%", "2_5%", "٢٥%", "-0%", ".5%"])
def test_a_percentage_follows_the_same_rule(rate: str) -> None:
    text = HEAD + f"pricing:\n  - {{id: f, type: fixed_fee, amount: 100}}\n  - {{id: s, type: gainshare, actual: m, " \
                  f"sharing_rate: '{rate}', baseline: 10}}\nmetrics:\n  - {{id: m, unit: count}}\n"
    found = [e for e in errors(text) if e[1] == "invalid-rate"]
    assert found and found[0][0] == HEAD_LINES + 3, (rate, errors(text))


def test_text_fields_keep_odd_numbers_as_written() -> None:
    loaded = load_agreement_text("vested: 1\nid: t\ntitle: +5\n" + PARTIES, "t.yaml", lint=False)
    assert loaded.agreement is not None and loaded.agreement.title == "+5"


# --- exhaustion: size, nesting, aliases, endless files ---------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(st.integers(MAX_DEPTH + 2, 400), st.sampled_from(["flow", "block", "list"]))
def test_deep_nesting_is_refused_at_the_line_where_it_crosses_the_limit(depth: int, style: str) -> None:
    """Below about 300 levels the document is composed and the builder stops; above, the parser runs out of
    stack and a scan finds the place: both report the line where level 41 starts."""
    if style == "flow":  # all on one line
        text, line = HEAD + "x: " + "[" * depth + "]" * depth + "\n", HEAD_LINES + 1
    elif style == "block":  # key x0 is at level 1, and the mapping under x40 (level 41) starts with key x41
        text = HEAD + "".join(" " * i + f"x{i}:\n" for i in range(depth))
        line = HEAD_LINES + MAX_DEPTH + 2
    else:  # the list under x is at level 1; a list starts at its first item, on the line after its '-'
        text = HEAD + "x:\n" + "".join(" " * i + "-\n" for i in range(depth))
        line = HEAD_LINES + MAX_DEPTH + 2
    started = time.perf_counter()
    found = errors(text)
    assert time.perf_counter() - started < 10
    assert [(ln, code) for ln, code, _ in found] == [(line, "yaml-depth")], found[:3]


def test_brackets_nested_to_the_size_limit_are_refused_quickly() -> None:
    """The YAML scanner is quadratic in the depth of brackets: 100,000 of them would take hours, unless stopped."""
    half = (MAX_BYTES - len(HEAD) - 10) // 2
    text = HEAD + "x: " + "[" * half + "]" * half + "\n"
    started = time.perf_counter()
    assert [(ln, code) for ln, code, _ in errors(text)] == [(HEAD_LINES + 1, "yaml-depth")]
    assert time.perf_counter() - started < 5


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 12), st.integers(2, 9))
def test_alias_bombs_stop_at_the_value_limit(width: int, levels: int) -> None:
    text = HEAD + "a0: &a0 [" + ", ".join(["'" + "x" * 200 + "'"] * width) + "]\n"
    text += "".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]\n" for i in range(1, levels))
    expanded = sum(width**k for k in range(1, levels + 1)) + 2 * levels
    started = time.perf_counter()
    loaded = load_agreement_text(text, "bomb.yaml", lint=False)
    assert time.perf_counter() - started < 10
    codes = [d.code for d in loaded.diagnostics]
    if expanded > 110_000:  # well past the limit of 100,000 values
        assert codes == ["yaml-size"], codes
    assert sum(len(d.message) for d in loaded.diagnostics) < 100_000


@settings(max_examples=10, deadline=None)
@given(st.integers(50, 2000))
def test_a_repeated_mistake_is_listed_a_few_times_and_counted(copies: int) -> None:
    text = HEAD + "bad: &b {id: f, type: fixed_fee, amount: '" + "9x" * 2000 + "'}\npricing: [" + ", ".join(["*b"] * copies) + "]\n"
    loaded = load_agreement_text(text, "many.yaml", lint=False)
    numbers = [d for d in loaded.diagnostics if d.code == "invalid-number"]
    assert len(numbers) == PER_CODE + 1, len(numbers)
    assert numbers[-1].message.startswith(f"... and {copies - PER_CODE:,} more [invalid-number] problems")
    assert all(len(d.message) < 600 for d in loaded.diagnostics)


def test_a_file_larger_than_the_limit_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * MAX_BYTES)  # sparse: large, but costs no disk
    started = time.perf_counter()
    loaded = load_agreement(path)
    assert time.perf_counter() - started < 2
    assert [(d.code, d.location.line if d.location else 0) for d in loaded.diagnostics] == [("file-size", 1)]
    assert [d.code for d in load_agreement_text("x: " + "y" * MAX_BYTES, "t.yaml").diagnostics] == ["file-size"]


@pytest.mark.skipif(sys.platform == "win32", reason="devices and FIFOs are POSIX")
@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_a_path_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    if kind == "device":
        path = Path("/dev/zero")
    elif kind == "fifo":
        path = tmp_path / "pipe.yaml"
        os.mkfifo(path)  # opening it to read would block until someone writes
    else:
        path = tmp_path / "folder.yaml"
        path.mkdir()
    started = time.perf_counter()
    loaded = load_agreement(path)
    assert time.perf_counter() - started < 2
    [d] = loaded.diagnostics
    assert d.code == "file" and "not a file" in d.message and d.location is not None, d


@pytest.mark.skipif(sys.platform == "win32", reason="/dev/zero is POSIX")
@pytest.mark.parametrize("case", ["dev-zero", "deep", "bomb", "odd-number", "month"])
def test_the_cli_refuses_hostile_agreements_with_exit_1(tmp_path: Path, case: str) -> None:
    from typer.testing import CliRunner

    from vested.cli import app

    path = tmp_path / "a.yaml"
    texts = {"deep": HEAD + "x: " + "[" * 5000 + "]" * 5000 + "\n",
             "bomb": HEAD + "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
                 f"{c}: &{c} [" + ", ".join([f"*{p}"] * 10) + "]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True)),
             "odd-number": HEAD + "pricing:\n  - {id: f, type: fixed_fee, amount: +1_000}\n",
             "month": HEAD + "calendar: {start: 0000-01}\n"}
    if case == "dev-zero":
        path = Path("/dev/zero")
    else:
        path.write_text(texts[case], encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert len(result.output) < 20_000

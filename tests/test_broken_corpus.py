"""A corpus of broken agreements: each file plants one problem and says on its first line where
`vested check` must report it, how severe it is, its code and words the message or hint must hold:

    # expect: 14:7 error unknown-key did you mean 'target'

An optional second line ``# xfail: reason`` marks a known bug (reported, in a module this corpus
does not own); the test then fails loudly once the bug is fixed, so the mark is removed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from vested.adapters.load import load_agreement, load_agreement_text, load_facts_text
from vested.core.diagnostics import Diagnostic
from vested.render.diagnostics import format_diagnostics

CORPUS = Path(__file__).parent / "broken"
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (error|warning) ([a-z-]+) (.+)$")


@dataclass(frozen=True)
class Expectation:
    line: int
    column: int
    severity: str
    code: str
    fragment: str
    xfail: str


def expectation(path: Path) -> Expectation:
    lines = path.read_text(encoding="utf-8").splitlines()
    match = EXPECT.match(lines[0]) if lines else None
    assert match, f"{path.name}: the first line must be '# expect: LINE:COL SEVERITY CODE FRAGMENT'"
    xfail = lines[1].removeprefix("# xfail:").strip() if len(lines) > 1 and lines[1].startswith("# xfail:") else ""
    line, column, severity, code, fragment = match.groups()
    return Expectation(int(line), int(column), severity, code, fragment.strip(), xfail)


FILES = sorted(CORPUS.glob("*.yaml"))


def corpus_params() -> list[object]:
    params = []
    for path in FILES:
        reason = expectation(path).xfail
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


def matches(d: Diagnostic, want: Expectation) -> bool:
    return (
        d.location is not None
        and (d.location.line, d.location.column) == (want.line, want.column)
        and d.severity.value == want.severity
        and d.code == want.code
        and want.fragment in f"{d.message}\n{d.hint}"
    )


def test_the_corpus_covers_many_failure_classes() -> None:
    assert len(FILES) >= 45
    names = [p.stem.split("-", 1)[1] for p in FILES]
    assert len(set(names)) == len(names), "each file plants a different problem"
    assert {expectation(p).severity for p in FILES} == {"error", "warning"}


@pytest.mark.parametrize("path", corpus_params())
def test_check_reports_the_planted_problem_where_it_is(path: Path) -> None:
    want = expectation(path)
    text = path.read_text(encoding="utf-8")
    loaded = load_agreement_text(text, path.name)
    shown = format_diagnostics(loaded.diagnostics)

    assert any(matches(d, want) for d in loaded.diagnostics), f"expected {want} in:\n{shown}"
    errors = [d for d in loaded.diagnostics if d.is_error]
    if want.severity == "error":
        assert not loaded.ok
        assert len(errors) == 1, f"one planted problem, one error (no cascade):\n{shown}"
    else:
        assert errors == [], shown
        assert loaded.ok and loaded.agreement is not None
    last_line = text.count("\n") + 1
    for d in loaded.diagnostics:
        assert d.location is not None and d.location.file == path.name
        assert 1 <= d.location.line <= last_line and d.location.column >= 1
        assert d.message.strip()


FACTS_CASES = [
    # (facts text, line, column, code, fragment) against the task-based help desk (metrics calls, onsite_visits)
    ("period: 2025-06\nvalues:\n  cals: 10\n", 3, 3, "unknown-metric", "did you mean 'calls'"),
    ("period: 2025-06-01\nvalues:\n  calls: 10\n", 1, 9, "period", "is a date, not a period"),
    ("period: 2025-06\nvalues:\n  calls: ten\n", 3, 10, "number", "'ten' is not a number"),
    ("period: 2025-06\nvalues:\n  calls: 10000000000000000\n", 3, 10, "too-large", "too large for a measured value"),
    ("period: 2025-06\nvaleus:\n  calls: 10\n", 2, 1, "unknown-key", "did you mean 'values'"),
    ("period: 2025-06\nvalues:\n  calls: 10\n  calls: 12\n", 4, 3, "duplicate-key", "appears twice"),
    ("period: 2025-06\nvalues: {calls: 10}\nstate:\n  call_fe: {}\n", 4, 3, "unknown-term", "did you mean 'call_fee'"),
    ("period: 2025-06\nas_of: 2025-06-30\nvalues: {calls: 10}\n", 2, 8, "timestamp", "a date without a time"),
    ("- calls: 10\n", 1, 1, "type", "a facts file must be a mapping"),
]


@pytest.mark.parametrize(("text", "line", "column", "code", "fragment"), FACTS_CASES)
def test_facts_problems_are_reported_where_they_are(text: str, line: int, column: int, code: str, fragment: str) -> None:
    loaded = load_agreement(Path(__file__).parents[1] / "examples" / "helpdesk" / "task-based.yaml")
    assert loaded.agreement is not None
    facts = load_facts_text(loaded.agreement, text, "facts.yaml")
    shown = format_diagnostics(facts.diagnostics)
    assert facts.facts is None, shown
    assert any(d.location is not None and (d.location.line, d.location.column) == (line, column) and d.code == code
               and d.is_error and fragment in f"{d.message}\n{d.hint}" for d in facts.diagnostics), shown


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vested", "check", *args],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("name", ["03-yaml-tab-indentation", "19-unknown-outcome-key", "44-tiers-gap",
                                  "09-empty-file", "10-top-level-list"])
def test_cli_exits_1_and_prints_file_line_column_for_an_error(name: str) -> None:
    path = CORPUS / f"{name}.yaml"
    want = expectation(path)
    result = run_check(str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{path}:{want.line}:{want.column}: error: " in result.stdout
    assert f"[{want.code}]" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_cli_exits_0_when_there_are_only_warnings() -> None:
    path = CORPUS / "63-lint-activity-trap.yaml"
    want = expectation(path)
    result = run_check(str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{path}:{want.line}:{want.column}: warning: " in result.stdout
    assert "0 errors, 1 warning" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("name", ["02-yaml-unclosed-quote", "35-undefined-party", "66-lint-zero-sum-game"])
def test_cli_json_output_is_json_with_lines_and_columns(name: str) -> None:
    path = CORPUS / f"{name}.yaml"
    want = expectation(path)
    result = run_check(str(path), "--json")
    report = json.loads(result.stdout)
    assert report["ok"] is (want.severity == "warning")
    assert result.returncode == (0 if report["ok"] else 1)
    found = [d for d in report["diagnostics"] if d["code"] == want.code]
    assert found and (found[0]["line"], found[0]["column"]) == (want.line, want.column)
    assert found[0]["file"] == str(path) and found[0]["severity"] == want.severity
    assert all(isinstance(d["line"], int) and isinstance(d["column"], int) for d in report["diagnostics"])


def test_cli_reports_a_missing_file_without_a_traceback(tmp_path: Path) -> None:
    result = run_check(str(tmp_path / "nowhere.yaml"))
    assert result.returncode == 1
    assert "no such file" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_cli_reports_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("vested: 1\ntitle: Caf\xe9\n".encode("latin-1"))
    result = run_check(str(path))
    assert result.returncode == 1
    assert f"{path}:1:1: error: " in result.stdout and "UTF-8" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr

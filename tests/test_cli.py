"""The `vested` command as a user runs it: exit codes, text and JSON output, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from vested.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_check_clean_agreement_exits_zero() -> None:
    code, out = run("check", str(EXAMPLES / "helpdesk" / "vested.yaml"))
    assert code == 0, out
    assert out.strip().endswith(": ok")


def test_check_task_based_warns_activity_trap_but_exits_zero() -> None:
    code, out = run("check", str(EXAMPLES / "helpdesk" / "task-based.yaml"), "--json")
    assert code == 0
    report = json.loads(out)
    codes = {d["code"] for d in report["diagnostics"]}
    assert "activity-trap" in codes
    assert all(d["severity"] == "warning" for d in report["diagnostics"])
    assert all(d["line"] and d["column"] for d in report["diagnostics"])


def test_check_errors_exit_one_with_location(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("vested: 1\nid: x\ntitle: X\nparties:\n  - {id: a, name: A, role: customer}\n  - {id: b, name: B, role: suplier}\n")
    code, out = run("check", str(bad))
    assert code == 1
    assert f"{bad}:6:" in out and "did you mean 'supplier'" in out


def test_check_missing_file_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    code, out = run("check", str(tmp_path / "nope.yaml"))
    assert code == 1
    assert "no such file" in out and "Traceback" not in out


def test_price_prints_each_line_and_the_net() -> None:
    code, out = run("price", str(EXAMPLES / "helpdesk" / "task-based.yaml"), "--facts",
                    str(EXAMPLES / "helpdesk" / "facts-2025-06.yaml"), "--json")
    assert code == 0, out
    data = json.loads(out)
    facts = yaml.safe_load((EXAMPLES / "helpdesk" / "facts-2025-06.yaml").read_text())["values"]
    agreement = yaml.safe_load((EXAMPLES / "helpdesk" / "task-based.yaml").read_text())
    rates = {t["quantity"]: t["rate"] for t in agreement["pricing"]}
    expected = sum(rates[m] * facts[m] for m in rates)  # computed here from the files, not by vested
    lines = data["statement"]["lines"]
    assert len(lines) == len(agreement["pricing"])
    assert all(line["formula"] and line["calculation"] for line in lines)
    assert data["statement"]["net"] == [{"payer": "acme", "payee": "deskco", "amount": f"{expected:.2f}"}]


def test_price_with_bad_facts_exits_one(tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text("period: 2025-06\nvalues:\n  cals: 10\n")
    code, out = run("price", str(EXAMPLES / "helpdesk" / "task-based.yaml"), "--facts", str(facts))
    assert code == 1
    assert f"{facts}:3:3:" in out and "did you mean 'calls'" in out


def test_schema_accepts_the_examples_and_rejects_unknown_keys() -> None:
    code, out = run("schema")
    assert code == 0
    schema = json.loads(out)
    for name in ("helpdesk/vested.yaml", "helpdesk/task-based.yaml", "car-repair/vested.yaml", "car-repair/task-based.yaml"):
        jsonschema.validate(yaml.safe_load((EXAMPLES / name).read_text()), schema)
    bad = yaml.safe_load((EXAMPLES / "helpdesk" / "vested.yaml").read_text())
    bad["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_explain_gives_the_rationale() -> None:
    code, out = run("explain", "activity-trap", "--json")
    assert code == 0
    (rule,) = json.loads(out)
    assert rule["vested_rule"] == 1 and "per call" in rule["rationale"]
    code, _ = run("explain", "no-such-rule")
    assert code == 1


def test_demo_tells_the_story(tmp_path: Path) -> None:
    code, out = run("demo", "--out", str(tmp_path / "demo"), "--json")
    assert code == 0, out
    data = json.loads(out)
    by_file = {c["file"]: c for c in data["contracts"]}
    task = by_file["examples/helpdesk/task-based.yaml"]
    vested = by_file["examples/helpdesk/vested.yaml"]
    assert {d["code"] for d in task["diagnostics"]} == {"activity-trap"}
    assert vested["diagnostics"] == []
    assert len(task["paid"]) == len(vested["paid"]) == 18
    assert task["last_statement"] and vested["last_statement"] and vested["last_scorecard"]
    report = Path(data["report"])
    html = report.read_text()
    assert "<svg" in html and vested["last_statement"]["lines"][0]["label"] in html


def test_module_entry_point_runs_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("vested: 1\nid: [unclosed\n")
    result = subprocess.run([sys.executable, "-m", "vested", "check", str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "yaml-syntax" in result.stdout

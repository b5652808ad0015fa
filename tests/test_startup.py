"""Start-up stays light: a command loads only the libraries its job needs (checked in a fresh process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "helpdesk"
PROBE = """
import json, sys
from vested.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))
"""
HEAVY = {"duckdb", "sqlalchemy", "altair", "vl_convert", "numpy", "pyarrow", "pandas"}


def loaded_by(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [("check", str(EXAMPLES / "vested.yaml")), ("--help",), ("version",)])
def test_check_help_and_version_load_no_engine(args: tuple[str, ...]) -> None:
    assert loaded_by(*args) & HEAVY == set()


def test_the_probe_sees_an_engine_when_one_is_loaded(tmp_path: Path) -> None:
    """Not vacuous: measuring loads DuckDB, and the probe says so."""
    assert "duckdb" in loaded_by("measure", str(EXAMPLES / "vested.yaml"), "--period", "2025-01", "--project", str(tmp_path))

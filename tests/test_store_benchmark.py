"""The ledger benchmark computes what it claims (its timings are never checked): a small SQLite run."""

from __future__ import annotations

from pathlib import Path

from benchmarks.ledger import report, run_backend


def test_the_ledger_benchmark_appends_verifies_and_reports(tmp_path: Path) -> None:
    figures = run_backend("sqlite", 40, "", tmp_path, out=False)
    assert figures.verified and sorted(figures.verify) == [10, 20, 40]
    assert figures.append_seconds > 0 and figures.insert_seconds > 0 and figures.read_seconds > 0
    text = report([figures])
    assert "sqlite" in text and "all verified" in text and "40: " in text

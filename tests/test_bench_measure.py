"""The measurement benchmark computes the right numbers (its timings are never asserted).

20,000 generated tickets are measured by vested, by the hand-written DuckDB queries and by pandas,
and every method is compared with the same metrics worked out here in plain Python over the rows
(months in the agreement's time zone with zoneinfo, percentiles by the inclusive formula), so a
mistake shared by the SQL methods would still be caught.
"""

from __future__ import annotations

import importlib.util
import math
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from benchmarks.children import time_method
from benchmarks.measure import run
from benchmarks.methods import Table, differences, measure_by_histogram, measure_hand_written, measure_pandas, measure_vested
from benchmarks.tickets import METRICS, MONTHS, TIME_ZONE, generate

EVENTS = 20_000


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate(tmp_path_factory.mktemp("bench"), EVENTS, seed=1)


@pytest.fixture(scope="module")
def rows(files: list[Path]) -> list[dict[str, Any]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cursor = con.execute("SELECT * FROM read_parquet(?)", [[str(f) for f in files]])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def inclusive_quantile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def by_hand(rows: list[dict[str, Any]]) -> Table:
    """The 8 metrics per local month, from the rows in plain Python."""
    zone = ZoneInfo(TIME_ZONE)
    table: Table = {metric: dict.fromkeys(MONTHS) for metric in METRICS}
    for month in MONTHS:
        tickets = [r for r in rows if r["opened_at"].astimezone(zone).strftime("%Y-%m") == month]
        if not tickets:
            continue
        hours = [Fraction(int((r["resolved_at"] - r["opened_at"]).total_seconds()), 3600) for r in tickets if r["resolved_at"]]
        scores = [r["satisfaction"] for r in tickets if r["satisfaction"] is not None]
        p1 = [r for r in tickets if r["priority"] == 1]
        values: dict[str, float | int | None] = {
            "tickets": len(tickets),
            "phone_calls": sum(r["channel"] == "phone" for r in tickets),
            "onsite_visits": sum(r["channel"] == "onsite" for r in tickets),
            "first_contact_rate": float(Fraction(100 * sum(r["first_contact"] for r in tickets), len(tickets))),
            "mean_resolution_hours": float(sum(hours) / len(hours)),
            "p90_resolution_hours": inclusive_quantile([float(h) for h in hours], 0.9),
            "mean_satisfaction": float(Fraction(sum(scores), len(scores))),
            "p1_resolved_rate": float(Fraction(100 * sum(r["resolved_at"] is not None for r in p1), len(p1))) if p1 else None,
        }
        for metric, value in values.items():
            table[metric][month] = value
    return table


def test_the_data_is_a_year_of_tickets_in_the_agreement_time_zone(rows: list[dict[str, Any]]) -> None:
    zone = ZoneInfo(TIME_ZONE)
    assert len(rows) == EVENTS
    assert len({r["ticket_id"] for r in rows}) == EVENTS
    opened = [r["opened_at"].astimezone(zone) for r in rows]
    assert min(opened) >= datetime(2025, 1, 1, tzinfo=zone)
    assert max(opened) < datetime(2026, 1, 1, tzinfo=zone)
    assert {r["channel"] for r in rows} == {"phone", "remote", "onsite"}
    assert {r["priority"] for r in rows} == {1, 2, 3, 4}
    assert {r["satisfaction"] for r in rows} == {None, 1, 2, 3, 4, 5}
    assert any(r["resolved_at"] is None for r in rows)
    assert all(r["resolved_at"] is None or r["resolved_at"] > r["opened_at"] for r in rows)


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(files: list[Path], tmp_path: Path) -> None:
    again = measure_hand_written(generate(tmp_path / "again", EVENTS, seed=1))
    other = measure_hand_written(generate(tmp_path / "other", EVENTS, seed=2))
    first = measure_hand_written(files)
    assert differences(first, again) == []
    assert differences(first, other) != []


def test_every_month_has_every_metric(files: list[Path]) -> None:
    table = measure_hand_written(files)
    assert all(table[metric][month] is not None for metric in METRICS for month in MONTHS)
    assert sum(v for v in table["tickets"].values() if v is not None) == EVENTS


@pytest.mark.parametrize("percentiles", ["auto", "aggregate", "ranks"])
def test_vested_gives_the_numbers_worked_out_by_hand(files: list[Path], rows: list[dict[str, Any]], percentiles: str) -> None:
    assert differences(by_hand(rows), measure_vested(files, percentiles=percentiles)) == []


def test_the_hand_written_queries_give_the_numbers_worked_out_by_hand(files: list[Path], rows: list[dict[str, Any]]) -> None:
    expected = by_hand(rows)
    assert differences(expected, measure_hand_written(files)) == []
    assert differences(expected, measure_hand_written(files, tuned=True)) == []


def test_the_percentile_from_a_histogram_is_the_interpolated_percentile(files: list[Path], rows: list[dict[str, Any]]) -> None:
    assert differences(by_hand(rows), measure_by_histogram(files)) == []


def test_the_big_run_measures_without_the_percentile_when_asked(files: list[Path]) -> None:
    without = measure_hand_written(files, without=["p90_resolution_hours"])
    assert "p90_resolution_hours" not in without
    assert differences(without, measure_hand_written(files)) == []


@pytest.mark.skipif(not all(importlib.util.find_spec(m) for m in ("pandas", "pyarrow")), reason="pandas and pyarrow not installed")
def test_pandas_gives_the_numbers_worked_out_by_hand(files: list[Path], rows: list[dict[str, Any]]) -> None:
    assert differences(by_hand(rows), measure_pandas(files)) == []


def test_differences_compares_counts_exactly_and_other_values_within_a_relative_tolerance() -> None:
    expected: Table = {"tickets": {"2025-01": 1000}, "mean_satisfaction": {"2025-01": 4.0, "2025-02": None}}
    close: Table = {"tickets": {"2025-01": 1000}, "mean_satisfaction": {"2025-01": 4.0 * (1 + 1e-12), "2025-02": None}}
    assert differences(expected, close) == []
    assert len(differences(expected, {"tickets": {"2025-01": 1001}, "mean_satisfaction": close["mean_satisfaction"]})) == 1
    far: Table = {"tickets": {"2025-01": 1000}, "mean_satisfaction": {"2025-01": 4.0 * (1 + 1e-8), "2025-02": None}}
    assert len(differences(expected, far)) == 1
    missing: Table = {"tickets": {"2025-01": 1000}, "mean_satisfaction": {"2025-01": None, "2025-02": None}}
    assert len(differences(expected, missing)) == 1


@pytest.mark.bench
def test_a_method_timed_in_a_child_process_reports_its_numbers_and_memory(files: list[Path]) -> None:
    timing = time_method("vested", files, 2)
    assert timing.error is None
    assert len(timing.seconds) == 2
    assert timing.values is not None
    assert differences(measure_hand_written(files), timing.values) == []
    assert 0 < timing.startup_mb <= timing.peak_mb
    assert not math.isnan(timing.best)


@pytest.mark.bench
def test_the_whole_benchmark_runs_at_a_tiny_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(events=5_000, seed=3, big=12_000, repeats=1) == 0
    printed = capsys.readouterr().out
    assert "vested vs hand-written: same 96 numbers" in printed
    assert "vested -p90 vs hand -p90: same 84 numbers" in printed
    assert "vested ranks vs hand-written: same 96 numbers" in printed


def test_a_method_that_cannot_start_is_reported_not_raised(files: list[Path]) -> None:
    timing = time_method("no-such-method", files, 2)
    assert timing.error is not None and "unknown method 'no-such-method'" in timing.error
    assert timing.seconds == ()
    assert timing.values is None

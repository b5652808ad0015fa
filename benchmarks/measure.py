"""Benchmark of measurement: a year of 8 help-desk metrics from N ticket events, three ways.

``run`` reads like its table of contents: generate the tickets (:mod:`benchmarks.tickets`: DuckDB
SQL straight to Parquet, deterministic from the seed) -> time each method (:mod:`benchmarks.methods`)
in its own fresh Python process (:mod:`benchmarks.children`; best of ``repeats``, wall and CPU
seconds, peak RSS per method) -> check they all give the same numbers -> print the table and the
targets of issue 3 (vested ≤ 1.2× the hand-written DuckDB query, ≥ 4× faster than pandas, peak
memory under 1 GB). With ``big`` it then measures N events spread over several Parquet files under
a DuckDB ``memory_limit``, with and without the percentile metric, to show memory stays bounded.

The three methods compute the same 8 numbers per month of 2025 (agreement time zone
America/Chicago):

* **vested**: ``measure_metrics`` on the agreement in :data:`AGREEMENT` (compiled by sqlglot);
* **hand-written**: one DuckDB query with FILTER aggregates (:data:`HAND_WRITTEN`), the local month
  by ``date_trunc('month', opened_at AT TIME ZONE ...)`` as a DuckDB user writes it;
* **pandas**: ``read_parquet`` then ``groupby`` month (only when pandas and pyarrow are installed);
* and for reference (:data:`REFERENCES`): **vested ranks**, vested with every percentile taken by
  rank (what ``percentiles="auto"`` does when the data is large for the memory limit);
  **hand-tuned**, the hand-written query with the local month found by comparing the UTC timestamp
  with the month starts worked out beforehand, as vested compiles it; and **hand-histogram**,
  hand-tuned with the percentile from a count per distinct duration (:data:`PERCENTILE_BY_HISTOGRAM`).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.children import Method, Timing, cpu_seconds, generate_in_child, peak_mb, time_method, time_methods
from benchmarks.methods import (
    TOLERANCE,
    Table,
    differences,
    load_benchmark_agreement,
    measure_by_histogram,
    measure_hand_written,
    measure_pandas,
    measure_vested,
    pandas_available,
)
from benchmarks.tickets import (
    AGREEMENT,
    HAND_WRITTEN,
    METRICS,
    MONTHS,
    PERCENTILE_BY_HISTOGRAM,
    PERCENTILE_METRIC,
    TIME_ZONE,
    generate,
    generation_sql,
    hand_written_sql,
)

FILE_EVENTS = 10_000_000
"""Events per Parquet file in the big run."""

REFERENCES = {
    "vested ranks": Method("vested", "vested ranks", percentiles="ranks"),
    "hand-tuned": Method("hand-tuned"),
    "hand-histogram": Method("hand-histogram"),
}
"""Variants timed for reference (docs/performance.md)."""
MEANINGS = {
    "vested ranks": "vested with percentiles='ranks': bounded memory (auto takes it when the data is large)",
    "hand-tuned": "hand-written with the month found from UTC month starts (no time zone conversion per row)",
    "hand-histogram": "hand-tuned, and the percentile from a count per distinct duration (bounded memory)",
}


def run(*, events: int, seed: int, big: int = 0, memory_limit: str = "1GB", repeats: int = 3, folder: str | None = None) -> int:
    """The whole benchmark; prints its report. Exit status 1 when the methods disagree on a number."""
    with tempfile.TemporaryDirectory(prefix="vested-bench-") as scratch:
        root = Path(folder) if folder else Path(scratch)
        agree = compare_methods(root / "main", events, seed, repeats)
        if big:
            agree = measure_big(root / "big", big, seed, memory_limit) and agree
    return 0 if agree else 1


def compare_methods(folder: Path, events: int, seed: int, repeats: int) -> bool:
    began = time.perf_counter()
    files, duckdb_version = generate_in_child(folder, events, seed)
    print(f"vested measure benchmark: {events:,} ticket events (seed {seed}), 8 metrics x 12 months of 2025, "
          f"best of {repeats}; Python {sys.version.split()[0]}, DuckDB {duckdb_version}")
    print(f"generated {_size(files)} of Parquet in {time.perf_counter() - began:.1f} s: {files[0]}")
    methods = ["vested", "hand-written"]
    if pandas_available():
        methods.append("pandas")
    else:
        print("pandas is needed for the pandas column (pip install pandas pyarrow); skipping it")
    timings = time_methods([*(Method(m) for m in methods), *REFERENCES.values()], files, repeats)
    agree = _check(timings, reference="hand-written")
    by_label = {t.label: t for t in timings}
    hand, hand_cpu = by_label["hand-written"].best, by_label["hand-written"].best_cpu
    print()
    print(f"{'method':<15}{'best s':>8}{'runs s':>20}{'x hand-written':>16}{'CPU s':>8}{'x hand':>8}{'peak RSS MB':>13}"
          f"{'startup MB':>12}")
    for t in timings:
        runs = " ".join(f"{s:.2f}" for s in t.seconds) or t.error or ""
        print(f"{t.label:<15}{t.best:>8.3f}{runs:>20}{t.best / hand:>15.2f}x{t.best_cpu:>8.2f}{t.best_cpu / hand_cpu:>7.2f}x"
              f"{t.peak_mb:>13.0f}{t.startup_mb:>12.0f}")
    for label, meaning in MEANINGS.items():
        print(f"  {label}: {meaning}")
    vested, tuned = by_label["vested"], by_label["hand-tuned"]
    print()
    print("targets (issue 3), best wall time and best CPU time:")
    print(f"  vested <= 1.2x the hand-written DuckDB query: {vested.best / hand:.2f}x wall, {vested.best_cpu / hand_cpu:.2f}x CPU  "
          f"{_verdict(vested.best / hand <= 1.2)}")
    print(f"    (against hand-tuned: {vested.best / tuned.best:.2f}x wall, {vested.best_cpu / tuned.best_cpu:.2f}x CPU)")
    if "pandas" in by_label:
        pandas = by_label["pandas"]
        speedup = pandas.best / vested.best
        print(f"  vested >= 4x faster than pandas:              {speedup:.1f}x wall, {pandas.best_cpu / vested.best_cpu:.1f}x CPU  "
              f"{_verdict(speedup >= 4)}")
    print(f"  vested peak memory < 1 GB:                     {vested.peak_mb:.0f} MB  {_verdict(vested.peak_mb < 1024)}")
    return agree


def measure_big(folder: Path, events: int, seed: int, memory_limit: str) -> bool:
    """N events as several Parquet files, measured once under a DuckDB memory limit, with and without the percentile.

    vested runs with ``percentiles="auto"``: at this size for this limit it takes the percentile by rank.
    """
    print()
    print(f"big run: {events:,} events in files of {FILE_EVENTS:,}, DuckDB memory_limit {memory_limit}, one run each")
    began = time.perf_counter()
    files, _ = generate_in_child(folder, events, seed, per_file=FILE_EVENTS)
    print(f"generated {len(files)} files, {_size(files)}, in {time.perf_counter() - began:.0f} s")
    without = (PERCENTILE_METRIC,)
    methods = [Method("vested", memory_limit=memory_limit), Method("vested", "vested -p90", without, memory_limit),
               Method("hand-written", memory_limit=memory_limit), Method("hand-written", "hand -p90", without, memory_limit),
               Method("hand-histogram", memory_limit=memory_limit)]
    runs = time_methods(methods, files, 1, spill=folder / "spill")
    print(f"{'method':<14}{'metrics':>8}{'seconds':>10}{'CPU s':>8}{'peak RSS MB':>13}{'startup MB':>12}  result")
    for t in runs:
        metrics = len(METRICS) - ("-p90" in t.label)
        print(f"{t.label:<14}{metrics:>8}{t.best:>10.1f}{t.best_cpu:>8.1f}{t.peak_mb:>13.0f}{t.startup_mb:>12.0f}  {t.error or 'ok'}")
    agree = True
    for label, reference in (("vested", "hand-written"), ("vested -p90", "hand -p90"), ("hand-histogram", "vested"),
                             ("hand-histogram", "vested -p90")):
        pair = [t for t in runs if t.label in (label, reference)]
        if all(t.values is not None for t in pair):
            agree = _check(pair, reference=reference) and agree
    return agree


def _check(timings: Sequence[Timing], *, reference: str) -> bool:
    """Print whether every method gives the reference's numbers; False when one differs."""
    expected = next(t.values for t in timings if t.label == reference)
    if expected is None:
        print(f"no numbers from {reference} to compare with")
        return False
    agree = True
    for t in timings:
        if t.label == reference or t.values is None:
            continue
        found = differences(expected, t.values)
        values = sum(len(by_month) for by_month in expected.values())
        print(f"{t.label} vs {reference}: " + (f"same {values} numbers" if not found else f"{len(found)} differ: {found[:5]}"))
        agree = agree and not found
    return agree


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _size(files: Sequence[Path]) -> str:
    total = sum(f.stat().st_size for f in files)
    return f"{total / 1e9:.2f} GB" if total >= 1e9 else f"{total / 1e6:.0f} MB"


__all__ = [
    "AGREEMENT", "FILE_EVENTS", "HAND_WRITTEN", "METRICS", "MONTHS", "PERCENTILE_BY_HISTOGRAM", "PERCENTILE_METRIC",
    "TIME_ZONE", "TOLERANCE", "Method", "Table", "Timing", "compare_methods", "cpu_seconds", "differences", "generate",
    "generate_in_child", "generation_sql", "hand_written_sql", "load_benchmark_agreement", "measure_big",
    "measure_by_histogram", "measure_hand_written", "measure_pandas", "measure_vested", "pandas_available", "peak_mb",
    "run", "time_method", "time_methods",
]

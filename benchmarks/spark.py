"""Benchmark of the Spark engine: the help-desk year (8 metrics x 12 months) from N events, Spark against DuckDB.

``run`` reads like its table of contents: generate the tickets once (:mod:`benchmarks.tickets`, Parquet,
deterministic from the seed) -> measure them with DuckDB and with Spark ``local[2]`` (then ``local[1]``
and ``local[4]`` for the scaling curve), each in a fresh Python process of its own -> check every
engine gives DuckDB's 96 values exactly (Spark takes the percentile by rank: exact) -> print the table.

Each child reports: the seconds to start (Spark: the JVM and the session), the first measurement
(Spark compiles its code then) and the second (warm), CPU seconds, and peak memory: the Python
process's ``ru_maxrss`` and, for Spark, the JVM's peak resident set (``VmHWM`` in ``/proc/PID/status``),
since the work happens in the JVM. ``local[4]`` on a 2-core machine is over-subscribed: it shows what
more threads than cores cost, not a speed-up.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.tickets import AGREEMENT, MONTHS, generate

MASTERS = ("local[2]", "local[1]", "local[4]")


def run(*, events: int, seed: int, masters: tuple[str, ...] = MASTERS, folder: str | None = None,
        driver_memory: str = "4g") -> int:
    """The whole benchmark; prints its report. Exit status 1 when an engine disagrees with DuckDB on a value."""
    with tempfile.TemporaryDirectory(prefix="vested-spark-bench-") as scratch:
        root = Path(folder) if folder else Path(scratch)
        began = time.perf_counter()
        files = [str(f) for f in _generate(root / "data", events, seed)]
        size = sum(Path(f).stat().st_size for f in files) / 2**20
        print(f"vested spark benchmark: {events:,} ticket events (seed {seed}), 8 metrics x 12 months of 2025, "
              f"{size:.0f} MB of Parquet generated in {time.perf_counter() - began:.0f} s; {os.cpu_count()} cores")
        runs = [("duckdb", _child({"engine": "duckdb", "files": files}))]
        for master in masters:
            runs.append((f"spark {master}", _child({"engine": "spark", "master": master, "files": files,
                                                    "driver_memory": driver_memory})))
    reference = runs[0][1].get("values")
    print()
    print(f"{'engine':<16}{'start s':>9}{'first s':>9}{'warm s':>9}{'CPU s':>8}{'Python MB':>11}{'JVM MB':>9}  values")
    agree = True
    for label, found in runs:
        if "error" in found:
            agree = False
            print(f"{label:<16}  failed: {found['error']}")
            continue
        same = found["values"] == reference
        agree = agree and same
        jvm = f"{found['jvm_mb']:>9.0f}" if found.get("jvm_mb") else f"{'-':>9}"
        print(f"{label:<16}{found['start']:>9.1f}{found['first']:>9.1f}{found['warm']:>9.1f}{found['cpu']:>8.1f}"
              f"{found['python_mb']:>11.0f}{jvm}  {'= duckdb' if same else 'DIFFER from duckdb'}")
    print("  start: import and (Spark) JVM + session; first: the first measurement; warm: the same again")
    print("  local[4] runs 4 task threads on the machine's cores: over-subscribed where there are 2")
    return 0 if agree else 1


def _generate(folder: Path, events: int, seed: int) -> list[Path]:
    found = sorted(folder.glob("tickets-*.parquet"))
    return found if found else generate(folder, events, seed, per_file=10_000_000)


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one engine in a fresh Python process (its peak memory its own) and read its JSON report."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.spark", json.dumps(spec)], capture_output=True, text=True,
                          check=False, env={**os.environ, "PYTHONPATH": os.pathsep.join(["src", os.environ.get("PYTHONPATH", "")])})
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]}
    report: dict[str, Any] = json.loads(lines[-1])
    return report


def measure_child(spec: dict[str, Any]) -> dict[str, Any]:
    """In the child: start the engine, measure twice, report times, memory and the values."""
    began = time.perf_counter()
    from vested.adapters.load import load_agreement_text

    loaded = load_agreement_text(AGREEMENT, "benchmark.yaml")
    assert loaded.agreement is not None
    agreement = loaded.agreement
    sources = {"tickets": [Path(f) for f in spec["files"]]}
    engine: Any
    if spec["engine"] == "spark":
        from vested.measure.spark import SparkEngine, SparkSettings

        engine = SparkEngine(SparkSettings(spec["master"], {"spark.driver.memory": spec["driver_memory"]}))
        engine.session()
    else:
        from vested.measure.engine import DuckDBEngine

        engine = DuckDBEngine()
        engine.connection()
    started = time.perf_counter()
    table = engine.measure(agreement, sources, MONTHS)
    first = time.perf_counter()
    engine.measure(agreement, sources, MONTHS)
    warm = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime
    return {"start": started - began, "first": first - started, "warm": warm - first,
            "cpu": cpu + (_jvm_cpu_seconds() if spec["engine"] == "spark" else 0.0),
            "python_mb": usage.ru_maxrss / 1024, "jvm_mb": _jvm_peak_mb(),
            "values": {m: {month: str(v) if v is not None else None for month, v in by_month.items()}
                       for m, by_month in table.values.items()}}


def _jvm_pids() -> list[int]:
    """This process's child processes (the Spark JVM)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                found.append(int(entry.name))
    return found


def _jvm_peak_mb() -> float | None:
    """The JVM's peak resident set (VmHWM), MB; None without one (DuckDB) or without /proc."""
    peaks = []
    for pid in _jvm_pids():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks) if peaks else None


def _jvm_cpu_seconds() -> float:
    """User + system seconds of the (still running) JVM, from /proc (getrusage counts only children that ended)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in _jvm_pids():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


if __name__ == "__main__":
    print(json.dumps(measure_child(json.loads(sys.argv[1]))))

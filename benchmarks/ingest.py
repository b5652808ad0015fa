"""Benchmark of ingest (issue 12): vested's ingest of N ticket rows against a plain DuckDB COPY of the same file.

``run`` reads like its table of contents: write N tickets (:mod:`benchmarks.tickets`, plus a ``cost``
number column) as typed Parquet and as CSV -> for each source, take turns running, each in a fresh
Python process: **copy**, a plain DuckDB ``COPY (SELECT * FROM <source>) TO <file> (FORMAT parquet,
COMPRESSION zstd)`` under the same memory limit (the reference); **vested**, ``ingest_file`` into a new
project (every check made, the typed batch written and recorded); **vested CLI**, ``python -m vested
ingest`` as a user runs it (the whole process: start-up, the agreement, the record) -> print the
medians and ratios: in-process wall and CPU seconds (the call itself), whole-process wall seconds,
and each process's peak RSS.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.tickets import DATASET, generation_sql

AGREEMENT = (DATASET.replace("      - {name: priority", "      - {name: cost, type: number, minimum: 0}\n      - {name: priority")
             + "  - {id: tickets, unit: count, measure: {dataset: tickets, aggregate: count}}\npricing: []\n")
"""The benchmark agreement: the ``tickets`` dataset of :mod:`benchmarks.tickets` with a ``cost`` number column."""
MEMORY_LIMIT = "512MB"
"""The reference COPY's DuckDB memory limit: the same as an ingest's (``vested.ingest.pipeline.MEMORY_LIMIT``)."""
METHODS = ("copy", "vested", "vested CLI")


def write_sources(folder: Path, rows: int, formats: list[str]) -> dict[str, Path]:
    """The tickets as typed Parquet (and CSV): DuckDB writes them, in a child so that this process stays small."""
    paths = {fmt: folder / f"tickets.{fmt}" for fmt in formats}
    sql = (f"SELECT *, round((hash(ticket_id) % 100000) / 100.0, 2)::DECIMAL(12,2) AS cost FROM ({generation_sql(0, rows, 1)})")
    script = ("import duckdb, sys\ncon = duckdb.connect(config={'memory_limit': '1GB'})\ncon.execute('SET enable_progress_bar = false')\n"
              "con.execute(\"SET TimeZone = 'UTC'\")\n"
              + "".join(f"con.execute({f'COPY ({sql}) TO {_lit(str(p))} (FORMAT {fmt})'!r})\n" for fmt, p in paths.items()))
    subprocess.run([sys.executable, "-c", script], check=True)
    return paths


def child(method: str, source: str, work: str) -> None:
    """One run of ``copy`` or ``vested`` in this (fresh) process: prints wall, CPU and peak RSS as JSON."""
    work_dir = Path(work)
    if method == "copy":
        import duckdb

        reader = "read_parquet" if source.endswith(".parquet") else "read_csv"
        begun, cpu = time.perf_counter(), time.process_time()
        with duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(work_dir / "spill")}) as con:
            con.execute("SET TimeZone = 'UTC'")
            con.execute(f"COPY (SELECT * FROM {reader}({_lit(source)})) TO {_lit(str(work_dir / 'copy.parquet'))} "
                        "(FORMAT parquet, COMPRESSION zstd)")
        rows = None
    else:
        from datetime import UTC, datetime

        from vested.adapters.load import load_agreement_text
        from vested.ingest import ingest_file
        from vested.services.workspace import open_workspace

        agreement = load_agreement_text(AGREEMENT, "bench.yaml").agreement
        assert agreement is not None
        ws = open_workspace(work_dir / "project", actor="bench")
        ws.store.batches("tickets")  # the record is created before the clock starts: a project has one already
        begun, cpu = time.perf_counter(), time.process_time()
        report = ingest_file(agreement, ws.store, "tickets", source, who="bench", now=datetime.now(UTC))
        if not report.ok:
            raise SystemExit(f"the ingest failed: {report.problems[:3]}")
        rows = report.rows_ingested
    print(json.dumps({"seconds": time.perf_counter() - begun, "cpu": time.process_time() - cpu,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rows": rows}))


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU seconds (user + system of the child) of a whole process, and what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begun = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - begun
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, done.stdout


def run(*, rows: int = 1_000_000, repeats: int = 3, formats: list[str] | None = None) -> int:
    formats = formats or ["parquet", "csv"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path("src").resolve()), str(Path.cwd())])}
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="vested-bench-ingest-") as scratch:
        folder = Path(scratch)
        begun = time.perf_counter()
        sources = write_sources(folder, rows, formats)
        print(f"{rows:,} rows: " + ", ".join(f"{fmt} {p.stat().st_size / 1e6:.0f} MB" for fmt, p in sources.items())
              + f" (written in {time.perf_counter() - begun:.1f} s); load average {load[0]:.1f} on {os.cpu_count()} CPUs")
        (folder / "bench.yaml").write_text(AGREEMENT, encoding="utf-8")
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for repeat in range(repeats):
            for fmt, source in sources.items():
                for method in METHODS:
                    work = folder / f"{fmt}-{method.replace(' ', '-')}-{repeat}"
                    work.mkdir()
                    if method == "vested CLI":
                        command = [sys.executable, "-m", "vested", "ingest", str(folder / "bench.yaml"), "tickets", str(source),
                                   "--project", str(work / "project"), "--who", "bench"]
                        wall, cpu, _ = timed(command, env)
                        found = {"whole": wall, "whole_cpu": cpu}
                    else:
                        wall, cpu, out = timed([sys.executable, "-m", "benchmarks.ingest", method, str(source), str(work)], env)
                        found = {**json.loads(out.strip().splitlines()[-1]), "whole": wall, "whole_cpu": cpu}
                    results.setdefault((fmt, method), []).append(found)
                    subprocess.run(["rm", "-rf", str(work)], check=False)
    print_results(results, formats, rows)
    return 0


def print_results(results: dict[tuple[str, str], list[dict[str, float]]], formats: list[str], rows: int) -> None:
    def med(fmt: str, method: str, key: str) -> float | None:
        values = [r[key] for r in results.get((fmt, method), []) if r.get(key) is not None]
        return statistics.median(values) if values else None

    print(f"\nmedians of {len(next(iter(results.values())))} runs each, taking turns")
    print(f"{'source':8} {'method':11} {'in-process s':>13} {'CPU s':>7} {'whole s':>8} {'whole CPU s':>11} {'peak MB':>8}")
    for fmt in formats:
        for method in METHODS:
            cells = [med(fmt, method, k) for k in ("seconds", "cpu", "whole", "whole_cpu", "peak_mb")]
            shown = [f"{c:.2f}" if c is not None else "—" for c in cells[:4]] + [f"{cells[4]:.0f}" if cells[4] else "—"]
            print(f"{fmt:8} {method:11} {shown[0]:>13} {shown[1]:>7} {shown[2]:>8} {shown[3]:>11} {shown[4]:>8}")
    print("\nratios to the plain COPY of the same file (target for Parquet: ≤ 2×)")
    for fmt in formats:
        ref = {k: med(fmt, "copy", k) for k in ("seconds", "cpu", "whole", "whole_cpu")}
        vested = {k: med(fmt, "vested", k) for k in ("seconds", "cpu")}
        cli = {k: med(fmt, "vested CLI", k) for k in ("whole", "whole_cpu")}
        parts = [f"in-process wall {_ratio(vested['seconds'], ref['seconds'])}", f"CPU {_ratio(vested['cpu'], ref['cpu'])}",
                 f"whole process (CLI) wall {_ratio(cli['whole'], ref['whole'])}", f"CPU {_ratio(cli['whole_cpu'], ref['whole_cpu'])}"]
        cpu = vested["cpu"]
        print(f"  {fmt:8} " + ", ".join(parts) + (f"; vested {cpu / rows * 1e6:.2f} CPU s per million rows" if cpu else ""))


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a is not None and b else "—"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


if __name__ == "__main__":
    child(*sys.argv[1:4])

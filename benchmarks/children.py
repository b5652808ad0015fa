"""Each method timed in its own fresh Python process, talking JSON lines with the benchmark.

A child (``python -m benchmarks.children SPEC``) prepares its method, reports its startup
baseline, then runs the method once per ``run`` command and reports wall and CPU seconds, and at
``done`` its peak RSS and the last run's numbers. The parent never imports DuckDB or pandas: on
Linux a child's ``ru_maxrss`` starts from its parent's peak at the time of the fork, so a big
parent would hide the children's own peaks.
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.methods import (
    Table,
    load_benchmark_agreement,
    measure_by_histogram,
    measure_hand_written,
    measure_pandas,
    measure_vested,
)
from benchmarks.tickets import generate


def peak_mb() -> float:
    """This process's peak resident set so far, in MB (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process so far, every thread (DuckDB's workers too), user plus system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Method:
    """A method to time, as a child process runs it."""

    method: str
    """vested, hand-written, hand-tuned, hand-histogram or pandas."""
    label: str = ""
    without: tuple[str, ...] = ()
    """Metrics left out (vested and hand-written only)."""
    memory_limit: str | None = None
    """DuckDB ``memory_limit`` of the connection (None: DuckDB's default, 80 % of RAM)."""
    percentiles: str = "auto"
    """vested only: how ``measure_metrics`` takes percentiles (auto, aggregate or ranks)."""

    @property
    def name(self) -> str:
        return self.label or self.method


def serve(spec: Mapping[str, Any], commands: Iterator[str], reply: Callable[[dict[str, Any]], None]) -> None:
    """A child's side of :func:`time_methods`: prepare the method, then run it once per ``run`` command.

    Replies (one JSON line each): the startup baseline once prepared; seconds, CPU seconds and
    error after each run; the peak RSS and the last run's numbers after ``done``.
    """
    try:
        once = _prepare(spec["method"], [Path(f) for f in spec["files"]], spec["without"], spec["memory_limit"], spec["spill"],
                        spec.get("percentiles", "auto"))
    except Exception as problem:  # e.g. pandas missing: the parent reports it in the method's row
        reply({"error": f"{type(problem).__name__}: {problem}"})
        return
    reply({"startup_mb": peak_mb()})
    values: Table | None = None
    for command in commands:
        if command.strip() != "run":
            break
        began, cpu_began, error = time.perf_counter(), cpu_seconds(), None
        try:
            values = once()
        except Exception as problem:  # an engine out of memory is a result to report, not a crash
            error = (str(problem).strip().splitlines() or [type(problem).__name__])[0]
        reply({"seconds": time.perf_counter() - began, "cpu": cpu_seconds() - cpu_began, "error": error})
    reply({"peak_mb": peak_mb(), "values": values})


def _prepare(method: str, files: list[Path], without: list[str], memory_limit: str | None,
             spill: str | None, percentiles: str = "auto") -> Callable[[], Table]:
    """Import what ``method`` needs and return one timed run of it (a fresh DuckDB connection each run)."""
    if method == "pandas":
        import pandas  # noqa: F401  (imported before the baseline is taken)
        import pyarrow.parquet  # noqa: F401

        return lambda: measure_pandas(files)

    import duckdb

    def connected(measure: Callable[[Any], Table]) -> Table:
        if memory_limit is None:
            return measure(None)
        config: dict[str, str | bool | int | float | list[str]] = {"memory_limit": memory_limit}
        if spill:
            config["temp_directory"] = spill
        with duckdb.connect(config=config) as con:
            return measure(con)

    if method == "vested":
        agreement = load_benchmark_agreement(without)
        return lambda: connected(lambda con: measure_vested(files, agreement=agreement, connection=con, percentiles=percentiles))
    if method == "hand-histogram":
        return lambda: connected(lambda con: measure_by_histogram(files, connection=con))
    if method in ("hand-written", "hand-tuned"):
        tuned = method == "hand-tuned"
        return lambda: connected(lambda con: measure_hand_written(files, connection=con, without=without, tuned=tuned))
    raise ValueError(f"unknown method {method!r}")


@dataclass(frozen=True)
class Timing:
    """What one child process reported."""

    label: str
    seconds: tuple[float, ...]
    cpu: tuple[float, ...]
    """CPU seconds of each run (all threads): less disturbed than wall time by other work on the machine."""
    startup_mb: float
    peak_mb: float
    values: Table | None
    error: str | None

    @property
    def best(self) -> float:
        return min(self.seconds) if self.seconds else math.nan

    @property
    def best_cpu(self) -> float:
        return min(self.cpu) if self.cpu else math.nan


def time_methods(methods: Sequence[Method], files: Sequence[Path], repeats: int, *, spill: Path | None = None) -> list[Timing]:
    """Time each method in its own fresh Python process, ``repeats`` runs each, taking turns.

    ``spill``: a folder for DuckDB's temporary files (a subfolder per method).

    Every child starts and prepares first; then the runs go round robin (one of each method, then
    the next round), so a burst of other work on the machine slows one run of every method rather
    than every run of one. This process imports neither DuckDB nor pandas (see :func:`_spawn`).
    """
    if spill is not None:
        for i in range(len(methods)):
            (spill / str(i)).mkdir(parents=True, exist_ok=True)
    children = [_spawn({"method": m.method, "files": [str(f) for f in files], "without": list(m.without),
                        "memory_limit": m.memory_limit, "spill": str(spill / str(i)) if spill else None,
                        "percentiles": m.percentiles})
                for i, m in enumerate(methods)]
    try:
        ready = [_receive(child) for child in children]
        startups = [r.get("startup_mb", math.nan) for r in ready]
        runs: list[list[dict[str, Any]]] = [[r] if "error" in r else [] for r in ready]
        for _ in range(repeats):
            for child, done in zip(children, runs, strict=True):
                if not (done and done[-1].get("error")):
                    done.append(_ask(child, "run"))
        finals = [_ask(child, "done") for child in children]
    finally:
        for child in children:
            child.wait()
    timings = []
    for method, startup, done, final in zip(methods, startups, runs, finals, strict=True):
        ok = [r for r in done if not r.get("error")]
        error = next((r["error"] for r in done if r.get("error")), None)
        timings.append(Timing(method.name, tuple(r["seconds"] for r in ok), tuple(r["cpu"] for r in ok), startup,
                              final.get("peak_mb", math.nan), final.get("values"), error))
    return timings


def time_method(method: str, files: Sequence[Path], repeats: int) -> Timing:
    """One method timed in its own process (:func:`time_methods` of one)."""
    return time_methods([Method(method)], files, repeats)[0]


def generate_in_child(folder: Path, events: int, seed: int, *, per_file: int | None = None) -> tuple[list[Path], str]:
    """:func:`generate` in a child process (and the DuckDB version), so this process stays small (see :func:`_spawn`)."""
    child = _spawn({"method": "generate", "folder": str(folder), "events": events, "seed": seed, "per_file": per_file})
    report = _receive(child)
    child.wait()
    if "error" in report:
        raise RuntimeError(f"generating the data failed: {report['error']}")
    return [Path(f) for f in report["files"]], report["duckdb"]


def _spawn(spec: Mapping[str, Any]) -> subprocess.Popen[str]:
    """Start ``python -m benchmarks.children SPEC``, talking JSON lines over its stdin and stdout.

    This process never imports DuckDB or pandas and holds no data: on Linux a child's ``ru_maxrss``
    starts from the parent's peak at the time of the fork (the kernel carries the old address
    space's high-water mark across exec), so a big parent would hide the children's own peaks.
    """
    return subprocess.Popen([sys.executable, "-m", "benchmarks.children", json.dumps(spec)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)


def _ask(child: subprocess.Popen[str], command: str) -> dict[str, Any]:
    if child.poll() is None and child.stdin is not None:
        try:
            child.stdin.write(command + "\n")
            child.stdin.flush()
        except BrokenPipeError:
            pass
    return _receive(child)


def _receive(child: subprocess.Popen[str]) -> dict[str, Any]:
    """The child's next JSON line; a child that died (killed for memory, a crash) reports an error."""
    line = child.stdout.readline() if child.stdout is not None else ""
    if not line:
        return {"error": f"the child process ended (exit status {child.wait()})", "seconds": math.nan, "cpu": math.nan}
    message: dict[str, Any] = json.loads(line)
    return message


def child_main(spec: Mapping[str, Any]) -> None:
    """What a child process does with its spec: generate the data, or serve timed runs of a method."""

    def reply(message: dict[str, Any]) -> None:
        print(json.dumps(message), flush=True)

    if spec["method"] != "generate":
        serve(spec, iter(sys.stdin.readline, ""), reply)
        return
    import duckdb

    try:
        files = generate(Path(spec["folder"]), spec["events"], spec["seed"], per_file=spec["per_file"])
    except Exception as problem:  # e.g. the disk is full: tell the parent rather than die silently
        reply({"error": str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__})
        return
    reply({"files": [str(f) for f in files], "duckdb": duckdb.__version__})


if __name__ == "__main__":
    child_main(json.loads(sys.argv[1]))

"""Benchmark of start-up (issue 12): ``vested --help`` and ``vested check`` against ``python -c pass``.

``run`` takes turns running the three commands, each a fresh process, ``repeats`` times, prints the
medians of wall and CPU seconds and the ratios to the reference, then the import-time budget of each
vested command (``python -X importtime``: the slowest top-level imports, cumulative microseconds), and
the targets (``--help`` ≤ 0.15 s, ``check`` ≤ 0.3 s on the help-desk agreement).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

AGREEMENT = Path("src/vested/examples/helpdesk/vested.yaml")
TARGETS = {"vested --help": 0.15, "vested check": 0.3}


def commands() -> dict[str, list[str]]:
    return {"python -c pass": [sys.executable, "-c", "pass"],
            "vested --help": [sys.executable, "-m", "vested", "--help"],
            "vested check": [sys.executable, "-m", "vested", "check", str(AGREEMENT)]}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begun = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - begun
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def import_budget(command: list[str], env: dict[str, str], top: int = 8) -> list[tuple[int, str]]:
    """The slowest imports of ``command`` that no other import made (cumulative µs, module)."""
    done = subprocess.run([command[0], "-X", "importtime", *command[1:]], env=env, capture_output=True, text=True, check=False)
    found = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        try:
            micro = int(cumulative)
        except ValueError:
            continue
        if name.rstrip() == name.strip() or len(name) - len(name.lstrip()) <= 2:  # top-level: one space of indent
            found.append((micro, name.strip()))
    return sorted(found, reverse=True)[:top]


def run(*, repeats: int = 11) -> int:
    env = {**os.environ, "PYTHONPATH": str(Path("src").resolve())}
    load = os.getloadavg()
    runs: dict[str, list[tuple[float, float]]] = {}
    for _ in range(repeats):
        for name, command in commands().items():
            runs.setdefault(name, []).append(timed(command, env))
    print(f"medians of {repeats} runs each, taking turns; load average {load[0]:.1f} on {os.cpu_count()} CPUs")
    ref_wall = statistics.median(w for w, _ in runs["python -c pass"])
    ref_cpu = statistics.median(c for _, c in runs["python -c pass"])
    for name, found in runs.items():
        wall, cpu = statistics.median(w for w, _ in found), statistics.median(c for _, c in found)
        target = TARGETS.get(name)
        verdict = f"  target ≤ {target} s: {'met' if cpu <= target else 'not met'} (CPU)" if target else ""
        print(f"  {name:15} wall {wall:.3f} s ({wall / ref_wall:5.1f}×)  CPU {cpu:.3f} s ({cpu / ref_cpu:5.1f}×){verdict}")
    for name in TARGETS:
        print(f"\nimport-time budget of `{name}` (cumulative ms of the slowest top-level imports):")
        for micro, module in import_budget(commands()[name], env):
            print(f"  {micro / 1000:8.1f}  {module}")
    return 0

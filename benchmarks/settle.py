"""Benchmark of settlement (issue 7): 60 months × 10 agreements settled month by month into SQLite records.

``run`` reads like its table of contents: make ``agreements`` copies of the help-desk Vested agreement
(``examples/helpdesk/vested.yaml``, 60 months from 2025-01; ids ``helpdesk-vested-1``, ...) -> generate
each one's data with the demo's generator (:func:`vested.demo_data.write_helpdesk_csv`, seed = its
number, ``stores`` stores) and ingest it into its own project (SQLite record) -> settle month 1 of every
agreement, then month 2, ... one ``settle_months`` call per agreement and month, as a monthly run does
-> report the time per month, months 1-12 against 49-60, and the least-squares slope of the time per
month against the month's number: the work of a month must not grow with the months settled before it.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """The least-squares slope of ``ys`` against ``xs``."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def run(*, agreements: int = 10, months: int = 60, stores: int = 20, folder: str | None = None) -> int:
    from vested.adapters.load import load_agreement_text
    from vested.core.periods import add_months
    from vested.demo_data import write_helpdesk_csv
    from vested.ingest import ingest_file
    from vested.services.demo import example_text
    from vested.services.settling import settle_months
    from vested.services.workspace import open_workspace

    base = example_text("helpdesk", "vested.yaml")
    with tempfile.TemporaryDirectory(prefix="vested-bench-settle-") as scratch:
        root = Path(folder or scratch)

        def clock() -> datetime:
            return datetime(2030, 1, 1, tzinfo=UTC)

        prepared = []
        started = time.perf_counter()
        for number in range(1, agreements + 1):
            text = base.replace("id: helpdesk-vested\n", f"id: helpdesk-vested-{number}\n", 1)
            loaded = load_agreement_text(text, f"helpdesk-vested-{number}.yaml")
            agreement = loaded.agreement
            assert agreement is not None and loaded.ok, loaded.diagnostics
            files = write_helpdesk_csv(root / f"data-{number}", number, "2025-01", months, stores)
            ws = open_workspace(root / f"project-{number}", actor="bench", clock=clock)
            needed = [d.id for d in agreement.datasets] + ["reported"]
            for dataset in needed:
                report = ingest_file(agreement, ws.store, dataset, files[dataset], who="bench", now=clock())
                assert report.ok, report.diagnostics()
            prepared.append((ws, agreement, text))
        print(f"prepared {agreements} agreements × {months} months of data ({stores} stores) in {time.perf_counter() - started:.1f} s")
        per_month: list[list[float]] = []
        for index in range(months):
            times = []
            for ws, agreement, text in prepared:
                month = add_months("2025-01", index)
                begun = time.process_time()  # CPU seconds (every thread): far less disturbed by other load than wall time
                result = settle_months(ws, agreement, text, [month])
                times.append(time.process_time() - begun)
                if not result.ok:
                    print(f"settling {agreement.id} {month} failed: {result.diagnostics}", file=sys.stderr)
                    return 1
            per_month.append(times)
    medians = [statistics.median(t) for t in per_month]
    print(f"\nsettle one month of one agreement, median over the {agreements} agreements (CPU s):")
    for start in range(0, months, 12):
        print(f"  months {start + 1:2d}-{min(start + 12, months):2d}: " + " ".join(f"{m:.3f}" for m in medians[start:start + 12]))
    first, last = statistics.median(medians[:12]), statistics.median(medians[-12:])
    rate = slope(range(1, months + 1), medians)
    print(f"\nmedian months 1-12: {first * 1000:.1f} ms; months {months - 11}-{months}: {last * 1000:.1f} ms; "
          f"ratio {last / first:.2f}")
    print(f"slope: {rate * 1000:+.3f} ms per month settled before ({rate * months / first * 100:+.1f} % of month 1-12's "
          f"time over {months} months)")
    print(f"total: {sum(map(sum, per_month)):.1f} s for {agreements * months} settlements")
    return 0

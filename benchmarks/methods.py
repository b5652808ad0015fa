"""The methods the benchmark times, each computing the same 8 metrics × 12 months into a :data:`Table`.

vested (``measure_metrics``), the hand-written DuckDB query and its tuned variants, and pandas.
Each method imports what it needs inside its function, so that a child process loads only what its
method needs and its startup baseline means something.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.tickets import (
    COUNTS,
    METRICS,
    MONTHS,
    PERCENTILE_BY_HISTOGRAM,
    PERCENTILE_METRIC,
    TIME_ZONE,
    agreement_text,
    hand_written_sql,
)

TOLERANCE = 1e-9
"""Relative tolerance between methods for values that go through floating point (counts must be equal)."""

Table = dict[str, dict[str, float | int | None]]
"""metric id -> month label -> value (None: no value that month)."""



def load_benchmark_agreement(without: Sequence[str] = ()) -> Any:
    from vested.adapters.load import load_agreement_text

    loaded = load_agreement_text(agreement_text(without), "bench-measure.yaml")
    errors = [d for d in loaded.diagnostics if d.is_error]
    if loaded.agreement is None or errors:
        raise RuntimeError(f"the benchmark agreement does not load: {errors}")
    return loaded.agreement


def measure_vested(files: Sequence[Path], *, agreement: Any = None, connection: Any = None, percentiles: Any = "auto") -> Table:
    """vested's measurement of the 12 months (the value each metric would settle with).

    ``percentiles``: ``measure_metrics``'s choice of method (auto, aggregate or ranks).
    """
    from vested.measure.engine import measure_metrics

    agreement = agreement if agreement is not None else load_benchmark_agreement()
    measured = measure_metrics(agreement, {"tickets": list(files)}, MONTHS, connection=connection, percentiles=percentiles)
    table: Table = {}
    for metric, by_month in measured.values.items():
        table[metric] = {m: None if v is None else int(v) if metric in COUNTS else float(v) for m, v in by_month.items()}
    return table


def measure_hand_written(files: Sequence[Path], *, connection: Any = None, without: Sequence[str] = (), tuned: bool = False) -> Table:
    """The same numbers from the hand-written query (``tuned``: its variant without a time zone conversion per row)."""
    import duckdb

    con = connection if connection is not None else duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        cursor = con.execute(hand_written_sql(without, tuned=tuned), [[str(f) for f in files]])
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        if connection is None:
            con.close()
    table: Table = {metric: dict.fromkeys(MONTHS) for metric in names[1:]}
    for month, *values in rows:
        for metric, value in zip(names[1:], values, strict=True):
            table[metric][month] = None if value is None else int(value) if metric in COUNTS else float(value)
    return table


def measure_by_histogram(files: Sequence[Path], *, connection: Any = None) -> Table:
    """The hand-tuned query for 7 metrics and :data:`PERCENTILE_BY_HISTOGRAM` for the percentile."""
    import duckdb

    con = connection if connection is not None else duckdb.connect()
    try:
        table = measure_hand_written(files, connection=con, without=[PERCENTILE_METRIC], tuned=True)
        rows = con.execute(PERCENTILE_BY_HISTOGRAM, [[str(f) for f in files]]).fetchall()
    finally:
        if connection is None:
            con.close()
    table[PERCENTILE_METRIC] = dict.fromkeys(MONTHS)
    for month, n, low, high in rows:
        rank = 0.9 * (n - 1)
        upper = low if high is None else high
        table[PERCENTILE_METRIC][month] = (low + (rank - math.floor(rank)) * (upper - low)) / 3600e6
    return table


def measure_pandas(files: Sequence[Path]) -> Table:
    """The same numbers with pandas: read the columns needed, derive flags, group by local month."""
    import pandas as pd

    wanted = ["opened_at", "resolved_at", "channel", "first_contact", "satisfaction", "priority"]
    parts = [pd.read_parquet(f, columns=wanted) for f in files]
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    local = frame["opened_at"].dt.tz_convert(TIME_ZONE)
    keep = (local >= pd.Timestamp("2025-01-01", tz=TIME_ZONE)) & (local < pd.Timestamp("2026-01-01", tz=TIME_ZONE))
    frame, local = frame[keep], local[keep]
    priority_1 = frame["priority"] == 1
    work = pd.DataFrame({
        "month": local.dt.year * 100 + local.dt.month,
        "phone": frame["channel"] == "phone",
        "onsite": frame["channel"] == "onsite",
        "first_contact": frame["first_contact"],
        "hours": (frame["resolved_at"] - frame["opened_at"]).dt.total_seconds() / 3600,
        "satisfaction": frame["satisfaction"],
        "priority_1": priority_1,
        "priority_1_resolved": priority_1 & frame["resolved_at"].notna(),
    })
    groups = work.groupby("month")
    sizes = groups.size()
    sums = groups[["phone", "onsite", "first_contact", "priority_1", "priority_1_resolved"]].sum()
    means = groups[["hours", "satisfaction"]].mean()
    p90 = groups["hours"].quantile(0.9)
    table: Table = {metric: dict.fromkeys(MONTHS) for metric in METRICS}
    for key in sizes.index:
        month = f"{key // 100}-{key % 100:02d}"
        p1 = int(sums.at[key, "priority_1"])
        values: dict[str, float | int | None] = {
            "tickets": int(sizes[key]), "phone_calls": int(sums.at[key, "phone"]), "onsite_visits": int(sums.at[key, "onsite"]),
            "first_contact_rate": 100 * float(sums.at[key, "first_contact"]) / float(sizes[key]),
            "mean_resolution_hours": _number(means.at[key, "hours"]), "p90_resolution_hours": _number(p90[key]),
            "mean_satisfaction": _number(means.at[key, "satisfaction"]),
            "p1_resolved_rate": 100 * float(sums.at[key, "priority_1_resolved"]) / p1 if p1 else None,
        }
        for metric, value in values.items():
            table[metric][month] = value
    return table


def _number(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


def pandas_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("pandas", "pyarrow"))


def differences(expected: Table, actual: Table, *, tolerance: float = TOLERANCE) -> list[str]:
    """Where ``actual`` differs from ``expected``: counts must be equal, other values within ``tolerance`` (relative)."""
    found = []
    for metric, by_month in expected.items():
        for month, want in by_month.items():
            got = actual.get(metric, {}).get(month)
            if want is None or got is None:
                same = want is None and got is None
            elif metric in COUNTS:
                same = want == got
            else:
                same = abs(want - got) <= tolerance * max(abs(want), abs(got))
            if not same:
                found.append(f"{metric} {month}: expected {want!r}, got {got!r}")
    return found

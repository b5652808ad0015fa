"""Months in the agreement's time zone: a row belongs to the local month its instant falls in.

vested finds a row's month by comparing its instant with the UTC instants where the local months
start (worked out with zoneinfo), not by converting every row; these tests put rows a second either
side of local midnights, in winter and summer time and across the clock changes, and check each
month counts exactly the rows labelled with it by hand (PostgreSQL: tests/test_measure_postgres.py).
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import PARTIES, agreement
from tests.test_measure_engine import PERCENTILE_METHODS, matching, measured, moment, month_of, write_parquet
from vested.core.measured import MetricTable
from vested.core.model import Agreement
from vested.measure.engine import Percentiles, measure_metrics


def test_a_month_ends_at_local_midnight(tmp_path: Path) -> None:
    """T13 opens at 2025-07-01T03:00Z: still June 30 in Chicago, already July in UTC."""
    metrics = "- {id: opened, measure: {dataset: tickets, aggregate: count}}"
    chicago = measured(tmp_path, metrics, ["2025-06", "2025-07"], calendar="{start: 2025-01, time_zone: America/Chicago}")
    utc = measured(tmp_path, metrics, ["2025-06", "2025-07"])
    for zone, table in (("America/Chicago", chicago), ("UTC", utc)):
        for month in ("2025-06", "2025-07"):
            assert table.value("opened", month) == len(matching(month, lambda t: True, zone))
    utc_june = utc.value("opened", "2025-06")
    assert utc_june is not None and chicago.value("opened", "2025-06") == utc_june + 1  # T13
    assert chicago.value("opened", "2025-07") == 1  # T14 only


EVENT_COLUMNS = {"at": "TIMESTAMPTZ", "bit": "BIGINT"}
DST_EVENTS = [
    # (instant, its month in Chicago, worked out by hand: UTC−6 in winter time, UTC−5 in summer time)
    ("2025-03-01T05:59:59Z", "2025-02"),  # Feb 28 23:59:59 CST
    ("2025-03-01T06:00:00Z", "2025-03"),  # Mar 1 00:00:00 CST
    ("2025-03-09T07:59:59Z", "2025-03"),  # 01:59:59 CST, a second before the clocks spring forward
    ("2025-03-09T08:00:00Z", "2025-03"),  # 03:00:00 CDT
    ("2025-04-01T04:59:59Z", "2025-03"),  # Mar 31 23:59:59 CDT (in winter time it would be 22:59:59)
    ("2025-04-01T05:00:00Z", "2025-04"),  # Apr 1 00:00:00 CDT (winter time would still say March 31)
    ("2025-11-01T04:59:59Z", "2025-10"),  # Oct 31 23:59:59 CDT
    ("2025-11-01T05:00:00Z", "2025-11"),  # Nov 1 00:00:00 CDT
    ("2025-11-02T06:30:00Z", "2025-11"),  # 01:30 CDT ...
    ("2025-11-02T07:30:00Z", "2025-11"),  # ... and 01:30 CST again, after the clocks fall back
    ("2025-12-01T05:59:59Z", "2025-11"),  # Nov 30 23:59:59 CST (in summer time it would be Dec 1 00:59:59)
    ("2025-12-01T06:00:00Z", "2025-12"),  # Dec 1 00:00:00 CST
]
DST_ROWS = [(instant, 2**i) for i, (instant, _) in enumerate(DST_EVENTS)]
"""Each event carries its own bit, so the sum of a month says exactly which events it counted."""
DST_METRICS = """
- {id: events, measure: {dataset: events, aggregate: count}}
- {id: which, measure: {dataset: events, aggregate: sum, column: bit}}
- {id: last, measure: {dataset: events, aggregate: percentile, column: bit, percentile: 100}}
"""


def dst_agreement() -> Agreement:
    return agreement("vested: 1\nid: dst\ntitle: DST\n" + PARTIES + """\
calendar: {start: 2024-01, time_zone: America/Chicago}
datasets:
  - id: events
    time: at
    columns: [{name: at, type: timestamp}, {name: bit, type: integer}]
metrics:
""" + textwrap.indent(DST_METRICS.strip("\n"), "  ") + "\npricing: []\n")


def check_dst_months(table: MetricTable) -> None:
    """Each month counts exactly the events labelled with it above (and zoneinfo agrees with the labels)."""
    assert all(month_of(moment(instant), "America/Chicago") == month for instant, month in DST_EVENTS)
    for month in ("2025-02", "2025-03", "2025-04", "2025-10", "2025-11", "2025-12"):
        bits = [2**i for i, (_, label) in enumerate(DST_EVENTS) if label == month]
        found = (table.value("events", month), table.value("which", month), table.value("last", month))
        assert found == tuple(Decimal(n) for n in (len(bits), sum(bits), max(bits))), month
    assert table.value("events", "2025-05") is None


@pytest.mark.parametrize("method", PERCENTILE_METHODS)
@pytest.mark.parametrize("first", ["2025-02", "2024-01"])  # a span of 11 months: one CASE; of 24: halved
def test_a_second_either_side_of_a_local_month_boundary_across_dst(tmp_path: Path, method: Percentiles, first: str) -> None:
    path = write_parquet(tmp_path / "events.parquet", EVENT_COLUMNS, DST_ROWS)
    months = [first, "2025-02", "2025-03", "2025-04", "2025-05", "2025-10", "2025-11", "2025-12"]
    check_dst_months(measure_metrics(dst_agreement(), {"events": [path]}, months, percentiles=method))


def test_a_date_column_is_already_local(tmp_path: Path) -> None:
    a = agreement("vested: 1\nid: s\ntitle: S\n" + PARTIES + """\
calendar: {start: 2025-01, time_zone: Pacific/Auckland}
datasets:
  - id: surveys
    time: answered_on
    columns: [{name: answered_on, type: date}, {name: score, type: integer}]
metrics:
  - {id: mean_score, measure: {dataset: surveys, aggregate: mean, column: score}}
pricing: []
""")
    rows = [("2025-06-01", 4), ("2025-06-30", 2), ("2025-07-01", 5)]
    path = write_parquet(tmp_path / "s.parquet", {"answered_on": "DATE", "score": "BIGINT"}, rows)
    table = measure_metrics(a, {"surveys": [path]}, ["2025-06", "2025-07"])
    assert table.value("mean_score", "2025-06") == 3
    assert table.value("mean_score", "2025-07") == 5

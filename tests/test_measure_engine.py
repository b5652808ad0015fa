"""Measuring metrics with DuckDB over Parquet files: each value checked against plain Python.

Every test writes a few hand-made rows to Parquet (DuckDB ``COPY ... TO``), declares the metric in a
small inline agreement, measures it, and compares with the same number worked out here over the
same rows — by filtering and adding up in Python, never by calling the code under test.
"""

from __future__ import annotations

import json
import statistics
import textwrap
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest

from tests.helpers import PARTIES, agreement
from vested.core.measured import MetricTable
from vested.core.model import Agreement
from vested.measure.engine import Percentiles, duckdb_sources, measure_metrics, measure_project
from vested.measure.fragments import MeasureError
from vested.storage.folder import open_project

# -- the data ------------------------------------------------------------------------------------

DATASETS = """\
datasets:
  - id: tickets
    time: opened_at
    key: [ticket_id]
    columns:
      - {name: ticket_id, required: true}
      - {name: store}
      - {name: channel, allowed: [phone, remote, on-site]}
      - {name: opened_at, type: timestamp, required: true}
      - {name: resolved_at, type: timestamp}
      - {name: fcr, type: boolean}
      - {name: satisfaction, type: integer}
      - {name: cost, type: number}
  - id: outages
    time: starts_at
    columns:
      - {name: outage_id}
      - {name: kind, allowed: [planned, unplanned]}
      - {name: starts_at, type: timestamp}
      - {name: ends_at, type: timestamp}
  - id: relief
    time: starts_at
    columns:
      - {name: ticket_id}
      - {name: store}
      - {name: reason}
      - {name: starts_at, type: timestamp}
      - {name: ends_at, type: timestamp}
"""

TICKET_COLUMNS = {"ticket_id": "TEXT", "store": "TEXT", "channel": "TEXT", "opened_at": "TIMESTAMPTZ",
                  "resolved_at": "TIMESTAMPTZ", "fcr": "BOOLEAN", "satisfaction": "BIGINT", "cost": "DOUBLE"}
TICKETS = [
    # ticket_id, store, channel, opened_at, resolved_at, fcr, satisfaction, cost
    ("T01", "north", "phone", "2025-04-03T09:00:00Z", "2025-04-03T10:00:00Z", True, 5, 10.0),
    ("T02", "north", "remote", "2025-04-15T14:00:00Z", "2025-04-16T08:00:00Z", False, 3, 25.5),
    ("T03", "south", "on-site", "2025-04-28T08:00:00Z", "2025-04-30T08:00:00Z", False, 2, 180.0),
    ("T04", "north", "phone", "2025-05-02T10:00:00Z", "2025-05-02T10:45:00Z", True, 4, 8.25),
    ("T05", "south", "phone", "2025-05-09T11:30:00Z", "2025-05-09T13:00:00Z", True, 5, 9.75),
    ("T06", "O'Brien's", "remote", "2025-05-20T16:00:00Z", "2025-05-21T09:30:00Z", False, 4, 30.0),
    ("T07", "north", "phone", "2025-06-02T09:00:00Z", "2025-06-02T09:20:00Z", True, 5, 7.5),
    ("T08", "south", "remote", "2025-06-05T13:00:00Z", "2025-06-05T17:00:00Z", True, 4, 22.0),
    ("T09", "south", "on-site", "2025-06-11T07:00:00Z", "2025-06-12T15:00:00Z", False, 1, 210.0),
    ("T10", "north", "phone", "2025-06-18T10:00:00Z", None, None, None, 11.0),
    ("T11", "O'Brien's", "phone", "2025-06-22T12:00:00Z", "2025-06-22T12:30:00Z", True, 3, 6.5),
    ("T12", "north", "remote", "2025-06-30T20:00:00Z", "2025-07-01T02:00:00Z", False, 4, 27.0),
    ("T13", "south", "phone", "2025-07-01T03:00:00Z", "2025-07-01T04:00:00Z", True, 5, 9.0),
    ("T14", "north", None, "2025-07-09T15:00:00Z", "2025-07-10T15:00:00Z", False, 2, 40.0),
]
FIELDS = list(TICKET_COLUMNS)


def when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def tickets(rows: Iterable[tuple[Any, ...]] = TICKETS) -> list[dict[str, Any]]:
    """The ticket rows as dicts with real datetimes (what the Python side of each test filters)."""
    found = []
    for row in rows:
        record = dict(zip(FIELDS, row, strict=True))
        record["opened_at"], record["resolved_at"] = when(record["opened_at"]), when(record["resolved_at"])
        found.append(record)
    return found


def month_of(moment: datetime, zone: str = "UTC") -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m")


def write_parquet(path: Path, columns: dict[str, str], rows: Sequence[tuple[Any, ...]]) -> Path:
    """Write rows to a Parquet file through DuckDB (COPY ... TO), timestamps as TIMESTAMPTZ."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE rows (" + ", ".join(f'"{name}" {kind}' for name, kind in columns.items()) + ")")
    converted = [tuple(when(v) if kind == "TIMESTAMPTZ" else v for v, kind in zip(row, columns.values(), strict=True))
                 for row in rows]
    if converted:
        con.executemany(f"INSERT INTO rows VALUES ({', '.join('?' for _ in columns)})", converted)
    con.execute(f"COPY rows TO '{path}' (FORMAT parquet)")
    con.close()
    return path


def measured(tmp_path: Path, metrics: str, months: list[str], *, calendar: str = "{start: 2025-01}",
             data: dict[str, tuple[dict[str, str], Sequence[tuple[Any, ...]]]] | None = None,
             percentiles: Percentiles = "auto") -> MetricTable:
    """Measure inline metrics over the ticket data (or ``data``) written to Parquet in tmp_path."""
    a = agreement_with(metrics, calendar)
    sources: dict[str, list[Path]] = {}
    for dataset, (columns, rows) in (data if data is not None else {"tickets": (TICKET_COLUMNS, TICKETS)}).items():
        sources[dataset] = [write_parquet(tmp_path / f"{dataset}.parquet", columns, rows)]
    return measure_metrics(a, sources, months, percentiles=percentiles)


def agreement_with(metrics: str, calendar: str = "{start: 2025-01}") -> Agreement:
    text = ("vested: 1\nid: ops\ntitle: Ops\n" + PARTIES + f"calendar: {calendar}\n" + DATASETS
            + "metrics:\n" + textwrap.indent(textwrap.dedent(metrics).strip("\n"), "  ") + "\npricing: []\n")
    return agreement(text)


def close(actual: Decimal | None, expected: float | Fraction, tolerance: float = 1e-9) -> bool:
    assert actual is not None
    return abs(float(actual) - float(expected)) <= tolerance


def matching(month: str, test: Callable[[dict[str, Any]], bool], zone: str = "UTC") -> list[dict[str, Any]]:
    return [t for t in tickets() if month_of(t["opened_at"], zone) == month and test(t)]


# -- counts, sums, means -------------------------------------------------------------------------

def test_count_with_every_kind_of_filter(tmp_path: Path) -> None:
    table = measured(tmp_path, """
        - id: phone_or_remote_rated_4_up
          measure: {dataset: tickets, aggregate: count, where: {channel: {in: [phone, remote]}, satisfaction: {at_least: 4}}}
        - id: not_phone
          measure: {dataset: tickets, aggregate: count, where: {channel: {not: phone}}}
        - id: unresolved
          measure: {dataset: tickets, aggregate: count, where: {resolved_at: {missing: true}}}
        - id: cheap_fcr
          measure: {dataset: tickets, aggregate: count, where: {fcr: true, cost: {below: 10}, satisfaction: {above: 3, at_most: 5}}}
        - id: obriens
          measure: {dataset: tickets, aggregate: count, where: {store: "O'Brien's"}}
    """, ["2025-05", "2025-06", "2025-07"])
    for month in ("2025-05", "2025-06", "2025-07"):
        rated = matching(month, lambda t: t["channel"] in ("phone", "remote") and (t["satisfaction"] or 0) >= 4)
        # `not`: a ticket without a channel differs from phone too.
        not_phone = matching(month, lambda t: t["channel"] != "phone")
        unresolved = matching(month, lambda t: t["resolved_at"] is None)
        cheap = matching(month, lambda t: t["fcr"] is True and t["cost"] < 10 and t["satisfaction"] is not None
                         and 3 < t["satisfaction"] <= 5)
        obriens = matching(month, lambda t: t["store"] == "O'Brien's")
        assert table.value("phone_or_remote_rated_4_up", month) == len(rated)
        assert table.value("not_phone", month) == len(not_phone)
        assert table.value("unresolved", month) == len(unresolved)
        assert table.value("cheap_fcr", month) == len(cheap)
        assert table.value("obriens", month) == len(obriens)
    assert table.value("phone_or_remote_rated_4_up", "2025-06") == 3  # T07, T08, T12 (T10 unrated, T11 rated 3)
    assert table.value("not_phone", "2025-07") == 1  # T14 has no channel


def test_sum_mean_min_max_and_distinct(tmp_path: Path) -> None:
    table = measured(tmp_path, """
        - {id: spend, measure: {dataset: tickets, aggregate: sum, column: cost}}
        - {id: mean_score, measure: {dataset: tickets, aggregate: mean, column: satisfaction}}
        - {id: worst, measure: {dataset: tickets, aggregate: min, column: satisfaction}}
        - {id: dearest, measure: {dataset: tickets, aggregate: max, column: cost, where: {channel: phone}}}
        - {id: stores, measure: {dataset: tickets, aggregate: count_distinct, column: store}}
    """, ["2025-04", "2025-05", "2025-06"])
    for month in ("2025-04", "2025-05", "2025-06"):
        rows = matching(month, lambda t: True)
        scores = [t["satisfaction"] for t in rows if t["satisfaction"] is not None]
        assert close(table.value("spend", month), sum(Fraction(t["cost"]) for t in rows))
        assert table.value("mean_score", month) == Decimal(sum(scores)) / Decimal(len(scores))
        assert table.value("worst", month) == min(scores)
        assert close(table.value("dearest", month), max(t["cost"] for t in rows if t["channel"] == "phone"))
        assert table.value("stores", month) == len({t["store"] for t in rows})


def test_ratio_is_numerator_over_denominator_scaled(tmp_path: Path) -> None:
    table = measured(tmp_path, """
        - id: fcr_rate
          measure:
            dataset: tickets
            aggregate: ratio
            numerator: {where: {fcr: true}}
            denominator: {where: {fcr: {missing: false}}}
            scale: 100
        - id: phone_cost_share
          measure:
            dataset: tickets
            aggregate: ratio
            numerator: {aggregate: sum, column: cost, where: {channel: phone}}
            denominator: {aggregate: sum, column: cost}
    """, ["2025-05", "2025-06"])
    for month in ("2025-05", "2025-06"):
        rows = matching(month, lambda t: True)
        answered = [t for t in rows if t["fcr"] is not None]
        expected = Decimal(sum(1 for t in answered if t["fcr"])) / Decimal(len(answered)) * 100
        assert table.value("fcr_rate", month) == expected
        share = Fraction(sum(Fraction(t["cost"]) for t in rows if t["channel"] == "phone"), sum(Fraction(t["cost"]) for t in rows))
        assert close(table.value("phone_cost_share", month), share)
    assert table.value("fcr_rate", "2025-06") == Decimal(3) / Decimal(5) * 100  # T07, T08, T11 of five answered


# -- percentiles and durations -------------------------------------------------------------------

def quantile_cont(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (what quantile_cont / percentile_cont compute)."""
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def test_the_hand_formula_is_the_inclusive_quantile() -> None:
    values = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6]
    assert quantile_cont(values, 0.9) == pytest.approx(statistics.quantiles(values, n=10, method="inclusive")[8])
    assert quantile_cont(values, 0.5) == pytest.approx(statistics.median(values))


PERCENTILE_METHODS = ["aggregate", "ranks"]
"""QUANTILE_CONT in the monthly query, or by rank in bounded memory (vested.measure.ranks): same numbers."""


@pytest.mark.parametrize("method", PERCENTILE_METHODS)
def test_percentile_of_a_column(tmp_path: Path, method: Percentiles) -> None:
    table = measured(tmp_path, """
        - {id: p90_cost, measure: {dataset: tickets, aggregate: percentile, column: cost, percentile: 90}}
        - {id: p25_score, measure: {dataset: tickets, aggregate: percentile, column: satisfaction, percentile: 25}}
    """, ["2025-04", "2025-06"], percentiles=method)
    for month in ("2025-04", "2025-06"):
        rows = matching(month, lambda t: True)
        assert close(table.value("p90_cost", month), quantile_cont([t["cost"] for t in rows], 0.9))
        scores = [t["satisfaction"] for t in rows if t["satisfaction"] is not None]
        assert close(table.value("p25_score", month), quantile_cont(scores, 0.25))
    # June costs sorted: 6.5 7.5 11 22 27 210; rank 4.5 -> 27 + (210 - 27) / 2
    assert table.value("p90_cost", "2025-06") == Decimal("118.5")


@pytest.mark.parametrize("method", PERCENTILE_METHODS)
def test_duration_mean_and_p90_in_hours(tmp_path: Path, method: Percentiles) -> None:
    table = measured(tmp_path, """
        - {id: mean_hours, measure: {dataset: tickets, aggregate: duration, start: opened_at, end: resolved_at}}
        - id: p90_hours
          measure: {dataset: tickets, aggregate: duration, start: opened_at, end: resolved_at, statistic: percentile, percentile: 90}
        - id: max_minutes
          measure: {dataset: tickets, aggregate: duration, start: opened_at, end: resolved_at, statistic: max, duration_unit: minutes}
    """, ["2025-05", "2025-06"], percentiles=method)
    for month in ("2025-05", "2025-06"):
        hours = [Fraction(int((t["resolved_at"] - t["opened_at"]).total_seconds()), 3600)
                 for t in matching(month, lambda t: t["resolved_at"] is not None)]
        assert close(table.value("mean_hours", month), sum(hours) / len(hours))
        assert close(table.value("p90_hours", month), quantile_cont([float(h) for h in hours], 0.9))
        assert close(table.value("max_minutes", month), max(hours) * 60)
    # May: 0.75 h, 1.5 h and 17.5 h
    assert table.value("mean_hours", "2025-05") == Decimal("19.75") / 3  # exact: durations are whole microseconds


# -- availability --------------------------------------------------------------------------------

OUTAGE_COLUMNS = {"outage_id": "TEXT", "kind": "TEXT", "starts_at": "TIMESTAMPTZ", "ends_at": "TIMESTAMPTZ"}
OUTAGES = [
    ("O1", "unplanned", "2025-06-05T10:00:00Z", "2025-06-05T13:00:00Z"),   # 3 h in June
    ("O2", "planned", "2025-06-10T01:00:00Z", "2025-06-10T05:00:00Z"),     # 4 h planned in June
    ("O3", "unplanned", "2025-06-30T22:00:00Z", "2025-07-01T08:00:00Z"),   # spans the month boundary
    ("O4", "unplanned", "2025-05-31T23:30:00Z", "2025-06-01T00:30:00Z"),   # starts in May
    ("O5", None, "2025-07-15T00:00:00Z", "2025-07-15T01:30:00Z"),          # not marked planned: unplanned
]
AVAILABILITY = """
- id: uptime
  measure:
    dataset: outages
    aggregate: availability
    availability: {start: starts_at, end: ends_at, units: 2, planned: {kind: planned}}
    scale: 100
"""


def expected_availability(zone: str, month: str, units: int = 2) -> Fraction:
    """1 − unplanned ÷ (scheduled − planned), outages clipped to the local month, in hours."""
    tz = ZoneInfo(zone)
    year, number = int(month[:4]), int(month[5:])
    first = datetime(year, number, 1, tzinfo=tz)
    after = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=tz)
    days = (after.date() - first.date()).days
    down = {"planned": Fraction(0), "unplanned": Fraction(0)}
    for _, kind, start, end in OUTAGES:
        s, e = max(moment(start), first), min(moment(end), after)
        if e > s:
            down["planned" if kind == "planned" else "unplanned"] += Fraction(int((e - s).total_seconds()), 3600)
    scheduled = units * 24 * days
    return (1 - down["unplanned"] / (scheduled - down["planned"])) * 100


@pytest.mark.parametrize("zone", ["UTC", "America/Chicago"])
def test_availability_clips_outages_to_the_month_and_leaves_out_planned_work(tmp_path: Path, zone: str) -> None:
    table = measured(tmp_path, AVAILABILITY, ["2025-05", "2025-06", "2025-07"], calendar=f"{{start: 2025-01, time_zone: {zone}}}",
                     data={"tickets": (TICKET_COLUMNS, TICKETS), "outages": (OUTAGE_COLUMNS, OUTAGES)})
    for month in ("2025-05", "2025-06", "2025-07"):
        assert close(table.value("uptime", month), expected_availability(zone, month))
    if zone == "UTC":
        # June: 2 units × 24 h × 30 days = 1440 h, 4 h planned; down 3 h + 2 h (O3) + 0.5 h (O4)
        assert close(table.value("uptime", "2025-06"), (1 - Fraction(11, 2) / 1436) * 100)
        assert close(table.value("uptime", "2025-07"), (1 - Fraction(8 + Fraction(3, 2), 2 * 24 * 31)) * 100)


def test_a_month_without_outages_is_fully_available(tmp_path: Path) -> None:
    table = measured(tmp_path, AVAILABILITY, ["2025-03"],
                     data={"tickets": (TICKET_COLUMNS, TICKETS), "outages": (OUTAGE_COLUMNS, OUTAGES)})
    assert table.value("uptime", "2025-03") == 100


ROUND_THE_CLOCK = """
- id: uptime
  measure:
    dataset: outages
    aggregate: availability
    availability: {start: starts_at, end: ends_at, units: 1, hours_per_day: 24}
    scale: 100
"""
CHICAGO = "{start: 2025-01, time_zone: America/Chicago}"


def test_round_the_clock_availability_counts_the_real_hours_of_a_month_that_moves_the_clocks(tmp_path: Path) -> None:
    """In Chicago, March 2025 has 743 hours (clocks forward on the 9th) and November 721 (back on the 2nd).

    An outage over the whole local month leaves nothing available: 0%, not 1 − 743/744 (0.134%) or
    1 − 721/720 (−0.139%), which is what 31 × 24 or 30 × 24 scheduled hours would give.
    """
    whole_months = [("O1", "unplanned", "2025-03-01T06:00:00Z", "2025-04-01T05:00:00Z"),  # local midnight to midnight
                    ("O2", "unplanned", "2025-11-01T05:00:00Z", "2025-12-01T06:00:00Z")]
    table = measured(tmp_path, ROUND_THE_CLOCK, ["2025-03", "2025-11"], calendar=CHICAGO,
                     data={"tickets": (TICKET_COLUMNS, TICKETS), "outages": (OUTAGE_COLUMNS, whole_months)})
    assert table.value("uptime", "2025-03") == 0
    assert table.value("uptime", "2025-11") == 0
    ten_hours = [("O1", "unplanned", "2025-03-12T10:00:00Z", "2025-03-12T20:00:00Z")]
    table = measured(tmp_path, ROUND_THE_CLOCK, ["2025-03"], calendar=CHICAGO,
                     data={"tickets": (TICKET_COLUMNS, TICKETS), "outages": (OUTAGE_COLUMNS, ten_hours)})
    assert close(table.value("uptime", "2025-03"), (1 - Fraction(10, 743)) * 100)


def test_downtime_beyond_the_scheduled_hours_holds_availability_at_zero_and_says_so(tmp_path: Path) -> None:
    """Trading hours (14 a day): June has 30 × 14 = 420 scheduled hours; an outage row over all 720 hours of
    June is more than that (rows should cover scheduled time only). Availability is 0%, not 1 − 720/420."""
    metric = ROUND_THE_CLOCK.replace("hours_per_day: 24", "hours_per_day: 14")
    june = [("O1", "unplanned", "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z")]
    table = measured(tmp_path, metric, ["2025-06"],
                     data={"tickets": (TICKET_COLUMNS, TICKETS), "outages": (OUTAGE_COLUMNS, june)})
    assert table.value("uptime", "2025-06") == 0
    [note] = [n for n in table.notes if n.code == "downtime-beyond-schedule"]
    assert note.month == "2025-06" and not note.blank and "scheduled time only" in note.hint


# -- exclusions ----------------------------------------------------------------------------------

RELIEF_COLUMNS = {"ticket_id": "TEXT", "store": "TEXT", "reason": "TEXT", "starts_at": "TIMESTAMPTZ", "ends_at": "TIMESTAMPTZ"}
RELIEF = [
    ("T08", None, "customer-caused", None, None),
    ("T09", None, "force majeure", None, None),
    (None, "north", "flood", "2025-06-01T00:00:00Z", "2025-06-03T00:00:00Z"),      # excuses T07 (north, June 2)
    (None, "south", "strike", "2025-06-11T07:00:00Z", "2025-06-11T07:00:00Z"),     # an empty window excuses nothing
    (None, None, "power cut", "2025-06-22T00:00:00Z", "2025-06-23T00:00:00Z"),     # any store: T11
]


def test_exclusions_by_key_and_by_time_window(tmp_path: Path) -> None:
    table = measured(tmp_path, """
        - id: by_key
          measure: {dataset: tickets, aggregate: count, exclude: [{dataset: relief, match: [ticket_id]}]}
        - id: by_store_window
          measure: {dataset: tickets, aggregate: count, exclude: [{dataset: relief, match: [store], during: [starts_at, ends_at]}]}
        - id: by_window
          measure: {dataset: tickets, aggregate: count, exclude: [{dataset: relief, during: [starts_at, ends_at]}]}
        - {id: all, measure: {dataset: tickets, aggregate: count}}
    """, ["2025-06"], data={"tickets": (TICKET_COLUMNS, TICKETS), "relief": (RELIEF_COLUMNS, RELIEF)})
    june = matching("2025-06", lambda t: True)
    keys = {r[0] for r in RELIEF if r[0]}

    def in_window(t: dict[str, Any], same_store: bool) -> bool:
        return any(start and end and moment(start) <= t["opened_at"] < moment(end) and (not same_store or store == t["store"])
                   for _, store, _, start, end in RELIEF)

    assert table.value("all", "2025-06") == len(june) == 6
    assert table.value("by_key", "2025-06") == len([t for t in june if t["ticket_id"] not in keys]) == 4
    assert table.value("by_store_window", "2025-06") == len([t for t in june if not in_window(t, True)]) == 5
    assert table.value("by_window", "2025-06") == len([t for t in june if not in_window(t, False)]) == 4


def test_an_exclusion_matching_several_columns_needs_all_of_them(tmp_path: Path) -> None:
    relief = [("T05", "south", "customer-caused", None, None),    # T05 is a south ticket: excused
              ("T06", "north", "customer-caused", None, None),    # T06 is O'Brien's, not north: not excused
              (None, "north", "customer-caused", None, None)]     # no ticket: matches nothing
    table = measured(tmp_path, """
        - id: excused
          measure: {dataset: tickets, aggregate: count, exclude: [{dataset: relief, match: [ticket_id, store]}]}
    """, ["2025-05"], data={"tickets": (TICKET_COLUMNS, TICKETS), "relief": (RELIEF_COLUMNS, relief)})
    pairs = {(r[0], r[1]) for r in relief}
    may = matching("2025-05", lambda t: (t["ticket_id"], t["store"]) not in pairs)
    assert table.value("excused", "2025-05") == len(may) == 2


# -- windows -------------------------------------------------------------------------------------

def test_rolling_three_month_ratio(tmp_path: Path) -> None:
    table = measured(tmp_path, """
        - id: fcr_3m
          measure: {dataset: tickets, aggregate: ratio, numerator: {where: {fcr: true}}, denominator: {}, window: 3}
    """, ["2025-04", "2025-06", "2025-07"])
    for month, window in (("2025-06", {"2025-04", "2025-05", "2025-06"}), ("2025-07", {"2025-05", "2025-06", "2025-07"})):
        rows = [t for t in tickets() if month_of(t["opened_at"]) in window]
        assert table.value("fcr_3m", month) == Decimal(sum(1 for t in rows if t["fcr"])) / Decimal(len(rows))
    april = [t for t in tickets() if month_of(t["opened_at"]) == "2025-04"]
    assert table.value("fcr_3m", "2025-04") == Decimal(1) / Decimal(len(april))
    assert [n.code for n in table.notes if n.month == "2025-04"] == ["partial-window"]  # no data for February and March
    started_in_april = measured(tmp_path, "- {id: fcr_3m, measure: {dataset: tickets, aggregate: ratio, numerator: {where: {fcr: true}}, "
                                "denominator: {}, window: 3}}", ["2025-04"], calendar="{start: 2025-04}")
    assert started_in_april.value("fcr_3m", "2025-04") == table.value("fcr_3m", "2025-04")
    assert started_in_april.notes == ()  # no data is expected before the agreement starts


@pytest.mark.parametrize(("fiscal_start", "covered"), [
    (1, {"2025-05": ["2025-04", "2025-05"], "2025-06": ["2025-04", "2025-05", "2025-06"], "2025-07": ["2025-07"]}),
    (2, {"2025-05": ["2025-05"], "2025-06": ["2025-05", "2025-06"], "2025-07": ["2025-05", "2025-06", "2025-07"]}),
])
@pytest.mark.parametrize("method", PERCENTILE_METHODS)
def test_quarter_to_date(tmp_path: Path, fiscal_start: int, covered: dict[str, list[str]], method: Percentiles) -> None:
    table = measured(tmp_path, """
        - {id: qtd_count, measure: {dataset: tickets, aggregate: count, window: quarter}}
        - {id: qtd_spend, measure: {dataset: tickets, aggregate: sum, column: cost, window: quarter}}
        - {id: qtd_mean_score, measure: {dataset: tickets, aggregate: mean, column: satisfaction, window: quarter}}
        - {id: qtd_median_cost, measure: {dataset: tickets, aggregate: percentile, column: cost, percentile: 50, window: quarter}}
    """, list(covered), calendar=f"{{start: 2025-01, fiscal_year_start: {fiscal_start}}}", percentiles=method)
    for month, months in covered.items():
        rows = [t for t in tickets() if month_of(t["opened_at"]) in months]
        scores = [t["satisfaction"] for t in rows if t["satisfaction"] is not None]
        assert table.value("qtd_count", month) == len(rows)
        assert close(table.value("qtd_spend", month), sum(Fraction(t["cost"]) for t in rows))
        assert table.value("qtd_mean_score", month) == Decimal(sum(scores)) / Decimal(len(scores))
        assert close(table.value("qtd_median_cost", month), statistics.median(t["cost"] for t in rows))


def test_year_to_date_distinct_count_and_rolling_max(tmp_path: Path) -> None:
    table = measured(tmp_path, """
        - {id: ytd_stores, measure: {dataset: tickets, aggregate: count_distinct, column: store, window: year, where: {channel: remote}}}
        - {id: max_cost_2m, measure: {dataset: tickets, aggregate: max, column: cost, window: 2}}
    """, ["2025-05", "2025-07"])
    assert table.value("ytd_stores", "2025-05") == len({t["store"] for t in tickets()
                                                         if month_of(t["opened_at"]) <= "2025-05" and t["channel"] == "remote"}) == 2
    assert table.value("ytd_stores", "2025-07") == 3
    assert close(table.value("max_cost_2m", "2025-07"), max(t["cost"] for t in tickets() if month_of(t["opened_at"]) >= "2025-06"))


# -- no value ------------------------------------------------------------------------------------

def test_zero_denominator_and_missing_data_give_no_value_with_a_reason(tmp_path: Path) -> None:
    table = measured(tmp_path, """
        - id: onsite_fcr
          measure: {dataset: tickets, aggregate: ratio, numerator: {where: {channel: on-site, fcr: true}},
                    denominator: {where: {channel: on-site}}}
        - {id: count, measure: {dataset: tickets, aggregate: count}}
        - {id: mean_onsite_cost, measure: {dataset: tickets, aggregate: mean, column: cost, where: {channel: on-site}}}
    """, ["2025-05", "2025-06", "2025-09"])
    assert table.value("onsite_fcr", "2025-05") is None  # no on-site ticket in May
    assert "denominator is zero" in (table.reason("onsite_fcr", "2025-05") or "")
    assert table.value("onsite_fcr", "2025-06") == 0  # one on-site ticket (T09), not resolved at first contact
    assert table.value("count", "2025-09") is None
    assert "no rows in 2025-09" in (table.reason("count", "2025-09") or "")
    assert table.value("mean_onsite_cost", "2025-05") is None
    assert table.reason("mean_onsite_cost", "2025-05") is not None
    assert table.value("count", "2025-06") == 6 and table.reason("count", "2025-06") is None
    codes = {(d.code, d.path) for d in table.diagnostics}
    assert ("zero-denominator", ("metrics", 0, "measure")) in codes
    assert ("no-data", ("metrics", 1, "measure")) in codes
    assert all(not d.is_error for d in table.diagnostics)


def test_a_dataset_with_nothing_ingested_has_no_values(tmp_path: Path) -> None:
    a = agreement_with("- {id: count, measure: {dataset: tickets, aggregate: count}}")
    table = measure_metrics(a, {}, ["2025-06"])
    assert table.value("count", "2025-06") is None
    assert table.notes[0].code == "no-data"


def test_data_without_a_declared_column_is_a_clear_error(tmp_path: Path) -> None:
    a = agreement_with("- {id: spend, measure: {dataset: tickets, aggregate: sum, column: cost}}")
    columns = {k: v for k, v in TICKET_COLUMNS.items() if k != "cost"}
    path = write_parquet(tmp_path / "t.parquet", columns, [row[:-1] for row in TICKETS])
    with pytest.raises(MeasureError, match="measuring dataset 'tickets' failed"):
        measure_metrics(a, {"tickets": [path]}, ["2025-06"])


# -- the project's batches -----------------------------------------------------------------------

def test_batches_of_a_project_are_read_together_and_incomplete_ones_ignored(tmp_path: Path) -> None:
    project = open_project(tmp_path / ".vested")
    halves = {"b1": TICKETS[:7], "b2": TICKETS[7:]}
    for batch_id, rows in halves.items():
        data, manifest = project.batch_paths("tickets", batch_id)
        data.parent.mkdir(parents=True, exist_ok=True)
        write_parquet(data, TICKET_COLUMNS, rows)
        manifest.write_text(json.dumps({"rows": len(rows), "ingested_at": f"2025-08-0{batch_id[1]}T00:00:00Z"}), encoding="utf-8")
    # A batch killed before its manifest was written is not visible.
    write_parquet(project.batch_paths("tickets", "b3")[0], TICKET_COLUMNS, [("T99", "x", "phone", "2025-06-09T00:00:00Z",
                                                                             None, None, None, 1.0)])
    a = agreement_with("- {id: count, measure: {dataset: tickets, aggregate: count}}")
    assert [p.name for p in duckdb_sources(project, a)["tickets"]] == ["b1.parquet", "b2.parquet"]
    table = measure_project(a, project, ["2025-04", "2025-05", "2025-06", "2025-07"])
    for month in ("2025-04", "2025-05", "2025-06", "2025-07"):
        assert table.value("count", month) == len(matching(month, lambda t: True))


def test_every_requested_month_is_in_the_table_once(tmp_path: Path) -> None:
    table = measured(tmp_path, "- {id: count, measure: {dataset: tickets, aggregate: count}}", ["2025-06", "2025-04", "2025-06"])
    assert table.months == ("2025-04", "2025-06")
    assert list(table.rows()) == [("count", "2025-04", Decimal(3)), ("count", "2025-06", Decimal(6))]


def test_unresolved_tickets_do_not_count_in_durations(tmp_path: Path) -> None:
    """T10 has no resolved_at: the duration mean is over the five resolved June tickets."""
    table = measured(tmp_path, "- {id: h, measure: {dataset: tickets, aggregate: duration, start: opened_at, end: resolved_at}}",
                     ["2025-06"])
    resolved = matching("2025-06", lambda t: t["resolved_at"] is not None)
    assert len(resolved) == 5
    total = sum((t["resolved_at"] - t["opened_at"] for t in resolved), timedelta())
    assert close(table.value("h", "2025-06"), Fraction(int(total.total_seconds()), 3600 * 5))

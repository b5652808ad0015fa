"""Percentiles by rank (bounded memory) give the same numbers as the engines' percentile aggregates,
and ``percentiles="auto"`` takes them by rank when the aggregates would not fit in DuckDB's memory.

Expected values come from the interpolation formula worked out here in fractions (linear between
the closest ranks, what quantile_cont and percentile_cont compute), never from the code under test.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest

from tests.helpers import PARTIES, agreement
from tests.test_measure_engine import (
    PERCENTILE_METHODS,
    RELIEF,
    RELIEF_COLUMNS,
    TICKET_COLUMNS,
    TICKETS,
    matching,
    measured,
    write_parquet,
)
from vested.core.model import Agreement
from vested.measure.engine import Percentiles, measure_metrics, memory_limit, too_big_for_aggregates
from vested.measure.fragments import MeasureError

PERCENTILES = [0, 10, 25, 33.3, 50, 90, 99, 100]


def scores_agreement(percentiles: list[float], *, where: str = "") -> Agreement:
    metrics = "".join(f"  - {{id: p{str(p).replace('.', '_')}, measure: {{dataset: scores, aggregate: percentile, column: score, "
                      f"percentile: {p}{where}}}}}\n" for p in percentiles)
    return agreement("vested: 1\nid: s\ntitle: S\n" + PARTIES + """\
calendar: {start: 2025-01}
datasets:
  - id: scores
    time: at
    columns: [{name: at, type: timestamp}, {name: score, type: integer}, {name: team}]
metrics:
""" + metrics + "pricing: []\n")


def interpolated(values: list[int] | list[Fraction], percentile: float) -> Fraction:
    ordered = sorted(Fraction(v) for v in values)
    rank = Fraction(str(percentile)) / 100 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def test_the_hand_formula() -> None:
    assert interpolated([1, 2, 3, 4], 50) == Fraction(5, 2)
    assert interpolated([7, 1, 3], 100) == 7 and interpolated([7, 1, 3], 0) == 1
    assert interpolated([10, 20], 90) == 19


JUNE = [5, 1, 3, 3, 3, 9, 7, 7, None, 3]
"""Ties (3 four times, 7 twice) and a missing value, which a percentile leaves out."""
JULY = [42]


def june_and_july(tmp_path: Path) -> Path:
    rows = [(f"2025-06-{1 + i:02d}T12:00:00Z", score, "a" if i % 2 else "b") for i, score in enumerate(JUNE)]
    rows += [("2025-07-04T12:00:00Z", score, "a") for score in JULY]
    return write_parquet(tmp_path / "scores.parquet", {"at": "TIMESTAMPTZ", "score": "BIGINT", "team": "TEXT"}, rows)


@pytest.mark.parametrize("method", PERCENTILE_METHODS)
def test_ties_a_missing_value_and_a_single_value(tmp_path: Path, method: Percentiles) -> None:
    table = measure_metrics(scores_agreement(PERCENTILES), {"scores": [june_and_july(tmp_path)]}, ["2025-06", "2025-07"],
                            percentiles=method)
    june = [s for s in JUNE if s is not None]
    for p in PERCENTILES:
        metric = f"p{str(p).replace('.', '_')}"
        assert table.value(metric, "2025-06") == interpolated(june, p), (metric, table.value(metric, "2025-06"))
        assert table.value(metric, "2025-07") == 42
    assert table.value("p90", "2025-06") == Fraction(37, 5)  # 1 3 3 3 3 5 7 7 9: rank 7.2, between 7 and 9


@pytest.mark.parametrize("method", PERCENTILE_METHODS)
def test_a_month_with_no_matching_value_has_none_and_a_reason(tmp_path: Path, method: Percentiles) -> None:
    table = measure_metrics(scores_agreement([50], where=", where: {team: b}"), {"scores": [june_and_july(tmp_path)]},
                            ["2025-06", "2025-07"], percentiles=method)
    assert table.value("p50", "2025-06") == interpolated([s for i, s in enumerate(JUNE) if i % 2 == 0 and s is not None], 50)
    assert table.value("p50", "2025-07") is None  # July's one score is team a
    assert [n.code for n in table.notes] == ["no-matching-rows"]


@pytest.mark.parametrize("method", PERCENTILE_METHODS)
def test_a_percentile_with_a_filter_and_an_exclusion(tmp_path: Path, method: Percentiles) -> None:
    table = measured(tmp_path, """
        - id: p50_cost
          measure: {dataset: tickets, aggregate: percentile, column: cost, percentile: 50, where: {channel: {not: on-site}},
                    exclude: [{dataset: relief, match: [ticket_id]}]}
    """, ["2025-06"], data={"tickets": (TICKET_COLUMNS, TICKETS), "relief": (RELIEF_COLUMNS, RELIEF)}, percentiles=method)
    excused = {r[0] for r in RELIEF if r[0]}
    costs = [Fraction(t["cost"]) for t in matching("2025-06", lambda t: t["channel"] != "on-site" and t["ticket_id"] not in excused)]
    assert sorted(costs) == [Fraction("6.5"), Fraction("7.5"), 11, 27]  # T11, T07, T10, T12 (T08 and T09 excused)
    assert table.value("p50_cost", "2025-06") == interpolated(costs, 50) == Fraction("9.25")


# -- choosing the method -----------------------------------------------------------------------------

def test_ranks_are_chosen_when_the_held_values_exceed_a_quarter_of_the_memory_limit() -> None:
    a = scores_agreement([50, 90])  # two percentiles of one dataset: each aggregate holds every value
    assert too_big_for_aggregates(a, {"scores": 1_000_000}, 128 * 10**6) == set()  # 2 × 1M × 16 B = 32 MB = a quarter
    assert too_big_for_aggregates(a, {"scores": 1_000_001}, 128 * 10**6) == {"scores"}
    assert too_big_for_aggregates(a, {}, 128 * 10**6) == set()  # nothing ingested
    assert too_big_for_aggregates(a, {"scores": 10}, None) == {"scores"}  # an unknown limit: stay bounded
    yearly = agreement("vested: 1\nid: s\ntitle: S\n" + PARTIES + """\
calendar: {start: 2025-01}
datasets:
  - {id: scores, time: at, columns: [{name: at, type: timestamp}, {name: score, type: integer}]}
  - {id: other, time: at, columns: [{name: at, type: timestamp}]}
metrics:
  - {id: ytd, measure: {dataset: scores, aggregate: percentile, column: score, percentile: 50, window: year}}
  - {id: n, measure: {dataset: other, aggregate: count}}
pricing: []
""")
    # a row of a year-to-date window is held once for each month measured whose window holds it (up to 12)
    assert too_big_for_aggregates(yearly, {"scores": 1000, "other": 10**9}, 12 * 1000 * 16 * 4) == set()
    assert too_big_for_aggregates(yearly, {"scores": 1001, "other": 10**9}, 12 * 1000 * 16 * 4) == {"scores"}


def test_a_file_that_cannot_be_read_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "scores.parquet"
    broken.write_text("not parquet", encoding="utf-8")
    for files in ([broken], [tmp_path / "missing.parquet"]):
        with pytest.raises(MeasureError, match="measuring dataset 'scores' failed"):
            measure_metrics(scores_agreement([50]), {"scores": files}, ["2025-06"])


def test_the_memory_limit_is_read_from_the_connection() -> None:
    with duckdb.connect(config={"memory_limit": "1GB"}) as con:
        assert memory_limit(con) == pytest.approx(10**9, rel=1e-3)  # DuckDB shows it as '953.6 MiB'
        con.execute("SET memory_limit = '4GiB'")
        assert memory_limit(con) == 4 * 2**30


MANY = 1_000_000


@pytest.fixture(scope="module")
def million_scores(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A million scores in June, each of 0..999 a thousand times (7919 is prime to 1000)."""
    path = tmp_path_factory.mktemp("scores") / "scores.parquet"
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"COPY (SELECT TIMESTAMPTZ '2025-06-01 12:00:00+00' + to_seconds(i % 86400) AS at, (i * 7919) % 1000 AS score, "
                    f"'a' AS team FROM range({MANY}) AS ids(i)) TO '{path}' (FORMAT parquet)")
    return path


def small(limit: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(config={"memory_limit": limit, "threads": 1})


def test_out_of_memory_says_what_to_do(million_scores: Path) -> None:
    """The aggregate holds a million values (8 MB of DOUBLEs), more than an 8 MB limit allows."""
    with small("8MB") as con, pytest.raises(MeasureError) as raised:
        measure_metrics(scores_agreement([90]), {"scores": [million_scores]}, ["2025-06"], connection=con, percentiles="aggregate")
    diagnostic = raised.value.diagnostic
    assert "measuring dataset 'scores' ran out of memory" in diagnostic.message
    assert "memory_limit" in diagnostic.hint
    assert "the percentiles (p90) hold every value in memory" in diagnostic.hint and "percentiles='ranks'" in diagnostic.hint


def test_auto_takes_ranks_and_fits_where_the_aggregate_does_not(million_scores: Path) -> None:
    # rank 0.9 × 999,999 = 899,999.1: the values at ranks 899,999 and 900,000 are 899 and 900
    with small("8MB") as con:
        table = measure_metrics(scores_agreement([90]), {"scores": [million_scores]}, ["2025-06"], connection=con)
    assert table.value("p90", "2025-06") == Fraction(8991, 10)
    with duckdb.connect() as con:  # with room, auto keeps the aggregate: the same number
        assert measure_metrics(scores_agreement([90]), {"scores": [million_scores]}, ["2025-06"], connection=con,
                               percentiles="aggregate").value("p90", "2025-06") == Fraction(8991, 10)

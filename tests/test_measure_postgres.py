"""The same metric definitions give the same numbers on PostgreSQL and on Spark as on DuckDB.

Each comparison runs once per engine (``other``: ``postgres``, ``spark``). PostgreSQL needs the server
at 127.0.0.1:5432 (user postgres, database test, trust auth): the rows of the DuckDB tests go into
tables of a schema made for this run (dropped afterwards). Spark reads the same Parquet files as
DuckDB, in the run's one local session (``tests/test_measure_spark.py``). The agreement is measured
by DuckDB and by the other engine, and the two tables of values must be equal. Without a server (or
without pyspark and Java) those tests are skipped with the reason, except under CI=true, where that
is a failure: CI must not go green by quietly running none of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.postgres import unreachable
from tests.test_measure_engine import (
    OUTAGE_COLUMNS,
    OUTAGES,
    PERCENTILE_METHODS,
    RELIEF,
    RELIEF_COLUMNS,
    TICKET_COLUMNS,
    TICKETS,
    agreement_with,
    matching,
    when,
    write_parquet,
)
from tests.test_measure_months import DST_EVENTS, DST_ROWS, EVENT_COLUMNS, check_dst_months, dst_agreement
from tests.test_measure_spark import cases, spark_engine, without_method_notes
from tests.test_measure_spark import spark as spark  # the run's one Spark session (a fixture)
from vested.core.measured import MetricTable
from vested.core.model import Agreement
from vested.measure.engine import Percentiles, measure_metrics, measure_metrics_sql

PG_TYPES = {"DOUBLE": "DOUBLE PRECISION"}

DATA: dict[str, tuple[dict[str, str], list[tuple[Any, ...]]]] = {
    "tickets": (TICKET_COLUMNS, TICKETS), "outages": (OUTAGE_COLUMNS, OUTAGES), "relief": (RELIEF_COLUMNS, RELIEF),
    "events": (EVENT_COLUMNS, DST_ROWS)}

METRICS = """
- {id: phone, measure: {dataset: tickets, aggregate: count, where: {channel: phone, satisfaction: {at_least: 4}}}}
- {id: not_phone, measure: {dataset: tickets, aggregate: count, where: {channel: {not: phone}, resolved_at: {missing: false}}}}
- {id: obriens, measure: {dataset: tickets, aggregate: count, where: {store: {in: ["O'Brien's", "50% :off"]}}}}
- {id: spend, measure: {dataset: tickets, aggregate: sum, column: cost}}
- {id: mean_score, measure: {dataset: tickets, aggregate: mean, column: satisfaction}}
- {id: worst, measure: {dataset: tickets, aggregate: min, column: satisfaction}}
- {id: dearest, measure: {dataset: tickets, aggregate: max, column: cost}}
- {id: stores, measure: {dataset: tickets, aggregate: count_distinct, column: store}}
- {id: fcr, measure: {dataset: tickets, aggregate: ratio, numerator: {where: {fcr: true}}, denominator: {}, scale: 100}}
- id: phone_cost_share
  measure: {dataset: tickets, aggregate: ratio, numerator: {aggregate: sum, column: cost, where: {channel: phone}},
            denominator: {aggregate: sum, column: cost}}
- {id: onsite_fcr, measure: {dataset: tickets, aggregate: ratio, numerator: {where: {fcr: true}}, denominator: {where: {channel: on-site}}}}
- {id: p90_cost, measure: {dataset: tickets, aggregate: percentile, column: cost, percentile: 90}}
- {id: mean_hours, measure: {dataset: tickets, aggregate: duration, start: opened_at, end: resolved_at}}
- id: p90_hours
  measure: {dataset: tickets, aggregate: duration, start: opened_at, end: resolved_at, statistic: percentile, percentile: 90}
- id: total_days
  measure: {dataset: tickets, aggregate: duration, start: opened_at, end: resolved_at, statistic: sum, duration_unit: days}
- id: uptime
  measure:
    dataset: outages
    aggregate: availability
    availability: {start: starts_at, end: ends_at, units: 2, planned: {kind: planned}}
    scale: 100
- {id: by_key, measure: {dataset: tickets, aggregate: count, exclude: [{dataset: relief, match: [ticket_id]}]}}
- {id: by_pair, measure: {dataset: tickets, aggregate: count, exclude: [{dataset: relief, match: [ticket_id, store]}]}}
- {id: by_time, measure: {dataset: tickets, aggregate: count, exclude: [{dataset: relief, during: [starts_at, ends_at]}]}}
- {id: by_window, measure: {dataset: tickets, aggregate: count, exclude: [{dataset: relief, match: [store], during: [starts_at, ends_at]}]}}
- {id: fcr_3m, measure: {dataset: tickets, aggregate: ratio, numerator: {where: {fcr: true}}, denominator: {}, window: 3}}
- {id: qtd_spend, measure: {dataset: tickets, aggregate: sum, column: cost, window: quarter}}
- {id: qtd_median, measure: {dataset: tickets, aggregate: percentile, column: cost, percentile: 50, window: quarter}}
- {id: ytd_stores, measure: {dataset: tickets, aggregate: count_distinct, column: store, window: year}}
"""
MONTHS = ["2025-03", "2025-04", "2025-05", "2025-06", "2025-07"]


def create_table(connection: sqlalchemy.Connection, table: str, columns: dict[str, str], rows: list[tuple[Any, ...]]) -> None:
    connection.exec_driver_sql(f"CREATE TABLE {table} ("
                               + ", ".join(f'"{c}" {PG_TYPES.get(t, t)}' for c, t in columns.items()) + ")")
    converted = [tuple(when(v) if kind == "TIMESTAMPTZ" else v for v, kind in zip(row, columns.values(), strict=True))
                 for row in rows]
    if converted:  # an empty list of parameters is not an empty insert to the driver
        connection.exec_driver_sql(f"INSERT INTO {table} VALUES ({', '.join('%s' for _ in columns)})", converted)


Data = Mapping[str, tuple[dict[str, str], Sequence[tuple[Any, ...]]]]
Measure = Callable[[Agreement, Data, Mapping[str, list[Path]], list[str], Percentiles], MetricTable]
"""An engine other than DuckDB measuring an agreement over some rows: PostgreSQL from tables of them made for the
call, Spark from the Parquet files DuckDB reads."""
ENGINES = [pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("spark", marks=pytest.mark.spark)]


@pytest.fixture(params=ENGINES)
def other(request: pytest.FixtureRequest) -> Measure:
    """The engine compared with DuckDB."""
    if request.param == "spark":
        session = request.getfixturevalue("spark")
        return lambda a, data, files, months, method: spark_engine(session, method).measure_metrics(a, files, months)
    server: sqlalchemy.Engine = request.getfixturevalue("server")

    def on_postgres(a: Agreement, data: Data, files: Mapping[str, list[Path]], months: list[str],
                    method: Percentiles) -> MetricTable:
        with tables(server, data) as schema:
            return measure_metrics_sql(a, server, {d: f"{schema}.{d}" for d in data}, months, percentiles=method)

    return on_postgres


@contextmanager
def tables(server: sqlalchemy.Engine, data: Data) -> Iterator[str]:
    """A schema of its own holding one table per dataset; dropped at the end."""
    name = f"vested_test_{uuid.uuid4().hex[:12]}"
    with server.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{name}"')
        for dataset, (columns, rows) in data.items():
            create_table(connection, f'"{name}"."{dataset}"', columns, rows)
    try:
        yield name
    finally:
        with server.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')


def on_both(tmp_path: Path, other: Measure, metrics: str, months: list[str],
            calendar: str = "{start: 2025-01}", *, percentiles: Percentiles = "auto",
            a: Agreement | None = None, data: Data = DATA) -> tuple[MetricTable, MetricTable]:
    a = a if a is not None else agreement_with(metrics, calendar)
    folder = tmp_path / uuid.uuid4().hex  # hypothesis runs many examples in one tmp_path
    folder.mkdir()
    files = {d: [write_parquet(folder / f"{d}.parquet", columns, rows)] for d, (columns, rows) in data.items()}
    duck = measure_metrics(a, files, months, percentiles=percentiles)
    return duck, other(a, data, files, months, percentiles)


@pytest.mark.parametrize("method", PERCENTILE_METHODS)
@pytest.mark.parametrize("calendar", ["{start: 2025-01}", "{start: 2025-01, time_zone: America/Chicago, fiscal_year_start: 2}"])
def test_the_other_engines_give_the_same_numbers_as_duckdb(tmp_path: Path, other: Measure, calendar: str,
                                                           method: Percentiles) -> None:
    duck, pg = on_both(tmp_path, other, METRICS, MONTHS, calendar, percentiles=method)
    assert pg.values == duck.values
    assert without_method_notes(pg) == list(duck.notes)
    if method == "ranks":  # and by rank the same numbers as by the engines' own percentile aggregates
        assert pg.values == on_both(tmp_path, other, METRICS, MONTHS, calendar, percentiles="aggregate")[1].values
    values = [v for by_month in pg.values.values() for v in by_month.values()]
    assert sum(v is not None for v in values) > len(values) // 2  # not equal by being empty
    zone = "America/Chicago" if "Chicago" in calendar else "UTC"
    assert pg.value("phone", "2025-06") == len(matching("2025-06", lambda t: t["channel"] == "phone"
                                                        and (t["satisfaction"] or 0) >= 4, zone))
    assert pg.value("onsite_fcr", "2025-05") is None and pg.reason("onsite_fcr", "2025-05") is not None
    assert pg.value("spend", "2025-03") is None  # no tickets in March


@pytest.mark.parametrize("method", PERCENTILE_METHODS)
def test_months_across_daylight_saving_time_match_duckdb(tmp_path: Path, other: Measure, method: Percentiles) -> None:
    months = ["2024-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-10", "2025-11", "2025-12"]
    duck, pg = on_both(tmp_path, other, "", months, percentiles=method, a=dst_agreement())
    check_dst_months(pg)
    assert pg.values == duck.values
    assert len(DST_EVENTS) == sum(int(pg.value("events", m) or 0) for m in months)


def test_quotes_percent_signs_and_colons_in_values_are_data(tmp_path: Path, other: Measure) -> None:
    duck, pg = on_both(tmp_path, other, METRICS, ["2025-05", "2025-06"])
    assert pg.value("obriens", "2025-05") == duck.value("obriens", "2025-05") == 1
    assert pg.value("obriens", "2025-06") == 1


@pytest.mark.postgres
def test_a_dataset_without_a_table_is_empty(server: sqlalchemy.Engine) -> None:
    a = agreement_with("- {id: n, measure: {dataset: tickets, aggregate: count}}")
    table = measure_metrics_sql(a, server, {}, ["2025-06"])
    assert table.value("n", "2025-06") is None and table.notes[0].code == "no-data"


@pytest.mark.spark
def test_a_dataset_without_files_is_empty_on_spark(spark: Any) -> None:
    a = agreement_with("- {id: n, measure: {dataset: tickets, aggregate: count}}")
    table = spark_engine(spark).measure_metrics(a, {}, ["2025-06"])
    assert table.value("n", "2025-06") is None and table.notes[0].code == "no-data"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=cases(), method=st.sampled_from(["ranks", "aggregate"]))
def test_generated_data_and_measures_give_the_same_numbers(tmp_path: Path, other: Measure, case: Any,
                                                           method: Percentiles) -> None:
    """Random rows, time zones and fiscal years; random measures of every aggregation, filter, window and exclusion."""
    text, calendar, months, data = case
    duck, found = on_both(tmp_path, other, text, months, calendar, percentiles=method, data=data)
    assert found.values == duck.values
    assert without_method_notes(found) == list(duck.notes)


def test_a_missing_server_skips_but_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        unreachable("no server")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no server"):
        unreachable("no server")

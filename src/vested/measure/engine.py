"""Run the compiled measurement on an engine: DuckDB over Parquet batches, or a SQL database.

Each runner reads like its table of contents: relations for the datasets -> ``compile_plan`` ->
run each query in the engine's dialect -> ``combine`` the per-month partials into a
:class:`~vested.measure.combine.MetricTable`. Both runners share the plan and the finishing step, so
the same definitions give the same numbers on DuckDB and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy
from sqlglot import exp

from vested.core.model import Agreement
from vested.measure.combine import MetricTable, Results, combine
from vested.measure.compile import compile_plan
from vested.measure.fragments import MeasureError, empty_relation, parquet_relation, table_relation
from vested.measure.plan import Plan
from vested.project import Project

SQLGLOT_DIALECTS = {"postgresql": "postgres"}
"""SQLAlchemy dialect names that sqlglot spells differently."""


def duckdb_sources(project: Project, agreement: Agreement) -> dict[str, list[Path]]:
    """The Parquet files of every complete batch of each of the agreement's datasets."""
    return {d.id: [batch.data_file for batch in project.batches(d.id)] for d in agreement.datasets}


def measure_project(agreement: Agreement, project: Project, months: Sequence[str]) -> MetricTable:
    """Measure the agreement's metrics for ``months`` from the batches ingested in ``project``."""
    return measure_metrics(agreement, duckdb_sources(project, agreement), months)


def measure_metrics(agreement: Agreement, sources: Mapping[str, Sequence[str | Path]], months: Sequence[str], *,
                    connection: duckdb.DuckDBPyConnection | None = None) -> MetricTable:
    """Measure with DuckDB: ``sources`` maps a dataset id to its Parquet files (none: the dataset is empty).

    Runs on ``connection`` when given, else on a new in-memory database. The session time zone is
    set to UTC so that a timestamp without an offset reads as UTC (ingest refuses them anyway).
    """
    relations: dict[str, exp.Expr] = {}
    for dataset in agreement.datasets:
        files = sources.get(dataset.id, ())
        relations[dataset.id] = parquet_relation(files) if files else empty_relation(dataset)
    plan = compile_plan(agreement, months, relations)
    con = connection if connection is not None else duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        return run_plan(plan, lambda sql: con.execute(sql).fetchall(), "duckdb", errors=(duckdb.Error,))
    finally:
        if connection is None:
            con.close()


def measure_metrics_sql(agreement: Agreement, engine_url: str | sqlalchemy.Engine, table_for_dataset: Mapping[str, str],
                        months: Sequence[str]) -> MetricTable:
    """Measure in a SQL database through SQLAlchemy (PostgreSQL is the one tested).

    ``table_for_dataset`` maps a dataset id to its table (``table`` or ``schema.table``) with the
    dataset's columns; a dataset without a table is empty. A ``postgresql://`` URL uses psycopg 3.
    """
    engine = _engine(engine_url)
    relations: dict[str, exp.Expr] = {}
    for dataset in agreement.datasets:
        table = table_for_dataset.get(dataset.id)
        relations[dataset.id] = table_relation(table) if table else empty_relation(dataset)
    plan = compile_plan(agreement, months, relations)
    dialect = SQLGLOT_DIALECTS.get(engine.dialect.name, engine.dialect.name)
    try:
        with engine.connect() as connection:
            # no_parameters: the SQL goes to the driver as is, so a '%' or ':' in a value stays data.
            raw = connection.execution_options(no_parameters=True)
            if dialect == "postgres":
                raw.exec_driver_sql("SET TIME ZONE 'UTC'")
            measured = run_plan(plan, lambda sql: raw.exec_driver_sql(sql).fetchall(), dialect, errors=(sqlalchemy.exc.DBAPIError,))
            connection.rollback()
            return measured
    finally:
        if not isinstance(engine_url, sqlalchemy.Engine):
            engine.dispose()


def run_plan(plan: Plan, execute: Callable[[str], Iterable[Sequence[Any]]], dialect: str, *,
             errors: tuple[type[Exception], ...] = ()) -> MetricTable:
    """Run every query of ``plan`` with ``execute`` (SQL text -> rows) and finish the metrics.

    An engine error of a type in ``errors`` (a file without a declared column, a type the data does
    not have) becomes a :class:`MeasureError` naming the dataset.
    """
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for query in plan.queries:
        try:
            rows = execute(query.sql(dialect))
        except errors as problem:
            first_line = str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__
            raise MeasureError(f"measuring dataset {query.dataset!r} failed: {first_line}",
                               "check that its data has the columns and types the agreement declares") from problem
        results[query.name] = {row[0]: dict(zip(query.columns, row, strict=True)) for row in rows if row[0] is not None}
    return combine(plan, results)


def plan_sql(agreement: Agreement, months: Sequence[str], relations: Mapping[str, exp.Expr], dialect: str) -> list[str]:
    """The SQL a measurement would run, for a reader (``vested measure --sql``) or a test."""
    return [query.sql(dialect) for query in compile_plan(agreement, months, relations).queries]


def _engine(url: str | sqlalchemy.Engine) -> sqlalchemy.Engine:
    if isinstance(url, sqlalchemy.Engine):
        return url
    parsed = sqlalchemy.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sqlalchemy.create_engine(parsed)


__all__ = ["MetricTable", "Results", "duckdb_sources", "measure_metrics", "measure_metrics_sql", "measure_project",
           "plan_sql", "run_plan"]

"""Run the compiled measurement on an engine: DuckDB over Parquet batches, or a SQL database.

Each runner reads like its table of contents: relations for the datasets -> how to take
percentiles -> ``compile_plan`` -> run each query in the engine's dialect -> ``combine`` the
per-month partials into a :class:`~vested.measure.combine.MetricTable`. Both runners share the plan
and the finishing step, so the same definitions give the same numbers on DuckDB and on PostgreSQL.

Percentiles (``percentiles=``): ``"aggregate"`` uses the engine's ``QUANTILE_CONT`` /
``PERCENTILE_CONT``, one more column of the monthly query, which holds every value in memory (DuckDB
cannot spill it); ``"ranks"`` computes them by rank (:mod:`vested.measure.ranks`) in memory bounded
by the distinct values, at the cost of another scan per percentile; ``"auto"`` (the default) takes
ranks on DuckDB when the values the aggregates would hold (:data:`VALUE_BYTES` per row read, per
percentile, times the months a window holds) exceed a quarter of the connection's ``memory_limit``,
and the aggregate on other engines (PostgreSQL sorts on disk when ``work_mem`` runs out).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import duckdb
from sqlglot import exp

from vested.core.measured import MetricTable
from vested.core.model import Agreement
from vested.measure.combine import Results, combine
from vested.measure.compile import compile_plan
from vested.measure.fragments import MeasureError, empty_relation, parquet_relation, table_relation
from vested.measure.plan import Plan, is_percentile
from vested.storage import BatchStore

if TYPE_CHECKING:  # SQLAlchemy is loaded only to measure in a SQL database
    import sqlalchemy

SQLGLOT_DIALECTS = {"postgresql": "postgres"}
"""SQLAlchemy dialect names that sqlglot spells differently."""

Percentiles = Literal["auto", "aggregate", "ranks"]
VALUE_BYTES = 16
"""Memory ``QUANTILE_CONT`` needs per value it keeps: a DOUBLE, and room for its buffer to grow."""
WINDOW_MONTHS = {"period": 1, "quarter": 3, "year": 12}


def duckdb_sources(project: BatchStore, agreement: Agreement) -> dict[str, list[Path]]:
    """The Parquet files of every complete batch of each of the agreement's datasets."""
    return {d.id: [batch.data_file for batch in project.batches(d.id)] for d in agreement.datasets}


def measure_project(agreement: Agreement, project: BatchStore, months: Sequence[str]) -> MetricTable:
    """Measure the agreement's metrics for ``months`` from the batches ingested in ``project``."""
    return measure_metrics(agreement, duckdb_sources(project, agreement), months)


class DuckDBEngine:
    """The embedded metric engine: DuckDB over the batches' Parquet files (one in-memory database per call)."""

    name = f"duckdb {duckdb.__version__}"

    def __init__(self, *, memory_limit: str | None = None, threads: int | None = None, temp_directory: str | None = None) -> None:
        self._con: duckdb.DuckDBPyConnection | None = None
        given = (("memory_limit", memory_limit), ("threads", threads), ("temp_directory", temp_directory))
        self.config: dict[str, str | bool | int | float | list[str]] = {k: v for k, v in given if v is not None}
        """DuckDB's settings (``memory_limit`` such as ``1GB``, ``threads``, ``temp_directory`` to spill to); unset: DuckDB's defaults."""

    def connection(self) -> duckdb.DuckDBPyConnection:
        """One in-memory database for everything this engine measures (opened on first use)."""
        if self._con is None:
            self._con = duckdb.connect(":memory:", config=self.config)
        return self._con

    def measure(self, agreement: Agreement, sources: Mapping[str, Sequence[Path]], months: Sequence[str]) -> MetricTable:
        return measure_metrics(agreement, sources, months, connection=self.connection())

    def reported(self, files: Sequence[Path], months: Sequence[str]) -> dict[str, dict[str, Decimal]]:
        """Values reported directly (the built-in ``reported`` dataset): metric -> month -> value."""
        values: dict[str, dict[str, Decimal]] = {}
        if not files:
            return values
        wanted = set(months)
        rows = self.connection().execute("SELECT metric, period, CAST(value AS VARCHAR) FROM read_parquet(?)",
                                         [[str(f) for f in files]]).fetchall()
        for metric, period, value in rows:
            if period in wanted:
                values.setdefault(metric, {})[period] = Decimal(value).normalize()
        return values


def measure_metrics(agreement: Agreement, sources: Mapping[str, Sequence[str | Path]], months: Sequence[str], *,
                    connection: duckdb.DuckDBPyConnection | None = None, percentiles: Percentiles = "auto") -> MetricTable:
    """Measure with DuckDB: ``sources`` maps a dataset id to its Parquet files (none: the dataset is empty).

    Runs on ``connection`` when given (its ``memory_limit`` bounds the run), else on a new in-memory
    database. The session time zone is set to UTC so that a timestamp without an offset reads as
    UTC (ingest refuses them anyway). ``percentiles``: see the module doc.
    """
    relations: dict[str, exp.Expr] = {}
    for dataset in agreement.datasets:
        files = sources.get(dataset.id, ())
        relations[dataset.id] = parquet_relation(files) if files else empty_relation(dataset)
    con = connection if connection is not None else duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        if percentiles == "auto":
            counted = {m.measure.dataset for m in agreement.metrics if m.measure is not None and is_percentile(m.measure)}
            rows = {d: parquet_rows(con, files) for d, files in sources.items() if files and d in counted}
            ranked = too_big_for_aggregates(agreement, rows, memory_limit(con)) if rows else set()
        else:
            ranked = {d.id for d in agreement.datasets} if percentiles == "ranks" else set()
        plan = compile_plan(agreement, months, relations, ranked=ranked)
        return run_plan(plan, lambda sql: con.execute(sql).fetchall(), "duckdb", errors=(duckdb.Error,),
                        out_of_memory=(duckdb.OutOfMemoryException,))
    finally:
        if connection is None:
            con.close()


def too_big_for_aggregates(agreement: Agreement, rows: Mapping[str, int], budget: int | None) -> set[str]:
    """The datasets whose percentiles to take by rank: the values the aggregates would hold need over a quarter of ``budget``.

    ``rows``: how many rows each dataset has (all of them, not only the months measured: an upper
    bound); ``budget``: the engine's memory limit in bytes (None: unknown, so every dataset with a
    percentile is ranked).
    """
    held: dict[str, int] = {}
    for metric in agreement.metrics:
        if metric.measure is not None and is_percentile(metric.measure):
            window = metric.measure.window
            copies = window if isinstance(window, int) else WINDOW_MONTHS[window]  # a row joins each window it is in
            held[metric.measure.dataset] = held.get(metric.measure.dataset, 0) + copies * rows.get(metric.measure.dataset, 0)
    return {d for d, values in held.items() if values and (budget is None or values * VALUE_BYTES > budget // 4)}


def parquet_rows(con: duckdb.DuckDBPyConnection, files: Sequence[str | Path]) -> int:
    """The rows of some Parquet files, from their footers (no data is read).

    A file that cannot be read counts as empty here: the measurement itself then says what is wrong.
    """
    try:
        found = con.execute("SELECT COALESCE(SUM(num_rows), 0) FROM parquet_file_metadata(?)", [[str(f) for f in files]]).fetchone()
    except duckdb.Error:
        return 0
    return int(found[0]) if found is not None else 0


MEMORY_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50,
                "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15}


def memory_limit(con: duckdb.DuckDBPyConnection) -> int | None:
    """The connection's ``memory_limit`` in bytes (DuckDB shows it as text, e.g. '953.6 MiB'); None if unreadable."""
    found = con.execute("SELECT current_setting('memory_limit')").fetchone()
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]+)\s*", str(found[0]) if found is not None else "")
    if match is None or match.group(2) not in MEMORY_UNITS:
        return None
    return int(float(match.group(1)) * MEMORY_UNITS[match.group(2)])


def measure_metrics_sql(agreement: Agreement, engine_url: str | sqlalchemy.Engine, table_for_dataset: Mapping[str, str],
                        months: Sequence[str], *, percentiles: Percentiles = "auto") -> MetricTable:
    """Measure in a SQL database through SQLAlchemy (PostgreSQL is the one tested).

    ``table_for_dataset`` maps a dataset id to its table (``table`` or ``schema.table``) with the
    dataset's columns; a dataset without a table is empty. A ``postgresql://`` URL uses psycopg 3.
    ``percentiles``: ``"ranks"`` or the engine's aggregate (``"auto"`` and ``"aggregate"``).
    """
    import sqlalchemy

    engine = _engine(engine_url)
    relations: dict[str, exp.Expr] = {}
    for dataset in agreement.datasets:
        table = table_for_dataset.get(dataset.id)
        relations[dataset.id] = table_relation(table) if table else empty_relation(dataset)
    plan = compile_plan(agreement, months, relations, ranked={d.id for d in agreement.datasets} if percentiles == "ranks" else ())
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
             errors: tuple[type[Exception], ...] = (), out_of_memory: tuple[type[Exception], ...] = ()) -> MetricTable:
    """Run every query of ``plan`` with ``execute`` (SQL text -> rows) and finish the metrics.

    An engine error of a type in ``errors`` (a file without a declared column, a type the data does
    not have) becomes a :class:`MeasureError` naming the dataset; one in ``out_of_memory`` says how
    to give the engine room.
    """
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for query in plan.queries:
        try:
            rows = execute(query.sql(dialect))
        except out_of_memory as problem:
            raise MeasureError(f"measuring dataset {query.dataset!r} ran out of memory: {_first_line(problem)}",
                               _memory_hint(plan, query.dataset)) from problem
        except errors as problem:
            raise MeasureError(f"measuring dataset {query.dataset!r} failed: {_first_line(problem)}",
                               "check that its data has the columns and types the agreement declares") from problem
        results[query.name] = {row[0]: dict(zip(query.columns, row, strict=True)) for row in rows if row[0] is not None}
    return combine(plan, results)


def _first_line(problem: Exception) -> str:
    return str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__


def _memory_hint(plan: Plan, dataset: str) -> str:
    """What to do when the engine ran out of memory: more memory, fewer months, percentiles by rank."""
    hint = ("raise DuckDB's memory_limit (SET memory_limit = '4GB' on the connection that measures; the default is 80% "
            "of RAM) and give it a temp_directory with room to spill, or measure fewer months at a time")
    held = [p.metric for p in plan.metrics if p.measure.dataset == dataset and is_percentile(p.measure) and "low" not in p.parts]
    if held:
        hint += (f"; the percentiles ({', '.join(held)}) hold every value in memory: measure with percentiles='ranks' "
                 "to take them by rank, in memory bounded by the distinct values")
    return hint


def plan_sql(agreement: Agreement, months: Sequence[str], relations: Mapping[str, exp.Expr], dialect: str) -> list[str]:
    """The SQL a measurement would run, for a reader (``vested measure --sql``) or a test."""
    return [query.sql(dialect) for query in compile_plan(agreement, months, relations).queries]


def _engine(url: str | sqlalchemy.Engine) -> sqlalchemy.Engine:
    import sqlalchemy

    if isinstance(url, sqlalchemy.Engine):
        return url
    parsed = sqlalchemy.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sqlalchemy.create_engine(parsed)


__all__ = ["MetricTable", "Results", "duckdb_sources", "measure_metrics", "measure_metrics_sql", "measure_project",
           "plan_sql", "run_plan"]

"""Measurement: from ingested data to each metric's value per period.

Where it sits in the pipeline: load -> validate -> **measure** -> score -> price -> settle -> record.
The agreement's ``datasets:`` and each metric's ``measure:`` (records in ``vested.core.measures``)
compile to a :class:`Plan` of SQL queries with sqlglot (:mod:`.compile`, built from
:mod:`.fragments`, local months from :mod:`.months`, percentiles by rank from :mod:`.ranks`;
records in :mod:`.plan`), run on DuckDB over the project's Parquet batches or on
PostgreSQL through SQLAlchemy (:mod:`.engine`), and the per-month partials the queries return are
finished into a :class:`MetricTable` (:mod:`.combine`) whose values the settlement turns into
facts. This package is an adapter: it may use duckdb, sqlglot and sqlalchemy; the core never
imports it.
"""

from vested.measure.combine import MetricTable, Note
from vested.measure.compile import compile_plan
from vested.measure.engine import duckdb_sources, measure_metrics, measure_metrics_sql, measure_project, plan_sql
from vested.measure.fragments import MeasureError, empty_relation, parquet_relation, table_relation
from vested.measure.plan import Plan, Query

__all__ = [
    "MeasureError",
    "MetricTable",
    "Note",
    "Plan",
    "Query",
    "compile_plan",
    "duckdb_sources",
    "empty_relation",
    "measure_metrics",
    "measure_metrics_sql",
    "measure_project",
    "parquet_relation",
    "plan_sql",
    "table_relation",
]

"""Measurement: from ingested data to each metric's value per period.

Where it sits in the pipeline: load -> validate -> **measure** -> score -> price -> settle -> record.
The agreement's ``datasets:`` and each metric's ``measure:`` (records in ``vested.core.measures``)
compile to a :class:`Plan` of SQL queries with sqlglot (:mod:`.compile`, built from
:mod:`.fragments`, local months from :mod:`.months`, percentiles by rank from :mod:`.ranks`;
records in :mod:`.plan`), run on DuckDB over the project's Parquet batches or on
PostgreSQL through SQLAlchemy (:mod:`.engine`) or on Apache Spark (:mod:`.spark`, pyspark loaded only
there), and the per-month partials the queries return are
finished into a :class:`MetricTable` (:mod:`.combine`) whose values the settlement turns into
facts. This package is an adapter: it may use duckdb, sqlglot and sqlalchemy; the core never
imports it.

Import the modules you use (``vested.measure.engine``, ``.compile``, ...): this package imports nothing
itself, so compiling a plan (``vested check``) never loads DuckDB or SQLAlchemy.
"""

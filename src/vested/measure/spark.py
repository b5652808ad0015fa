"""Measure on Apache Spark: the same compiled plan, in Spark SQL, over Parquet read where it lives.

``SparkEngine`` implements the workspace's ``MetricEngine`` and reads like its table of contents:
start (or join) a Spark session -> register each dataset's Parquet files (the ingested batches, or a
path or URI given for the dataset) as a temporary view -> ``compile_plan`` over those views -> write
each query in Spark SQL (sqlglot, ``dialect="spark"``) -> collect the rows -> the same ``combine`` as
DuckDB and PostgreSQL. So the same definitions give the same numbers: counts exactly, sums and
means exactly (to the declared places), percentiles as the method below says.

How each aggregation is computed on Spark (the method is part of the result, see ``METHODS``):

* counts, count_distinct, sums, means (a sum and a count), min, max, ratios: Spark's own exact
  aggregates, with ``FILTER (WHERE ...)``, as on DuckDB. Durations are whole microseconds
  (``unix_micros(end) - unix_micros(start)``, BIGINT) and the session runs in ANSI mode, so a sum that
  would overflow a BIGINT is an error, never a wrong number;
* local months: the same comparison of each row's instant with the UTC instants where the local
  months start, worked out once in Python (zoneinfo), as on every engine: no time zone conversion
  per row, the session time zone is UTC;
* percentiles, ``percentiles="ranks"`` (the default, *exact*): by rank (:mod:`vested.measure.ranks`),
  a count per distinct value that Spark shuffles and spills like any aggregate, interpolated in
  ``Decimal`` by ``combine`` exactly as ``quantile_cont`` does. ``"aggregate"``: Spark's exact
  ``percentile(x, q)`` (a count per distinct value held by one task per month; linear interpolation
  in DOUBLE, rounded to 12 significant digits as DuckDB's). ``"approximate"``:
  ``percentile_approx(x, q, accuracy)``: one pass in bounded memory, and the value returned is an
  actual value whose rank is within ``n / accuracy`` of the exact percentile's rank (not
  interpolated). Each percentile metric's table carries a note saying which method computed it.

Importing this module does not load pyspark; the engine loads it on its first measurement. The JVM it starts
writes its log to a file (:func:`spark_log`), so a command prints only what vested says.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import math
import os
import shutil
import socket
import sys
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlglot import exp

from vested.core.diagnostics import UserError
from vested.core.measured import MetricTable, Note
from vested.core.model import Agreement
from vested.measure.combine import combine
from vested.measure.compile import compile_plan
from vested.measure.fragments import MICROSECONDS_BETWEEN, MeasureError, empty_relation, table_relation
from vested.measure.plan import Plan, Query, is_percentile

if TYPE_CHECKING:  # pyspark is loaded only when Spark measures
    from pyspark.sql import SparkSession

SparkPercentiles = Literal["ranks", "aggregate", "approximate"]
DEFAULT_MASTER = "local[2]"
DEFAULT_ACCURACY = 10_000
"""``percentile_approx`` accuracy by default: the rank is within 0.01 % of the rows from the exact one."""
CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a ``spark://`` master to accept a connection (``vested.spark.connectTimeout``)."""

DEFAULT_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.shuffle.partitions": "4",
    "spark.log.structuredLogging.enabled": "false",
}
"""What the engine sets unless ``conf`` says otherwise: no UI, UTC, ANSI arithmetic (overflow is an error),
few shuffle partitions (the grouped rows are a few per month; 200 tasks would cost more than the work)."""

LOCAL_CONF = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}
"""A local master listens on the loopback address only (not on whatever the host name resolves to)."""

METHODS = {
    "ranks": "exact: by rank (the values at ranks ⌊q(n−1)⌋ and ⌈q(n−1)⌉, interpolated as percentile_cont)",
    "aggregate": "exact: Spark percentile() (linear interpolation in DOUBLE, as percentile_cont)",
    "approximate": "approximate: Spark percentile_approx with accuracy {accuracy}: the value is one of the rows', "
                   "its rank within {bound} of the rows from the exact percentile's",
}
"""What each percentile method is, as the metric table's note says it."""

class SparkError(MeasureError):
    """Spark cannot measure: it cannot start, its master does not answer, a dataset's data is not there."""

    def __init__(self, message: str, hint: str = "") -> None:
        UserError.__init__(self, "engine", message, hint, (), document="command")


@dataclass(frozen=True)
class SparkSettings:
    """How to reach Spark and how to take percentiles: the options of ``vested measure --engine spark``."""

    master: str = DEFAULT_MASTER
    """``local[N]``, ``local[*]``, ``spark://host:port``, ``yarn``, ``k8s://https://...``."""
    conf: Mapping[str, str] = field(default_factory=dict)
    """Spark configuration passed through (``--spark-conf key=value``); it wins over :data:`DEFAULT_CONF`."""
    percentiles: SparkPercentiles = "ranks"
    accuracy: int = DEFAULT_ACCURACY
    """``percentile_approx``'s accuracy: the rank error is at most 1/accuracy of the rows."""
    locations: Mapping[str, str] = field(default_factory=dict)
    """Datasets read from a path or URI (a folder of Parquet, partitioned by month or not) instead of the batches."""


class SparkEngine:
    """The distributed metric engine: Spark SQL over Parquet files, local or on a cluster (one session per process)."""

    def __init__(self, settings: SparkSettings | None = None, *, session: SparkSession | None = None) -> None:
        self.settings = settings or SparkSettings()
        self._session = session
        self._views = itertools.count()
        self.name = f"spark {_pyspark_version()} {self.settings.master}"

    # -- the MetricEngine protocol ------------------------------------------------------------------

    def measure(self, agreement: Agreement, sources: Mapping[str, Sequence[Path]], months: Sequence[str]) -> MetricTable:
        return self.measure_metrics(agreement, sources, months)

    def reported(self, files: Sequence[Path], months: Sequence[str]) -> dict[str, dict[str, Decimal]]:
        """Values reported directly (the built-in ``reported`` dataset): metric -> month -> value."""
        values: dict[str, dict[str, Decimal]] = {}
        if not files:
            return values
        wanted = set(months)
        with self._view("reported", [str(f) for f in files]) as view:
            rows = self._collect("reported", f"SELECT metric, period, CAST(value AS STRING) FROM `{view}`")
        for metric, period, value in rows:
            if period in wanted:
                values.setdefault(metric, {})[period] = Decimal(value).normalize()
        return values

    # -- measuring ------------------------------------------------------------------------------------

    def measure_metrics(self, agreement: Agreement, sources: Mapping[str, Sequence[str | Path]],
                        months: Sequence[str]) -> MetricTable:
        """Measure ``months``: ``sources`` maps a dataset id to its Parquet files (a location in the settings wins)."""
        with self._views_of(agreement, sources) as relations:
            ranked = {d.id for d in agreement.datasets} if self.settings.percentiles == "ranks" else set()
            plan = compile_plan(agreement, months, relations, ranked=ranked)
            results: dict[str, dict[str, dict[str, Any]]] = {}
            for query in plan.queries:
                rows = self._collect(query.dataset, spark_sql(query, self.settings))
                results[query.name] = {row[0]: dict(zip(query.columns, row, strict=True)) for row in rows if row[0] is not None}
        table = combine(plan, results)
        return replace(table, notes=(*table.notes, *self.method_notes(plan)))

    def method_notes(self, plan: Plan) -> list[Note]:
        """A note on every percentile metric's month saying how Spark computed it (``blank=False``: a remark)."""
        method = METHODS[self.settings.percentiles].format(accuracy=self.settings.accuracy,
                                                           bound=f"{1 / self.settings.accuracy:.4%}")
        return [Note(p.metric, month, "percentile-method", f"{p.metric}: {month} on {self.name}, {method}",
                     "the engine's --spark-percentiles option chooses exact or approximate", p.index, blank=False)
                for p in plan.metrics if is_percentile(p.measure) for month in plan.months]

    @contextmanager
    def _views_of(self, agreement: Agreement, sources: Mapping[str, Sequence[str | Path]]) -> Iterator[dict[str, exp.Expr]]:
        """A relation per dataset: a view of its Parquet data, or an empty relation when it has none."""
        relations: dict[str, exp.Expr] = {}
        with ExitStack() as views:
            for dataset in agreement.datasets:
                located = self.settings.locations.get(dataset.id)
                paths = [located] if located else [str(f) for f in sources.get(dataset.id, ())]
                relations[dataset.id] = (table_relation(views.enter_context(self._view(dataset.id, paths))) if paths
                                         else empty_relation(dataset))
            yield relations

    @contextmanager
    def _view(self, dataset: str, paths: Sequence[str]) -> Iterator[str]:
        """A temporary view over Parquet ``paths`` (files or folders; columns merged by name), dropped afterwards."""
        from pyspark.errors import PySparkException

        spark = self.session()
        name = f"vested_{next(self._views)}_{dataset}"
        try:
            spark.read.option("mergeSchema", "true").parquet(*paths).createOrReplaceTempView(name)
        except PySparkException as problem:
            where = paths[0] if len(paths) == 1 else f"{paths[0]} (and {len(paths) - 1} more)"
            raise SparkError(f"Spark cannot read dataset {dataset!r} from {where}: {_first_line(problem)}",
                             "check the path or URI (and that the Spark installation has the connector for its "
                             "scheme, e.g. hadoop-aws for s3a://)") from None
        try:
            yield name
        finally:
            spark.catalog.dropTempView(name)

    def _collect(self, dataset: str, sql: str) -> list[tuple[Any, ...]]:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        try:
            return [tuple(row) for row in self.session().sql(sql).collect()]
        except (PySparkException, Py4JError) as problem:
            text = _first_line(problem)
            if "OutOfMemoryError" in str(problem):
                raise MeasureError(f"measuring dataset {dataset!r} ran out of memory on Spark: {text}",
                                   "give Spark more memory (--spark-conf spark.driver.memory=4g, or "
                                   "spark.executor.memory on a cluster), or measure fewer months at a time") from None
            raise MeasureError(f"measuring dataset {dataset!r} failed on Spark: {text}",
                               "check that its data has the columns and types the agreement declares") from None

    # -- the session ----------------------------------------------------------------------------------

    def session(self) -> SparkSession:
        """The Spark session (started on first use; an active one in this process is joined)."""
        if self._session is None:
            self._session = start_session(self.settings)
            self.name = f"spark {self._session.version} {self._session.sparkContext.master}"
        return self._session

    def close(self) -> None:
        """Stop the session this engine started."""
        if self._session is not None:
            self._session.stop()
            self._session = None


def start_session(settings: SparkSettings) -> SparkSession:
    """Start Spark with the settings, or say clearly why it cannot start (no Java, a master that does not answer)."""
    check_java()
    local = settings.master.startswith("local")
    conf = {**DEFAULT_CONF, **(LOCAL_CONF if local else {}), **settings.conf}
    check_master(settings.master, float(conf.pop("vested.spark.connectTimeout", CONNECT_TIMEOUT)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyspark warns about pandas versions it does not need here
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise SparkError("Spark is not installed (no module pyspark)",
                             "pip install 'vested[spark]' (pyspark 3.5 or later), or measure with --engine duckdb") from None
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        builder = SparkSession.builder.master(settings.master).appName("vested measure")
        for key, value in conf.items():
            builder = builder.config(key, value)
        log = spark_log()
        try:
            with _stderr_to(log):  # the JVM keeps this stderr: its log goes to the file, not between vested's lines
                session = builder.getOrCreate()
        except (PySparkException, Py4JError, OSError, RuntimeError) as problem:
            raise SparkError(f"Spark cannot start with master {settings.master!r}: {_first_line(problem)}",
                             f"check the master URL and --spark-conf settings, and that Java 17 or later runs "
                             f"(java -version); Spark's log: {log}") from None
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):  # pyspark logs each failed query with its trace
        logging.getLogger(name).disabled = True
    atexit.register(_stop_quietly, session, log)
    return session


def check_java() -> None:
    """Spark needs a Java runtime: JAVA_HOME's, or ``java`` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return
    if home:
        raise SparkError(f"Spark cannot start: JAVA_HOME is {home}, which has no bin/java",
                         "set JAVA_HOME to a Java 17 (or later) installation, or unset it to use the java on PATH")
    if shutil.which("java") is None:
        raise SparkError("Spark cannot start: no Java runtime (no `java` on PATH and JAVA_HOME is not set)",
                         "install Java 17 or later (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME; "
                         "or measure with --engine duckdb")


def check_master(master: str, timeout: float) -> None:
    """A ``spark://`` master must accept a connection within ``timeout`` seconds (Spark itself waits a minute)."""
    if not master.startswith("spark://"):
        return
    for address in master.removeprefix("spark://").split(","):
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                return
        except (OSError, ValueError):
            continue
    raise SparkError(f"no Spark master answers at {master} (tried for {timeout:g} s)",
                     "start the master (sbin/start-master.sh), check host and port, or measure with "
                     "--spark-master local[2]; --spark-conf vested.spark.connectTimeout=SECONDS waits longer")


def spark_sql(query: Query, settings: SparkSettings) -> str:
    """A plan's query in Spark SQL: durations by ``unix_micros``, percentiles by the settings' method."""

    def durations(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Anonymous) and node.name == MICROSECONDS_BETWEEN:
            start, end = node.expressions
            return exp.paren(exp.Sub(this=exp.Anonymous(this="UNIX_MICROS", expressions=[end]),
                                     expression=exp.Anonymous(this="UNIX_MICROS", expressions=[start])), copy=False)
        return node

    def percentiles(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.PercentileCont):
            return node
        if settings.percentiles == "approximate":
            return exp.Anonymous(this="PERCENTILE_APPROX",
                                 expressions=[node.this, node.expression, exp.Literal.number(settings.accuracy)])
        return exp.Anonymous(this="PERCENTILE", expressions=[node.this, node.expression])

    # Two passes: a node that replaces another is not visited again, and a percentile may hold a duration.
    return query.select.transform(durations).transform(percentiles).sql(dialect="spark")


def accuracy_for(error: float) -> int:
    """The ``percentile_approx`` accuracy whose rank error is at most ``error`` (a fraction of the rows)."""
    if not 0 < error < 1:
        raise ValueError(f"a percentile error bound is a fraction between 0 and 1, not {error}")
    return math.ceil(1 / error)


def _pyspark_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pyspark")
    except PackageNotFoundError:
        return "(not installed)"


def spark_log() -> Path:
    """Where the Spark JVM started by this process writes its log (its stderr)."""
    return Path(tempfile.gettempdir()) / f"vested-spark-{os.getpid()}.log"


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Point file descriptor 2 at ``path`` while a child process is started (it inherits it), then restore it."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with path.open("ab") as log:
            os.dup2(log.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _stop_quietly(session: SparkSession, log: Path) -> None:
    with suppress(Exception):  # the JVM may already be gone at exit; nothing to report then
        session.stop()
    log.unlink(missing_ok=True)


def _first_line(problem: BaseException) -> str:
    text = str(problem).strip()
    return text.splitlines()[0] if text else type(problem).__name__


__all__ = ["DEFAULT_MASTER", "SparkEngine", "SparkError", "SparkSettings", "accuracy_for", "spark_sql", "start_session"]

"""Measuring on Apache Spark: the same definitions give the same numbers as on DuckDB (and PostgreSQL).

One Spark session (``local[2]``, 2 shuffle partitions, no UI) serves every test of the run
(:func:`spark_session`); each test builds a :class:`SparkEngine` on it with the percentile method it
needs. The fixed comparisons over the hand-made rows live with the PostgreSQL ones, parametrised by
engine (``tests/test_measure_postgres.py``), with the generated ones, whose strategies are here
(hypothesis: random rows, time zones, fiscal years, and random measures of every aggregation,
filter, window and exclusion). Here are the help-desk data through the project's batches, approximate percentiles within their bound, and
the messages when Spark cannot measure. Without pyspark or Java the tests are skipped with the
reason, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from hypothesis import strategies as st

from tests.helpers import PARTIES
from tests.test_measure_engine import (
    DATASETS,
    OUTAGE_COLUMNS,
    RELIEF_COLUMNS,
    TICKET_COLUMNS,
    TICKETS,
    agreement_with,
    write_parquet,
)
from vested.core.measured import MetricTable
from vested.measure.engine import Percentiles, measure_metrics
from vested.measure.spark import SparkEngine, SparkError, SparkPercentiles, SparkSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ROOT = Path(__file__).resolve().parents[1]
SPARK_METHOD: dict[str, SparkPercentiles] = {"auto": "ranks", "ranks": "ranks", "aggregate": "aggregate"}
"""The DuckDB percentile method -> the Spark one computing the same numbers."""


def unavailable(reason: str) -> NoReturn:
    """Skip because Spark cannot run here, or fail when running in CI (CI=true)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the Spark tests must run)")
    pytest.skip(reason)


@functools.cache
def spark_session() -> SparkSession:
    """The run's one Spark session (pyspark allows one per process); stopped when the process exits."""
    from vested.measure.spark import start_session

    return start_session(SparkSettings("local[2]", {"spark.sql.shuffle.partitions": "2"}))


@pytest.fixture(scope="session")
def spark() -> SparkSession:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        unavailable("pyspark is not installed (pip install -e '.[spark]')")
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        unavailable("Spark needs Java 17 or later: no `java` on PATH and JAVA_HOME is not set")
    try:
        return spark_session()
    except SparkError as problem:
        unavailable(f"Spark does not start here: {problem}")


def spark_engine(session: SparkSession, percentiles: Percentiles | SparkPercentiles = "ranks", **options: Any) -> SparkEngine:
    method: SparkPercentiles = "approximate" if percentiles == "approximate" else SPARK_METHOD[percentiles]
    return SparkEngine(SparkSettings("local[2]", percentiles=method, **options), session=session)


def without_method_notes(table: MetricTable) -> list[Any]:
    return [n for n in table.notes if n.code != "percentile-method"]


# -- generated data and measures -------------------------------------------------------------------

ZONES = ["UTC", "America/Chicago", "Europe/London", "Asia/Kolkata", "Pacific/Chatham", "America/St_Johns"]
STORES = ["north", "south", "O'Brien's", "50% :off", "back\\slash", None]
CHANNELS = ["phone", "remote", "on-site", None]
START = datetime(2025, 1, 1, tzinfo=UTC)

# Instants near the starts of local months (where an off-by-an-offset bug shows) and anywhere in 2025.
month_edges = st.builds(lambda month, hours, seconds: datetime(2025, month, 1, tzinfo=UTC) + timedelta(hours=hours, seconds=seconds),
                        st.integers(1, 8), st.integers(-15, 15), st.integers(-2, 2))
instants = st.one_of(month_edges, st.builds(lambda s: START + timedelta(seconds=s), st.integers(0, 230 * 86400)))
durations = st.one_of(st.none(), st.integers(0, 5 * 86400).map(lambda s: timedelta(seconds=s)),
                      st.integers(0, 10**7).map(lambda us: timedelta(microseconds=us)))


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@st.composite
def ticket_rows(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    rows = []
    for _ in range(draw(st.integers(0, 25))):
        opened = draw(instants)
        took = draw(durations)
        cost = draw(st.one_of(st.none(), st.decimals(0, 500, places=2).map(float)))
        rows.append((f"T{draw(st.integers(0, 12))}", draw(st.sampled_from(STORES)), draw(st.sampled_from(CHANNELS)),
                     iso(opened), iso(opened + took if took is not None else None), draw(st.one_of(st.none(), st.booleans())),
                     draw(st.one_of(st.none(), st.integers(1, 5))), cost))
    return rows


@st.composite
def relief_rows(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    rows = []
    for _ in range(draw(st.integers(0, 4))):
        starts = draw(instants)
        lasts = draw(st.one_of(st.none(), st.integers(0, 20 * 86400)))
        ends = starts + timedelta(seconds=lasts) if lasts is not None else None
        rows.append((draw(st.one_of(st.none(), st.builds(lambda n: f"T{n}", st.integers(0, 12)))),
                     draw(st.sampled_from(STORES)), "storm", iso(starts), iso(ends)))
    return rows


@st.composite
def outage_rows(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    rows = []
    for n in range(draw(st.integers(0, 5))):
        starts = draw(instants)
        lasts = draw(st.one_of(st.none(), st.integers(-3600, 40 * 86400)))
        ends = starts + timedelta(seconds=lasts) if lasts is not None else None
        rows.append((f"O{n}", draw(st.sampled_from(["planned", "unplanned", None])), iso(starts), iso(ends)))
    return rows


WHERES = [
    {}, {"channel": "phone"}, {"channel": {"not": "phone"}}, {"store": {"in": ["O'Brien's", "back\\slash", "50% :off"]}},
    {"satisfaction": {"at_least": 3}}, {"satisfaction": {"below": 3}, "fcr": True}, {"resolved_at": {"missing": True}},
    {"resolved_at": {"missing": False}}, {"cost": {"above": 20, "at_most": 200}},
    {"fcr": False}, {"store": {"in": []}}, {"channel": {"in": ["phone", "remote"]}, "cost": {"at_least": 0}},
]
EXCLUSIONS = [
    [], [{"dataset": "relief", "match": ["ticket_id"]}], [{"dataset": "relief", "match": ["ticket_id", "store"]}],
    [{"dataset": "relief", "during": ["starts_at", "ends_at"]}],
    [{"dataset": "relief", "match": ["store"], "during": ["starts_at", "ends_at"]}],
]
WINDOWS: list[str | int] = ["period", "quarter", "year", 1, 2, 3]
PERCENTILES = [0, 25, 50, 90, 99, 100, 37.5]


@st.composite
def measures(draw: st.DrawFn) -> dict[str, Any]:
    """One measure over the tickets (or an availability over the outages): any aggregation, filter, window, exclusion."""
    kind = draw(st.sampled_from(["count", "count_distinct", "sum", "mean", "min", "max", "percentile", "ratio", "duration",
                                 "availability"]))
    if kind == "availability":
        return {"dataset": "outages", "aggregate": "availability", "scale": 100, "window": draw(st.sampled_from(WINDOWS)),
                "availability": {"start": "starts_at", "end": "ends_at", "units": draw(st.integers(1, 3)),
                                 "hours_per_day": draw(st.sampled_from([24, 10])),
                                 "planned": draw(st.sampled_from([{}, {"kind": "planned"}]))}}
    found: dict[str, Any] = {"dataset": "tickets", "aggregate": kind, "where": draw(st.sampled_from(WHERES)),
                             "window": draw(st.sampled_from(WINDOWS)), "exclude": draw(st.sampled_from(EXCLUSIONS))}
    if kind in ("count_distinct", "sum", "mean", "min", "max", "percentile"):
        found["column"] = draw(st.sampled_from(["store"] if kind == "count_distinct" else ["satisfaction", "cost"]))
    if kind == "percentile":
        found["percentile"] = draw(st.sampled_from(PERCENTILES))
    if kind == "ratio":
        found["numerator"] = draw(st.sampled_from([{"where": {"fcr": True}}, {"aggregate": "sum", "column": "cost",
                                                                               "where": {"channel": "phone"}}]))
        found["denominator"] = {"aggregate": "sum", "column": "cost"} if found["numerator"].get("aggregate") else {}
        found["scale"] = 100
    if kind == "duration":
        found.update(start="opened_at", end="resolved_at", statistic=draw(st.sampled_from(["mean", "percentile", "max", "sum"])),
                     duration_unit=draw(st.sampled_from(["seconds", "minutes", "hours", "days"])))
        if found["statistic"] == "percentile":
            found["percentile"] = draw(st.sampled_from(PERCENTILES))
    return found


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, str, list[str], dict[str, tuple[dict[str, str], list[tuple[Any, ...]]]]]:
    metrics = draw(st.lists(measures(), min_size=1, max_size=5))
    text = "\n".join(f"- {{id: m{i}, measure: {json.dumps(m)}}}" for i, m in enumerate(metrics))
    calendar = f"{{start: 2025-01, time_zone: {draw(st.sampled_from(ZONES))}, fiscal_year_start: {draw(st.integers(1, 12))}}}"
    first = draw(st.integers(1, 7))
    months = [f"2025-{m:02d}" for m in range(first, draw(st.integers(first, 8)) + 1)]
    data = {"tickets": (TICKET_COLUMNS, draw(ticket_rows())), "relief": (RELIEF_COLUMNS, draw(relief_rows())),
            "outages": (OUTAGE_COLUMNS, draw(outage_rows()))}
    return text, calendar, months, data


# -- the help-desk data, through the project's batches ------------------------------------------------

@pytest.mark.spark
def test_the_help_desk_agreements_measure_the_same_from_the_batches(tmp_path: Path, spark: SparkSession) -> None:
    from vested.adapters.load import load_agreement_text
    from vested.demo_data import write_helpdesk_csv
    from vested.ingest import ingest_file
    from vested.measure.engine import DuckDBEngine, duckdb_sources
    from vested.storage.folder import open_project

    paths = write_helpdesk_csv(tmp_path / "data", seed=9, start="2025-01", months=10, invest_month=6)
    months = [f"2025-{m:02d}" for m in range(1, 11)]
    for name in ("vested.yaml", "task-based.yaml"):
        loaded = load_agreement_text((ROOT / "examples" / "helpdesk" / name).read_text(encoding="utf-8"), name)
        assert loaded.agreement is not None
        agreement = loaded.agreement
        project = open_project(tmp_path / name)
        for dataset in agreement.datasets:
            assert ingest_file(agreement, project, dataset.id, paths[dataset.id], who="test",
                               now=datetime(2025, 11, 1, tzinfo=UTC)).ok
        sources = duckdb_sources(project, agreement)
        duck, other = DuckDBEngine(), spark_engine(spark)
        table = other.measure(agreement, sources, months)
        assert table.values == duck.measure(agreement, sources, months).values
        assert sum(v is not None for by_month in table.values.values() for v in by_month.values()) > len(months)
        reported = [b.data_file for b in project.batches("reported")]
        assert other.reported(reported, months) == duck.reported(reported, months)


# -- approximate percentiles ---------------------------------------------------------------------------

@pytest.mark.spark
def test_approximate_percentiles_are_within_their_stated_rank_bound(tmp_path: Path, spark: SparkSession) -> None:
    rows = [(f"T{i}", "north", "phone", (START + timedelta(days=31, minutes=7 * i)).isoformat(), None, True, 1, float(i % 997))
            for i in range(3000)]
    files = {"tickets": [write_parquet(tmp_path / "t.parquet", TICKET_COLUMNS, rows)]}
    a = agreement_with("- {id: p90, measure: {dataset: tickets, aggregate: percentile, column: cost, percentile: 90}}")
    exact = spark_engine(spark).measure_metrics(a, files, ["2025-02"])
    engine = spark_engine(spark, "approximate", accuracy=100)  # rank within 1 % of the rows
    approximate = engine.measure_metrics(a, files, ["2025-02"])
    assert exact.value("p90", "2025-02") == measure_metrics(a, files, ["2025-02"]).value("p90", "2025-02")
    costs = sorted(r[7] for r in rows)
    value = approximate.value("p90", "2025-02")
    assert value is not None and float(value) in costs  # a value of the rows, not interpolated
    rank = costs.index(float(value))
    assert abs(rank - 0.9 * (len(costs) - 1)) <= len(costs) / 100 + 1
    [note] = [n for n in approximate.notes if n.code == "percentile-method"]
    assert "approximate" in note.message and "1.0000%" in note.message and not note.blank
    assert "exact: by rank" in next(n.message for n in exact.notes if n.code == "percentile-method")


# -- when Spark cannot measure -------------------------------------------------------------------------

@pytest.mark.spark
def test_a_source_that_does_not_exist_is_named(tmp_path: Path, spark: SparkSession) -> None:
    a = agreement_with("- {id: n, measure: {dataset: tickets, aggregate: count}}")
    engine = spark_engine(spark, locations={"tickets": str(tmp_path / "nowhere")})
    with pytest.raises(SparkError, match=r"cannot read dataset 'tickets' from .*nowhere") as raised:
        engine.measure_metrics(a, {}, ["2025-06"])
    assert raised.value.diagnostic.code == "engine"


@pytest.mark.spark
def test_a_dataset_given_by_a_folder_partitioned_by_month_is_read_where_it_lives(tmp_path: Path, spark: SparkSession) -> None:
    folder = tmp_path / "tickets"
    by_month: dict[str, list[tuple[Any, ...]]] = {}
    for row in TICKETS:
        by_month.setdefault(str(row[3])[:7], []).append(row)
    for month, rows in by_month.items():
        (folder / f"month={month}").mkdir(parents=True)
        write_parquet(folder / f"month={month}" / "part-0.parquet", TICKET_COLUMNS, rows)
    a = agreement_with("""
        - {id: n, measure: {dataset: tickets, aggregate: count}}
        - {id: spend, measure: {dataset: tickets, aggregate: sum, column: cost, window: quarter}}
        """)
    months = ["2025-04", "2025-05", "2025-06", "2025-07"]
    files = {"tickets": [write_parquet(tmp_path / "all.parquet", TICKET_COLUMNS, TICKETS)]}
    located = spark_engine(spark, locations={"tickets": folder.as_uri()}).measure_metrics(a, {}, months)
    assert located.values == measure_metrics(a, files, months).values


def run_vested(*args: str, tmp_path: Path, java: bool = True) -> subprocess.CompletedProcess[str]:
    """``vested ARGS`` in a process of its own (Spark's one session per process is the test run's)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    if not java:
        env.pop("JAVA_HOME", None)
        env["PATH"] = os.path.dirname(sys.executable)  # python, and no java
    return subprocess.run([sys.executable, "-m", "vested", *args], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120, check=False)


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    agreement = tmp_path / "desk.yaml"
    agreement.write_text("vested: 1\nid: desk\ntitle: Desk\n" + PARTIES + "calendar: {start: 2025-01}\n" + DATASETS
                         + "metrics:\n  - {id: n, measure: {dataset: tickets, aggregate: count}}\npricing: []\n", encoding="utf-8")
    return agreement


def test_without_java_spark_says_so_in_one_message(desk: Path, tmp_path: Path) -> None:
    done = run_vested("measure", str(desk), "--period", "2025-06", "--engine", "spark", tmp_path=tmp_path, java=False)
    assert done.returncode == 1, done.stderr
    assert "no Java runtime" in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_master_that_does_not_answer_is_reported_quickly(desk: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port with nothing listening: bound, never listened on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        done = run_vested("measure", str(desk), "--period", "2025-06", "--engine", "spark", "--spark-master",
                                   f"spark://127.0.0.1:{port}", "--spark-conf", "vested.spark.connectTimeout=1",
                                   "--json", tmp_path=tmp_path)
    assert done.returncode == 1, done.stderr
    found = json.loads(done.stdout)["diagnostics"][0]
    assert found["code"] == "engine" and f"no Spark master answers at spark://127.0.0.1:{port}" in found["message"]


def test_spark_options_need_the_spark_engine_and_duckdb_never_loads_pyspark(desk: Path, tmp_path: Path) -> None:
    done = run_vested("measure", str(desk), "--period", "2025-06", "--spark-master", "local[1]", tmp_path=tmp_path)
    assert done.returncode == 1 and "--spark-master needs --engine spark" in done.stderr, done.stderr
    done = run_vested("measure", str(desk), "--period", "2025-06", "--engine", "spark", "--spark-conf", "novalue",
                      tmp_path=tmp_path)
    assert done.returncode == 1 and "--spark-conf takes KEY=VALUE" in done.stderr, done.stderr
    probe = ("import sys; from vested.services.workspace import make_engine; make_engine('spark'); "
             "from vested.cli import main; sys.argv = ['vested', 'check', sys.argv[1]]\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\nassert 'pyspark' not in sys.modules, 'pyspark loaded'\nprint('ok')")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    checked = subprocess.run([sys.executable, "-c", probe, str(desk)], capture_output=True, text=True, env=env, check=False)
    assert checked.stdout.strip().endswith("ok"), checked.stderr


def test_a_missing_spark_skips_but_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        unavailable("no java")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no java"):
        unavailable("no java")


# The engine's SQL: durations by unix_micros and percentiles by the method chosen, never DuckDB's spellings.
def test_the_spark_sql_spells_durations_and_percentiles_for_spark() -> None:
    from vested.measure.compile import compile_plan
    from vested.measure.fragments import table_relation
    from vested.measure.spark import spark_sql

    a = agreement_with("""
        - id: p90_hours
          measure: {dataset: tickets, aggregate: duration, start: opened_at, end: resolved_at, statistic: percentile, percentile: 90}
        """)
    [query] = compile_plan(a, ["2025-06"], {"tickets": table_relation("v")}).queries
    assert "PERCENTILE((UNIX_MICROS(r.`resolved_at`) - UNIX_MICROS(r.`opened_at`))" in spark_sql(query, SparkSettings()).replace(
        "CAST(", "").replace(" AS DOUBLE)", "")
    approximate = spark_sql(query, SparkSettings(percentiles="approximate", accuracy=500))
    assert "PERCENTILE_APPROX(" in approximate and ", 0.9, 500)" in approximate
    assert "EPOCH" not in approximate and "VESTED_" not in approximate


def test_an_approximate_error_bound_becomes_an_accuracy() -> None:
    from vested.measure.spark import accuracy_for

    assert accuracy_for(0.0001) == 10_000 and accuracy_for(0.003) == 334
    with pytest.raises(ValueError, match="between 0 and 1"):
        accuracy_for(0)


def test_the_engine_records_its_name_and_version() -> None:
    from importlib.metadata import version

    try:
        expected = version("pyspark")
    except Exception:
        expected = "(not installed)"
    engine = SparkEngine(SparkSettings("local[1]"))  # made without starting Spark
    assert engine.name == f"spark {expected} local[1]" and engine._session is None

"""Typed Parquet columns are checked on their typed values (vested.ingest.native), with the same outcome as text.

Each test writes the same values twice, as typed Parquet columns and as the text DuckDB prints them, and
ingests both: the problems (code, row, column, message) and the stored rows must be the same.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from tests.helpers import PARTIES, agreement
from vested.core.measures import Column
from vested.ingest import IngestReport, ingest_file
from vested.ingest.native import is_native
from vested.storage.folder import open_project

NOW = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)

TYPED = agreement("vested: 1\nid: typed\ntitle: Typed\n" + PARTIES + """\
calendar: {start: 2025-01, time_zone: Europe/London}
datasets:
  - id: events
    time: opened
    key: [id]
    owner: seller
    columns:
      - {name: id, type: integer, required: true}
      - {name: opened, type: timestamp}
      - {name: amount, type: number, minimum: -1000000000}
      - {name: fee, type: number, maximum: 100}
      - {name: count, type: integer, minimum: 0, maximum: 1000}
      - {name: big, type: integer}
      - {name: ok, type: boolean, required: true}
      - {name: day, type: date}
metrics:
  - {id: n, measure: {dataset: events, aggregate: count}}
""")

VALUES = """
    (1, TIMESTAMPTZ '2025-06-01 08:00:00+00', 12.5::DOUBLE, 12.50::DECIMAL(10,2), 5, 7::UBIGINT, true, DATE '2025-06-01'),
    (2, TIMESTAMPTZ '1899-12-31 23:00:00+00', 'nan'::DOUBLE, 100.01::DECIMAL(10,2), -1,
     18446744073709551615::UBIGINT, false, DATE '1899-12-31'),
    (3, 'infinity'::TIMESTAMPTZ, 'inf'::DOUBLE, NULL, 1001, NULL, NULL, 'infinity'::DATE),
    (3, TIMESTAMPTZ '3000-01-01 00:00:00+00', 0.1234567891::DOUBLE, 1::DECIMAL(10,2), 0, 0::UBIGINT, true, DATE '3000-01-01'),
    (5, NULL, 1e30::DOUBLE, NULL, NULL, NULL, true, NULL),
    (6, TIMESTAMPTZ '2999-12-31 23:59:59+00', 1e17 + 16, NULL, NULL, NULL, true, DATE '2999-12-31'),
    (7, TIMESTAMPTZ '1900-01-01 00:00:00+00', -0.0::DOUBLE, NULL, NULL, NULL, true, DATE '1900-01-01'),
    (8, NULL, 1e-9::DOUBLE, NULL, NULL, NULL, true, NULL),
    (9, NULL, 1e-10::DOUBLE, NULL, NULL, NULL, true, NULL),
    (10, NULL, 123456.123456789::DOUBLE, NULL, NULL, NULL, true, NULL),
    (11, NULL, -2e9::DOUBLE, NULL, NULL, NULL, true, NULL),
    (NULL, NULL, 99999999999999991433150857216::DOUBLE, NULL, NULL, NULL, true, NULL)
"""
NAMES = "id, opened, amount, fee, count, big, ok, day"


def write_both(folder: Path, values: str) -> tuple[Path, Path]:
    """The rows as typed Parquet columns, and as the text DuckDB prints them (every column VARCHAR)."""
    typed, text = folder / "typed.parquet", folder / "text.parquet"
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"CREATE TABLE t AS SELECT * FROM (VALUES {values}) AS v({NAMES})")
        con.execute(f"COPY t TO '{typed}' (FORMAT parquet)")
        con.execute(f"COPY (SELECT {', '.join(f'CAST({n} AS VARCHAR) AS {n}' for n in NAMES.split(', '))} FROM t) "
                    f"TO '{text}' (FORMAT parquet)")
    return typed, text


def ingest(folder: Path, path: Path, name: str) -> IngestReport:
    return ingest_file(TYPED, open_project(folder / name), "events", path, who="test", now=NOW, quarantine=folder / f"{name}.csv")


def outcome(report: IngestReport) -> list[tuple[object, ...]]:
    return [(p.code, p.row, p.column, p.message, p.severity) for p in report.problems]


def stored(folder: Path, name: str) -> list[tuple[object, ...]]:
    batches = open_project(folder / name).batches("events")
    if not batches:
        return []
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(f"SELECT * FROM read_parquet('{batches[0].data_file}')").fetchall()


def test_typed_columns_give_the_problems_and_values_text_gives(tmp_path: Path) -> None:
    typed, text = write_both(tmp_path, VALUES)
    by_type, by_text = ingest(tmp_path, typed, "typed"), ingest(tmp_path, text, "text")
    assert outcome(by_type) == outcome(by_text)
    codes = {p.code for p in by_type.problems}
    assert {"number", "number-places", "number-range", "time-range", "timestamp", "minimum", "maximum", "integer",
            "required", "duplicate", "date"} <= codes
    assert by_type.rows_ingested == by_text.rows_ingested > 0
    assert stored(tmp_path, "typed") == stored(tmp_path, "text")
    assert (tmp_path / "typed.csv").read_text() == (tmp_path / "text.csv").read_text()


def test_random_doubles_are_stored_as_their_text_would_be(tmp_path: Path) -> None:
    rng = random.Random(7)
    doubles = [round(rng.uniform(-1e7, 1e7), rng.randint(0, 11)) for _ in range(400)]
    doubles += [rng.uniform(-1, 1) * 10 ** rng.randint(-12, 28) for _ in range(200)]
    rows = ", ".join(f"({i}, NULL, {d!r}::DOUBLE, NULL, NULL, NULL, true, NULL)" for i, d in enumerate(doubles))
    typed, text = write_both(tmp_path, rows)
    by_type, by_text = ingest(tmp_path, typed, "typed"), ingest(tmp_path, text, "text")
    assert outcome(by_type) == outcome(by_text)
    assert stored(tmp_path, "typed") == stored(tmp_path, "text")


@pytest.mark.parametrize(("declared", "source", "native"), [
    ("integer", "BIGINT", True), ("integer", "HUGEINT", True), ("integer", "DOUBLE", False), ("integer", "VARCHAR", False),
    ("number", "DOUBLE", True), ("number", "DECIMAL(18,3)", True), ("number", "DECIMAL(38,12)", False), ("number", "FLOAT", False),
    ("timestamp", "TIMESTAMP WITH TIME ZONE", True), ("timestamp", "TIMESTAMP", False), ("timestamp", "TIMESTAMP_NS", False),
    ("date", "DATE", True), ("boolean", "BOOLEAN", True), ("string", "VARCHAR", False),
])
def test_which_typed_columns_are_checked_natively(declared: str, source: str, native: bool) -> None:
    assert is_native(Column(name="c", type=declared), source) is native  # type: ignore[arg-type]


def test_a_clean_typed_file_keeps_its_row_order(tmp_path: Path) -> None:
    rows = ", ".join(f"({i}, TIMESTAMPTZ '2025-06-01 08:00:00+00' + INTERVAL ({i % 97}) MINUTE, {i}.25::DOUBLE, NULL, "
                     f"{i % 1000}, NULL, true, NULL)" for i in range(5000, 0, -1))
    typed, _ = write_both(tmp_path, rows)
    report = ingest(tmp_path, typed, "typed")
    assert report.rows_ingested == 5000 and not report.problems
    assert [r[0] for r in stored(tmp_path, "typed")] == list(range(5000, 0, -1))


ZONED = agreement("vested: 1\nid: zoned\ntitle: Zoned\n" + PARTIES + """\
calendar: {start: 2025-01, time_zone: Europe/London}
datasets:
  - id: events
    time: opened
    owner: seller
    columns:
      - {name: id, required: true}
      - {name: opened, type: timestamp, zone: Europe/London}
metrics:
  - {id: n, measure: {dataset: events, aggregate: count}}
""")


def zoned_rows(tmp_path: Path, name: str, values: list[str], *, parquet: bool) -> tuple[IngestReport, list[tuple[object, ...]]]:
    source = tmp_path / f"{name}.{'parquet' if parquet else 'csv'}"
    rows = ", ".join(f"('{i}', '{v}')" for i, v in enumerate(values, 1))
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        cast = "CAST(opened AS TIMESTAMP)" if parquet else "opened"
        con.execute(f"COPY (SELECT id, {cast} AS opened FROM (VALUES {rows}) AS v(id, opened)) TO '{source}' "
                    f"(FORMAT {'parquet' if parquet else 'csv'})")
    project = open_project(tmp_path / name)
    report = ingest_file(ZONED, project, "events", source, who="test", now=NOW)
    stored_rows = []
    if project.batches("events"):
        with duckdb.connect() as con:
            con.execute("SET TimeZone = 'UTC'")
            stored_rows = con.execute(f"SELECT * FROM read_parquet('{project.batches('events')[0].data_file}')").fetchall()
    return report, stored_rows


@pytest.mark.parametrize("parquet", [False, True])
def test_naive_timestamps_are_read_in_the_columns_zone_with_a_warning(tmp_path: Path, parquet: bool) -> None:
    report, rows = zoned_rows(tmp_path, "ok", ["2025-01-15 08:00:00", "2025-07-15 08:00:00"], parquet=parquet)
    assert report.ok and report.rows_ingested == 2
    assert [r[1] for r in rows] == [datetime(2025, 1, 15, 8, tzinfo=UTC), datetime(2025, 7, 15, 7, tzinfo=UTC)]
    [warning] = [p for p in report.problems if p.code == "local-time-zone"]
    assert "2 values without a UTC offset read as Europe/London time" in warning.message and warning.column == "opened"


@pytest.mark.parametrize("parquet", [False, True])
def test_a_time_the_clocks_skip_or_repeat_is_refused(tmp_path: Path, parquet: bool) -> None:
    report, _ = zoned_rows(tmp_path, "gap", ["2025-03-30 01:30:00", "2025-10-26 01:30:00", "2025-06-01 12:00:00"],
                           parquet=parquet)
    refused = [(p.row, p.code) for p in report.problems if p.is_error]
    assert report.refused and refused == [(1, "local-time"), (2, "local-time")]
    assert "the clocks went forward" in next(p.message for p in report.problems if p.row == 1)
    assert "happens twice" in next(p.message for p in report.problems if p.row == 2)


def test_a_value_with_its_offset_is_read_as_written_in_a_zoned_column(tmp_path: Path) -> None:
    report, rows = zoned_rows(tmp_path, "offset", ["2025-07-15T08:00:00+02:00"], parquet=False)
    assert report.ok and rows[0][1] == datetime(2025, 7, 15, 6, tzinfo=UTC)
    assert not [p for p in report.problems if p.code == "local-time-zone"]

"""Reading a source into DuckDB as text: every source becomes the table ``raw(__row, c0, c1, ...)`` of text values.

Values are read as text on purpose: a CSV, a JSON number and a Parquet double all become the same
string, and :mod:`vested.ingest.checks` decides what a valid integer, timestamp or boolean is. A SQL
table or query is first staged as a CSV file (:func:`stage_sql`). Problems found while reading are
structural (unreadable file, malformed lines, bad header) and stop the ingest before any value check.
"""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from vested.ingest.report import PROBLEM_LIMIT, IngestProblem, first_line
from vested.ingest.run import IngestRun
from vested.ingest.sql import ident, json_path, lit, struct

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def read_source(run: IngestRun) -> list[IngestProblem]:
    """Fill ``run.header`` and the table ``raw``; the structural problems found on the way."""
    try:
        if run.source.format == "parquet":
            return read_parquet(run)
        if run.source.format == "jsonl":
            return read_jsonl(run)
        return read_csv(run)
    except duckdb.Error as exc:
        return [run.problem("read-error", f"cannot read the file: {first_line(exc)}", "")]


def read_csv(run: IngestRun) -> list[IngestProblem]:
    try:
        # Only the header is read here (bad bytes further down are DuckDB's to report, with their line).
        with run.source.path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            run.header = next(csv.reader(handle), [])
    except csv.Error as exc:
        return [run.problem("read-error", f"cannot read the header line: {exc}", "write the file as UTF-8 CSV", line=1)]
    if not run.header:
        return []
    separator = next((s for s in ";\t|" if len(run.header) == 1 and s in run.header[0]), None)
    if separator is not None:
        return [run.problem("delimiter", f"the header is one column; the values seem separated by {separator!r}",
                            "write comma-separated values (CSV)", line=1)]
    problems = header_problems(run)
    if problems:
        return problems
    names = {f"c{i}": "VARCHAR" for i in range(len(run.header))}
    run.con.execute(
        f"CREATE TEMP TABLE raw AS SELECT ordinality AS __row, {', '.join(names)} FROM read_csv({lit(str(run.source.path))}, "
        f"header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', encoding = 'utf-8', "
        f"columns = {struct(names)}, store_rejects = true) WITH ORDINALITY")
    rejects = run.con.execute(
        "SELECT line, column_name, error_type, error_message FROM reject_errors ORDER BY line, column_idx").fetchall()
    for line, column, kind, message in rejects:
        position = int(column[1:]) + 1 if column else None
        name = run.header[position - 1] if position else None
        hint = ("save the file as UTF-8" if "encoding" in kind.lower() else
                "each line needs one value per header column; quote values that contain commas or line breaks")
        problems.append(run.problem("malformed", f"malformed CSV line ({kind.lower()}): {message}", hint,
                                    line=int(line), column=name, position=position))
    return problems


def header_problems(run: IngestRun) -> list[IngestProblem]:
    """Columns without a name, and names that appear twice (ignoring case)."""
    problems = []
    seen: dict[str, int] = {}
    for i, name in enumerate(run.header, 1):
        if not name.strip():
            problems.append(run.problem("header", f"column {i} of the header has no name", "name every column",
                                        line=1 if run.source.format == "csv" else None, position=i))
        elif name.lower() in seen:
            problems.append(run.problem("header", f"column {name!r} appears twice (as column {seen[name.lower()]} and {i})",
                                        "give each column its own name", line=1 if run.source.format == "csv" else None,
                                        column=name, position=i))
        seen.setdefault(name.lower(), i)
    return problems


def read_parquet(run: IngestRun) -> list[IngestProblem]:
    scan = f"read_parquet({lit(str(run.source.path))})"
    described = run.con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    run.header = [str(r[0]) for r in described]
    problems = header_problems(run)
    for i, (name, kind, *_) in enumerate(described, 1):
        if "[" in str(kind) or str(kind).startswith(("STRUCT", "MAP", "UNION")):
            problems.append(run.problem("nested-value", f"column {name!r} holds {kind} values, not single values",
                                        "flatten the column before ingesting", column=name, position=i))
    if problems:
        return problems
    values = ", ".join(f"CAST({ident(name)} AS VARCHAR) AS c{i}" for i, name in enumerate(run.header))
    run.con.execute(f"CREATE TEMP TABLE raw AS SELECT ordinality AS __row, {values} FROM {scan} WITH ORDINALITY")
    return []


def read_jsonl(run: IngestRun) -> list[IngestProblem]:
    run.con.execute(
        f"CREATE TEMP TABLE objects AS SELECT ordinality AS __row, json AS j FROM "
        f"read_json_objects({lit(str(run.source.path))}, format = 'newline_delimited', ignore_errors = true) WITH ORDINALITY")
    broken = run.con.execute(
        "SELECT __row, j IS NULL FROM objects WHERE j IS NULL OR json_type(j) <> 'OBJECT' ORDER BY __row").fetchall()
    if broken:
        lines = jsonl_lines(run.source.path, {r for r, _ in broken[:PROBLEM_LIMIT]})
        return [run.problem("invalid-json", "the line is not valid JSON", "write one JSON object per line", row=r, line=lines.get(r))
                if invalid else run.problem("not-an-object", "the line is not a JSON object", "write one {...} object per line",
                                            row=r, line=lines.get(r))
                for r, invalid in broken]
    keys = run.con.execute(
        "SELECT key FROM (SELECT __row, unnest(json_keys(j)) AS key, unnest(range(len(json_keys(j)))) AS pos FROM objects) "
        "GROUP BY key ORDER BY min(__row * 100000 + pos)").fetchall()
    run.header = [str(k[0]) for k in keys]
    # A list or an object where one value is expected cannot be checked as text: flag it here.
    values = ", ".join(f"json_extract_string(j, {json_path(name)}) AS c{i}, "
                       f"json_type(j, {json_path(name)}) IN ('ARRAY', 'OBJECT') AS n{i}" for i, name in enumerate(run.header))
    run.con.execute(f"CREATE TEMP TABLE raw AS SELECT __row{', ' if values else ''}{values} FROM objects ORDER BY __row")
    return []


# --- line numbers: found by reading the file again, only for the rows with a problem --------------------


def source_lines(run: IngestRun, rows: set[int]) -> dict[int, int]:
    """The line where each of ``rows`` starts (CSV and JSON Lines; other formats have no lines)."""
    if not rows:
        return {}
    if run.source.format == "csv":
        return csv_lines(run.source.path, rows)
    if run.source.format == "jsonl":
        return jsonl_lines(run.source.path, rows)
    return {}


def csv_lines(path: Path, rows: set[int]) -> dict[int, int]:
    """The line where each data row starts: rows may span lines (quoted line breaks); blank lines are skipped."""
    found: dict[int, int] = {}
    last = max(rows)
    csv.field_size_limit(sys.maxsize)
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            previous, index = reader.line_num, 0
            for record in reader:
                start, previous = previous + 1, reader.line_num
                if not record:
                    continue
                index += 1
                if index in rows:
                    found[index] = start
                if index >= last:
                    break
    except csv.Error:
        pass  # the lines found so far are right; the rest stay unknown
    return found


def jsonl_lines(path: Path, rows: set[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    last, index = max(rows), 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            index += 1
            if index in rows:
                found[index] = number
            if index >= last:
                break
    return found


# --- SQL sources: staged as a CSV file, then read like one --------------------------------------------


def stage_sql(sa: Any, url: str, table: str | None, query: str | None, staging: Path) -> None:
    """Stream the rows of ``table`` or ``query`` into the CSV file ``staging``, values as text."""
    address = sa.make_url(url)
    if address.drivername == "postgresql":  # SQLAlchemy's default driver (psycopg2) is not installed; psycopg 3 is
        address = address.set(drivername="postgresql+psycopg")
    engine = sa.create_engine(address)
    try:
        if table is not None:
            schema, _, name = table.rpartition(".")
            statement = sa.select(sa.text("*")).select_from(sa.table(name, schema=schema or None))
        else:
            assert query is not None
            statement = sa.text(query.replace(":", "\\:"))  # the query as written: no `:name` bind parameters
        with engine.connect() as connection, staging.open("w", newline="", encoding="utf-8") as handle:
            result = connection.execution_options(stream_results=True).execute(statement)
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(list(result.keys()))
            for rows in result.partitions(10_000):
                writer.writerows([as_text(v) for v in row] for row in rows)
    finally:
        engine.dispose()


def as_text(value: Any) -> str:
    """A database value as the text a file would hold (a datetime keeps its offset, or has none)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if hasattr(value, "as_tuple"):  # Decimal: never in exponent form
        return format(value, "f")
    return str(value)

"""Reading a source into DuckDB as text: every source becomes the table ``raw(__row, c0, c1, ...)`` of text values.

Values are read as text on purpose: a CSV, a JSON number and a Parquet double all become the same
string, and :mod:`vested.ingest.checks` decides what a valid integer, timestamp or boolean is. A SQL
table or query is first staged as a CSV file (:func:`stage_sql`). Problems found while reading are
structural (unreadable file, malformed lines, bad header) and stop the ingest before any value check.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from vested.ingest.datasets import REPORTED
from vested.ingest.native import is_native
from vested.ingest.report import PROBLEM_LIMIT, IngestProblem, first_line
from vested.ingest.run import IngestRun
from vested.ingest.sql import ident, json_path, lit, struct

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def read_source(run: IngestRun) -> list[IngestProblem]:
    """Fill ``run.header`` and the table ``raw``; the structural problems found on the way."""
    sniffed = sniff(run)
    if sniffed:
        return sniffed
    try:
        if run.source.format == "parquet":
            return read_parquet(run)
        if run.source.format == "jsonl":
            return read_jsonl(run)
        return read_csv(run)
    except duckdb.Error as exc:
        return [run.problem("read-error", f"cannot read the file: {first_line(exc)}", "")]


# --- what the file is: its first bytes say whether it is the text or the Parquet file its name promises ---

MAGIC = ((b"\x1f\x8b", "gzip-compressed"), (b"PK\x03\x04", "a ZIP archive"), (b"BZh", "bzip2-compressed"),
         (b"\xfd7zXZ\x00", "xz-compressed"), (b"\x28\xb5\x2f\xfd", "zstd-compressed"), (b"PAR1", "a Parquet file"),
         (b"\xd0\xcf\x11\xe0", "an old Excel (OLE) file"))
UTF16 = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def sniff(run: IngestRun) -> list[IngestProblem]:
    """The file is not what its extension says (compressed, Parquet, UTF-16 text): one honest problem at line 1."""
    with run.source.path.open("rb") as handle:
        head = handle.read(4096)
    fmt = run.source.format
    if fmt == "parquet":
        if head and not head.startswith(b"PAR1"):
            what = next((w for magic, w in MAGIC if head.startswith(magic)), "not Parquet: it does not start with PAR1")
            return [run.problem("file-format", f"the file is {what}" + (", not Parquet" if what[0] == "a" or "comp" in what else ""),
                                "give a Parquet file, or name the file for its format (.csv, .jsonl)")]
        return []
    text = "CSV text" if fmt == "csv" else "JSON Lines text"
    packed = next((w for magic, w in MAGIC if head.startswith(magic)), None)
    if packed is not None:
        hint = ("decompress it first (e.g. gunzip), then ingest the text file" if "compress" in packed or "ZIP" in packed
                else "ingest it under its own extension (.parquet)" if "Parquet" in packed else "export it as UTF-8 CSV")
        return [run.problem("file-format", f"the file is {packed}, not {text}", hint, line=1, position=1)]
    wide = next((name for bom, name in UTF16 if head.startswith(bom)), None)
    if wide is None and head.count(b"\x00") > len(head) // 4:  # UTF-16 without a byte order mark: every other byte 0
        wide = "UTF-16"
    if wide is not None:
        return [run.problem("encoding", f"the file is {wide} text, not UTF-8", "save (export) the file as UTF-8",
                            line=1, position=1)]
    return []


def read_csv(run: IngestRun) -> list[IngestProblem]:
    try:
        # Only the header is read here (bad bytes further down are DuckDB's to report, with their line).
        with run.source.path.open(newline="", encoding="utf-8-sig", errors="strict") as handle:
            run.header = next(csv.reader(handle), [])
    except csv.Error as exc:
        return [run.problem("read-error", f"cannot read the header line: {exc}", "write the file as UTF-8 CSV", line=1)]
    except UnicodeDecodeError as exc:
        with run.source.path.open("rb") as handle:
            head = handle.read(exc.start + 1)
        line = head.count(b"\n") + 1
        if line == 1:  # in the header: its names cannot be read
            column = len(head) - (head.rfind(b"\n") + 1)
            return [IngestProblem("encoding", f"the header is not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
                                  f"byte {exc.start + 1} of the line)", "save (export) the file as UTF-8",
                                  run.source.label, None, 1, None, column)]
        with run.source.path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
            run.header = next(csv.reader(handle), [])  # bad bytes below the header: DuckDB reports them with their line
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
    line = 1 if run.source.format == "csv" else None
    for i, name in enumerate(run.header, 1):
        row = run.first_rows.get(name)
        at = jsonl_lines(run.source.path, {row}).get(row) if row is not None else line
        if not name.strip():
            problems.append(run.problem("header", f"column {i} of the header has no name", "name every column",
                                        position=i, row=row, line=at))
        elif name != name.strip() or "\x00" in name:
            declared = run.dataset.column(name.strip().replace("\x00", ""))
            problems.append(run.problem(
                "header", f"the column name {name!r} has " + ("a NUL character in it" if "\x00" in name else
                                                              "spaces around it"),
                f"write it as {declared.name!r}, the dataset's column" if declared else "remove them from the name",
                column=name, position=i, row=row, line=at))
        elif name.lower() in seen:
            problems.append(run.problem("header", f"column {name!r} appears twice (as column {seen[name.lower()]} and {i})",
                                        "give each column its own name", column=name, position=i, row=row, line=at))
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
    # A column typed as declared is read as it is and checked on its typed values (vested.ingest.native);
    # any other becomes text, checked like a CSV's. `raw` is a view: the file is streamed, never held.
    values = []
    for i, (name, kind, *_) in enumerate(described):
        spec = run.dataset.column(name) if run.dataset is not REPORTED else None
        if spec is not None and is_native(spec, str(kind)):
            run.native[i] = str(kind)
            values.append(f"{ident(name)} AS c{i}")
        else:
            values.append(f"{ident(name)} AS c{i}" if str(kind) == "VARCHAR" else f"CAST({ident(name)} AS VARCHAR) AS c{i}")
    scan = f"read_parquet({lit(str(run.source.path))}, file_row_number = true)"
    run.con.execute(f"CREATE TEMP VIEW raw AS SELECT file_row_number + 1 AS __row{', ' if values else ''}{', '.join(values)} FROM {scan}")
    run.rows = int(run.scalar(f"SELECT count(*) FROM read_parquet({lit(str(run.source.path))})"))
    return []


_JSON_STRING = r'"(?:[^"\\]|\\.)*"'
_TRAILING_COMMA = r",\s*[\]}]"
_NOT_JSON_WORD = r"[A-DF-Za-df-z]|[^0-9.][eE]|^[eE]"
"""After strings and true/false/null are removed, a letter other than a number's exponent: NaN, Infinity, inf."""

JSON_PROBLEMS = {
    "invalid-json": ("the line is not valid JSON", "write one JSON object per line"),
    "not-an-object": ("the line is not a JSON object", "write one {...} object per line"),
    "trailing-comma": ("a comma before a closing bracket: JSON allows no trailing comma", "remove the comma"),
    "not-json": ("the line holds a value JSON does not have (NaN, Infinity)",
                 "write a number, a quoted text, true, false or null (an empty value: null)"),
}


def read_jsonl(run: IngestRun) -> list[IngestProblem]:
    """Every line one strict JSON object: DuckDB's reader also takes duplicate keys, trailing commas and NaN; we do not."""
    run.con.execute(
        f"CREATE TEMP TABLE objects AS SELECT ordinality AS __row, json AS j FROM "
        f"read_json_objects({lit(str(run.source.path))}, format = 'newline_delimited', ignore_errors = true) WITH ORDINALITY")
    stripped = f"regexp_replace(j, {lit(_JSON_STRING)}, '\"\"', 'g')"
    words = "regexp_replace(s, '\\b(true|false|null)\\b', '', 'g')"
    broken = run.con.execute(
        f"SELECT __row, code, j FROM (SELECT __row, j, CASE WHEN j IS NULL THEN 'invalid-json' "
        f"WHEN json_type(j) <> 'OBJECT' THEN 'not-an-object' "
        f"WHEN len(json_keys(j)) <> len(list_distinct(json_keys(j))) THEN 'duplicate-key' "
        f"WHEN regexp_matches(s, {lit(_TRAILING_COMMA)}) THEN 'trailing-comma' "
        f"WHEN regexp_matches({words}, {lit(_NOT_JSON_WORD)}) THEN 'not-json' END AS code "
        f"FROM (SELECT __row, j, {stripped} AS s FROM objects)) WHERE code IS NOT NULL ORDER BY __row").fetchall()
    if broken:
        listed = broken[:PROBLEM_LIMIT]
        lines = jsonl_texts(run.source.path, {r for r, _, _ in listed})
        problems = [json_problem(run, row, code, lines.get(row)) for row, code, _ in listed]
        return problems + [run.problem(code, *JSON_PROBLEMS.get(code, ("", "")), row=row) for row, code, _ in broken[PROBLEM_LIMIT:]]
    keys = run.con.execute(
        "SELECT key, min(__row) FROM (SELECT __row, unnest(json_keys(j)) AS key, unnest(range(len(json_keys(j)))) AS pos "
        "FROM objects) GROUP BY key ORDER BY min(__row * 100000 + pos)").fetchall()
    run.header = [str(k[0]) for k in keys]
    run.first_rows = {str(k): int(r) for k, r in keys}
    # A list or an object where one value is expected cannot be checked as text: flag it here.
    values = ", ".join(f"json_extract_string(j, {json_path(name)}) AS c{i}, "
                       f"json_type(j, {json_path(name)}) IN ('ARRAY', 'OBJECT') AS n{i}" for i, name in enumerate(run.header))
    run.con.execute(f"CREATE TEMP TABLE raw AS SELECT __row{', ' if values else ''}{values} FROM objects ORDER BY __row")
    return []


def json_problem(run: IngestRun, row: int, code: str, found: tuple[int, str] | None) -> IngestProblem:
    """A malformed JSON line, at its line and (when it can be pointed at) the character where it goes wrong."""
    line, text = found if found is not None else (None, "")
    # strings blanked to the same length, so that a position in `plain` is one in `text`
    plain = re.sub(_JSON_STRING, lambda m: '"' + " " * (len(m.group()) - 2) + '"', text)
    column = key = None
    if code == "duplicate-key":
        seen: set[str] = set()
        for match in re.finditer(r'"((?:[^"\\]|\\.)*)"\s*:', text):
            name = json.loads(f'"{match.group(1)}"')
            if name in seen:
                key, column = name, match.start() + 1
                break
            seen.add(name)
        message = f"the key {key!r} appears twice in this object" if key is not None else "a key appears twice in this object"
        problem = run.problem(code, message, "keep one of them (JSON readers differ in which one they keep)", row=row,
                              line=line, column=key)
    else:
        pattern = _TRAILING_COMMA if code == "trailing-comma" else r"\b(?!true\b|false\b|null\b)[A-Za-z][A-Za-z]*"
        found_at = re.search(pattern, plain) if code in ("trailing-comma", "not-json") else None
        column = found_at.start() + 1 if found_at else None
        message, hint = JSON_PROBLEMS[code]
        if code == "not-json" and found_at:
            message = f"{found_at.group()!r} is not a JSON value"
        problem = run.problem(code, message, hint, row=row, line=line)
    return replace(problem, column_number=column)


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
    return {row: line for row, (line, _) in jsonl_texts(path, rows).items()}


def jsonl_texts(path: Path, rows: set[int]) -> dict[int, tuple[int, str]]:
    """The line where each of ``rows`` is, and its text (blank lines are not rows)."""
    found: dict[int, tuple[int, str]] = {}
    if not rows:
        return found
    last, index = max(rows), 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            index += 1
            if index in rows:
                found[index] = (number, line.decode("utf-8", errors="replace").rstrip("\r\n"))
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

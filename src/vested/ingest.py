"""Ingest measurement data: check every row of a file or SQL result against its dataset, store it as a batch.

The pipeline of one ingest (``ingest_file`` / ``ingest_sql``)::

    find the dataset → hash the content (refuse what was already ingested)
    → read the source into DuckDB as text (every column VARCHAR, numbered rows)
    → check the structure (malformed lines, unknown or missing columns)
    → check every value in SQL, vectorised (types, required, allowed, range, UTC offsets,
      duplicate keys in the file and against earlier batches)
    → nothing written on any error, or with a quarantine file: the bad rows go there
    → write ``batches/<dataset>/<batch_id>.parquet`` (typed) and then its manifest, atomically.

Values are read as text on purpose: a CSV, a JSON number and a Parquet double all become the same
string, and *this* module decides what a valid integer, timestamp or boolean is. Problems are
values (:class:`IngestProblem`) with the file, the 1-based data row, the line (CSV, JSON Lines), the
column, a message and a hint, all reported at once (up to :data:`PROBLEM_LIMIT`).
"""

from __future__ import annotations

import csv
import hashlib
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import duckdb

from vested.core.diagnostics import Diagnostic, Location, Severity
from vested.core.facts import did_you_mean
from vested.core.measures import Column, Dataset
from vested.core.model import Agreement
from vested.project import Project, atomic_write_bytes, atomic_write_file, sha256_file
from vested.render.serialize import dumps

PROBLEM_LIMIT = 1000
"""Most problems listed in a report; the report says how many more there are."""

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}

STORAGE_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DECIMAL(38,9)", "boolean": "BOOLEAN",
                 "timestamp": "TIMESTAMPTZ", "date": "DATE"}
"""How each column type is stored in a batch's Parquet file (timestamps in UTC)."""

TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0")

REPORTED = Dataset(
    id="reported",
    columns=(
        Column(name="metric", required=True, description="The reported metric (a metric id with `reported_by`)."),
        Column(name="period", required=True, description="The month the value is for (YYYY-MM)."),
        Column(name="value", type="number", required=True, description="The reported value."),
        Column(name="reported_by", required=True, description="The party reporting it (must be the metric's reporter)."),
        Column(name="note", description="Where the value comes from (survey, report)."),
    ),
    time="period",
    key=("metric", "period"),
    description="Values reported directly (survey scores) for metrics with `reported_by`.",
)
"""The built-in dataset of directly reported metric values (unless the agreement declares its own)."""

_NUMBER = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
_INTEGER = r"[+-]?[0-9]+(\.0*)?"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = r"[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
_OFFSET = r" ?([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)"
_MONTH = r"[0-9]{4}-(0[1-9]|1[0-2])"


# --- the report -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestProblem:
    """One problem in the data: where it is (file, row, line, column) and what to do about it."""

    code: str
    message: str
    hint: str = ""
    file: str = ""
    row: int | None = None
    """The data row, counting from 1 (the CSV header is not a row)."""
    line: int | None = None
    """CSV and JSON Lines: the line of the file where the row starts."""
    column: str | None = None
    column_number: int | None = None
    """The column's position in the file, counting from 1."""
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def where(self) -> str:
        """``row 4, column 'channel'`` (what the location ``file:line:column`` does not already say)."""
        parts = [f"row {self.row}"] if self.row is not None else []
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def diagnostic(self) -> Diagnostic:
        """The problem as a diagnostic for ``vested.render.diagnostics`` (``file:line:column: error: ...``)."""
        where = self.where()
        location = Location(self.file, self.line, self.column_number or 1) if self.line is not None else None
        prefix = where if location else ", ".join(p for p in (self.file, where) if p)
        message = f"{prefix}: {self.message}" if prefix else self.message
        path = tuple(p for p in (self.row, self.column) if p is not None)
        return Diagnostic(self.severity, self.code, message, self.hint, path, self.file or "data", location)


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did: the batch written (if any), the rows ingested and quarantined, the problems."""

    dataset: str
    source: str
    format: str
    problems: tuple[IngestProblem, ...] = ()
    problems_total: int = 0
    """How many problems there are in all (``problems`` lists at most :data:`PROBLEM_LIMIT`)."""
    refused: bool = False
    """True when nothing was written because of errors."""
    rows_read: int = 0
    rows_ingested: int = 0
    rows_quarantined: int = 0
    batch_id: str | None = None
    quarantine_file: Path | None = None
    sha256: str = ""
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.refused

    @property
    def more(self) -> int:
        """Problems not listed (beyond the limit)."""
        return self.problems_total - len(self.problems)

    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return tuple(p.diagnostic() for p in self.problems)

    def summary(self) -> str:
        more = f" (the first {len(self.problems)} are listed)" if self.more else ""
        if self.refused:
            errors = sum(p.is_error for p in self.problems) + self.more
            return f"nothing ingested: {errors} problem{'s' * (errors != 1)} in {self.source}{more}"
        quarantined = (f"; {self.rows_quarantined} bad row{'s' * (self.rows_quarantined != 1)} quarantined in "
                       f"{self.quarantine_file}{more}") if self.rows_quarantined else ""
        if self.batch_id is None:
            return f"nothing ingested from {self.source}: no rows to ingest{quarantined}"
        return (f"ingested {self.rows_ingested} row{'s' * (self.rows_ingested != 1)} of {self.source} into dataset "
                f"{self.dataset} as batch {self.batch_id}{quarantined}")


# --- the entry points -------------------------------------------------------------------------------


def ingest_file(agreement: Agreement, project: Project, dataset_id: str, path: str | Path, *, who: str, now: datetime,
                quarantine: Path | None = None) -> IngestReport:
    """Check a CSV, Parquet or JSON Lines file against dataset ``dataset_id`` and store it as one batch."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower(), "")
    dataset, refusal = _find_dataset(agreement, dataset_id, path.name, fmt)
    if refusal is not None:
        return refusal
    assert dataset is not None
    if not fmt:
        return _refuse(dataset.id, path.name, "", "file-format", f"cannot read {path.suffix or 'a file without extension'!r} files",
                       "give a .csv, .parquet or .jsonl (.ndjson) file")
    if not path.is_file():
        return _refuse(dataset.id, path.name, fmt, "file-missing", f"there is no file {str(path)!r}", "check the path")
    source = _Source(label=path.name, format=fmt, path=path, sha256=sha256_file(path))
    return _ingest(agreement, project, dataset, source, who=who, now=now, quarantine=quarantine)


def ingest_sql(agreement: Agreement, project: Project, dataset_id: str, url: str, *, table: str | None = None,
               query: str | None = None, who: str, now: datetime, quarantine: Path | None = None) -> IngestReport:
    """Check the rows of a SQL table or query (any SQLAlchemy database URL) and store them as one batch.

    The rows are streamed into a staging CSV (values as text; a datetime without a time zone stays
    naive and is refused like one in a file), which is then checked like a file. The content hash
    is the staging file's, so the same rows in the same order are refused as already ingested.
    """
    import sqlalchemy as sa

    try:
        masked = sa.make_url(url).render_as_string(hide_password=True)
    except Exception as exc:  # sqlalchemy raises ArgumentError and others for a bad URL
        return _refuse(dataset_id, "database URL", "sql", "sql-source", f"the database URL is not valid: {exc}",
                       "e.g. postgresql+psycopg://user@host/db or sqlite:///path/to/file.db")
    label = f"{masked}#{table}" if table is not None else f"{masked}#query"
    dataset, refusal = _find_dataset(agreement, dataset_id, label, "sql")
    if refusal is not None:
        return refusal
    assert dataset is not None
    if (table is None) == (query is None):
        return _refuse(dataset.id, label, "sql", "sql-source", "give either a table or a query", "")
    with tempfile.TemporaryDirectory(prefix="vested-ingest-") as folder:
        staging = Path(folder) / "rows.csv"
        try:
            _stage_sql(sa, url, table, query, staging)
        except Exception as exc:  # driver and SQL errors differ per database; show the first line
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return _refuse(dataset.id, label, "sql", "sql-source", f"cannot read from the database: {text}",
                           "check the URL, the table name or the query")
        details = {"table": table} if table is not None else {"query": query}
        source = _Source(label=label, format="sql", path=staging, sha256=sha256_file(staging), details=details)
        return _ingest(agreement, project, dataset, source, who=who, now=now, quarantine=quarantine)


def batch_id_for(dataset_id: str, content_sha256: str) -> str:
    """The batch id: deterministic from the dataset and the content, so the same file is ingested once."""
    return hashlib.sha256(f"{dataset_id}\n{content_sha256}".encode()).hexdigest()[:16]


def dataset_for(agreement: Agreement, dataset_id: str) -> Dataset | None:
    """The agreement's dataset, or the built-in ``reported`` dataset."""
    found = agreement.dataset(dataset_id)
    if found is None and dataset_id == REPORTED.id:
        return REPORTED
    return found


# --- the pipeline -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    label: str
    format: str
    path: Path
    sha256: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Col:
    """A declared column and where it is in the file (``name`` is its internal name in the ``raw`` table)."""

    index: int
    spec: Column
    name: str | None
    position: int | None
    required: bool

    def typed(self) -> str:
        return _typed(self.spec, self.name) if self.name else f"CAST(NULL AS {STORAGE_TYPES[self.spec.type]})"


def _ingest(agreement: Agreement, project: Project, dataset: Dataset, source: _Source, *, who: str, now: datetime,
            quarantine: Path | None) -> IngestReport:
    if now.tzinfo is None:
        raise ValueError("`now` must carry a time zone")
    if quarantine is not None and quarantine.exists() and quarantine.resolve() == source.path.resolve():
        return _refuse(dataset.id, source.label, source.format, "quarantine", "the quarantine file is the file being ingested",
                       "name another file for the bad rows")
    batch_id = batch_id_for(dataset.id, source.sha256)
    with project.lock(dataset.id):
        project.remove_temporaries(dataset.id)
        earlier = project.batch(dataset.id, batch_id)
        if earlier is not None:
            m = earlier.manifest
            return _refuse(dataset.id, source.label, source.format, "already-ingested",
                           f"this content was already ingested as batch {batch_id} (from {m.get('file')!r}, "
                           f"by {m.get('who')} at {m.get('ingested_at')})", "each file is ingested once; nothing was written")
        with tempfile.TemporaryDirectory(prefix="vested-duckdb-") as spill, \
                duckdb.connect(":memory:", config={"temp_directory": spill}) as con:
            con.execute("SET TimeZone = 'UTC'")
            return _Run(agreement, project, dataset, source, con).run(batch_id, who, now, quarantine)


class _Run:
    """One ingest inside a DuckDB connection: the steps of the pipeline, in order."""

    def __init__(self, agreement: Agreement, project: Project, dataset: Dataset, source: _Source,
                 con: duckdb.DuckDBPyConnection):
        self.agreement, self.project, self.dataset, self.source, self.con = agreement, project, dataset, source, con
        self.header: list[str] = []
        self.columns: list[_Col] = []
        self.batch_files: dict[str, Any] = {}

    def report(self, **fields: Any) -> IngestReport:
        return IngestReport(self.dataset.id, self.source.label, self.source.format, sha256=self.source.sha256, **fields)

    def refuse(self, problems: Sequence[IngestProblem], total: int | None = None, rows: int = 0) -> IngestReport:
        return self.report(problems=tuple(problems), problems_total=len(problems) if total is None else total, refused=True,
                           rows_read=rows)

    def run(self, batch_id: str, who: str, now: datetime, quarantine: Path | None) -> IngestReport:
        structural = self.read()
        if any(p.is_error for p in structural):
            return self.refuse(structural[:PROBLEM_LIMIT], len(structural))
        rows = self.scalar("SELECT count(*) FROM raw") if self.header or self.source.format == "jsonl" else 0
        if rows == 0 and not self.header:
            return self.empty([])
        file_level = structural + self.match_columns()
        if rows == 0 and not any(p.is_error for p in file_level):
            return self.empty(file_level)
        # Values are checked even when columns are unknown or missing, so that every problem shows at once.
        file_level += self.check_values()
        total, bad = self.con.execute("SELECT count(*), count(DISTINCT row) FROM problems").fetchone() or (0, 0)
        problems = [*file_level, *self.listed_problems()]
        total += len(file_level)
        if any(p.is_error for p in file_level) or (bad and quarantine is None):
            return self.refuse(problems, total, rows)  # a column problem cannot be quarantined row by row
        if bad and quarantine is not None:
            self.write_quarantine(quarantine)
        good = rows - bad
        manifest = self.write_batch(batch_id, who, now, good, bad) if good else {}
        return self.report(problems=tuple(problems), problems_total=total, rows_read=rows, rows_ingested=good,
                           rows_quarantined=bad, batch_id=batch_id if good else None,
                           quarantine_file=quarantine if bad else None, manifest=manifest)

    def empty(self, problems: list[IngestProblem]) -> IngestReport:
        """A source without rows: nothing to write, and not an error (a month may have no outages)."""
        warning = self.problem("empty", "the source has no rows: nothing to ingest", "", severity=Severity.WARNING)
        return self.report(problems=(*problems, warning), problems_total=len(problems) + 1)

    def scalar(self, sql: str) -> Any:
        found = self.con.execute(sql).fetchone()
        return found[0] if found else None

    # --- reading: every source becomes the table raw(__row, c0, c1, ...) of text values -------------

    def read(self) -> list[IngestProblem]:
        try:
            if self.source.format == "parquet":
                return self.read_parquet()
            if self.source.format == "jsonl":
                return self.read_jsonl()
            return self.read_csv()
        except duckdb.Error as exc:
            return [self.problem("read-error", f"cannot read the file: {_first_line(exc)}", "")]

    def problem(self, code: str, message: str, hint: str = "", *, row: int | None = None, line: int | None = None,
                column: str | None = None, position: int | None = None, severity: Severity = Severity.ERROR) -> IngestProblem:
        # In a CSV the column's position is a field number worth showing; in JSON Lines keys have no position.
        position = position if self.source.format == "csv" else None
        return IngestProblem(code, message, hint, self.source.label, row, line, column, position, severity)

    def read_csv(self) -> list[IngestProblem]:
        try:
            # Only the header is read here (bad bytes further down are DuckDB's to report, with their line).
            with self.source.path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
                self.header = next(csv.reader(handle), [])
        except csv.Error as exc:
            return [self.problem("read-error", f"cannot read the header line: {exc}", "write the file as UTF-8 CSV", line=1)]
        if not self.header:
            return []
        separator = next((s for s in ";\t|" if len(self.header) == 1 and s in self.header[0]), None)
        if separator is not None:
            return [self.problem("delimiter", f"the header is one column; the values seem separated by {separator!r}",
                                 "write comma-separated values (CSV)", line=1)]
        problems = self.header_problems()
        if problems:
            return problems
        names = {f"c{i}": "VARCHAR" for i in range(len(self.header))}
        self.con.execute(
            f"CREATE TEMP TABLE raw AS SELECT ordinality AS __row, {', '.join(names)} FROM read_csv({_lit(str(self.source.path))}, "
            f"header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', encoding = 'utf-8', "
            f"columns = {_struct(names)}, store_rejects = true) WITH ORDINALITY")
        rejects = self.con.execute(
            "SELECT line, column_name, error_type, error_message FROM reject_errors ORDER BY line, column_idx").fetchall()
        for line, column, kind, message in rejects:
            position = int(column[1:]) + 1 if column else None
            name = self.header[position - 1] if position else None
            hint = ("save the file as UTF-8" if "encoding" in kind.lower() else
                    "each line needs one value per header column; quote values that contain commas or line breaks")
            problems.append(self.problem("malformed", f"malformed CSV line ({kind.lower()}): {message}", hint,
                                         line=int(line), column=name, position=position))
        return problems

    def header_problems(self) -> list[IngestProblem]:
        problems = []
        seen: dict[str, int] = {}
        for i, name in enumerate(self.header, 1):
            if not name.strip():
                problems.append(self.problem("header", f"column {i} of the header has no name", "name every column",
                                             line=1 if self.source.format == "csv" else None, position=i))
            elif name.lower() in seen:
                problems.append(self.problem("header", f"column {name!r} appears twice (as column {seen[name.lower()]} and {i})",
                                             "give each column its own name", line=1 if self.source.format == "csv" else None,
                                             column=name, position=i))
            seen.setdefault(name.lower(), i)
        return problems

    def read_parquet(self) -> list[IngestProblem]:
        scan = f"read_parquet({_lit(str(self.source.path))})"
        described = self.con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
        self.header = [str(r[0]) for r in described]
        problems = self.header_problems()
        for i, (name, kind, *_) in enumerate(described, 1):
            if "[" in str(kind) or str(kind).startswith(("STRUCT", "MAP", "UNION")):
                problems.append(self.problem("nested-value", f"column {name!r} holds {kind} values, not single values",
                                             "flatten the column before ingesting", column=name, position=i))
        if problems:
            return problems
        values = ", ".join(f"CAST({_ident(name)} AS VARCHAR) AS c{i}" for i, name in enumerate(self.header))
        self.con.execute(f"CREATE TEMP TABLE raw AS SELECT ordinality AS __row, {values} FROM {scan} WITH ORDINALITY")
        return []

    def read_jsonl(self) -> list[IngestProblem]:
        self.con.execute(
            f"CREATE TEMP TABLE objects AS SELECT ordinality AS __row, json AS j FROM "
            f"read_json_objects({_lit(str(self.source.path))}, format = 'newline_delimited', ignore_errors = true) WITH ORDINALITY")
        broken = self.con.execute(
            "SELECT __row, j IS NULL FROM objects WHERE j IS NULL OR json_type(j) <> 'OBJECT' ORDER BY __row").fetchall()
        if broken:
            lines = _jsonl_lines(self.source.path, {r for r, _ in broken[:PROBLEM_LIMIT]})
            return [self.problem("invalid-json", "the line is not valid JSON", "write one JSON object per line", row=r, line=lines.get(r))
                    if invalid else self.problem("not-an-object", "the line is not a JSON object", "write one {...} object per line",
                                                 row=r, line=lines.get(r))
                    for r, invalid in broken]
        keys = self.con.execute(
            "SELECT key FROM (SELECT __row, unnest(json_keys(j)) AS key, unnest(range(len(json_keys(j)))) AS pos FROM objects) "
            "GROUP BY key ORDER BY min(__row * 100000 + pos)").fetchall()
        self.header = [str(k[0]) for k in keys]
        # A list or an object where one value is expected cannot be checked as text: flag it here.
        values = ", ".join(f"json_extract_string(j, {_json_path(name)}) AS c{i}, "
                           f"json_type(j, {_json_path(name)}) IN ('ARRAY', 'OBJECT') AS n{i}" for i, name in enumerate(self.header))
        self.con.execute(f"CREATE TEMP TABLE raw AS SELECT __row{', ' if values else ''}{values} FROM objects ORDER BY __row")
        return []

    # --- structure: the file's columns against the dataset's --------------------------------------------

    def match_columns(self) -> list[IngestProblem]:
        positions = {name: i for i, name in enumerate(self.header)}
        declared = [c.name for c in self.dataset.columns]
        line = 1 if self.source.format == "csv" else None
        problems = []
        missing = [c for c in self.dataset.columns if c.name not in positions]
        for i, name in enumerate(self.header):
            if name not in declared:
                close = get_close_matches(name, [c.name for c in missing], n=1, cutoff=0.6)
                hint = (f"did you mean {close[0]!r}?" if close else
                        f"declare it in dataset {self.dataset.id!r} or remove it from the file (columns: {', '.join(declared)})")
                problems.append(self.problem("unknown-column", f"not a column of dataset {self.dataset.id!r}",
                                             hint, line=line, column=name, position=i + 1))
        for index, spec in enumerate(self.dataset.columns):
            position = positions.get(spec.name)
            required = spec.required or spec.name == self.dataset.time or spec.name in self.dataset.key
            self.columns.append(_Col(index, spec, f"c{position}" if position is not None else None,
                                     position + 1 if position is not None else None, required))
            if position is None:
                why = ("the time column" if spec.name == self.dataset.time else "a key column" if spec.name in self.dataset.key
                       else "required")
                problems.append(self.problem(
                    "missing-column", f"missing from the file ({why})" if required else "missing from the file: it is stored empty",
                    f"add the column {spec.name!r}" if required else "",
                    line=line, column=spec.name, severity=Severity.ERROR if required else Severity.WARNING))
        return problems

    # --- values: one CASE per column, then the keys; problems land in the table `problems` ----------------

    def check_values(self) -> list[IngestProblem]:
        self.con.execute("CREATE TEMP TABLE problems (row BIGINT, col INTEGER, code VARCHAR, value VARCHAR, detail VARCHAR)")
        for col in self.columns:
            if col.name is None:
                continue
            cases = _column_checks(col, self.source.format)
            if self.dataset is REPORTED:
                cases += _reported_checks(col, self.agreement, self.columns)
            if not cases:
                continue
            code = "CASE " + " ".join(f"WHEN {cond} THEN {_lit(name)}" for name, cond, _ in cases) + " END"
            detail = "CASE " + " ".join(f"WHEN {cond} THEN {d}" for _, cond, d in cases) + " END"
            self.con.execute(f"INSERT INTO problems SELECT __row, {col.index}, code, {col.name}, detail FROM "
                             f"(SELECT __row, {col.name}, {code} AS code, {detail} AS detail FROM raw) WHERE code IS NOT NULL")
        return self.check_keys() if self.dataset.key else []

    def check_keys(self) -> list[IngestProblem]:
        keys = [c for c in self.columns if c.spec.name in self.dataset.key]
        if any(c.name is None for c in keys):
            return []
        first = keys[0].index
        typed = ", ".join(f"{c.typed()} AS k{i}" for i, c in enumerate(keys))
        shown = "concat_ws(chr(31), " + ", ".join(str(c.name) for c in keys) + ")"
        valid = (f"SELECT __row, {typed}, {shown} AS shown FROM raw WHERE __row NOT IN "
                 f"(SELECT row FROM problems WHERE col IN ({', '.join(str(c.index) for c in keys)}))")
        partition = ", ".join(f"k{i}" for i in range(len(keys)))
        self.con.execute(f"INSERT INTO problems SELECT __row, {first}, 'duplicate', shown, CAST(first AS VARCHAR) FROM "
                         f"(SELECT *, min(__row) OVER (PARTITION BY {partition}) AS first FROM ({valid})) WHERE __row > first")
        batches = self.project.batches(self.dataset.id)
        if not batches:
            return []
        self.batch_files = {str(b.data_file.resolve()): b for b in batches}
        files = "[" + ", ".join(_lit(str(b.data_file)) for b in batches) + "]"
        stored = ", ".join(f"{_ident(c.spec.name)} AS k{i}" for i, c in enumerate(keys))
        on = " AND ".join(f"v.k{i} = e.k{i}" for i in range(len(keys)))
        try:
            self.con.execute(
                f"INSERT INTO problems SELECT v.__row, {first}, 'ingested-key', v.shown, e.filename FROM ({valid}) v JOIN "
                f"(SELECT {partition}, min(filename) AS filename FROM (SELECT {stored}, filename FROM "
                f"read_parquet({files}, filename = true, union_by_name = true)) GROUP BY ALL) e ON {on}")
        except duckdb.Error as exc:  # e.g. a key column whose type changed since the earlier batches
            return [self.problem("earlier-batches", f"cannot compare the keys with earlier batches: {_first_line(exc)}",
                                 "the dataset's key columns must keep their types")]
        return []

    def listed_problems(self) -> list[IngestProblem]:
        found = self.con.execute(
            f"SELECT row, col, code, value, detail FROM problems ORDER BY row, col, code LIMIT {PROBLEM_LIMIT}").fetchall()
        lines = self.lines({r[0] for r in found})
        return [self.value_problem(*r, line=lines.get(r[0])) for r in found]

    def lines(self, rows: set[int]) -> dict[int, int]:
        if not rows:
            return {}
        if self.source.format == "csv":
            return _csv_lines(self.source.path, rows)
        if self.source.format == "jsonl":
            return _jsonl_lines(self.source.path, rows)
        return {}

    def value_problem(self, row: int, index: int, code: str, value: str | None, detail: str | None, *,
                      line: int | None = None) -> IngestProblem:
        col = self.columns[index]
        message, hint = _explain(code, col, value, detail, self)
        return self.problem(code, message, hint, row=row, line=line, column=col.spec.name, position=col.position)

    # --- writing ------------------------------------------------------------------------------------

    def write_quarantine(self, path: Path) -> None:
        """The bad rows with their original values and an `error` column (rows in file order)."""
        present = [c for c in self.columns if c.name is not None]
        error_name = "error" if all(c.spec.name != "error" for c in present) else "ingest_error"
        names = ", ".join(f"r.{c.name}" for c in present)
        cursor = self.con.execute(
            f"SELECT r.__row, {names}, list(p.col ORDER BY p.col, p.code), list(p.code ORDER BY p.col, p.code), "
            f"list(p.value ORDER BY p.col, p.code), list(p.detail ORDER BY p.col, p.code) "
            f"FROM raw r JOIN problems p ON p.row = r.__row GROUP BY ALL ORDER BY r.__row")

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow([*(c.spec.name for c in present), error_name])
                for batch in iter(lambda: cursor.fetchmany(10_000), []):
                    for row, *rest in batch:
                        values, (cols, codes, found, details) = rest[:len(present)], rest[len(present):]
                        errors = [f"{self.columns[i].spec.name}: {_explain(code, self.columns[i], v, d, self)[0]}"
                                  for i, code, v, d in zip(cols, codes, found, details, strict=True)]
                        writer.writerow([*values, f"row {row}: " + "; ".join(errors)])

        atomic_write_file(path, write)

    def write_batch(self, batch_id: str, who: str, now: datetime, rows: int, quarantined: int) -> dict[str, Any]:
        """The typed rows as Parquet, then the manifest: the batch is visible only once both are in place."""
        data_file, manifest_file = self.project.batch_paths(self.dataset.id, batch_id)
        typed = ", ".join(f"{c.typed()} AS {_ident(c.spec.name)}" for c in self.columns)
        good = "SELECT * FROM raw WHERE __row NOT IN (SELECT row FROM problems)"
        data_hash = hashlib.sha256()

        def write(tmp: Path) -> None:
            self.con.execute(f"COPY (SELECT {typed} FROM ({good}) ORDER BY __row) TO {_lit(str(tmp))} "
                             f"(FORMAT parquet, COMPRESSION zstd, USE_TMP_FILE false)")  # our own temp file: see atomic_write_file
            with tmp.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    data_hash.update(chunk)

        time = next(c for c in self.columns if c.spec.name == self.dataset.time)
        first, last = self.con.execute(f"SELECT min(t), max(t) FROM (SELECT {time.typed()} AS t FROM ({good}))").fetchone() or (None, None)
        atomic_write_file(data_file, write)
        manifest = {
            "batch_id": batch_id, "dataset": self.dataset.id, "agreement": self.agreement.id,
            "file": self.source.label, "format": self.source.format, "sha256": self.source.sha256, **self.source.details,
            "rows": rows, "quarantined": quarantined, "who": who,
            "ingested_at": now.astimezone(UTC).isoformat(timespec="microseconds"),
            "data_sha256": data_hash.hexdigest(),
            "columns": {c.spec.name: c.spec.type for c in self.columns},
            "time_range": [_iso(first), _iso(last)],
        }
        atomic_write_bytes(manifest_file, dumps(manifest).encode("utf-8"))
        return manifest


# --- the checks, as SQL -----------------------------------------------------------------------------


def _column_checks(col: _Col, fmt: str) -> list[tuple[str, str, str]]:
    """(code, condition on the raw text that makes the value bad, SQL for a detail) in order; the first that holds is reported."""
    assert col.name is not None
    v = col.name
    t = f"trim({v})"
    spec = col.spec
    empty = f"({v} IS NULL OR {t} = '')"
    checks: list[tuple[str, str, str]] = []
    if fmt == "jsonl":
        checks.append(("nested-value", f"n{v[1:]}", "NULL"))
    if col.required:
        checks.append(("required", empty, "NULL"))
    present = f"NOT {empty} AND "
    kind = spec.type
    if kind == "integer":
        checks.append(("integer", present + f"(NOT regexp_full_match({t}, {_lit(_INTEGER)}) OR {_typed(spec, v)} IS NULL)", "NULL"))
    elif kind == "number":
        checks.append(("number", present + f"(NOT regexp_full_match({t}, {_lit(_NUMBER)}) OR {_typed(spec, v)} IS NULL)", "NULL"))
    elif kind == "boolean":
        words = ", ".join(_lit(w) for w in TRUE_WORDS + FALSE_WORDS)
        checks.append(("boolean", present + f"lower({t}) NOT IN ({words})", "NULL"))
    elif kind == "date":
        checks.append(("date", present + f"(NOT regexp_full_match({t}, {_lit(_DATE)}) OR TRY_CAST({t} AS DATE) IS NULL)", "NULL"))
    elif kind == "timestamp":
        with_offset = f"regexp_full_match({t}, {_lit(_DATE + _TIME + _OFFSET)})"
        naive = f"regexp_full_match({t}, {_lit(_DATE + '(' + _TIME + ')?')}) AND TRY_CAST({t} AS TIMESTAMP) IS NOT NULL"
        checks.append(("naive-timestamp", present + f"NOT {with_offset} AND {naive}", "NULL"))
        checks.append(("timestamp", present + f"(NOT {with_offset} OR {_typed(spec, v)} IS NULL)", "NULL"))
    if spec.allowed:
        checks.append(("allowed", present + f"{v} NOT IN ({', '.join(_lit(a) for a in spec.allowed)})", "NULL"))
    if spec.minimum is not None:
        checks.append(("minimum", present + f"{_typed(spec, v)} < {spec.minimum:f}", _lit(f"{spec.minimum:f}")))
    if spec.maximum is not None:
        checks.append(("maximum", present + f"{_typed(spec, v)} > {spec.maximum:f}", _lit(f"{spec.maximum:f}")))
    return checks


def _reported_checks(col: _Col, agreement: Agreement, columns: Sequence[_Col]) -> list[tuple[str, str, str]]:
    """The built-in `reported` dataset: known reported metrics, their reporters, months, the metric's range."""
    by_name = {c.spec.name: c.name for c in columns}
    metric, v = by_name.get("metric"), col.name
    reported = [m for m in agreement.metrics if m.reported_by is not None and m.kind == "number"]
    ids = ", ".join(_lit(m.id) for m in reported) or "NULL"
    present = f"NOT ({v} IS NULL OR trim({v}) = '') AND "
    name = col.spec.name
    if name == "period":
        return [("period", present + f"NOT regexp_full_match(trim({v}), {_lit(_MONTH)})", "NULL")]
    if name == "metric":
        known = ", ".join(_lit(m.id) for m in agreement.metrics if m not in reported) or "NULL"
        # With no reported metrics every metric is unknown: `x NOT IN (NULL)` would match nothing.
        unknown = f"{v} NOT IN ({ids})" if reported else "TRUE"
        return [("not-reported", present + f"{v} IN ({known})", "NULL"),
                ("unknown-metric", present + unknown, "NULL")]
    if metric is None or not reported:
        return []
    if name == "reported_by":
        expected = "CASE " + " ".join(f"WHEN {metric} = {_lit(m.id)} THEN {_lit(str(m.reported_by))}" for m in reported) + " END"
        return [("reporter", present + f"{metric} IN ({ids}) AND {v} <> {expected}", f"{metric} || chr(31) || {expected}")]
    if name == "value":
        checks = []
        number = f"TRY_CAST(trim({v}) AS DECIMAL(38,9))"
        for m in reported:
            for code, bound, op in (("minimum", m.minimum, "<"), ("maximum", m.maximum, ">")):
                if bound is not None:
                    checks.append((code, present + f"{metric} = {_lit(m.id)} AND {number} {op} {bound:f}",
                                   _lit(f"{bound:f}") + f" || chr(31) || {_lit(m.id)}"))
        return checks
    return []


def _typed(spec: Column, v: str) -> str:
    """SQL turning the raw text ``v`` into the stored type (NULL when empty or invalid)."""
    t = f"trim({v})"
    return {
        "string": f"CASE WHEN {t} = '' THEN NULL ELSE {v} END",
        "integer": f"TRY_CAST(regexp_replace({t}, '\\.0*$', '') AS BIGINT)",
        "number": f"TRY_CAST({t} AS DECIMAL(38,9))",
        "boolean": (f"CASE WHEN lower({t}) IN ({', '.join(_lit(w) for w in TRUE_WORDS)}) THEN true "
                    f"WHEN lower({t}) IN ({', '.join(_lit(w) for w in FALSE_WORDS)}) THEN false END"),
        "timestamp": f"TRY_CAST(regexp_replace({t}, '[zZ]$', '+00:00') AS TIMESTAMPTZ)",
        "date": f"TRY_CAST({t} AS DATE)",
    }[spec.type]


def _explain(code: str, col: _Col, value: str | None, detail: str | None, run: _Run) -> tuple[str, str]:
    """The message and hint of a value problem (the same words in the report and in the quarantine file)."""
    spec, shown = col.spec, repr(value)
    tz = run.agreement.calendar.time_zone if run.agreement.calendar else "UTC"
    if code == "required":
        why = ("every row needs its time (it places the row in a period)" if spec.name == run.dataset.time
               else "every row needs its key" if spec.name in run.dataset.key else f"`{spec.name}` is required")
        return "a value is required", why
    if code == "integer":
        return f"{shown} is not a whole number", "write digits only, e.g. 42"
    if code == "number":
        return f"{shown} is not a number", "write a number with a decimal point, e.g. 12.5"
    if code == "boolean":
        return f"{shown} is not true or false", "write true/false, yes/no or 1/0"
    if code == "date":
        return f"{shown} is not a date", "write YYYY-MM-DD, e.g. 2025-06-01"
    if code == "naive-timestamp":
        text = (value or "").strip().replace(" ", "T")
        example = text if "T" in text else f"{text}T00:00:00"
        return (f"{shown} has no UTC offset, so the moment it names is unknown",
                f"write the offset, e.g. {example}Z (UTC) or {example}+02:00; periods are cut in {tz} time")
    if code == "timestamp":
        return f"{shown} is not a timestamp", "write ISO 8601 with a UTC offset, e.g. 2025-06-01T08:00:00Z"
    if code == "allowed":
        close = get_close_matches(value or "", list(spec.allowed), n=1, cutoff=0.6)
        listed = f"allowed: {', '.join(spec.allowed)}"
        return f"{shown} is not an allowed value", f"did you mean {close[0]!r}? ({listed})" if close else listed
    if code in ("minimum", "maximum"):
        bound, *metric = (detail or "").split("\x1f")
        words = "below the minimum" if code == "minimum" else "above the maximum"
        whose = f"metric {metric[0]!r}" if metric else f"`{spec.name}`"
        return f"{(value or '').strip()} is {words} {bound}", f"{whose} must be {'at least' if code == 'minimum' else 'at most'} {bound}"
    if code in ("duplicate", "ingested-key"):
        key = ", ".join(f"{name}={part!r}" for name, part in zip(run.dataset.key, (value or "").split("\x1f"), strict=False))
        if code == "duplicate":
            return f"duplicate key {key}: the same as row {detail}", "each row needs its own key; remove or correct one of the rows"
        batch = run.batch_files.get(str(Path(detail or "").resolve()))
        origin = f"batch {batch.batch_id} (from {batch.manifest.get('file')!r})" if batch else "an earlier batch"
        return f"key {key} was already ingested in {origin}", "a row is ingested once; remove it from this file"
    if code == "nested-value":
        return "a list or an object where one value is expected", "write a single value"
    if code == "period":
        return f"{shown} is not a month", "write the period as YYYY-MM, e.g. 2025-06"
    if code == "unknown-metric":
        return (f"{shown} is not a reported metric of agreement {run.agreement.id!r}",
                did_you_mean(value or "", [m.id for m in run.agreement.metrics if m.reported_by is not None])
                or "declare the metric with `reported_by:`")
    if code == "not-reported":
        found = run.agreement.metric(value or "")
        if found is not None and found.reported_by is not None:
            return f"metric {shown} is a {found.kind}; only number metrics are reported", "report a number"
        return f"metric {shown} is measured from data, not reported", "only metrics with `reported_by:` are ingested in `reported`"
    if code == "reporter":
        metric_id, expected = (detail or "\x1f").split("\x1f", 1)
        return f"metric {metric_id!r} is reported by {expected!r}, not {shown}", f"write {expected!r}"
    return code, ""


# --- helpers ----------------------------------------------------------------------------------------


def _find_dataset(agreement: Agreement, dataset_id: str, label: str, fmt: str) -> tuple[Dataset | None, IngestReport | None]:
    dataset = dataset_for(agreement, dataset_id)
    if dataset is not None:
        return dataset, None
    known = [d.id for d in agreement.datasets] + ([REPORTED.id] if agreement.dataset(REPORTED.id) is None else [])
    return None, _refuse(dataset_id, label, fmt, "unknown-dataset",
                         f"agreement {agreement.id!r} has no dataset {dataset_id!r}",
                         did_you_mean(dataset_id, known) or "declare it under `datasets:`")


def _refuse(dataset: str, label: str, fmt: str, code: str, message: str, hint: str) -> IngestReport:
    problem = IngestProblem(code, message, hint, label)
    return IngestReport(dataset, label, fmt, problems=(problem,), problems_total=1, refused=True)


def _stage_sql(sa: Any, url: str, table: str | None, query: str | None, staging: Path) -> None:
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
                writer.writerows([_as_text(v) for v in row] for row in rows)
    finally:
        engine.dispose()


def _as_text(value: Any) -> str:
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


def _csv_lines(path: Path, rows: set[int]) -> dict[int, int]:
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


def _jsonl_lines(path: Path, rows: set[int]) -> dict[int, int]:
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


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value.isoformat()) if hasattr(value, "isoformat") else str(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_path(key: str) -> str:
    """A JSONPath literal for one key, whatever characters it holds (``$."a.b"``)."""
    return _lit('$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"')


def _struct(fields: dict[str, str]) -> str:
    return "{" + ", ".join(f"{_lit(k)}: {_lit(v)}" for k, v in fields.items()) + "}"


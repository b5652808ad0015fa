"""The entry points of ingest and the pipeline they share, step by step (see the package docstring)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

import duckdb

from vested.core.diagnostics import Severity
from vested.core.measures import Dataset
from vested.core.model import Agreement
from vested.ingest.checks import check_values, match_columns
from vested.ingest.datasets import find_dataset
from vested.ingest.explain import listed_problems
from vested.ingest.read import FORMATS, read_source, stage_sql
from vested.ingest.report import PROBLEM_LIMIT, IngestProblem, IngestReport, first_line, refusal
from vested.ingest.run import IngestRun, Source
from vested.ingest.write import staged_quarantine, write_batch
from vested.storage import BatchStore
from vested.storage.folder import sha256_file

MEMORY_LIMIT = "512MB"
"""DuckDB's memory limit in an ingest: a Parquet source is streamed; a text source's table and the key check spill to a
temporary folder beyond it, so a file of any size is ingested in bounded memory (10 million rows under 1 GB at peak)."""


def ingest_file(agreement: Agreement, project: BatchStore, dataset_id: str, path: str | Path, *, who: str, now: datetime,
                quarantine: Path | None = None) -> IngestReport:
    """Check a CSV, Parquet or JSON Lines file against dataset ``dataset_id`` and store it as one batch."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower(), "")
    dataset, refused = find_dataset(agreement, dataset_id, path.name, fmt)
    if refused is not None:
        return refused
    assert dataset is not None
    if not fmt:
        return refusal(dataset.id, path.name, "", "file-format", f"cannot read {path.suffix or 'a file without extension'!r} files",
                       "give a .csv, .parquet or .jsonl (.ndjson) file")
    if not path.is_file():
        return refusal(dataset.id, path.name, fmt, "file-missing", f"there is no file {str(path)!r}", "check the path")
    source = Source(label=path.name, format=fmt, path=path, sha256=sha256_file(path))
    return ingest_source(agreement, project, dataset, source, who=who, now=now, quarantine=quarantine)


def ingest_sql(agreement: Agreement, project: BatchStore, dataset_id: str, url: str, *, table: str | None = None,
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
        return refusal(dataset_id, "database URL", "sql", "sql-source", f"the database URL is not valid: {exc}",
                       "e.g. postgresql+psycopg://user@host/db or sqlite:///path/to/file.db")
    label = f"{masked}#{table}" if table is not None else f"{masked}#query"
    dataset, refused = find_dataset(agreement, dataset_id, label, "sql")
    if refused is not None:
        return refused
    assert dataset is not None
    if (table is None) == (query is None):
        return refusal(dataset.id, label, "sql", "sql-source", "give either a table or a query", "")
    with tempfile.TemporaryDirectory(prefix="vested-ingest-") as folder:
        staging = Path(folder) / "rows.csv"
        try:
            stage_sql(sa, url, table, query, staging)
        except Exception as exc:  # driver and SQL errors differ per database; show the first line
            return refusal(dataset.id, label, "sql", "sql-source", f"cannot read from the database: {first_line(exc)}",
                           "check the URL, the table name or the query")
        details = {"table": table} if table is not None else {"query": query}
        source = Source(label=label, format="sql", path=staging, sha256=sha256_file(staging), details=details)
        return ingest_source(agreement, project, dataset, source, who=who, now=now, quarantine=quarantine)


def batch_id_for(dataset_id: str, content_sha256: str) -> str:
    """The batch id: deterministic from the dataset and the content, so the same file is ingested once."""
    return hashlib.sha256(f"{dataset_id}\n{content_sha256}".encode()).hexdigest()[:16]


def ingest_source(agreement: Agreement, project: BatchStore, dataset: Dataset, source: Source, *, who: str, now: datetime,
                  quarantine: Path | None) -> IngestReport:
    """Refuse content already ingested, then run the pipeline in a fresh DuckDB, under the dataset's lock."""
    if now.tzinfo is None:
        raise ValueError("`now` must carry a time zone")
    if quarantine is not None and quarantine.exists() and quarantine.resolve() == source.path.resolve():
        return refusal(dataset.id, source.label, source.format, "quarantine", "the quarantine file is the file being ingested",
                       "name another file for the bad rows")
    unusable = unusable_places(project, quarantine)
    if unusable is not None:
        return refusal(dataset.id, source.label, source.format, *unusable)
    try:
        return locked_ingest(agreement, project, dataset, source, who=who, now=now, quarantine=quarantine)
    except (OSError, duckdb.IOException) as exc:  # a full disk, a folder that became read-only: nothing is left behind
        where = getattr(exc, "filename", None)
        reason = (exc.strerror if isinstance(exc, OSError) and exc.strerror else
                  "No space left on device" if "No space left on device" in str(exc) else first_line(exc))
        return refusal(dataset.id, source.label, source.format, "write-error",
                       f"cannot write the batch{f' ({where})' if where else ''}: {reason}; nothing was ingested",
                       "free disk space or fix the folder's permissions, then ingest again")


def unusable_places(project: BatchStore, quarantine: Path | None) -> tuple[str, str, str] | None:
    """(code, message, hint) when the project folder or the quarantine file cannot be where they are asked to be."""
    for folder in (project.root, *project.root.parents):
        if folder.exists():
            if not folder.is_dir():
                return ("project", f"the project folder {str(project.root)!r} is inside a file, or is one ({str(folder)!r})",
                        "give --project a folder (it is created if missing)")
            if not os.access(folder, os.W_OK | os.X_OK):
                return ("project", f"cannot write in {str(folder)!r} (it is read-only, or you may not write there), so the project folder "
                        f"{str(project.root)!r} cannot be written", "ingest into a folder you can write, with --project")
            break
    if quarantine is not None:
        if quarantine.is_dir():
            return ("quarantine", f"the quarantine path {str(quarantine)!r} is a folder", "give a file name, e.g. rejected.csv")
        for folder in quarantine.parents:
            if folder.exists():
                if not folder.is_dir():
                    return ("quarantine", f"the quarantine path {str(quarantine)!r} is inside a file ({str(folder)!r})",
                            "give a file in a folder")
                if not os.access(folder, os.W_OK | os.X_OK):
                    return ("quarantine", f"cannot write the quarantine file in {str(folder)!r} (it is read-only, "
                            "or you may not write there)", "give a file in a folder you can write")
                break
    return None


def locked_ingest(agreement: Agreement, project: BatchStore, dataset: Dataset, source: Source, *, who: str, now: datetime,
                  quarantine: Path | None) -> IngestReport:
    batch_id = batch_id_for(dataset.id, source.sha256)
    with project.lock(dataset.id):
        project.remove_temporaries(dataset.id)
        earlier = project.batch(dataset.id, batch_id)
        if earlier is not None:
            m = earlier.manifest
            return refusal(dataset.id, source.label, source.format, "already-ingested",
                           f"this content was already ingested as batch {batch_id} (from {m.get('file')!r}, "
                           f"by {m.get('who')} at {m.get('ingested_at')})", "each file is ingested once; nothing was written")
        with tempfile.TemporaryDirectory(prefix="vested-duckdb-") as spill, \
                duckdb.connect(":memory:", config={"temp_directory": spill, "memory_limit": MEMORY_LIMIT}) as con:
            con.execute("SET TimeZone = 'UTC'")
            return run_pipeline(IngestRun(agreement, project, dataset, source, con), batch_id, who, now, quarantine)


def run_pipeline(run: IngestRun, batch_id: str, who: str, now: datetime, quarantine: Path | None) -> IngestReport:
    """Read → check the structure → check the values → quarantine the bad rows → write the batch."""
    structural = read_source(run)
    if any(p.is_error for p in structural):
        return run.refuse(structural[:PROBLEM_LIMIT], len(structural))
    rows = run.rows if run.source.format == "parquet" else \
        run.scalar("SELECT count(*) FROM raw") if run.header or run.source.format == "jsonl" else 0
    if rows == 0 and not run.header:
        return no_rows(run, [])
    file_level = structural + match_columns(run)
    if rows == 0 and not any(p.is_error for p in file_level):
        return no_rows(run, file_level)
    # Values are checked even when columns are unknown or missing, so that every problem shows at once.
    file_level += check_values(run)
    total, bad = run.con.execute("SELECT count(*), count(DISTINCT row) FROM problems").fetchone() or (0, 0)
    problems = [*file_level, *listed_problems(run)]
    total += len(file_level)
    if any(p.is_error for p in file_level) or (bad and quarantine is None):
        return run.refuse(problems, total, rows)  # a column problem cannot be quarantined row by row
    good = rows - bad
    with staged_quarantine(run, quarantine) if bad and quarantine is not None else nullcontext():
        manifest = write_batch(run, batch_id, who, now, good, bad) if good else {}
    return run.report(problems=tuple(problems), problems_total=total, rows_read=rows, rows_ingested=good,
                      rows_quarantined=bad, batch_id=batch_id if good else None,
                      quarantine_file=quarantine if bad else None, manifest=manifest)


def no_rows(run: IngestRun, problems: list[IngestProblem]) -> IngestReport:
    """A source without rows: nothing to write, and not an error (a month may have no outages)."""
    warning = run.problem("empty", "the source has no rows: nothing to ingest", "", severity=Severity.WARNING)
    return run.report(problems=(*problems, warning), problems_total=len(problems) + 1)

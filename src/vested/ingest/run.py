"""The state of one ingest as it goes through the pipeline: the source, the DuckDB connection, the columns found.

Every step of :mod:`vested.ingest.pipeline` takes an :class:`IngestRun`: reading fills ``header`` and
the table ``raw``, matching the columns fills ``columns``, the checks fill the table ``problems``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from vested.core.diagnostics import Severity
from vested.core.measures import Column, Dataset
from vested.core.model import Agreement
from vested.ingest.native import suspect, typed_value
from vested.ingest.report import IngestProblem, IngestReport
from vested.ingest.sql import STORAGE_TYPES, typed_sql
from vested.storage import BatchStore


@dataclass(frozen=True)
class Source:
    """What is ingested: a file, or a SQL table or query staged as a CSV file."""

    label: str
    format: str
    path: Path
    sha256: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FileColumn:
    """A declared column and where it is in the file (``name`` is its internal name in the ``raw`` table).

    ``native`` is the DuckDB type of a typed source column checked on its typed values
    (:mod:`vested.ingest.native`); None when the column is read as text (``raw`` holds VARCHAR).
    """

    index: int
    spec: Column
    name: str | None
    position: int | None
    required: bool
    native: str | None = None

    def typed(self) -> str:
        """SQL for the stored value."""
        if self.name is None:
            return f"CAST(NULL AS {STORAGE_TYPES[self.spec.type]})"
        return typed_value(self.spec, self.name, self.native) if self.native else typed_sql(self.spec, self.name)

    def text(self) -> str:
        """SQL for the value as text: as written in a text source, as DuckDB prints it for a typed one."""
        assert self.name is not None
        return f"CAST({self.name} AS VARCHAR)" if self.native else self.name

    def suspect(self) -> str | None:
        """SQL that holds for every row the text checks could refuse (None: run the text checks on every row)."""
        if self.name is None or self.native is None:
            return None
        return suspect(self.spec, self.name, self.native, self.required)


@dataclass(eq=False)
class IngestRun:
    """One ingest inside a DuckDB connection, with what the steps so far have found."""

    agreement: Agreement
    project: BatchStore
    dataset: Dataset
    source: Source
    con: duckdb.DuckDBPyConnection
    header: list[str] = field(default_factory=list)
    first_rows: dict[str, int] = field(default_factory=dict)
    """JSON Lines: the first row in which each key appears (a key may be missing from other rows)."""
    columns: list[FileColumn] = field(default_factory=list)
    native: dict[int, str] = field(default_factory=dict)
    """The typed source columns read as they are (position in the header → DuckDB type); the rest are text."""
    rows: int = 0
    """The number of data rows (known once the source is read)."""
    batch_files: dict[str, Any] = field(default_factory=dict)
    """The earlier batches of the dataset, by the resolved path of their data file."""

    def report(self, **fields: Any) -> IngestReport:
        return IngestReport(self.dataset.id, self.source.label, self.source.format, sha256=self.source.sha256, **fields)

    def refuse(self, problems: Sequence[IngestProblem], total: int | None = None, rows: int = 0) -> IngestReport:
        return self.report(problems=tuple(problems), problems_total=len(problems) if total is None else total, refused=True,
                           rows_read=rows)

    def problem(self, code: str, message: str, hint: str = "", *, row: int | None = None, line: int | None = None,
                column: str | None = None, position: int | None = None, severity: Severity = Severity.ERROR) -> IngestProblem:
        # In a CSV the column's position is a field number worth showing; in JSON Lines keys have no position.
        position = position if self.source.format == "csv" else None
        return IngestProblem(code, message, hint, self.source.label, row, line, column, position, severity)

    def scalar(self, sql: str) -> Any:
        found = self.con.execute(sql).fetchone()
        return found[0] if found else None

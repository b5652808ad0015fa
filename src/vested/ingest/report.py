"""What an ingest reports: each problem in the data where it is found, and the outcome of the whole ingest.

Problems are values, collected rather than raised, and listed up to :data:`PROBLEM_LIMIT`; the CLI
renders them through :meth:`IngestProblem.diagnostic` as ``file:line:column: error: ...``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vested.core.diagnostics import Diagnostic, Location, Severity

PROBLEM_LIMIT = 1000
"""Most problems listed in a report; the report says how many more there are."""


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


def refusal(dataset: str, label: str, fmt: str, code: str, message: str, hint: str) -> IngestReport:
    """A report that refuses the whole source for one reason (before any row is read)."""
    problem = IngestProblem(code, message, hint, label)
    return IngestReport(dataset, label, fmt, problems=(problem,), problems_total=1, refused=True)


def first_line(exc: BaseException) -> str:
    """The first line of an error's text (database errors run on), or its type when it has no text."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

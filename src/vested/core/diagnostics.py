"""Problems in user data, as values: severity, a stable code, a message, a hint and where.

Core functions return diagnostics instead of raising. A diagnostic points at a *path* inside a
document (``("terms", 2, "ceiling_price")``); the adapter that read the document turns the path
into ``file:line:column`` (see ``vested.adapters.yamlsource``). One function renders them
(``vested.render.diagnostics``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

PathPart = str | int
Path = tuple[PathPart, ...]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Location:
    """A place in a source file; line and column count from 1."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in an agreement, a facts file or any other user document."""

    severity: Severity
    code: str
    message: str
    hint: str = ""
    path: Path = ()
    document: str = "agreement"
    location: Location | None = None
    offset: int | None = None
    """For a problem inside a formula: the character offset in the formula's text (the adapter adds it
    to the column of the text in the file)."""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def at(self, location: Location | None) -> Diagnostic:
        return replace(self, location=location)


def error(code: str, message: str, hint: str = "", path: Path = (), document: str = "agreement",
          offset: int | None = None) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, hint, path, document, offset=offset)


def warning(code: str, message: str, hint: str = "", path: Path = (), document: str = "agreement") -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, message, hint, path, document)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def show_path(path: Path) -> str:
    """``("terms", 2, "rate")`` -> ``terms[2].rate``: how a path reads in a message."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


class UserError(Exception):
    """Raised inside pricing when user data makes a term impossible to evaluate.

    The pricing engine catches it and turns it into a :class:`Diagnostic`; it never escapes the
    core's public functions.
    """

    def __init__(self, code: str, message: str, hint: str = "", path: Path = (), document: str = "facts",
                 offset: int | None = None):
        super().__init__(message)
        self.diagnostic = error(code, message, hint, path, document, offset)

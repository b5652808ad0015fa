"""The ``--csv FILE`` and ``--xlsx FILE`` options every command with a table has, and how a command uses them.

    finish_tables(result, as_json, body, show, tables, csv, xlsx)

Like :func:`vested.cli.finish`, after writing the result's tables (``tables``: the result's value ->
``vested.render.tables.Sheet`` list) with :func:`vested.services.export.write_sheets`. The files
written are said on stderr (stdout stays the command's output); with ``--csv -`` the first table is
the command's output, instead of the text.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from vested.cli import fail_with, finish
from vested.core.diagnostics import error
from vested.render.tables import Sheet
from vested.services.result import Result

T = TypeVar("T")

CsvOption = Annotated[Path | None, typer.Option(
    "--csv", metavar="FILE", help="Also write the tables as CSV: the first to FILE, each other one next to it as "
    "FILE-<table>.csv; `-` prints the first table as CSV instead of the text.")]
XlsxOption = Annotated[Path | None, typer.Option(
    "--xlsx", metavar="FILE", help="Also write the tables to an Excel workbook, one sheet per table (amounts in the "
    "currency's format, months as dates, a statement's net as live formulas over its lines).")]


def finish_tables(result: Result[T], as_json: bool, body: Callable[[T], Mapping[str, Any]], show: Callable[[T], None],
                  tables: Callable[[T], Sequence[Sheet]], csv: Path | None, xlsx: Path | None) -> NoReturn:
    """Write the tables asked for, then end as :func:`vested.cli.finish` does (see the module doc)."""
    exported = export_tables(result, as_json, tables, csv, xlsx)
    if exported is None:
        finish(result, as_json, body, show)
    printed, files = exported

    def with_files(value: T) -> Mapping[str, Any]:
        return {**body(value), "exported": files}

    finish(result, as_json, with_files, _silent if printed else show)


def export_tables(result: Result[T], as_json: bool, tables: Callable[[T], Sequence[Sheet]], csv: Path | None,
                  xlsx: Path | None) -> tuple[bool, list[str]] | None:
    """Write the result's tables when asked: (whether the first went to stdout, the files written); None when
    nothing was asked. A file that cannot be written ends the command (:func:`vested.cli.fail_with`)."""
    if csv is None and xlsx is None:
        return None
    to_stdout = str(csv) == "-"
    if to_stdout and as_json:
        fail_with([error("options", "--csv - and --json both print to standard output", "give --csv a file, or drop one",
                         (), "command")], as_json)
    if result.value is None:
        return None
    from vested.services.export import write_sheets

    written = write_sheets(tables(result.value), csv, xlsx)
    if written.value is None:
        fail_with(written.diagnostics, as_json)
    if to_stdout:
        sys.stdout.write(written.value.stdout)
        if written.value.left_out:
            print(f"not written: the tables {', '.join(written.value.left_out)} (standard output holds one table; "
                  "give --csv a file to write them all)", file=sys.stderr)
    files = [str(p) for p in written.value.files]
    if files and not as_json:
        print("wrote " + ", ".join(files), file=sys.stderr)
    return to_stdout, files


def _silent(value: object) -> None:
    return None

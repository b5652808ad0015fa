"""Write a result's tables as spreadsheets: CSV files and an Excel workbook, each written atomically.

    write_sheets(sheets, csv=None, xlsx=None) -> Result[Written]

The tables come from :mod:`vested.render.sheets`; this helper only names the files and writes them
(``vested.storage.folder.atomic_write_bytes``: a reader sees the old file or the new one, never a
part). CSV holds one table per file: the first table goes to the file given, each other one next to
it as ``<name>-<table>.csv`` (``prices.csv``, ``prices-net.csv``); ``-`` writes the first table to
standard output, returned as text for the face to print. A file that cannot be written is an error
diagnostic naming it, never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vested.core.diagnostics import Diagnostic, error
from vested.render.csv_out import render_csv
from vested.render.tables import Sheet
from vested.render.xlsx import render_xlsx
from vested.services.result import Result
from vested.storage.folder import atomic_write_bytes

STDOUT = "-"


@dataclass(frozen=True)
class Written:
    files: tuple[Path, ...]
    """The files written, in order."""
    stdout: str = ""
    """The CSV of the first table, when it was asked for on standard output (``--csv -``)."""
    left_out: tuple[str, ...] = ()
    """The tables not written because CSV went to standard output, which holds one table."""


def csv_files(first: Path, sheets: Sequence[Sheet]) -> list[Path]:
    """Where each table's CSV goes: the first in ``first``, the others next to it named for their table."""
    paths = [first]
    for sheet in sheets[1:]:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", sheet.name).strip("-").lower() or "table"
        paths.append(first.with_name(f"{first.stem}-{slug}{first.suffix or '.csv'}"))
    return paths


def write_sheets(sheets: Sequence[Sheet], csv: str | Path | None = None, xlsx: str | Path | None = None) -> Result[Written]:
    """Write the tables as CSV (``csv``) and as a workbook (``xlsx``); the files written, or why one could not be."""
    files: list[Path] = []
    stdout = ""
    left_out: tuple[str, ...] = ()
    problems: list[Diagnostic] = []
    if not sheets:
        return Result(Written(()))
    targets: list[tuple[Path, bytes]] = []
    if csv is not None and str(csv) == STDOUT:
        stdout = render_csv(sheets[0])
        left_out = tuple(sheet.name for sheet in sheets[1:])
    elif csv is not None:
        targets.extend((path, render_csv(sheet).encode("utf-8")) for path, sheet in zip(csv_files(Path(csv), sheets), sheets,
                                                                                          strict=True))
    if xlsx is not None:
        targets.append((Path(xlsx), render_xlsx(sheets)))
    for path, data in targets:
        if not path.parent.is_dir():
            problems.append(error("file", f"cannot write {str(path)!r}: the folder {str(path.parent)!r} does not exist",
                                  "create the folder first, or give another file", (), "command"))
            continue
        try:
            atomic_write_bytes(path, data)
        except OSError as exc:
            problems.append(error("file", f"cannot write {str(path)!r}: {exc.strerror or exc}",
                                  "give a file you may write", (), "command"))
            continue
        files.append(path)
    if problems:
        return Result(None, tuple(problems))
    return Result(Written(tuple(files), stdout, left_out))

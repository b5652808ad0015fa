"""A :class:`~vested.render.tables.Sheet` as CSV text: a header row, then one line per row.

Numbers are written exactly (a Decimal as its digits, never in exponent form), a month as
YYYY-MM, a date as ISO 8601, a flag as yes/no, a formula as its value. A text cell that a
spreadsheet would read as a formula — beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return — is neutralised with a leading single quote, as OWASP recommends against CSV injection;
numbers are not text, so a negative amount stays a number.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from vested.render.tables import Cell, ColumnSum, Format, SameRow, Sheet

RISKY = ("=", "+", "-", "@", "\t", "\r")
"""What a text cell may not begin with, unquoted (OWASP, CSV injection)."""


def render_csv(sheet: Sheet) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([neutral(name) for name in sheet.columns])
    for row in sheet.rows:
        writer.writerow([csv_cell(cell, sheet.format_of(column)) for cell, column in zip(row, sheet.columns, strict=True)])
    return out.getvalue()


def csv_cell(cell: Cell, kind: Format) -> str:
    if isinstance(cell, ColumnSum | SameRow):
        return csv_cell(cell.value, kind)
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    if isinstance(cell, Decimal):
        return format(cell, "f")
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, float):
        return format(Decimal(repr(cell)), "f")  # never 1e-05
    if isinstance(cell, date):
        return cell.strftime("%Y-%m") if kind == "month" else cell.isoformat()
    return neutral(cell)


def neutral(text: str) -> str:
    """``text``, with a leading single quote when a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(RISKY) else text

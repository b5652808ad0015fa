"""A neutral table view-model for spreadsheets: a :class:`Sheet` is one table, its columns typed.

    Sheet(name, columns, rows, formats) -> rendered by vested.render.csv_out (text) and vested.render.xlsx (bytes)

Each result (a statement, a scorecard, an economics run, ...) becomes one or more sheets in
:mod:`vested.render.sheets`; the renderers only lay them out. A cell is a plain value — ``Decimal``,
``int``, ``float``, ``str``, ``date``, ``bool`` or None — or a formula, which a spreadsheet recomputes
and a CSV file shows as its value: :class:`SameRow` (a cell of the same row, perhaps negated) and
:class:`ColumnSum` (the sum of a column of another sheet over its rows that match this row).

``formats`` says how each column is shown, by name (a column not named is ``text``):

* ``money``: an amount in the sheet's ``currency`` (its number format shows the places of ``places``);
* ``number``: a plain number as measured or computed (no fixed places);
* ``integer``: a count;
* ``percent``: a share (0.25 shows 25%);
* ``month``: a date, the first day of a month (shown 2025-06);
* ``flag``: yes or no.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

Format = Literal["text", "money", "number", "integer", "percent", "month", "flag"]
FORMATS: tuple[Format, ...] = ("text", "money", "number", "integer", "percent", "month", "flag")


@dataclass(frozen=True)
class ColumnSum:
    """The sum of ``column`` of sheet ``sheet`` over its rows whose ``where`` columns equal this row's.

    ``where`` pairs (a column of the other sheet, a column of this row). ``places``: the sum is rounded
    half away from zero to that many places (a spreadsheet's ROUND; None: not rounded). ``value``: what
    the formula gives, computed from the same lines — what a CSV file shows.
    """

    sheet: str
    column: str
    where: tuple[tuple[str, str], ...]
    value: Decimal
    places: int | None = None


@dataclass(frozen=True)
class SameRow:
    """This row's value in ``column``, negated when ``negate``: a formula in a spreadsheet (``=F2``, ``=-F2``)."""

    column: str
    negate: bool
    value: Decimal


Formula = ColumnSum | SameRow
Cell = Decimal | int | float | str | date | bool | ColumnSum | SameRow | None


@dataclass(frozen=True)
class Sheet:
    """One table: a name (the spreadsheet's sheet, at most 31 characters), typed columns and rows."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    formats: Mapping[str, Format] = field(default_factory=dict)
    currency: str = ""
    """The currency of the ``money`` columns (ISO 4217, e.g. USD)."""
    places: int = 2
    """The decimal places a ``money`` column shows (the agreement's rounding step; at least 2)."""
    title: str = ""
    """What the table is, said above it where there is room (not in a CSV file, which holds the rows only)."""

    def __post_init__(self) -> None:
        assert all(len(row) == len(self.columns) for row in self.rows), f"sheet {self.name}: a row of the wrong length"
        assert set(self.formats) <= set(self.columns), f"sheet {self.name}: a format for no column"

    def format_of(self, column: str) -> Format:
        return self.formats.get(column, "text")

    def index(self, column: str) -> int:
        return self.columns.index(column)


def month_date(month: str) -> date:
    """A month written YYYY-MM as the date of its first day (how a spreadsheet holds a month)."""
    year, number = month.split("-")
    return date(int(year), int(number), 1)


def sheet_name(text: str, taken: set[str] | None = None) -> str:
    """A valid, unused sheet name for ``text``: at most 31 characters, none of ``[]:*?/\\``."""
    name = "".join("-" if ch in "[]:*?/\\" else ch for ch in text)[:31] or "sheet"
    taken = taken if taken is not None else set()
    candidate, n = name, 2
    while candidate.lower() in {t.lower() for t in taken}:
        suffix = f" ({n})"
        candidate, n = name[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate)
    return candidate

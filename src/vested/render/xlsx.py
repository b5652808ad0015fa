"""Sheets as an Excel workbook (xlsx bytes, made in memory): one worksheet per sheet.

    render_xlsx(sheets) -> bytes

Each worksheet has its header row frozen (it stays on screen while scrolling) and bold, with a
filter on it. Numbers are numbers (a Decimal is written with all its digits), amounts carry the
currency's number format, months are dates shown 2025-06, flags read yes/no, and a formula of the
view-model is a live formula: :class:`~vested.render.tables.SameRow` becomes ``=F2`` (or ``=-F2``)
and :class:`~vested.render.tables.ColumnSum` ``=SUMIFS('lines'!$I$2:$I$9,'lines'!$A$2:$A$9,A2,...)``,
wrapped in ``ROUND(..., places)`` when the sum is rounded — so a reader who changes an amount
sees the net change with it. openpyxl is imported here only, when a workbook is asked for.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal

from vested.render.tables import Cell, ColumnSum, Format, SameRow, Sheet

NUMBER_FORMATS: dict[Format, str] = {
    "number": "General",
    "integer": "#,##0",
    "percent": "0.00%",
    "month": "yyyy-mm",
    "text": "@",
    "flag": "General",
}
WIDEST = 60
"""Widest a column is made (characters); longer text wraps in the cell."""


def money_format(currency: str, places: int) -> str:
    """The number format of an amount: thousands separators, the places, the currency code after it."""
    digits = "#,##0" + ("." + "0" * places if places else "")
    code = f' "{currency}"' if currency else ""
    return f"{digits}{code};-{digits}{code}"


def render_xlsx(sheets: Sequence[Sheet]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.worksheets[0])  # the empty sheet a new workbook starts with
    by_name = {sheet.name: sheet for sheet in sheets}
    for sheet in sheets:
        ws = book.create_sheet(sheet.name)
        ws.append(list(sheet.columns))
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for r, row in enumerate(sheet.rows, start=2):
            for c, (value, column) in enumerate(zip(row, sheet.columns, strict=True), start=1):
                kind = sheet.format_of(column)
                target = ws.cell(row=r, column=c)
                target.value = xlsx_value(value, kind, sheet, r, by_name)
                if isinstance(target.value, str) and not isinstance(value, ColumnSum | SameRow):
                    target.data_type = "s"  # text that begins with "=" is text, not a formula
                target.number_format = money_format(sheet.currency, sheet.places) if kind == "money" else NUMBER_FORMATS[kind]
        ws.freeze_panes = "A2"
        if sheet.rows:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{len(sheet.rows) + 1}"
        for c, column in enumerate(sheet.columns, start=1):
            longest = max([len(column), *(len(shown(row[c - 1])) for row in sheet.rows)])
            ws.column_dimensions[get_column_letter(c)].width = min(WIDEST, longest + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_value(value: Cell, kind: Format, sheet: Sheet, row: int, sheets: dict[str, Sheet]) -> object:
    """What goes in a cell: the value, or a formula's text (``=...``)."""
    if isinstance(value, SameRow):
        return f"={'-' if value.negate else ''}{letter(sheet, value.column)}{row}"
    if isinstance(value, ColumnSum):
        return "=" + column_sum(value, sheet, row, sheets[value.sheet])
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float | int | Decimal) and kind == "text":
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    return value


def column_sum(formula: ColumnSum, sheet: Sheet, row: int, other: Sheet) -> str:
    last = len(other.rows) + 1
    quoted = "'" + other.name.replace("'", "''") + "'"

    def span(column: str) -> str:
        col = letter(other, column)
        return f"{quoted}!${col}$2:${col}${last}"

    criteria = "".join(f",{span(theirs)},{letter(sheet, ours)}{row}" for theirs, ours in formula.where)
    total = f"SUMIFS({span(formula.column)}{criteria})"
    return f"ROUND({total},{formula.places})" if formula.places is not None else total


def letter(sheet: Sheet, column: str) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(sheet.index(column) + 1))


def shown(value: Cell) -> str:
    if isinstance(value, ColumnSum | SameRow):
        value = value.value
    return "" if value is None else f"{value:,}" if isinstance(value, Decimal | int) and not isinstance(value, bool) else str(value)

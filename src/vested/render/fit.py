"""Tables that fit the terminal: no value is ever cut with "…".

    money_column(table, header) / text_column(table, header, ...) / fitted(table, keys=1)

Rich shrinks a table that is too wide for the terminal by wrapping its text columns and, as a last
resort, by cutting cells with "…". Here a number never shrinks (its column does not wrap and keeps
its full width), text folds rather than being cut, and a table whose values cannot all stand side
by side at the width the terminal gives is shown another way, chosen when it is drawn (so the
same table reads well at 80 columns and at 200):

1. as it is, when its narrowest form (every column as wide as its longest word) fits;
2. else *stacked*: its columns in groups that fit, each group repeating the ``keys`` columns that
   name the rows (economics per month: the customer's columns, then the supplier's);
3. else *one record per row*: each row as a list of ``field  value`` lines.

The renderers build their rich tables as before and wrap them in :func:`fitted`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

APPROX = "≈ marks a value cut to the places shown, for reading; --json and --xlsx have it exact."
"""Said under a table in which a value is marked "≈" (``vested.core.money`` cuts and marks it)."""
WIDE = 10_000
"""A width no terminal has: a table is measured at it to learn its narrowest form."""


def money_column(table: Table, header: str = "", **options: object) -> None:
    """A column of amounts or numbers: right-aligned, never wrapped or cut."""
    table.add_column(header, justify="right", no_wrap=True, overflow="fold", **options)  # type: ignore[arg-type]


def text_column(table: Table, header: str = "", **options: object) -> None:
    """A column of words: wrapped at spaces, a word too long for the column folded onto the next line (never cut)."""
    table.add_column(header, overflow="fold", **options)  # type: ignore[arg-type]


def fold_all(table: Table) -> Table:
    """Make every column of ``table`` fold instead of cutting (for tables built elsewhere)."""
    for column in table.columns:
        column.overflow = "fold"
    return table


class Fitted:
    """A table drawn as it is, stacked, or one record per row, whichever fits the width (see the module doc)."""

    def __init__(self, table: Table, keys: int = 1, approx: str = APPROX):
        self.table = fold_all(table)
        self.keys = keys
        self.approx = approx

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.drawn(console, options)
        if self.approx and any("≈" in plain(cell) for column in self.table.columns for cell in column._cells):
            yield Text(self.approx, style="dim")

    def drawn(self, console: Console, options: ConsoleOptions) -> RenderableType:
        width = options.max_width
        whole = laid_out(console, options, self.table, width)
        if whole is not None:
            return whole
        groups = column_groups(console, options, self.table, self.keys, width)
        if groups is not None:
            parts = []
            for i, group in enumerate(groups):
                part = part_of(self.table, [*range(self.keys), *group], first=i == 0, last=i == len(groups) - 1)
                parts.append(laid_out(console, options, part, width) or part)
            return Group(*parts)
        return records(self.table, self.keys)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table)


def fitted(table: Table, keys: int = 1, approx: str = APPROX) -> Fitted:
    """``table`` as it fits the terminal; ``keys``: how many of its first columns name a row; ``approx``:
    the note said under it when a value in it is marked "≈" ("" for none)."""
    return Fitted(table, keys, approx)


def laid_out(console: Console, options: ConsoleOptions, table: Table, width: int) -> Table | None:
    """``table`` with column widths that fit ``width`` and cut nothing, or None when no such widths exist.

    A column is never narrower than its longest word (a number column: its widest value; a header may
    wrap at its spaces); the room left is shared in proportion to how much more each column could use.
    The widths are chosen here rather than by rich, which narrows the widest columns first and so can
    fold a long word in one column while another has room to spare.
    """
    wide = options.update_width(WIDE)
    least: list[int] = []
    most: list[int] = []
    for column in table.columns:
        header = Measurement.get(console, wide, column.header) if table.show_header else Measurement(0, 0)
        cells = [Measurement.get(console, wide, cell) for cell in column._cells]
        values = max((m.maximum if column.no_wrap else m.minimum for m in cells), default=0)
        least.append(max(header.minimum, values, 1))
        most.append(max(header.maximum, *(m.maximum for m in cells), least[-1]))
    # rich's own accounting of the borders and of each column's padding (private, but stable since rich 10)
    room = width - table._extra_width - sum(table._get_padding_width(i) for i in range(len(table.columns)))
    if sum(most) <= room:
        return table
    if sum(least) > room:
        return None
    spare = room - sum(least)
    wants = [m - n for m, n in zip(most, least, strict=True)]
    widths = [n + w * spare // sum(wants) for n, w in zip(least, wants, strict=True)]
    for i in sorted(range(len(widths)), key=lambda i: wants[i] - (widths[i] - least[i]), reverse=True):
        if sum(widths) < room and widths[i] < most[i]:
            widths[i] += 1
    sized = part_of(table, range(len(table.columns)))
    for column, size in zip(sized.columns, widths, strict=True):
        column.width = size
        column.no_wrap = False  # the width holds the widest value; a header may now wrap at its spaces
    return sized


def column_groups(console: Console, options: ConsoleOptions, table: Table, keys: int,
                  width: int) -> list[list[int]] | None:
    """The columns after the keys in as few consecutive groups as fit ``width`` with the keys, as even in
    size as they can be; None when one column cannot fit with the keys, or when they all do (no groups)."""
    def fits(group: list[int]) -> bool:
        return laid_out(console, options, part_of(table, [*range(keys), *group]), width) is not None

    def grouped(most: int) -> list[list[int]] | None:
        groups: list[list[int]] = [[]]
        for index in range(keys, len(table.columns)):
            if len(groups[-1]) < most and fits([*groups[-1], index]):
                groups[-1].append(index)
            elif groups[-1] and fits([index]):
                groups.append([index])
            else:
                return None
        return groups

    greedy = grouped(len(table.columns))
    if greedy is None or len(greedy) < 2:
        return None
    even = grouped(-(-(len(table.columns) - keys) // len(greedy)))  # the same number of groups, no larger than needed
    return even if even is not None and len(even) == len(greedy) else greedy


def part_of(table: Table, indices: Iterable[int], *, first: bool = True, last: bool = True) -> Table:
    """A table of some of ``table``'s columns (same rows, styles and box); the title on the first part, the caption on the last."""
    part = Table(title=table.title if first else None, caption=table.caption if last else None, box=table.box,
                 show_lines=table.show_lines, show_header=table.show_header, header_style=table.header_style,
                 title_style=table.title_style, caption_style=table.caption_style, expand=False)
    for position, index in enumerate(indices):
        column = table.columns[index]
        part.columns.append(dataclasses.replace(column, _index=position, _cells=list(column._cells)))
    part.rows = list(table.rows)
    return part


def records(table: Table, keys: int) -> RenderableType:
    """Each row as a record: the key cells as its heading, then one ``field  value`` line per other column."""
    parts: list[RenderableType] = []
    if table.title:
        parts.append(Text.from_markup(table.title, style="bold") if isinstance(table.title, str) else table.title)
    headers = [plain(column.header) for column in table.columns]
    for row_index in range(table.row_count):
        cells = [column._cells[row_index] for column in table.columns]
        heading = " · ".join(plain(cell) for cell in cells[:keys] if plain(cell))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", overflow="fold")
        grid.add_column(overflow="fold")
        for header, cell in zip(headers[keys:], cells[keys:], strict=True):
            if plain(cell):
                grid.add_row(header, cell)
        parts.append(Group(Text(heading or f"row {row_index + 1}", style="bold"), grid))
    if table.caption:
        parts.append(Text.from_markup(table.caption, style="dim") if isinstance(table.caption, str) else table.caption)
    return Group(*parts)


def plain(cell: object) -> str:
    """The text of a cell, without its markup."""
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return str(cell)

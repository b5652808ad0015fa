"""Periods of an agreement: months, fiscal quarters and years, as labels and as time ranges.

A period label is ``2025-06`` (a month), ``2025-Q2`` or ``2025`` (fiscal quarter and year, named by
the calendar year in which the fiscal year *ends* when it does not start in January, as most
companies do). Everything here is pure arithmetic on labels and dates; time zones are applied by
the measurement engine, which receives local month boundaries from :func:`month_bounds`.
"""

from __future__ import annotations

import re
from datetime import date

from vested.core.diagnostics import Diagnostic, error

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")

FIRST_YEAR = 1900
LAST_YEAR = 2999
"""The supported calendar: months from 1900-01 to 2999-12. An agreement, a period on the command line
and a measured timestamp outside it are refused (a year 0 or 10000 is a typo, and dates there break
the calendar arithmetic of every engine vested talks to)."""


def parse_month(label: str) -> tuple[int, int]:
    """(year, month) of a month label such as ``2025-06``; ``ValueError`` for anything else.

    This is the one reader of month labels: the ``Month`` value type of the formats
    (``vested.core.values``) and every comparison of months are built on it. The message of the
    ``ValueError`` says what is wrong, in words a user can act on (it is shown as is).
    """
    year, month = _split(label)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"{label}: the year {year:04d} is outside the supported calendar "
                         f"({FIRST_YEAR}-01 to {LAST_YEAR}-12)")
    return year, month


def _split(label: str) -> tuple[int, int]:
    """(year, month) of a label written YYYY-MM, any year: the arithmetic below may step past the calendar's ends."""
    match = _MONTH.fullmatch(label) if isinstance(label, str) else None
    if match is None:
        raise ValueError(f"{label}: not a month label (write YYYY-MM, e.g. 2025-06)")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"{label}: month {month} does not exist (months are 01 to 12)")
    return year, month


def parse_month_argument(text: str, option: str) -> tuple[str | None, Diagnostic | None]:
    """A month given on the command line (``--period 2025-06``): the label, or a diagnostic naming the option.

    ``parse_month_argument("2025-13", "--period")`` gives the diagnostic
    ``--period 2025-13: month 13 does not exist (months are 01 to 12)``.
    """
    try:
        parse_month(text)
    except ValueError as exc:
        return None, error("period", f"{option} {exc}", "write the month as YYYY-MM, e.g. 2025-06, "
                           f"between {FIRST_YEAR}-01 and {LAST_YEAR}-12", (), "command")
    return text, None


def is_month(label: str) -> bool:
    """Whether ``label`` is a month label (``2025-06``), not a quarter, a year or anything else."""
    try:
        parse_month(label)
    except ValueError:
        return False
    return True


def month_index(label: str) -> int:
    """A number that orders months: ``month_index(a) < month_index(b)`` when month ``a`` comes first.

    Compare months with it (or with :func:`months_between`), never as strings.
    """
    year, month = _split(label)
    return year * 12 + (month - 1)


def month_label(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def add_months(label: str, count: int) -> str:
    """The month ``count`` months after (or before, if negative) ``label``."""
    index = month_index(label) + count
    return month_label(index // 12, index % 12 + 1)


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last``, both included (empty when last is before first)."""
    count = month_index(last) - month_index(first) + 1
    return [add_months(first, i) for i in range(max(0, count))]


def month_bounds(label: str) -> tuple[date, date]:
    """First day of the month and first day of the next month (the end is exclusive)."""
    year, month = _split(label)
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)


def fiscal_quarter(label: str, fiscal_year_start: int = 1) -> str:
    """The fiscal quarter label (``2025-Q2``) that month ``label`` belongs to."""
    year, month = _split(label)
    offset = (month - fiscal_year_start) % 12
    fiscal_year = year if fiscal_year_start == 1 or month < fiscal_year_start else year + 1
    return f"{fiscal_year:04d}-Q{offset // 3 + 1}"


def fiscal_year(label: str, fiscal_year_start: int = 1) -> str:
    """The fiscal year label (``2025``) that month ``label`` belongs to."""
    return fiscal_quarter(label, fiscal_year_start)[:4]


def months_to_date(label: str, window: str | int, fiscal_year_start: int = 1) -> list[str]:
    """The months a metric with ``window`` covers when measured for month ``label``.

    ``period``: the month itself; ``quarter``/``year``: the fiscal quarter or year to date;
    an integer N: the last N months, this one included.
    """
    if window == "period":
        return [label]
    if isinstance(window, int):
        return [add_months(label, -i) for i in range(window - 1, -1, -1)]
    key = fiscal_quarter if window == "quarter" else fiscal_year
    months = [label]
    while True:
        previous = add_months(months[0], -1)
        if key(previous, fiscal_year_start) != key(label, fiscal_year_start):
            return months
        months.insert(0, previous)

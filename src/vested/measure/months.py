"""Local months in SQL: which month of the agreement's calendar a dataset's row falls in.

Settlement periods are calendar months in the agreement's time zone. A timestamp is stored as an
instant (UTC), so the month of a row could be found by converting every row to the time zone
(``date_trunc('month', t AT TIME ZONE zone)``), but that conversion costs DuckDB more than all the
aggregates of a query together. Instead the instants where each local month of the span starts are
worked out here once, with zoneinfo (daylight saving time included), and a row's month is a
comparison of its instant with them (:func:`vested.measure.fragments.month_case`). The same CASE
runs on every engine. A ``date`` column is already local: its month is a truncation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlglot import exp

from vested.core.measures import Column, Dataset
from vested.core.periods import month_bounds, months_to_date
from vested.measure.fragments import (
    MeasureError,
    column,
    date_literal,
    instant,
    instant_literal,
    month_case,
    month_label,
    month_names,
    month_number,
    month_start,
    month_start_literal,
)


def local_bounds(month: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where the local month starts and where the next one starts (local midnights)."""
    first, after = month_bounds(month)
    start = datetime(first.year, first.month, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(after.year, after.month, 1, tzinfo=zone).astimezone(UTC)
    return start, end


@dataclass(frozen=True)
class LocalMonths:
    """The months a plan reads (``span``) and measures (``months``), as a dataset's rows find theirs."""

    dataset: Dataset
    time_zone: str
    zone: ZoneInfo
    span: tuple[str, ...]
    months: tuple[str, ...]
    fiscal_year_start: int

    def time_column(self) -> Column:
        found = self.dataset.column(self.dataset.time)
        if found is None:
            raise MeasureError(f"time column {self.dataset.time!r} is not a column of {self.dataset.id!r}", "",
                               ("datasets", self.dataset.id, "time"))
        return found

    def dated(self) -> bool:
        """Whether the time column holds dates (already local) rather than instants."""
        found = self.dataset.column(self.dataset.time)
        return found is not None and found.type == "date"

    def instant(self, table: str) -> exp.Expr:
        """The instant of a row's time (a date: local midnight)."""
        found = self.dataset.column(self.dataset.time)
        return instant(column(self.dataset.time, table), found.type if found is not None else "timestamp", self.time_zone)

    def in_span(self) -> exp.Expr:
        """Rows (aliased ``t``) whose time is in the span: also what lets an engine skip Parquet row groups."""
        first, last = self.span[0], self.span[-1]
        if self.dated():
            day = column(self.dataset.time, "t")
            return exp.and_(exp.GTE(this=day, expression=date_literal(month_bounds(first)[0])),
                            exp.LT(this=day.copy(), expression=date_literal(month_bounds(last)[1])))
        value = self.instant("t")
        return exp.and_(exp.GTE(this=value, expression=instant_literal(local_bounds(first, self.zone)[0])),
                        exp.LT(this=value.copy(), expression=instant_literal(local_bounds(last, self.zone)[1])))

    def labelled(self) -> exp.Expr:
        """``__month`` of a row in the span: its month as YYYYMM (a timestamp), or the month's first day (a date)."""
        self.time_column()
        if self.dated():
            month = month_start(column(self.dataset.time, "t"))
        else:
            ends = [(m, instant_literal(local_bounds(m, self.zone)[1])) for m in self.span]
            month = month_case(self.instant("t"), ends)
        return exp.alias_(month, exp.to_identifier("__month"))

    def label_of(self, month: exp.Expr) -> exp.Expr:
        """The ``YYYY-MM`` label of a ``__month``: worked out once per group, not per row."""
        return month_label(month) if self.dated() else month_names(month, self.span)

    def window_pairs(self, window: str | int) -> list[tuple[exp.Expr, str]]:
        """(``__month`` of a month read, label of a month measured whose window holds it), for a windows table."""
        def key(label: str) -> exp.Expr:
            return month_start_literal(label) if self.dated() else exp.Literal.number(month_number(label))

        return [(key(m), target) for target in self.months for m in months_to_date(target, window, self.fiscal_year_start)]

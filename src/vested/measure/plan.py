"""The compiled measurement: queries (sqlglot trees) and where each metric's partials are in their rows.

Made by :func:`vested.measure.compile.compile_plan`, run by :mod:`vested.measure.engine`, read by
:mod:`vested.measure.combine`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sqlglot import exp

from vested.core.measures import Measure
from vested.core.periods import months_to_date
from vested.measure.fragments import for_dialect

QueryKind = Literal["months", "windows", "ranks", "availability"]


@dataclass(frozen=True)
class Query:
    """One SQL query of a plan: its rows are (month label, then ``columns[1:]``)."""

    name: str
    dataset: str
    kind: QueryKind
    select: exp.Select
    columns: tuple[str, ...]

    def sql(self, dialect: str) -> str:
        """The query in a dialect sqlglot knows ("duckdb", "postgres", ...)."""
        return for_dialect(self.select, dialect).sql(dialect=dialect)


@dataclass(frozen=True)
class MetricPlan:
    """Where a metric's partials are: which query, which output column for each role (num, den, ...)."""

    metric: str
    index: int
    measure: Measure
    query: str
    parts: Mapping[str, str]
    from_rows: bool = False
    """The query already groups the whole window by the month measured (no adding up)."""


@dataclass(frozen=True)
class Plan:
    """The compiled measurement of some months: the queries to run and how to read their rows."""

    months: tuple[str, ...]
    span: tuple[str, ...]
    """Every month read: the months asked for and the earlier months their windows reach back to."""
    time_zone: str
    fiscal_year_start: int
    queries: tuple[Query, ...]
    metrics: tuple[MetricPlan, ...]
    first_month: str | None = None
    """The agreement's first month (``calendar.start`` when it is a month): no data is expected before it."""

    def window(self, measure: Measure, month: str) -> list[str]:
        """The months whose data the value of ``month`` covers."""
        return months_to_date(month, measure.window, self.fiscal_year_start)

    def query(self, name: str) -> Query:
        return next(q for q in self.queries if q.name == name)


def is_percentile(measure: Measure) -> bool:
    """A percentile of a column or of a duration."""
    return measure.aggregate == "percentile" or (measure.aggregate == "duration" and measure.statistic == "percentile")

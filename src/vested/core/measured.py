"""Measured values: each metric's value per month, with the notes that say why a value is missing.

The record the metric engines (``vested.measure``: DuckDB, PostgreSQL) return and that scorecards
and settlement read. Pure data; the engines fill it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from vested.core.diagnostics import Diagnostic, warning


@dataclass(frozen=True)
class Note:
    """Why a metric has no value in a month, or what to know about the value it has."""

    metric: str
    month: str
    code: str
    message: str
    hint: str = ""
    index: int = 0
    """Position of the metric in the agreement (for the diagnostic's path)."""
    blank: bool = True
    """The note explains a missing value (not a remark about a value that exists)."""


@dataclass(frozen=True)
class MetricTable:
    """Each measured metric's value per month: ``values[metric][month]`` is a Decimal or None."""

    months: tuple[str, ...]
    values: Mapping[str, Mapping[str, Decimal | None]]
    notes: tuple[Note, ...] = ()

    def value(self, metric: str, month: str) -> Decimal | None:
        return self.values[metric][month]

    def reason(self, metric: str, month: str) -> str | None:
        """Why the metric has no value in the month (None when it has one)."""
        return next((n.message for n in self.notes if n.metric == metric and n.month == month and n.blank), None)

    def rows(self) -> Iterator[tuple[str, str, Decimal | None]]:
        """(metric, month, value) in metric then month order."""
        for metric, by_month in self.values.items():
            for month in self.months:
                yield metric, month, by_month[month]

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.diagnostics_of(self.months)

    def diagnostics_of(self, months: Collection[str]) -> tuple[Diagnostic, ...]:
        """The notes about ``months`` as diagnostics (a table measured for more months says more)."""
        return tuple(warning(n.code, n.message, n.hint, ("metrics", n.index, "measure")) for n in self.notes
                     if n.month in months)

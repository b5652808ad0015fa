"""Finish the metrics: add each metric's per-month partials over its window and compute its value.

This step runs on the rows the plan's queries returned, whichever engine ran them, so DuckDB and
PostgreSQL finish the same partials the same way. Values are ``Decimal``:

* counts, sums and means of integer or DECIMAL columns, ratios of them, durations and availability
  are exact: durations are whole microseconds (an integer in DuckDB, NUMERIC in PostgreSQL), and a
  division keeps 28 significant digits;
* a value that went through floating point in SQL — a percentile by ``quantile_cont`` (it
  interpolates in DOUBLE), anything over a DOUBLE column (a sum or mean of ``number`` values stored
  as DOUBLE) — is converted with ``repr`` and rounded to :data:`APPROXIMATE_DIGITS` significant
  digits: far below the noise of float arithmetic (summation order differs between engines and
  runs), far above any precision a measurement has;
* a percentile by rank (:mod:`vested.measure.ranks`) is interpolated here, exactly, between the
  two values the query found, and then rounded like a ``quantile_cont`` one, so the two methods
  give the same numbers.

A month without a value gets ``None`` and a :class:`Note` that says why (no data, no matching
rows, a zero denominator); the table turns notes into diagnostics (warnings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Any
from zoneinfo import ZoneInfo

from vested.core.measured import MetricTable, Note
from vested.core.periods import month_bounds
from vested.measure.months import local_bounds
from vested.measure.plan import MetricPlan, Plan, is_percentile
from vested.measure.ranks import fraction_of

APPROXIMATE_DIGITS = 12
UNIT_MICROSECONDS = {"seconds": Decimal(10**6), "minutes": Decimal(60 * 10**6), "hours": Decimal(3600 * 10**6),
                     "days": Decimal(86400 * 10**6)}


Results = Mapping[str, Mapping[str, Mapping[str, Any]]]
"""Rows of each query: query name -> month label -> output column -> value as the driver returned it."""


def combine(plan: Plan, results: Results) -> MetricTable:
    """The metric table from the rows of the plan's queries."""
    values: dict[str, dict[str, Decimal | None]] = {}
    notes: list[Note] = []
    for metric in plan.metrics:
        values[metric.metric] = {}
        for month in plan.months:
            finished = _Finish(plan, metric, month, results)
            values[metric.metric][month] = finished.value()
            notes.extend(finished.notes)
    return MetricTable(plan.months, values, tuple(notes))


@dataclass
class _Finish:
    plan: Plan
    metric: MetricPlan
    month: str
    results: Results
    notes: list[Note] = field(default_factory=list)
    window: list[str] = field(default_factory=list)
    approximate: bool = False

    def note(self, code: str, message: str, hint: str, *, blank: bool = True) -> None:
        self.notes.append(Note(self.metric.metric, self.month, code, f"{self.metric.metric}: {message}", hint,
                               self.metric.index, blank))

    def value(self) -> Decimal | None:
        measure = self.metric.measure
        self.window = self.plan.window(measure, self.month)
        self.approximate = is_percentile(measure)
        if measure.aggregate != "availability" and not self.has_rows():
            return None
        if measure.aggregate == "availability":
            self.note_quiet_months()
        result = self.compute()
        if result is None:
            return None
        with localcontext(Context(prec=28)):
            result = result * Decimal(measure.scale)
        return significant(result, APPROXIMATE_DIGITS) if self.approximate else result

    def note_quiet_months(self) -> None:
        """Availability with no outage in a month is 100%: true, or the month's data is missing. Say so."""
        found = self.results.get(self.metric.query, {})
        quiet = [m for m in self.window if m not in found]
        if quiet:
            dataset = self.metric.measure.dataset
            self.note("no-outages", f"no {dataset} rows overlap {_months(quiet)}, so availability counts them as 100%",
                      f"if {dataset} data for {_months(quiet)} has not been ingested yet, ingest it before settling",
                      blank=False)

    def has_rows(self) -> bool:
        """Whether the dataset has rows in the window; notes the months it has none in."""
        counts = self.results.get(self.metric.measure.dataset, {})
        empty = [m for m in self.window if not counts.get(m, {}).get("rows")]
        dataset = self.metric.measure.dataset
        if len(empty) == len(self.window):
            self.note("no-data", f"no value for {self.month}: dataset {dataset!r} has no rows in {_months(self.window)}",
                      f"ingest {dataset} data for {_months(self.window)}")
            return False
        expected = [m for m in empty if self.plan.first_month is None or m >= self.plan.first_month]
        if expected:
            self.note("partial-window", f"the value for {self.month} covers only part of its window: dataset {dataset!r} "
                      f"has no rows in {', '.join(expected)}", "ingest the missing months if they had data", blank=False)
        return True

    def parts(self, role: str) -> list[Decimal]:
        """The role's partials over the window (or the window's single value), without the empty ones."""
        alias = self.metric.parts.get(role)
        rows = self.results.get(self.metric.query, {})
        if alias is None:
            return []
        months = [self.month] if self.metric.from_rows else self.window
        found = []
        for month in months:
            raw = rows.get(month, {}).get(alias)
            if raw is None:
                continue
            if isinstance(raw, float):
                self.approximate = True
                found.append(Decimal(repr(raw)))
            else:
                found.append(Decimal(raw))
        return found

    def total(self, role: str) -> Decimal:
        return sum(self.parts(role), Decimal(0))

    def compute(self) -> Decimal | None:
        measure = self.metric.measure
        kind = measure.aggregate
        if kind in ("count", "count_distinct"):
            return self.total("n" if kind == "count" else "v")
        if kind == "ratio":
            denominator = self.total("den")
            if denominator == 0:
                self.note("zero-denominator", f"no value for {self.month}: the denominator is zero",
                          "a ratio has no value in a period where nothing matches its denominator")
                return None
            return _divide(self.total("num"), denominator)
        if kind == "availability":
            return self.availability()
        statistic = measure.statistic if kind == "duration" else kind
        unit = UNIT_MICROSECONDS[measure.duration_unit] if kind == "duration" else Decimal(1)
        if statistic == "sum":
            return _divide(self.total("s"), unit)
        if statistic == "mean":
            count = self.total("n")
            return None if self.nothing(count == 0) else _divide(_divide(self.total("s"), count), unit)
        if "low" in self.metric.parts:
            found = self.by_rank()
            return None if found is None else _divide(found, unit)
        values = self.parts("v")
        if self.nothing(not values):
            return None
        pick = min if statistic == "min" else max
        return _divide(pick(values) if statistic in ("min", "max") else values[0], unit)

    def by_rank(self) -> Decimal | None:
        """A percentile from the values at ranks ⌊q (n − 1)⌋ and ⌈q (n − 1)⌉: linear interpolation, as quantile_cont."""
        count, low, high = self.parts("n"), self.parts("low"), self.parts("high")
        if self.nothing(not count or not low or not high):
            return None
        percentile = self.metric.measure.percentile
        assert percentile is not None
        with localcontext(Context(prec=28)):
            rank = fraction_of(percentile) * (count[0] - 1)
            share = rank - rank.to_integral_value(rounding=ROUND_FLOOR)
            return low[0] + share * (high[0] - low[0])

    def nothing(self, empty: bool) -> bool:
        if empty:
            self.note("no-matching-rows", f"no value for {self.month}: no rows of dataset {self.metric.measure.dataset!r} "
                      "match its measure", "check the measure's `where` filters and exclusions")
        return empty

    def availability(self) -> Decimal | None:
        spec = self.metric.measure.availability
        assert spec is not None
        with localcontext(Context(prec=28)):
            scheduled_time = Decimal(spec.units) * sum((self.scheduled(m, Decimal(spec.hours_per_day)) for m in self.window),
                                                       Decimal(0))
            base = scheduled_time - self.total("planned")
            if base <= 0:
                self.note("no-scheduled-time", f"no value for {self.month}: planned maintenance takes all the scheduled time",
                          "check `units`, `hours_per_day` and the rows marked planned")
                return None
            found = 1 - self.total("down") / base
        if found < 0:
            self.note("downtime-beyond-schedule", f"the downtime in {self.month} is more than the scheduled time, so "
                      "availability is held to 0%", "rows should cover scheduled time only: an outage still open at "
                      "closing time continues in a new row the next morning", blank=False)
            return Decimal(0)
        if found > 1:
            self.note("negative-downtime", f"the downtime in {self.month} adds up to less than nothing, so availability "
                      "is held to 100%", "check the outages whose end is before their start", blank=False)
            return Decimal(1)
        return found

    def scheduled(self, month: str, hours_per_day: Decimal) -> Decimal:
        """One unit's scheduled time in a month, in microseconds.

        Round the clock (24 hours a day) it is the local month's real length: a month that moves the
        clocks (daylight saving time) is an hour shorter or longer, as the outages clipped to it are.
        A partial day (trading hours) is the days times the hours, whatever the clocks do.
        """
        if hours_per_day == 24:
            start, end = local_bounds(month, ZoneInfo(self.plan.time_zone))  # zoneinfo caches the zone
            return Decimal((end - start) // timedelta(microseconds=1))
        first, after = month_bounds(month)
        return Decimal((after - first).days) * hours_per_day * UNIT_MICROSECONDS["hours"]


def _divide(top: Decimal, bottom: Decimal) -> Decimal:
    with localcontext(Context(prec=28)):
        return top / bottom


def significant(value: Decimal, digits: int) -> Decimal:
    """``value`` rounded to ``digits`` significant digits, without trailing zeros (1.50000 -> 1.5)."""
    if value == 0 or not value.is_finite():
        return Decimal(0) if value == 0 else value
    rounded = value.quantize(Decimal(1).scaleb(value.adjusted() - digits + 1), rounding=ROUND_HALF_EVEN)
    if rounded == rounded.to_integral_value():
        return rounded.quantize(Decimal(1))
    return rounded.normalize()


def _months(months: list[str]) -> str:
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"

"""Compile the agreement's measures to SQL: one grouped query per dataset, with conditional aggregates.

``compile_plan(agreement, months, relations)`` turns every metric's :class:`~vested.core.measures.Measure`
into aggregate columns (``COUNT(*) FILTER (WHERE ...)``, ``SUM``, ``PERCENTILE_CONT``, ...) of one
query per dataset grouped by the local month, so a year of metrics over tickets is one scan.
A row's local month is a comparison with the instants where the months start (:mod:`.months`),
not a time zone conversion per row. The queries return *per-month partials* (a count, a sum, a
numerator and a denominator, downtime hours); :mod:`vested.measure.combine` adds them up over each
metric's window (quarter or year to date, the last N months) and finishes the value. Aggregates
that do not add up across months (a percentile, a distinct count) with a window wider than one
month get a second query that joins each row to the windows it belongs to and groups by the month
measured. Percentiles over the datasets asked for get a query by rank instead (:mod:`.ranks`:
bounded memory). Availability gets its own query, because an outage spanning two months counts in
both: rows are joined to the month bounds and clipped to them.

The result is a :class:`~vested.measure.plan.Plan` of sqlglot trees; ``Query.sql("duckdb")`` and
``Query.sql("postgres")`` render them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlglot import exp

from vested.core.measures import Dataset, Exclusion, Measure
from vested.core.model import Agreement
from vested.core.periods import months_between, months_to_date, parse_month
from vested.core.settlement import first_month
from vested.measure.fragments import (
    MeasureError,
    aliased,
    all_of,
    column,
    empty_relation,
    filtered,
    instant,
    instant_literal,
    local,
    microseconds_between,
    where_condition,
)
from vested.measure.months import LocalMonths, local_bounds
from vested.measure.plan import MetricPlan, Plan, Query, is_percentile
from vested.measure.ranks import Ranking, fraction_of, ranks_query, windows_table

ROW_BASED = {"count_distinct", "percentile"}
"""Aggregates that cannot be added up across months: a wider window is computed from the rows."""


def compile_plan(agreement: Agreement, months: Sequence[str], relations: Mapping[str, exp.Expr], *,
                 ranked: Collection[str] = ()) -> Plan:
    """The plan measuring every metric with a ``measure:`` for ``months`` (labels ``YYYY-MM``).

    ``relations`` gives, for each dataset id, what to read (``parquet_relation``, ``table_relation``
    or ``empty_relation`` from :mod:`vested.measure.fragments`); a dataset without one reads as empty.
    Percentiles over the datasets in ``ranked`` are computed by rank (:mod:`vested.measure.ranks`,
    memory bounded by the distinct values), the others by the engine's ``QUANTILE_CONT`` /
    ``PERCENTILE_CONT`` (faster, but holding every value in memory); both give the same numbers.
    """
    wanted = _month_labels(months)
    calendar = agreement.calendar
    time_zone = calendar.time_zone if calendar is not None else "UTC"
    fiscal_year_start = calendar.fiscal_year_start if calendar is not None else 1
    zone = _zone(time_zone)
    if not wanted:
        return Plan((), (), time_zone, fiscal_year_start, (), (), first_month(agreement))
    measured: list[tuple[int, str, Measure]] = [(i, m.id, m.measure) for i, m in enumerate(agreement.metrics)
                                                 if m.measure is not None]
    reach = {first for month in wanted for _, _, measure in measured
             for first in months_to_date(month, measure.window, fiscal_year_start)[:1]}
    span = tuple(months_between(min(reach | set(wanted)), wanted[-1]))
    context = _Context(agreement, relations, time_zone, zone, span, tuple(wanted), fiscal_year_start, frozenset(ranked))
    queries: list[Query] = []
    plans: list[MetricPlan] = []
    for dataset_id in dict.fromkeys(measure.dataset for _, _, measure in measured):
        dataset = agreement.dataset(dataset_id)
        group = [(i, mid, measure) for i, mid, measure in measured if measure.dataset == dataset_id]
        if dataset is None:
            raise MeasureError(f"dataset {dataset_id!r} is not defined", "declare it under datasets",
                               ("metrics", group[0][0], "measure", "dataset"))
        built_queries, built_plans = _DatasetCompiler(context, dataset).compile(group)
        queries.extend(built_queries)
        plans.extend(built_plans)
    return Plan(tuple(wanted), span, time_zone, fiscal_year_start, tuple(queries), tuple(plans), first_month(agreement))


def _month_labels(months: Sequence[str]) -> list[str]:
    for label in months:
        try:
            parse_month(label)
        except ValueError as problem:
            raise MeasureError(str(problem), "months are written YYYY-MM, e.g. 2025-06") from None
    return sorted(set(months))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MeasureError(f"unknown time zone {name!r}", "use an IANA name such as Europe/London or America/Chicago",
                           ("calendar", "time_zone")) from None


@dataclass(frozen=True)
class _Context:
    agreement: Agreement
    relations: Mapping[str, exp.Expr]
    time_zone: str
    zone: ZoneInfo
    span: tuple[str, ...]
    months: tuple[str, ...]
    fiscal_year_start: int
    ranked: frozenset[str] = frozenset()

    def relation(self, dataset: Dataset) -> exp.Expr:
        relation = self.relations.get(dataset.id)
        return relation if relation is not None else empty_relation(dataset)


@dataclass
class _Columns:
    """Aggregate columns of one query, each computed once however many metrics use it."""

    expressions: dict[str, exp.Expr] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    def add(self, expression: exp.Expr) -> str:
        key = expression.sql()
        if key not in self.aliases:
            self.aliases[key] = f"p{len(self.aliases)}"
            self.expressions[key] = expression
        return self.aliases[key]

    def select_list(self) -> list[exp.Expr]:
        return [exp.alias_(self.expressions[key], alias) for key, alias in self.aliases.items()]


class _DatasetCompiler:
    """Builds the queries of one dataset: the monthly query, windowed row queries, availability."""

    def __init__(self, context: _Context, dataset: Dataset) -> None:
        self.context = context
        self.dataset = dataset
        self.flags: dict[str, tuple[str, exp.Expr]] = {}
        self.local = LocalMonths(dataset, context.time_zone, context.zone, context.span, context.months, context.fiscal_year_start)

    def compile(self, group: list[tuple[int, str, Measure]]) -> tuple[list[Query], list[MetricPlan]]:
        monthly = _Columns()
        windowed: dict[str, _Columns] = {}
        rankings: dict[tuple[str, str, str], Ranking] = {}
        available = _Columns()
        plans: list[MetricPlan] = []
        for index, metric_id, measure in group:
            path = ("metrics", index, "measure")
            keep = self.keep(measure, path)
            if measure.aggregate == "availability":
                parts = self.availability_parts(measure, keep, path)
                plans.append(MetricPlan(metric_id, index, measure, f"{self.dataset.id}:availability",
                                        {role: available.add(e) for role, e in parts.items()}))
                continue
            if is_percentile(measure) and self.dataset.id in self.context.ranked:
                # Several percentiles of the same values over the same rows and window share one histogram.
                value = self.measured_value(measure, path)
                same = (str(measure.window), value.sql(), keep.sql() if keep is not None else "")
                ranking = rankings.setdefault(same, Ranking(value, keep, measure.window))
                assert measure.percentile is not None
                plans.append(MetricPlan(metric_id, index, measure, f"{self.dataset.id}:ranks:{list(rankings).index(same)}",
                                        ranking.ask(fraction_of(measure.percentile)), from_rows=True))
                continue
            parts = self.row_parts(measure, keep, path)
            wide = measure.window != "period" and _row_based(measure)
            if wide:
                key = str(measure.window)
                columns = windowed.setdefault(key, _Columns())
                plans.append(MetricPlan(metric_id, index, measure, f"{self.dataset.id}:window:{key}",
                                        {role: columns.add(e) for role, e in parts.items()}, from_rows=True))
            else:
                plans.append(MetricPlan(metric_id, index, measure, self.dataset.id,
                                        {role: monthly.add(e) for role, e in parts.items()}))
        queries = []
        if any(p.query != f"{self.dataset.id}:availability" for p in plans):
            queries.append(self.monthly_query(monthly))
        for key, columns in windowed.items():
            window: str | int = int(key) if key.isdigit() else key
            queries.append(self.window_query(f"{self.dataset.id}:window:{key}", window, columns))
        for number, ranking in enumerate(rankings.values()):
            windows = None if ranking.window == "period" else windows_table(self.local.window_pairs(ranking.window))
            queries.append(ranks_query(f"{self.dataset.id}:ranks:{number}", self.dataset.id, self.rows(), ranking,
                                       windows=windows, label=self.local.label_of))
        if available.aliases:
            queries.append(self.availability_query(available))
        return queries, plans

    # -- conditions ------------------------------------------------------------------------------

    def column_of(self, name: str, path: tuple[str | int, ...]) -> exp.Column:
        if self.dataset.column(name) is None:
            raise MeasureError(f"{name!r} is not a column of dataset {self.dataset.id!r}", "", path)
        return column(name, "r")

    def keep(self, measure: Measure, path: tuple[str | int, ...]) -> exp.Expr | None:
        """Rows the measure counts: its ``where`` and none of its exclusions."""
        excused = [exp.Not(this=local(self.flag(e, (*path, "exclude", j)), "r")) for j, e in enumerate(measure.exclude)]
        return all_of(where_condition(measure.where, self.dataset, "r", (*path, "where")), *excused)

    def flag(self, exclusion: Exclusion, path: tuple[str | int, ...]) -> str:
        """The name of an inner-query column that is true when a relief event excuses the row."""
        key = repr(exclusion)
        if key not in self.flags:
            self.flags[key] = (f"__x{len(self.flags)}", self.excused(exclusion, path))
        return self.flags[key][0]

    def excused(self, exclusion: Exclusion, path: tuple[str | int, ...]) -> exp.Expr:
        relief = self.context.agreement.dataset(exclusion.dataset)
        if relief is None:
            raise MeasureError(f"dataset {exclusion.dataset!r} is not defined", "", (*path, "dataset"))
        for name in exclusion.match:
            if self.dataset.column(name) is None or relief.column(name) is None:
                raise MeasureError(f"{name!r} must be a column of both {self.dataset.id!r} and {relief.id!r}", "", (*path, "match"))
        source = aliased(self.context.relation(relief), "x")
        if exclusion.during is None:
            # Keys only: an uncorrelated IN, which engines run as one hash lookup per row (a correlated
            # EXISTS costs DuckDB a DISTINCT over the measured rows). A missing key never matches.
            keys = [column(name, "t") for name in exclusion.match]
            relief_keys = exp.select(*(column(name, "x") for name in exclusion.match)).from_(source).where(
                exp.and_(*(exp.Not(this=exp.Is(this=column(name, "x"), expression=exp.null())) for name in exclusion.match)))
            found = exp.In(this=keys[0] if len(keys) == 1 else exp.Tuple(expressions=keys), query=relief_keys.subquery())
            return exp.Coalesce(this=found, expressions=[exp.false()])
        tests: list[exp.Expr] = [exp.EQ(this=column(name, "x"), expression=column(name, "t")) for name in exclusion.match]
        start_col, end_col = (relief.column(n) for n in exclusion.during)
        if start_col is None or end_col is None:
            raise MeasureError(f"`during` needs two columns of {relief.id!r}", "", (*path, "during"))
        row_time = self.local.instant("t")
        starts = instant(column(start_col.name, "x"), start_col.type, self.context.time_zone)
        ends = instant(column(end_col.name, "x"), end_col.type, self.context.time_zone)
        # A relief event without an end is still going on.
        tests.append(exp.GTE(this=row_time, expression=starts))
        tests.append(exp.paren(exp.or_(exp.Is(this=column(end_col.name, "x"), expression=exp.null()),
                                       exp.LT(this=row_time.copy(), expression=ends)), copy=False))
        subquery = exp.select(exp.Literal.number(1)).from_(source).where(exp.and_(*tests))
        return exp.Exists(this=subquery)

    # -- aggregates ------------------------------------------------------------------------------

    def row_parts(self, measure: Measure, keep: exp.Expr | None, path: tuple[str | int, ...]) -> dict[str, exp.Expr]:
        """The per-month aggregate columns a row-grouped measure needs, by role."""
        kind = measure.aggregate
        if kind == "count":
            return {"n": filtered(exp.Count(this=exp.Star()), keep)}
        if kind == "ratio":
            assert measure.numerator is not None and measure.denominator is not None
            return {role: self.tally(tally.aggregate, tally.column, all_of(keep, where_condition(
                        tally.where, self.dataset, "r", (*path, role, "where"))), (*path, role))
                    for role, tally in (("num", measure.numerator), ("den", measure.denominator))}
        value = self.measured_value(measure, path)
        statistic = measure.statistic if kind == "duration" else kind
        if statistic == "count_distinct":
            return {"v": filtered(exp.Count(this=exp.Distinct(expressions=[value])), keep)}
        if statistic == "sum":
            return {"s": filtered(exp.Sum(this=value), keep)}
        if statistic == "mean":
            return {"s": filtered(exp.Sum(this=value), keep), "n": filtered(exp.Count(this=value.copy()), keep)}
        if statistic in ("min", "max"):
            return {"v": filtered((exp.Min if statistic == "min" else exp.Max)(this=value), keep)}
        assert measure.percentile is not None
        fraction = format(fraction_of(measure.percentile), "f")
        as_double = exp.cast(value, exp.DataType.build("DOUBLE"))
        return {"v": filtered(exp.PercentileCont(this=as_double, expression=exp.Literal.number(fraction)), keep)}

    def measured_value(self, measure: Measure, path: tuple[str | int, ...]) -> exp.Expr:
        """What a single-column measure aggregates: its column, or a duration in whole microseconds."""
        if measure.aggregate == "duration":
            assert measure.start is not None and measure.end is not None
            return microseconds_between(self.column_of(measure.start, (*path, "start")), self.column_of(measure.end, (*path, "end")))
        assert measure.column is not None
        return self.column_of(measure.column, (*path, "column"))

    def tally(self, aggregate: str, name: str | None, condition: exp.Expr | None, path: tuple[str | int, ...]) -> exp.Expr:
        if aggregate == "count":
            return filtered(exp.Count(this=exp.Star()), condition)
        if name is None:
            raise MeasureError("a sum names no column", "add `column:`", path)
        return filtered(exp.Sum(this=self.column_of(name, (*path, "column"))), condition)

    def availability_parts(self, measure: Measure, keep: exp.Expr | None,
                           path: tuple[str | int, ...]) -> dict[str, exp.Expr]:
        """Unplanned and planned downtime in the month, in microseconds (outages clipped to the month)."""
        spec = measure.availability
        assert spec is not None
        starts = self.span_instant(spec.start, (*path, "availability", "start"))
        ends = exp.Coalesce(this=self.span_instant(spec.end, (*path, "availability", "end")), expressions=[local("ends", "m")])
        clipped = microseconds_between(exp.Greatest(this=starts, expressions=[local("starts", "m")]),
                                       exp.Least(this=ends, expressions=[local("ends", "m")]))
        planned = where_condition(spec.planned, self.dataset, "r", (*path, "availability", "planned"))
        if planned is None:
            return {"down": filtered(exp.Sum(this=clipped), keep)}
        is_planned = exp.Coalesce(this=exp.paren(planned, copy=False), expressions=[exp.false()])
        return {"down": filtered(exp.Sum(this=clipped), all_of(keep, exp.Not(this=is_planned))),
                "planned": filtered(exp.Sum(this=clipped.copy()), all_of(keep, is_planned.copy()))}

    def span_instant(self, name: str, path: tuple[str | int, ...]) -> exp.Expr:
        col = self.dataset.column(name)
        if col is None:
            raise MeasureError(f"{name!r} is not a column of dataset {self.dataset.id!r}", "", path)
        return instant(column(name, "r"), col.type, self.context.time_zone)

    # -- queries ---------------------------------------------------------------------------------

    def inner(self, extra: list[exp.Expr], where: exp.Expr) -> exp.Subquery:
        """``SELECT t.*, <extra>, <relief flags> FROM <dataset> AS t WHERE <time range>`` as ``r``."""
        flags = [exp.alias_(expression, exp.to_identifier(name)) for name, expression in self.flags.values()]
        select = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("t")), *extra, *flags)
        return select.from_(aliased(self.context.relation(self.dataset), "t")).where(where).subquery("r")

    def rows(self) -> exp.Subquery:
        """The dataset's rows in the span with their local month (``__month``), as ``r``."""
        return self.inner([self.local.labelled()], self.local.in_span())

    def monthly_query(self, columns: _Columns) -> Query:
        """Per local month: the number of rows, then every partial aggregate."""
        inner = self.rows()
        month = local("__month", "r")
        rows = exp.alias_(exp.Count(this=exp.Star()), "rows")
        select = (exp.select(exp.alias_(self.local.label_of(month), "month"), rows, *columns.select_list())
                  .from_(inner).group_by(month.copy()))
        return Query(self.dataset.id, self.dataset.id, "months", select, ("month", "rows", *columns.aliases.values()))

    def window_query(self, name: str, window: str | int, columns: _Columns) -> Query:
        """Per month measured: the aggregates over all rows of its window (each row joins every window it is in)."""
        windows = windows_table(self.local.window_pairs(window))
        inner = self.rows()
        target = local("target", "w")
        select = (exp.select(exp.alias_(target, "month"), *columns.select_list()).from_(inner)
                  .join(windows, on=exp.EQ(this=local("__month", "r"), expression=local("month", "w")))
                  .group_by(target.copy()))
        return Query(name, self.dataset.id, "windows", select, ("month", *columns.aliases.values()))

    def availability_query(self, columns: _Columns) -> Query:
        """Per local month: downtime (microseconds) of the outages overlapping it, clipped to the month."""
        spec = next(p.availability for p in self._availability_measures() if p.availability is not None)
        start_col, end_col = self.dataset.column(spec.start), self.dataset.column(spec.end)
        assert start_col is not None and end_col is not None
        tz = self.context.time_zone
        zone = self.context.zone
        first, last = local_bounds(self.context.span[0], zone)[0], local_bounds(self.context.span[-1], zone)[1]
        t_start = instant(column(spec.start, "t"), start_col.type, tz)
        t_end = instant(column(spec.end, "t"), end_col.type, tz)
        overlaps = exp.and_(exp.LT(this=t_start, expression=instant_literal(last)),
                            exp.paren(exp.or_(exp.Is(this=column(spec.end, "t"), expression=exp.null()),
                                              exp.GT(this=t_end, expression=instant_literal(first))), copy=False))
        inner = self.inner([], overlaps)
        months = exp.values([(exp.Literal.string(m), *map(instant_literal, local_bounds(m, zone)))
                             for m in self.context.span],
                            alias="m", columns=["label", "starts", "ends"])
        r_start = instant(column(spec.start, "r"), start_col.type, tz)
        r_end = exp.Coalesce(this=instant(column(spec.end, "r"), end_col.type, tz), expressions=[local("ends", "m")])
        joined = exp.and_(exp.LT(this=r_start, expression=local("ends", "m")),
                          exp.GT(this=r_end, expression=local("starts", "m")),
                          exp.GT(this=r_end.copy(), expression=r_start.copy()))
        label = local("label", "m")
        select = (exp.select(exp.alias_(label, "month"), *columns.select_list()).from_(inner)
                  .join(months, on=joined).group_by(label.copy()))
        return Query(f"{self.dataset.id}:availability", self.dataset.id, "availability", select, ("month", *columns.aliases.values()))

    def _availability_measures(self) -> list[Measure]:
        found = []
        for metric in self.context.agreement.metrics:
            m = metric.measure
            if m is not None and m.dataset == self.dataset.id and m.aggregate == "availability":
                found.append(m)
        starts_ends = {(m.availability.start, m.availability.end) for m in found if m.availability is not None}
        if len(starts_ends) > 1:
            raise MeasureError(f"availability metrics over dataset {self.dataset.id!r} use different start/end columns",
                               "measure every availability of one dataset with the same `start` and `end`")
        return found


def _row_based(measure: Measure) -> bool:
    return measure.aggregate in ROW_BASED or is_percentile(measure)

"""SQL fragments built with sqlglot: quoted columns, typed literals, conditions, instants, month labels.

Every value a user wrote (a filter value, a time zone, a file name) becomes a sqlglot literal node,
never text pasted into SQL, so quoting is the SQL generator's job and a quote in a value is data.
Fragments are dialect-neutral; :mod:`vested.measure.compile` assembles them into queries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlglot import exp

from vested.core.diagnostics import Path as DocPath
from vested.core.diagnostics import UserError
from vested.core.measures import Column, Comparison, Dataset
from vested.storage.folder import STORAGE_TYPES

MONTH_FORMAT = "%Y-%m"
"""Month label format; sqlglot writes it as strftime (DuckDB) or to_char 'YYYY-MM' (PostgreSQL)."""


class MeasureError(UserError):
    """A measure that cannot be compiled (unknown column, a filter value of the wrong type, ...)."""

    def __init__(self, message: str, hint: str = "", path: DocPath = ()) -> None:
        super().__init__("measure", message, hint, path, document="agreement")


def identifier(name: str) -> exp.Identifier:
    """A quoted identifier: column names may hold '.', '-' or capitals."""
    return exp.to_identifier(name, quoted=True)


def column(name: str, table: str) -> exp.Column:
    return exp.Column(this=identifier(name), table=exp.to_identifier(table))


def local(name: str, table: str) -> exp.Column:
    """A column the compiler made up (``__month``, ``__x0``): never a user name, which starts with a letter."""
    return exp.Column(this=exp.to_identifier(name), table=exp.to_identifier(table))


def instant_literal(moment: datetime) -> exp.Expr:
    """A TIMESTAMPTZ literal for an aware datetime, written in UTC."""
    text = moment.astimezone(UTC).isoformat(sep=" ")
    return exp.cast(exp.Literal.string(text), exp.DataType.build("TIMESTAMPTZ"))


def date_literal(day: date) -> exp.Expr:
    return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.build("DATE"))


def instant(value: exp.Expr, column_type: str, time_zone: str) -> exp.Expr:
    """The instant a timestamp or date column stands for: a date means local midnight in the time zone."""
    if column_type == "date":
        naive = exp.cast(value, exp.DataType.build("TIMESTAMP"))
        return exp.AtTimeZone(this=naive, zone=exp.Literal.string(time_zone))
    return exp.cast(value, exp.DataType.build("TIMESTAMPTZ"))


def month_start(value: exp.Expr) -> exp.Expr:
    """The month a date falls in, as the TIMESTAMP of its first day (a date is already local).

    Rows are grouped by this (a cheap truncation); only the groups are formatted as labels.
    """
    return exp.TimestampTrunc(this=exp.cast(value, exp.DataType.build("TIMESTAMP")), unit=exp.var("MONTH"))


LINEAR_MONTHS = 12
"""Months a month CASE tests one after the other; a longer span is halved (a binary search)."""


def month_number(label: str) -> int:
    """A month label as the integer YYYYMM (2025-06 -> 202506): rows are grouped by it, cheaper than by text."""
    return int(label.replace("-", ""))


def month_case(value: exp.Expr, months: Sequence[tuple[str, exp.Expr]]) -> exp.Expr:
    """The month ``value`` falls in, as YYYYMM: ``months`` are (label, where the next month starts), in order.

    ``CASE WHEN value < <end of the first month> THEN 202501 WHEN ... END``: a comparison with
    instants worked out beforehand (in the agreement's time zone, with zoneinfo) instead of a time
    zone conversion of every row, which costs DuckDB more than all the aggregates together. A value
    at or after the last end is NULL; the caller keeps values before the first month out (the span
    filter). Up to :data:`LINEAR_MONTHS` months the tests run in order; a longer span is split in
    halves (``CASE WHEN value < <middle> THEN <first half> ELSE <second half> END``), so a row costs
    about log2(months) comparisons however many years are measured.
    """
    if len(months) <= LINEAR_MONTHS:
        whens = [exp.If(this=exp.LT(this=value.copy(), expression=end.copy()), true=exp.Literal.number(month_number(label)))
                 for label, end in months]
        return exp.Case(ifs=whens)
    half = len(months) // 2
    first, second = months[:half], months[half:]
    return exp.Case(ifs=[exp.If(this=exp.LT(this=value.copy(), expression=first[-1][1].copy()), true=month_case(value, first))],
                    default=month_case(value, second))


def month_names(value: exp.Expr, labels: Sequence[str]) -> exp.Expr:
    """``CASE value WHEN 202501 THEN '2025-01' ... END``: the label of a YYYYMM (run once per group, not per row)."""
    return exp.Case(this=value, ifs=[exp.If(this=exp.Literal.number(month_number(label)), true=exp.Literal.string(label))
                                     for label in labels])


def month_label(value: exp.Expr) -> exp.Expr:
    """``YYYY-MM`` of a month start (sqlglot writes strftime for DuckDB, to_char for PostgreSQL)."""
    return exp.TimeToStr(this=value, format=exp.Literal.string(MONTH_FORMAT))


def month_start_literal(label: str) -> exp.Expr:
    return exp.cast(exp.Literal.string(f"{label}-01 00:00:00"), exp.DataType.build("TIMESTAMP"))


MICROSECONDS_BETWEEN = "VESTED_MICROSECONDS_BETWEEN"


def microseconds_between(start: exp.Expr, end: exp.Expr) -> exp.Expr:
    """Whole microseconds from ``start`` to ``end`` (NULL when either is), exact in every engine.

    sqlglot has no spelling that is both exact and fast everywhere, so this is a placeholder call
    that :func:`for_dialect` writes per engine: DuckDB ``epoch_us(end) - epoch_us(start)``
    (integers; ``EXTRACT(EPOCH FROM interval)`` is many times slower there), others
    ``EXTRACT(EPOCH FROM end - start) * 1000000`` (NUMERIC in PostgreSQL).
    """
    return exp.Anonymous(this=MICROSECONDS_BETWEEN, expressions=[start, end])


def for_dialect(tree: exp.Expr, dialect: str) -> exp.Expr:
    """A copy of ``tree`` with the placeholders sqlglot cannot transpile written for ``dialect``."""

    def lower(node: exp.Expr) -> exp.Expr:
        if not (isinstance(node, exp.Anonymous) and node.name == MICROSECONDS_BETWEEN):
            return node
        start, end = node.expressions
        if dialect == "duckdb":
            return exp.paren(exp.Sub(this=exp.Anonymous(this="EPOCH_US", expressions=[end]),
                                     expression=exp.Anonymous(this="EPOCH_US", expressions=[start])), copy=False)
        seconds = exp.Extract(this=exp.var("EPOCH"), expression=exp.paren(exp.Sub(this=end, expression=start), copy=False))
        return exp.paren(exp.Mul(this=seconds, expression=exp.Literal.number(1000000)), copy=False)

    return tree.transform(lower)


def filtered(aggregate: exp.Expr, condition: exp.Expr | None) -> exp.Expr:
    """``aggregate FILTER (WHERE condition)``; the plain aggregate when there is no condition."""
    if condition is None:
        return aggregate
    return exp.Filter(this=aggregate, expression=exp.Where(this=condition))


def all_of(*conditions: exp.Expr | None) -> exp.Expr | None:
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    return exp.and_(*present, copy=False) if len(present) > 1 else present[0]


def parquet_relation(files: Sequence[str | Path]) -> exp.Table:
    """``read_parquet([...], union_by_name = true)`` over the given files (DuckDB)."""
    paths = exp.Array(expressions=[exp.Literal.string(str(f)) for f in files])
    option = exp.EQ(this=exp.column("union_by_name"), expression=exp.true())
    return exp.Table(this=exp.ReadParquet(expressions=[paths, option]))


def table_relation(name: str) -> exp.Table:
    """A table named ``table`` or ``schema.table`` (each part quoted)."""
    parts = name.split(".")
    if not 1 <= len(parts) <= 2 or not all(parts):
        raise ValueError(f"{name!r} is not a table name (table or schema.table)")
    if len(parts) == 1:
        return exp.Table(this=identifier(parts[0]))
    return exp.Table(this=identifier(parts[1]), db=identifier(parts[0]))


def empty_relation(dataset: Dataset) -> exp.Subquery:
    """A relation with the dataset's columns and no rows: a dataset with nothing ingested yet."""
    columns = [exp.alias_(exp.cast(exp.null(), exp.DataType.build(STORAGE_TYPES[c.type])), identifier(c.name))
               for c in dataset.columns]
    return exp.select(*columns).where(exp.false()).subquery()


def aliased(relation: exp.Expr, alias: str) -> exp.Expr:
    """A copy of a FROM item (table, table function, subquery) under ``alias``."""
    copy = relation.copy()
    copy.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return copy


def literal(value: Any, col: Column, path: DocPath) -> exp.Expr:
    """A filter value as a literal of the column's type; a value that cannot be one is refused."""
    kind = col.type
    if kind == "string":
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return exp.Literal.string(text)
    if kind in ("integer", "number"):
        if isinstance(value, bool):
            raise MeasureError(f"column {col.name!r} holds numbers; {value!r} is not one", "write a number", path)
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise MeasureError(f"column {col.name!r} holds numbers; {value!r} is not one", "write a number", path) from None
        if not number.is_finite():
            raise MeasureError(f"{value!r} is not a finite number", "", path)
        return exp.Literal.number(format(number, "f"))
    if kind == "boolean":
        flag = value if isinstance(value, bool) else {"true": True, "false": False}.get(str(value).strip().lower())
        if flag is None:
            raise MeasureError(f"column {col.name!r} holds true/false; {value!r} is neither", "write true or false", path)
        return exp.true() if flag else exp.false()
    return _time_literal(value, col, path)


def _time_literal(value: Any, col: Column, path: DocPath) -> exp.Expr:
    text = str(value).strip()
    try:
        moment = date.fromisoformat(text) if col.type == "date" else datetime.fromisoformat(text)
    except ValueError:
        raise MeasureError(f"column {col.name!r} holds {col.type}s; {value!r} is not one",
                           "write ISO 8601, e.g. 2025-06-30T17:00:00Z" if col.type == "timestamp" else "write e.g. 2025-06-30",
                           path) from None
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise MeasureError(f"timestamp {value!r} has no time zone offset", "add one, e.g. 2025-06-30T17:00:00Z", path)
        return instant_literal(moment)
    return date_literal(moment)


def where_condition(where: Mapping[str, Any], dataset: Dataset, table: str, path: DocPath) -> exp.Expr | None:
    """All the conditions of a ``where`` mapping on rows of ``dataset`` (aliased ``table``); None when empty.

    A row whose column has no value never matches an equality or a bound; it does match ``not``
    (a missing value differs from every value) and ``missing: true``.
    """
    conditions: list[exp.Expr] = []
    for name, condition in where.items():
        col = dataset.column(name)
        if col is None:
            raise MeasureError(f"{name!r} is not a column of dataset {dataset.id!r}", "", (*path, name))
        conditions.extend(_comparisons(column(name, table), condition, col, (*path, name)))
    return all_of(*conditions)


def _comparisons(value: exp.Column, condition: Any, col: Column, path: DocPath) -> list[exp.Expr]:
    if not isinstance(condition, Comparison):
        return [exp.EQ(this=value.copy(), expression=literal(condition, col, path))]
    found: list[exp.Expr] = []
    c = condition
    if c.equals is not None:
        found.append(exp.EQ(this=value.copy(), expression=literal(c.equals, col, path)))
    if c.differs is not None:
        found.append(exp.NullSafeNEQ(this=value.copy(), expression=literal(c.differs, col, path)))
    if c.one_of is not None:
        found.append(exp.In(this=value.copy(), expressions=[literal(v, col, path) for v in c.one_of]) if c.one_of else exp.false())
    bounds = ((c.at_least, exp.GTE), (c.at_most, exp.LTE), (c.above, exp.GT), (c.below, exp.LT))
    for bound, operator in bounds:
        if bound is not None:
            found.append(operator(this=value.copy(), expression=literal(bound, col, path)))
    if c.missing is not None:
        null_test = exp.Is(this=value.copy(), expression=exp.null())
        found.append(null_test if c.missing else exp.Not(this=null_test))
    if not found:
        raise MeasureError(f"the condition on {col.name!r} is empty", "give e.g. `{equals: phone}` or `{at_least: 4}`", path)
    return found

"""How metrics are measured from data: datasets (columns and types) and per-metric aggregations.

An agreement may declare the datasets its measurements arrive in (``datasets:``) and, for each
metric, how its value per period is computed from them (``measure:``): count, sum, mean, ratio
of two counts or sums, percentile, duration between two timestamps, availability, with filters,
a time window and exclusions for relief events recorded as data. These records only *describe*
the measurement; ``vested.measure`` compiles them to SQL for an engine (DuckDB, PostgreSQL, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass as plain_dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, cast

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic.dataclasses import dataclass

from vested.core.records import RECORD
from vested.core.values import IDENTIFIER_PATTERN, Identifier, Number, fail, number_text_problem

ColumnType = Literal["string", "integer", "number", "boolean", "timestamp", "date"]


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Column:
    """A column of a dataset and the values it accepts."""

    name: Identifier
    """Column name as it appears in the files (CSV header, Parquet field, JSON key)."""
    type: ColumnType = "string"
    """string, integer, number, boolean, timestamp (with a time zone offset) or date."""
    required: bool = False
    """Whether every row must have a value."""
    allowed: tuple[str, ...] = ()
    """For text columns: the only values allowed (leave empty for any)."""
    minimum: Number | None = None
    """Smallest value allowed (numbers)."""
    maximum: Number | None = None
    """Largest value allowed (numbers)."""
    zone: str | None = None
    """For timestamp columns: the time zone (IANA name, e.g. Europe/London) of values written without a UTC offset."""
    description: str = ""
    """What the column holds."""


RuleOperator = Literal["<", "<=", ">", ">=", "=", "!="]


@plain_dataclass(frozen=True)
class RowRule:
    """A comparison every row must pass: ``resolved_at >= opened_at``, ``minutes <= 480``, ``channel != 'unknown'``.

    ``left`` is a column; ``right`` a column (``right_is_column``) or a constant: a number, a quoted
    text (also for dates and timestamps), or true/false. A row where either side is empty passes.
    """

    left: str
    operator: RuleOperator
    right: str | Decimal | bool
    right_is_column: bool
    text: str

    def __str__(self) -> str:
        return self.text


_RULE = re.compile(r"\s*(" + IDENTIFIER_PATTERN.strip("^$") + r")\s*(<=|>=|!=|<|>|=)\s*(.*?)\s*")
_NAME = re.compile(IDENTIFIER_PATTERN)
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def parse_rule(value: Any) -> RowRule:
    """A row rule written as text: ``column operator column-or-constant``; parsed here, never evaluated as code."""
    if isinstance(value, RowRule):
        return value
    example = "e.g. `resolved_at >= opened_at` or `minutes <= 480`"
    if not isinstance(value, str):
        raise fail("rule", "a row rule is text such as 'resolved_at >= opened_at'", example)
    match = _RULE.fullmatch(value)
    if match is None:
        raise fail("rule", f"{value!r} is not a row rule: a column, one of < <= > >= = !=, and a column or a value",
                   example)
    left, operator, right_text = match.groups()
    right: str | Decimal | bool
    if right_text in ("true", "false"):
        right, is_column = right_text == "true", False
    elif _NAME.fullmatch(right_text):
        right, is_column = right_text, True
    elif quoted := _QUOTED.fullmatch(right_text):
        right, is_column = quoted.group(1) if quoted.group(1) is not None else quoted.group(2), False
    elif right_text and number_text_problem(right_text) is None:
        right, is_column = Decimal(right_text.replace(",", "")), False
    else:
        raise fail("rule", f"{right_text!r} in the rule {value!r} is neither a column nor a value",
                   "compare with a column, a number (480), a quoted text ('phone', '2025-01-01') or true/false")
    return RowRule(left, cast(RuleOperator, operator), right, is_column, " ".join((left, operator, right_text)))


def check_rule(value: Any) -> str:
    """A row rule's text, as written once parsed (``a>=b`` becomes ``a >= b``); a rule that does not parse is refused."""
    return parse_rule(value).text


Rule = Annotated[str, BeforeValidator(check_rule),
                 WithJsonSchema({"type": "string", "description": "A row rule: `column op column-or-value`, "
                                 "op one of < <= > >= = != (e.g. `resolved_at >= opened_at`)."})]


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Dataset:
    """A kind of measurement data the parties exchange (tickets, outages, survey answers, relief events)."""

    id: Identifier
    """Short id that metrics and `vested ingest` use."""
    columns: tuple[Column, ...] = Field(min_length=1, description="The columns and their types.")
    time: Identifier
    """The timestamp (or date) column that places a row in a period."""
    key: tuple[Identifier, ...] = ()
    """Columns that identify a row; two rows with the same key are refused as duplicates."""
    owner: Identifier | None = None
    """The party that supplies the data (a party id)."""
    description: str = ""
    """What one row is."""
    rules: tuple[Rule, ...] = ()
    """Comparisons every row must pass, checked at ingest: `resolved_at >= opened_at`, `minutes <= 480`."""

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def row_rules(self) -> tuple[RowRule, ...]:
        return tuple(parse_rule(rule) for rule in self.rules)


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Comparison:
    """A condition on one column (give one or more; all must hold)."""

    equals: str | Number | bool | None = None
    """The column equals this value."""
    differs: str | Number | bool | None = Field(default=None, alias="not", description="The column differs from this value.")
    one_of: tuple[str | Number, ...] | None = Field(default=None, alias="in", description="The column is one of these values.")
    at_least: Number | None = None
    """The column is at least this."""
    at_most: Number | None = None
    """The column is at most this."""
    above: Number | None = None
    """The column is more than this."""
    below: Number | None = None
    """The column is less than this."""
    missing: bool | None = None
    """true: the column has no value; false: it has one."""


Condition = str | bool | Number | Comparison
"""A plain value means `equals`; a mapping gives any comparison."""
Where = Mapping[Identifier, Condition]


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Tally:
    """A count or a sum over the rows that match a filter (the parts of a ratio)."""

    aggregate: Literal["count", "sum"] = "count"
    """count the rows, or sum a column."""
    column: Identifier | None = None
    """The column summed (sum only)."""
    where: Where = Field(default_factory=dict, description="Only rows matching every condition count.")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Exclusion:
    """Relief: rows excused by events recorded in another dataset (force majeure, customer-caused)."""

    dataset: Identifier
    """The dataset of relief events; it must have a `reason` column."""
    match: tuple[Identifier, ...] = ()
    """Columns present in both datasets that must be equal for a row to be excused (e.g. ticket_id, store)."""
    during: tuple[Identifier, Identifier] | None = None
    """Start and end columns of the relief event: a row whose time falls in between is excused."""

    def __post_init__(self) -> None:
        if not self.match and self.during is None:
            raise fail("exclusion", "an exclusion needs `match` columns, a `during` window, or both",
                       "e.g. `match: [ticket_id]` or `during: [starts_at, ends_at]`")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Availability:
    """Uptime over scheduled time, minus declared maintenance, from a dataset of outages."""

    start: Identifier
    """Column with the start of each outage."""
    end: Identifier
    """Column with the end of each outage."""
    units: Number
    """Number of units in service (stores, servers)."""
    hours_per_day: Number = Decimal(24)
    """Scheduled hours per unit per day."""
    planned: Where = Field(default_factory=dict,
                           description="Outage rows that are declared maintenance: excluded from downtime and from scheduled time.")


Aggregate = Literal["count", "count_distinct", "sum", "mean", "min", "max", "percentile", "ratio", "duration", "availability"]


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Measure:
    """How a metric's value for a period is computed from a dataset."""

    dataset: Identifier
    """The dataset measured (a dataset id)."""
    aggregate: Aggregate
    """count, count_distinct, sum, mean, min, max, percentile, ratio, duration or availability."""
    column: Identifier | None = None
    """The column aggregated (count_distinct, sum, mean, min, max, percentile)."""
    where: Where = Field(default_factory=dict, description="Only rows matching every condition are measured.")
    numerator: Tally | None = None
    """Ratio: the count or sum on top."""
    denominator: Tally | None = None
    """Ratio: the count or sum below (a period where it is zero has no value)."""
    percentile: Number | None = Field(default=None, ge=0, le=100, description="Which percentile (0-100), for percentile and duration.")
    start: Identifier | None = None
    """Duration: the column where the duration starts."""
    end: Identifier | None = None
    """Duration: the column where it ends."""
    statistic: Literal["mean", "percentile", "max", "sum"] = "mean"
    """Duration: how the durations of the period's rows are summarised."""
    duration_unit: Literal["seconds", "minutes", "hours", "days"] = "hours"
    """Duration: the unit of the result."""
    availability: Availability | None = None
    """Availability: outage columns, units and scheduled hours."""
    scale: Number = Decimal(1)
    """Multiply the result (100 turns a fraction into a percentage)."""
    window: Literal["period", "quarter", "year"] | int = "period"
    """period (the settlement period), quarter or year to date of the fiscal calendar, or a number N: the last N periods."""
    exclude: tuple[Exclusion, ...] = ()
    """Relief events that excuse rows from the measurement."""

    def __post_init__(self) -> None:
        needs = {
            "count_distinct": ("column",), "sum": ("column",), "mean": ("column",), "min": ("column",), "max": ("column",),
            "percentile": ("column", "percentile"), "ratio": ("numerator", "denominator"), "duration": ("start", "end"),
            "availability": ("availability",),
        }.get(self.aggregate, ())
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise fail("measure", f"aggregate {self.aggregate} needs {' and '.join(missing)}",
                       f"add `{missing[0]}:` to the measure")
        if self.aggregate == "duration" and self.statistic == "percentile" and self.percentile is None:
            raise fail("measure", "a duration percentile needs `percentile:`", "e.g. `percentile: 90`")
        if isinstance(self.window, int) and self.window < 1:
            raise fail("measure", "a rolling window is at least 1 period")

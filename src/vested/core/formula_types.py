"""Formulas in the format: the value types that take one, and the records that only formulas need.

* ``{formula: "..."}`` wherever a term takes a rate or an amount that may be computed
  (:data:`RateOrFormula`, :data:`ShareOrFormula`, ``AmountSource``'s ``formula``);
* ``formula:`` on a metric (a derived metric), ``parameters:`` (named values and formulas),
  ``tables:`` (band tables that ``lookup(table, value)`` reads) and ``rules:`` (conditions every
  period's facts must meet).

A formula is parsed when the agreement is read: a syntax error is a diagnostic with the offset of
the problem inside the text (the adapter turns it into the column). Names and units are checked
by ``vested.core.checks_formula`` once the whole agreement is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, PlainSerializer, PlainValidator, WithJsonSchema
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError

from vested.core.formula import FormulaError, parse_formula
from vested.core.formula_eval import Band, Formula, TableSpec
from vested.core.money import HUNDRED
from vested.core.records import RECORD
from vested.core.values import Identifier, Number, parse_number, parse_rate, parse_share, type_name


def read_formula(value: Any, expect: str = "any", *, wrapped: bool = False) -> Formula:
    """A formula from its text (a number is a formula too); a located parse error if it is not one."""
    if isinstance(value, Formula):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        raise PydanticCustomError("formula", f"a formula is text, found {type_name(value)}",
                                  {"hint": 'write it in quotes, e.g. "orders × 12.5"', "offset": None})
    text = value if isinstance(value, str) else format(Decimal(str(value)), "f")
    try:
        return Formula(text, parse_formula(text), expect, wrapped)
    except FormulaError as problem:
        raise PydanticCustomError("formula", f"in the formula: {problem.message}",
                                  {"hint": problem.hint, "offset": problem.offset}) from None


def _formula_schema(description: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "description": description})


_as_text = PlainSerializer(lambda f: f.text if isinstance(f, Formula) else format(f, "f"), return_type=str)

FormulaText = Annotated[Formula, PlainValidator(read_formula), _as_text,
                        _formula_schema("A formula (see docs/formulas.md), e.g. \"orders × perfect_rate\".")]
ConditionText = Annotated[Formula, PlainValidator(lambda v: read_formula(v, "bool")), _as_text,
                          _formula_schema("A condition (a formula that is true or false), e.g. \"perfect_orders <= orders\".")]


def _or_formula(parse: Any, expect: str) -> Any:
    def validate(value: Any) -> Decimal | Formula:
        if isinstance(value, Formula):
            return value
        if isinstance(value, Mapping):
            if set(value) != {"formula"}:
                raise PydanticCustomError("formula", "write a computed value as {formula: \"...\"}",
                                          {"hint": "the only key is `formula`", "offset": None})
            return read_formula(value["formula"], expect, wrapped=True)
        number: Decimal = parse(value)
        return number

    return validate


_RATE_OR_FORMULA = {"anyOf": [{"type": "number"}, {"type": "string"},
                              {"type": "object", "required": ["formula"], "additionalProperties": False,
                               "properties": {"formula": {"type": "string"}}}]}
RateOrFormula = Annotated[Decimal | Formula, PlainValidator(_or_formula(parse_rate, "rate")), _as_text,
                          WithJsonSchema({**_RATE_OR_FORMULA, "description":
                                          "A rate ('25%' or 0.25), or {formula: \"...\"} computed each period."})]
ShareOrFormula = Annotated[Decimal | Formula, PlainValidator(_or_formula(parse_share, "share")), _as_text,
                           WithJsonSchema({**_RATE_OR_FORMULA, "description":
                                           "A share ('25%' or 0.25, at most 100%), or {formula: \"...\"} computed each period."})]
AmountOrFormula = Annotated[Decimal | Formula, PlainValidator(_or_formula(parse_number, "amount")), _as_text,
                            WithJsonSchema({**_RATE_OR_FORMULA, "description":
                                            "An amount (1250.50), or {formula: \"...\"} computed each period."})]
AmountFormula = Annotated[Formula, PlainValidator(lambda v: read_formula(v, "amount")), _as_text,
                          _formula_schema("A formula giving an amount of money, e.g. \"orders × cost_per_order\".")]

Unit = Literal["money", "percent", "number"]


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Parameter:
    """A named value: a number, a percentage or a formula, that formulas refer to by its id."""

    id: Identifier
    """Short id that formulas use."""
    value: FormulaText
    """The value: a number (15000000), a percentage ("50%") or a formula ("max_rate × quality")."""
    unit: Unit | None = None
    """money, percent or number; left out, the unit follows from the value (a percentage is percent)."""
    description: str = ""
    """What the parameter is, and where in the contract it comes from."""


def parse_table_value(value: Any) -> Decimal:
    if isinstance(value, str) and value.strip().endswith("%"):
        return parse_rate(value)
    return parse_number(value)


TableValue = Annotated[Decimal, PlainValidator(parse_table_value), PlainSerializer(lambda v: format(v, "f"), return_type=str),
                       WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}],
                                       "description": "A number, or a percentage such as '3.9%'."})]


@dataclass(frozen=True, kw_only=True, config=RECORD)
class TableBand:
    """A band of a table: from where to where, and its value (fixed, or linear from start to end)."""

    lower: Number | None = Field(default=None, alias="from", description="Lower bound of the band (open if left out).")
    upper: Number | None = Field(default=None, alias="to", description="Upper bound of the band (open if left out).")
    value: TableValue | None = None
    """The value everywhere in the band (a step table)."""
    start: TableValue | None = None
    """Linear band: the value at `from`."""
    end: TableValue | None = None
    """Linear band: the value at `to` (the value moves in a straight line across the band)."""

    def __post_init__(self) -> None:
        linear = self.start is not None or self.end is not None
        if linear == (self.value is not None):
            raise PydanticCustomError("table", "give a band either `value` or `start` and `end`",
                                      {"hint": "e.g. {from: 60000, value: 2%} or {from: 3000, to: 5000, start: 5%, end: 3.9%}"})
        if linear and (self.start is None or self.end is None or self.lower is None or self.upper is None):
            raise PydanticCustomError("table", "a linear band needs `from`, `to`, `start` and `end`",
                                      {"hint": "the value runs from `start` at `from` to `end` at `to`"})


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Table:
    """A band table: ``lookup(table, value)`` finds the band that holds the value and reads it."""

    id: Identifier
    """Short id that formulas use in lookup(id, value)."""
    unit: Unit = "percent"
    """Unit of the table's values: percent (the default), money or number."""
    bands: tuple[TableBand, ...] = Field(min_length=1, description="The bands, each with its value or its start and end.")
    description: str = ""
    """What the table is, and where it comes from."""

    def spec(self) -> TableSpec:
        return TableSpec(self.unit, tuple(Band(b.lower, b.upper, b.value, b.start, b.end) for b in self.bands))


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Rule:
    """A condition every period's facts must meet, or the period is refused."""

    id: Identifier
    """Short id of the rule."""
    check: ConditionText
    """The condition, e.g. \"perfect_orders <= orders\"."""
    message: str = ""
    """What is wrong when the condition fails, in words."""


def metric_share(value: Decimal, unit: str) -> Decimal:
    """A metric's value as a formula reads it: a percent metric's 80 is the share 80%."""
    return value / HUNDRED if unit == "percent" else value

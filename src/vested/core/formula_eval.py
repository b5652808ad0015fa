"""Formulas checked and evaluated: units, exact Decimal values, and the formula with its numbers in it.

    units_of(node, scope)            the unit of a formula's value, or a located FormulaError
    evaluate(formula, scope)         (value, explanation) in Decimal: "max_rate × quality = 50% × 80% = 40%"

Every value has a unit: ``money`` (an amount in the agreement's currency), ``percent`` (a share,
held as a fraction: 40% is 0.4), ``number`` (a count, hours, an index), ``bool`` (a condition), or
``scalar`` (a number written in the formula without %, which takes the unit of what it meets:
``cost + 5`` adds 5 of money). The rules refuse what cannot be meant: money added to a
percentage or a count, money times money, an amount compared with a rate. Money divided by money
is a percentage (savings ÷ benchmark is a savings rate).

Evaluation is exact, in rationals (``fractions.Fraction``): 4 ÷ 12 is one third. A value leaves the
evaluator as a Decimal in the caller's context (the pricing engine's 60 digits), or, for the
adjustments that multiply an amount by it, still exact (:func:`evaluate_exact`); nothing is rounded
until a statement line is, by the agreement's rounding policy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from difflib import get_close_matches
from fractions import Fraction
from typing import Protocol

from vested.core.bands import find_band
from vested.core.formula import COMPARISONS, Binary, Call, FormulaError, If, Name, Node, Num, Unary
from vested.core.money import percent, show

Value = Decimal | Fraction | bool
"""What a scope gives for a name: a number (a computed parameter stays an exact rational), or a condition."""
UNITS = ("money", "percent", "number", "bool", "scalar")


@dataclass(frozen=True)
class Formula:
    """A formula as written (``text``) and as read (``node``); ``expect`` is what its place needs."""

    text: str
    node: Node
    expect: str = "any"
    """amount (money or a number), rate (a percentage or a number), bool, or any."""
    wrapped: bool = False
    """Written as ``{formula: "..."}`` (where a number may stand instead), not as the value's text itself."""

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Band:
    """One row of a band table: ``value`` everywhere in it, or ``start`` → ``end`` linearly."""

    lower: Decimal | None
    upper: Decimal | None
    value: Decimal | None
    start: Decimal | None
    end: Decimal | None


@dataclass(frozen=True)
class TableSpec:
    """A band table as the evaluator reads it."""

    unit: str
    bands: tuple[Band, ...]


class Scope(Protocol):
    """What a formula may read: names with their values and units, and band tables."""

    def unit(self, name: str) -> str | None: ...

    def value(self, name: str) -> Value: ...

    def table(self, name: str) -> TableSpec | None: ...

    def known(self) -> list[str]: ...

    def known_tables(self) -> list[str]: ...

    @property
    def boundaries(self) -> str: ...


# -- units -------------------------------------------------------------------------------------------------


def _at(node: Node) -> int:
    return node.at if isinstance(node, Binary) else node.start


def _join(a: str, b: str, node: Node, what: str) -> str:
    """The unit of two values that are added, compared or chosen between."""
    if a == b:
        return a
    if "bool" in (a, b):
        raise FormulaError(f"{what} mixes a condition (true/false) with a number", _at(node),
                           "a condition goes after `if`, or with `and`/`or`", "formula-unit")
    if a == "scalar":
        return b
    if b == "scalar":
        return a
    if "money" in (a, b):
        other = b if a == "money" else a
        raise FormulaError(f"{what} mixes an amount of money with a {_UNIT_WORD[other]}", _at(node),
                           "money adds to money; multiply a rate by an amount first (amount × rate)", "formula-unit")
    return "number"  # a percentage and a count: both without dimension


_UNIT_WORD = {"money": "amount of money", "percent": "percentage", "number": "plain number", "bool": "condition",
              "scalar": "number"}


def _product(op: str, a: str, b: str, node: Node) -> str:
    if "bool" in (a, b):
        raise FormulaError("arithmetic on a condition (true/false)", _at(node), "use `if condition then a else b`",
                           "formula-unit")
    if op == "*":
        if a == b == "money":
            raise FormulaError("money times money has no meaning here", _at(node),
                               "multiply an amount by a rate or a count", "formula-unit")
        if "money" in (a, b):
            return "money"
        if a == "scalar" or b == "scalar":
            return b if a == "scalar" else a
        return "percent" if a == b == "percent" else "number"
    if a == b == "money":
        return "percent"  # a share of one amount in another
    if a == "money":
        return "money"
    if b == "money":
        return "number"
    if b == "scalar":
        return a
    if a == "scalar":
        return "number" if b == "percent" else b
    return "number" if a == b else a


def units_of(node: Node, scope: Scope) -> str:
    """The unit of ``node``'s value; a :class:`FormulaError` at the offending part if units do not fit."""
    if isinstance(node, Num):
        return "percent" if node.percent else "scalar"
    if isinstance(node, Name):
        return _name_unit(node, scope)
    if isinstance(node, Unary):
        inner = units_of(node.operand, scope)
        if node.op == "not":
            if inner != "bool":
                raise FormulaError("`not` needs a condition", node.operand.start, "write e.g. not (orders > 0)", "formula-unit")
            return "bool"
        if inner == "bool":
            raise FormulaError("a minus sign before a condition", node.start, "", "formula-unit")
        return inner
    if isinstance(node, Binary):
        left, right = units_of(node.left, scope), units_of(node.right, scope)
        if node.op in ("and", "or"):
            for side, unit in ((node.left, left), (node.right, right)):
                if unit != "bool":
                    raise FormulaError(f"`{node.op}` joins conditions, and this is a number", side.start,
                                       "compare it first, e.g. quality >= 70%", "formula-unit")
            return "bool"
        if node.op in COMPARISONS:
            _join(left, right, node, "this comparison")
            if left == "bool":
                raise FormulaError("comparing conditions", node.at, "use `and`, `or`, `not`", "formula-unit")
            return "bool"
        if node.op in "+-":
            return _join(left, right, node, "this sum" if node.op == "+" else "this difference")
        return _product(node.op, left, right, node)
    if isinstance(node, If):
        if units_of(node.condition, scope) != "bool":
            raise FormulaError("the condition of `if` must be true or false", node.condition.start,
                               "compare values, e.g. if savings >= threshold then ...", "formula-unit")
        return _join(units_of(node.then, scope), units_of(node.otherwise, scope), node, "this `if`")
    if isinstance(node, Call):
        return _call_unit(node, scope)
    raise TypeError(f"not a formula node: {node!r}")


def _call_unit(node: Call, scope: Scope) -> str:
    if node.function == "lookup":
        table_name, value = node.args
        if not isinstance(table_name, Name) or scope.table(table_name.name) is None:
            raise _unknown(table_name, "table", scope.known_tables())
        if units_of(value, scope) == "bool":
            raise FormulaError("a table is looked up by a number", value.start, "", "formula-unit")
        spec = scope.table(table_name.name)
        assert spec is not None
        return spec.unit
    units = [units_of(arg, scope) for arg in node.args]
    unit = units[0]
    for other in units[1:]:
        unit = _join(unit, other, node, f"{node.function}(...)")
    if unit == "bool":
        raise FormulaError(f"{node.function} needs numbers", node.start, "", "formula-unit")
    return unit


def _name_unit(node: Name, scope: Scope) -> str:
    unit = scope.unit(node.name)
    if unit is None:
        raise _unknown(node, "name", scope.known())
    return unit


def _unknown(node: Node, what: str, known: list[str]) -> FormulaError:
    name = node.name if isinstance(node, Name) else "?"
    close = get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else (
        "a name is a parameter, metric, outcome (or outcome.target, outcome.baseline) or pricing term id")
    if what == "table":
        return FormulaError(f"{name!r} is not a table", node.start,
                            f"did you mean {close[0]!r}?" if close else "declare it under `tables:`", "unknown-name")
    return FormulaError(f"unknown name {name!r}", node.start, hint, "unknown-name")


# -- values ------------------------------------------------------------------------------------------------


@dataclass
class _Evaluation:
    """Evaluates a tree in exact rationals: 4 ÷ 12 is one third, not 0.333... to 60 digits, so a formula such as
    1 − 4 ÷ 12 × 50% is exactly 5/6 and a line that comes to exactly half a cent is rounded as a tie."""

    scope: Scope
    shown: dict[tuple[int, int], str] = field(default_factory=dict)

    def run(self, node: Node) -> Exact:
        if isinstance(node, Num):
            return Fraction(node.value)
        if isinstance(node, Name):
            try:
                value = self.scope.value(node.name)
            except FormulaError as problem:  # the scope does not know where the name is written
                raise FormulaError(problem.message, node.start, problem.hint, problem.code) from None
            self.shown[(node.start, node.end)] = show_value(value, self.scope.unit(node.name) or "number")
            return value if isinstance(value, bool) else Fraction(value)
        if isinstance(node, Unary):
            inner = self.run(node.operand)
            return (not inner) if node.op == "not" else -_number(inner)
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, If):
            return self.run(node.then) if self.run(node.condition) else self.run(node.otherwise)
        if isinstance(node, Call):
            return self._call(node)
        raise TypeError(f"not a formula node: {node!r}")

    def _binary(self, node: Binary) -> Exact:
        if node.op == "and":
            return bool(self.run(node.left)) and bool(self.run(node.right))
        if node.op == "or":
            return bool(self.run(node.left)) or bool(self.run(node.right))
        left, right = _number(self.run(node.left)), _number(self.run(node.right))
        operations: dict[str, Callable[[Fraction, Fraction], Exact]] = {
            "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
            "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
            "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
        }
        if node.op == "/":
            if right == 0:
                raise FormulaError(f"division by zero: {self._text_of(node.right)} is 0 this period", node.right.start,
                                   "guard it, e.g. if orders > 0 then cost / orders else 0", "formula-value")
            return left / right
        return operations[node.op](left, right)

    def _text_of(self, node: Node) -> str:
        return self.shown.get((node.start, node.end), "the divisor")

    def _call(self, node: Call) -> Exact:
        if node.function == "lookup":
            table_name, argument = node.args
            assert isinstance(table_name, Name)
            spec = self.scope.table(table_name.name)
            assert spec is not None
            return _lookup(spec, _number(self.run(argument)), self.scope.boundaries, table_name.name, argument.start)
        values = [_number(self.run(arg)) for arg in node.args]
        if node.function == "min":
            return min(values)
        if node.function == "max":
            return max(values)
        if node.function == "abs":
            return abs(values[0])
        value, lowest, highest = values
        if lowest > highest:
            raise FormulaError(f"clamp's lowest ({show(to_decimal(lowest))}) is above its highest "
                               f"({show(to_decimal(highest))})", node.start, "write clamp(value, lowest, highest)",
                               "formula-value")
        return min(max(value, lowest), highest)


Exact = Fraction | bool
"""A value while a formula is evaluated: an exact rational, or a condition."""


def _number(value: Exact) -> Fraction:
    if isinstance(value, bool):  # the unit check makes this unreachable for checked formulas
        raise FormulaError("a condition where a number is needed", 0, "", "formula-unit")
    return value


def to_decimal(value: Fraction) -> Decimal:
    """An exact rational as a Decimal: exact when it terminates within the context's digits (60 in pricing)."""
    return Decimal(value.numerator) / Decimal(value.denominator)


def _lookup(spec: TableSpec, value: Fraction, boundaries: str, name: str, offset: int) -> Fraction:
    index = find_band([(b.lower, b.upper) for b in spec.bands], to_decimal(value), boundaries)
    if index is None:
        raise FormulaError(f"no band of table {name!r} holds {show(to_decimal(value))}", offset,
                           "extend the table, or leave its first and last bands open", "formula-value")
    band = spec.bands[index]
    if band.value is not None:
        return Fraction(band.value)
    assert band.start is not None and band.end is not None and band.lower is not None and band.upper is not None
    start, lower = Fraction(band.start), Fraction(band.lower)
    return start + (value - lower) / (Fraction(band.upper) - lower) * (Fraction(band.end) - start)


def lookup(spec: TableSpec, value: Decimal, boundaries: str, name: str = "table", offset: int = 0) -> Decimal:
    """The table's value at ``value``: the band's value, or linear from its start to its end across the band."""
    return to_decimal(_lookup(spec, Fraction(value), boundaries, name, offset))


def show_value(value: Value | Fraction, unit: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    number = to_decimal(value) if isinstance(value, Fraction) else value
    return percent(number) if unit == "percent" else show(number)


def evaluate_exact(formula: Formula, scope: Scope) -> tuple[Exact, str]:
    """The formula's exact value and its explanation: the formula, with each name's value put in, = the result."""
    evaluation = _Evaluation(scope)
    value = evaluation.run(formula.node)
    result = show_value(value, _result_unit(formula, scope))
    substituted = splice(formula.text, evaluation.shown)
    steps = [formula.text.strip()]
    if substituted.strip() != steps[0]:
        steps.append(substituted.strip())
    if result != steps[-1]:
        steps.append(result)
    return value, " = ".join(steps)


def evaluate(formula: Formula, scope: Scope) -> tuple[Decimal | bool, str]:
    """The formula's value as a Decimal (or a condition) and its explanation, e.g. "max_rate × quality = 50% × 80% = 40%"."""
    value, how = evaluate_exact(formula, scope)
    return (value if isinstance(value, bool) else to_decimal(value)), how


def _result_unit(formula: Formula, scope: Scope) -> str:
    try:
        return units_of(formula.node, scope)
    except FormulaError:  # pragma: no cover - a checked agreement's formulas have units
        return "number"


def splice(text: str, shown: Mapping[tuple[int, int], str]) -> str:
    """``text`` with each span in ``shown`` replaced by its value as shown."""
    parts, position = [], 0
    for (start, end), value in sorted(shown.items()):
        parts.append(text[position:start])
        parts.append(value)
        position = end
    parts.append(text[position:])
    return "".join(parts)


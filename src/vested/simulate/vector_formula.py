"""Formulas, vectorised: the same formula trees as ``vested.core.formula_eval``, evaluated over R runs.

    compiler = FormulaCompiler(agreement)
    code = compiler.compile(formula)          # code.run(values, priced) -> array (R,), or a float
    with_adjustments(code, adjustments, ...)   # a term's code followed by its adjustments
    code.metrics                               # the measured metrics it reads (derived ones expanded)
    compiler.derived()                         # derived metrics in the order the exact engine computes them

A formula that reads no metric and no term is folded when the engine is built, exactly in Decimal
by the exact evaluator, so a constant parameter is the same number in both engines. Otherwise the
tree becomes numpy operations: arithmetic elementwise, ``if`` as ``where``, ``min``/``max``/
``clamp`` as ``minimum``/``maximum``, ``lookup`` as a band table (``vector.Bands``). Comparisons
treat values within the engine's tolerance as equal (as the term compilers do at a corridor's
edge), so a computed value that is exactly on a boundary in Decimal takes the same branch here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from vested.core.adjustments import Adjustment
from vested.core.derived import FormulaScope, computed_formulas, formula_order
from vested.core.formula import Binary, Call, FormulaError, If, Name, Node, Num, Unary, names_in
from vested.core.formula_eval import Formula, evaluate
from vested.core.model import Agreement
from vested.simulate.vector import Array, Bands, Flags, Rounder, Setup, TermCode, TermState, VectorError, count, tolerance
from vested.simulate.vector import Num as Amount

Runner = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
"""(metric values, term amounts) -> a value per run (an array), or one float for every run."""


@dataclass(frozen=True)
class FormulaCode:
    run: Runner
    metrics: tuple[str, ...]
    constant: Decimal | None = None


class FormulaCompiler:
    """Compiles an agreement's formulas for :class:`vested.simulate.vector.VectorEngine`."""

    def __init__(self, agreement: Agreement, owner: str = "formula") -> None:
        self.agreement = agreement
        self.owner = owner
        self.scope = FormulaScope(agreement)
        self._metrics = {m.id: m for m in agreement.metrics}
        self._computed = computed_formulas(agreement)
        self._memo: dict[str, FormulaCode] = {}
        self.near = tolerance()
        _, cycles = formula_order(self._computed)
        if cycles:
            raise VectorError(self.owner, f"formulas refer to each other in a cycle: {' → '.join(cycles[0])}")

    def compile(self, formula: Formula) -> FormulaCode:
        reads = self._reads(formula.node)
        if not reads[0] and not reads[1]:
            try:
                value, _ = evaluate(formula, self.scope)
            except FormulaError as problem:
                raise VectorError(self.owner, problem.message) from None
            folded = Decimal(int(value)) if isinstance(value, bool) else value
            as_float = float(folded)
            return FormulaCode(lambda values, priced: as_float, (), folded)
        return FormulaCode(self._node(formula.node), tuple(sorted(reads[0])))

    def derived(self) -> list[tuple[str, FormulaCode, float]]:
        """(metric id, its code, the factor to its value in the facts: 100 for a percent metric) in order."""
        order, _ = formula_order(self._computed)
        return [(name, self.compile(self._computed[name][0]), 100.0 if self._metrics[name].unit == "percent" else 1.0)
                for name in order if name in self._metrics]

    # -- what a formula reads ---------------------------------------------------------------------

    def _reads(self, node: Node, seen: frozenset[str] = frozenset()) -> tuple[set[str], set[str]]:
        """(measured metrics, terms) the formula reads, through parameters and derived metrics."""
        metrics: set[str] = set()
        terms: set[str] = set()
        for name in names_in(node):
            kind = self.scope.kind(name.name)
            if name.name in self._computed and name.name not in seen:
                inner = self._reads(self._computed[name.name][0].node, seen | {name.name})
                metrics |= inner[0]
                terms |= inner[1]
            elif kind == "metric":
                metrics.add(name.name)
            elif kind == "outcome":
                metrics.add(self.agreement.outcome(name.name).metric)  # type: ignore[union-attr]  # checked agreement
            elif kind == "term":
                terms.add(name.name)
        return metrics, terms

    # -- the tree as numpy operations -------------------------------------------------------------

    def _node(self, node: Node) -> Runner:
        if isinstance(node, Num):
            value = float(node.value)
            return lambda values, priced: value
        if isinstance(node, Name):
            return self._name(node.name)
        if isinstance(node, Unary):
            inner = self._node(node.operand)
            if node.op == "not":
                return lambda values, priced: np.logical_not(inner(values, priced))
            return lambda values, priced: -inner(values, priced)
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, If):
            condition, then, otherwise = self._node(node.condition), self._node(node.then), self._node(node.otherwise)
            return lambda values, priced: np.where(condition(values, priced), then(values, priced), otherwise(values, priced))
        if isinstance(node, Call):
            return self._call(node)
        raise TypeError(f"not a formula node: {node!r}")

    def _name(self, name: str) -> Runner:
        kind = self.scope.kind(name)
        if name in self._computed:
            code = self._memo.get(name)
            if code is None:
                code = self._memo[name] = self.compile(self._computed[name][0])
            return code.run
        if kind == "metric":
            if self._metrics[name].unit == "percent":
                return lambda values, priced: values[name] / 100.0
            return lambda values, priced: values[name]
        if kind == "outcome":
            outcome = self.agreement.outcome(name)
            assert outcome is not None
            return self._name(outcome.metric)
        if kind == "term":
            return lambda values, priced: priced[name]
        try:
            value = float(self.scope.value(name))  # outcome.target, outcome.baseline: constants
        except FormulaError as problem:  # an outcome without a baseline, say: as the exact engine refuses it
            raise VectorError(self.owner, problem.message) from None
        return lambda values, priced: value

    def _binary(self, node: Binary) -> Runner:
        left, right, near = self._node(node.left), self._node(node.right), self.near
        op = node.op
        if op == "/":
            owner = self.owner

            def divide(values: Mapping[str, Any], priced: Mapping[str, Any]) -> Any:
                divisor = right(values, priced)
                zero = np.asarray(divisor) == 0
                if np.any(zero):
                    raise VectorError(owner, "division by zero in a formula", count(np.broadcast_to(zero, np.shape(zero))))
                return left(values, priced) / divisor

            return divide
        operations: dict[str, Callable[[Any, Any], Any]] = {
            "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
            # values within the tolerance are equal: the branch the exact engine takes on a boundary
            "<": lambda a, b: a < b - near, "<=": lambda a, b: a <= b + near,
            ">": lambda a, b: a > b + near, ">=": lambda a, b: a >= b - near,
            "==": lambda a, b: np.abs(a - b) <= near, "!=": lambda a, b: np.abs(a - b) > near,
            "and": np.logical_and, "or": np.logical_or,
        }
        operation = operations[op]
        return lambda values, priced: operation(left(values, priced), right(values, priced))

    def _call(self, node: Call) -> Runner:
        if node.function == "lookup":
            return self._lookup(node)
        args = [self._node(arg) for arg in node.args]
        if node.function == "abs":
            return lambda values, priced: np.abs(args[0](values, priced))
        if node.function == "clamp":
            value, lowest, highest = args
            return lambda values, priced: np.minimum(np.maximum(value(values, priced), lowest(values, priced)),
                                                     highest(values, priced))
        reduce = np.minimum if node.function == "min" else np.maximum

        def fold(values: Mapping[str, Any], priced: Mapping[str, Any]) -> Any:
            result = args[0](values, priced)
            for arg in args[1:]:
                result = reduce(result, arg(values, priced))
            return result

        return fold

    def _lookup(self, node: Call) -> Runner:
        table_name, argument = node.args
        assert isinstance(table_name, Name)
        spec = self.scope.table(table_name.name)
        assert spec is not None
        bands = Bands([(b.lower, b.upper) for b in spec.bands], self.agreement.policy.tier_boundaries, self.near)

        def per_band(pick: Callable[[Any], Decimal | None]) -> list[float]:
            return [float(pick(b) or 0) for b in spec.bands]

        lower = bands.table(per_band(lambda b: b.lower if b.value is None else None))
        start = bands.table(per_band(lambda b: b.value if b.value is not None else b.start))
        slope = bands.table([0.0 if b.value is not None else float((b.end - b.start) / (b.upper - b.lower))  # type: ignore[operator]
                             for b in spec.bands])
        gaps, inner, owner, name = bands.gaps, self._node(argument), self.owner, table_name.name

        def look(values: Mapping[str, Any], priced: Mapping[str, Any]) -> Any:
            x = np.asarray(inner(values, priced), dtype=np.float64)
            index = bands.index(np.atleast_1d(x))
            missing = gaps.take(index)
            if np.any(missing):
                raise VectorError(owner, f"no band of table {name!r} holds the value", count(missing))
            result = start.take(index) + (np.atleast_1d(x) - lower.take(index)) * slope.take(index)
            return result if x.ndim else float(result[0])

        return look


class DriverCompiler(FormulaCompiler):
    """A scenario's computed drivers (``formula:`` on a driver), over the drivers' arrays of one month."""

    def __init__(self, names: list[str]) -> None:
        self.owner = "driver"
        self.names = names
        self.near = tolerance()

    def compile(self, formula: Formula) -> FormulaCode:
        return FormulaCode(self._node(formula.node), tuple(n.name for n in names_in(formula.node)))

    def _name(self, name: str) -> Runner:
        return lambda values, priced: values[name]


def with_adjustments(code: TermCode, adjustments: tuple[Adjustment, ...], setup: Setup, rounder: Rounder) -> TermCode:
    """The term's code followed by its adjustments (``vested.core.adjustments``), each rounded as a line."""
    values_of = [setup.value(a.value, share=a.kind == "withhold") for a in adjustments]
    inner = code.step

    def step(values: Mapping[str, Array], priced: Mapping[str, Amount], state: Mapping[str, Array]
             ) -> tuple[Amount, dict[str, Flags] | None, TermState | None]:
        amount, binds, carried = inner(values, priced, state)
        amount = np.array(np.broadcast_to(amount, next(iter(values.values())).shape) if values else amount, dtype=np.float64)
        for adjustment, (value_of, _, _) in zip(adjustments, values_of, strict=True):
            value = value_of(values, priced)
            if adjustment.kind == "withhold":
                change = -(amount * value)
            elif adjustment.kind == "factor":
                change = amount * value - amount
            else:
                limited = np.maximum(amount, value) if adjustment.kind == "floor" else np.minimum(amount, value)
                change = limited - amount
            if adjustment.kind in ("withhold", "factor") and adjustment.applies_to != "both":
                change = change * ((amount > 0) if adjustment.applies_to == "payments" else (amount < 0))
            amount = amount + rounder.line(np.asarray(change, dtype=np.float64))
        return amount, binds, carried

    metrics = tuple(dict.fromkeys((*code.metrics, *(m for _, _, ms in values_of for m in ms))))
    return TermCode(step, metrics, code.initial, None)

"""What formulas read, and the values computed before the terms: parameters, derived metrics, rules.

    FormulaScope(agreement)                   names, units and tables of an agreement (for checks)
    derive_period(agreement, values) -> Derived   one period: parameters and derived metrics evaluated
                                               in dependency order, then every rule checked

A formula reads, by id: a parameter, a metric (a percent metric's 80 reads as 80%), an outcome (its
metric's value; ``outcome.target`` and ``outcome.baseline`` its target and baseline), and, inside a
pricing term, another term's amount. Parameters and derived metrics are evaluated before any term,
so they cannot read a term's amount; the checks say so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from vested.core.diagnostics import UserError
from vested.core.formula import FormulaError, Node, names_in
from vested.core.formula_eval import Formula, TableSpec, Value, evaluate_exact, to_decimal, units_of
from vested.core.formula_types import metric_share
from vested.core.model import Agreement
from vested.core.terms.base import FactValue

METRIC_UNITS = {"money": "money", "percent": "percent"}
"""Metric units a formula keeps; every other unit (count, hours, index, ...) reads as a plain number."""


def metric_unit(unit: str) -> str:
    return METRIC_UNITS.get(unit, "number")


class FormulaScope:
    """The names an agreement's formulas may read, their units and (given a period's values) their values."""

    def __init__(self, agreement: Agreement, values: Mapping[str, object] | None = None,
                 computed: Mapping[str, Value] | None = None, terms: Mapping[str, Decimal] | None = None,
                 *, allow_terms: bool = True):
        self.agreement = agreement
        self.values = values or {}
        self.computed = dict(computed or {})
        self.terms = terms
        self.allow_terms = allow_terms
        self.boundaries = agreement.policy.tier_boundaries
        self._metrics = {m.id: m for m in agreement.metrics}
        self._outcomes = {o.id: o for o in agreement.outcomes}
        self._parameters = {p.id: p for p in agreement.parameters}
        self._terms = {t.id for t in agreement.pricing}
        self._tables = {t.id: t.spec() for t in agreement.tables}
        self._units: dict[str, str] = {}
        self.explanations: Mapping[str, str] = {}
        """How each parameter and derived metric was computed this period."""

    def reads(self, name: str) -> list[str]:
        """The names a parameter's or a derived metric's formula reads."""
        formula = self._parameters[name].value if name in self._parameters else self._metrics[name].formula
        return [n.name for n in names_in(formula.node)] if formula is not None else []

    def with_terms(self, terms: Mapping[str, Decimal]) -> FormulaScope:
        scope = FormulaScope(self.agreement, self.values, self.computed, terms)
        scope.explanations = self.explanations
        return scope

    # -- the Scope protocol -----------------------------------------------------------------------

    def kind(self, name: str) -> str | None:
        """What ``name`` is: parameter, metric, outcome, outcome-target, outcome-baseline, term, or None."""
        if name in self._parameters:
            return "parameter"
        if name in self._metrics:
            return "metric"
        if name in self._outcomes:
            return "outcome"
        if name in self._terms and self.allow_terms:
            return "term"
        base, _, attribute = name.rpartition(".")
        if base in self._outcomes and attribute in ("target", "baseline"):
            return f"outcome-{attribute}"
        return None

    def unit(self, name: str) -> str | None:
        kind = self.kind(name)
        if kind == "parameter":
            return self._parameter_unit(name)
        if kind == "metric":
            return metric_unit(self._metrics[name].unit)
        if kind is not None and kind.startswith("outcome"):
            outcome = self._outcomes[name.rpartition(".")[0] if kind != "outcome" else name]
            metric = self._metrics.get(outcome.metric)
            return metric_unit(metric.unit) if metric is not None else "number"
        if kind == "term":
            return "money"
        return None

    def _parameter_unit(self, name: str) -> str:
        if name not in self._units:
            parameter = self._parameters[name]
            self._units[name] = "number"  # a placeholder while its formula is read: a cycle is reported elsewhere
            try:
                inferred = units_of(parameter.value.node, self)
            except FormulaError:
                inferred = "number"
            self._units[name] = parameter.unit or ("number" if inferred == "scalar" else inferred)
        return self._units[name]

    def value(self, name: str) -> Value:
        kind = self.kind(name)
        if kind in ("parameter", "metric") and name in self.computed:
            return self.computed[name]
        if kind == "metric":
            raw = self.values.get(name)
            if raw is None:
                raise FormulaError(f"no value for metric {name!r} in this period's facts", 0,
                                   f"add `{name}: ...` under `values:` in the facts file", "missing-fact")
            if not isinstance(raw, Decimal) or isinstance(raw, bool):
                raise FormulaError(f"metric {name!r} is not a number", 0, "a formula reads numbers", "fact-type")
            return metric_share(raw, self._metrics[name].unit)
        if kind == "outcome":
            return self.value(self._outcomes[name].metric)
        if kind == "outcome-target" or kind == "outcome-baseline":
            outcome = self._outcomes[name.rpartition(".")[0]]
            metric = self._metrics.get(outcome.metric)
            unit = metric.unit if metric is not None else "number"
            if kind == "outcome-target":
                return metric_share(outcome.target, unit)
            if outcome.baseline is None:
                raise FormulaError(f"outcome {outcome.id!r} has no baseline", 0, "add `baseline:` to the outcome",
                                   "formula-value")
            return metric_share(outcome.baseline.value, unit)
        if kind == "term" and self.terms is not None and name in self.terms:
            return self.terms[name]
        raise FormulaError(f"{name!r} has no value here", 0, "a term's amount is read only inside another term",
                           "formula-value")

    def table(self, name: str) -> TableSpec | None:
        return self._tables.get(name)

    def known(self) -> list[str]:
        outcomes = [f"{o}.{a}" for o in self._outcomes for a in ("target", "baseline")]
        terms = list(self._terms) if self.allow_terms else []
        return [*self._parameters, *self._metrics, *self._outcomes, *outcomes, *terms]

    def known_tables(self) -> list[str]:
        return list(self._tables)


def formulas_in(record: object, path: tuple[str | int, ...] = ()) -> Iterator[tuple[Formula, tuple[str | int, ...]]]:
    """Every formula in a record (a term, say), with its path as written in the file (``.formula`` when
    it is written as ``{formula: ...}``)."""
    if isinstance(record, Formula):
        yield record, path
    elif isinstance(record, tuple):
        for i, item in enumerate(record):
            yield from formulas_in(item, (*path, i))
    elif dataclasses.is_dataclass(record) and not isinstance(record, type):
        declared = getattr(type(record), "__pydantic_fields__", {})
        for f in dataclasses.fields(record):
            info = declared.get(f.name)
            key = info.alias if info and info.alias else f.name
            value = getattr(record, f.name)
            inside = (*path, key, "formula") if isinstance(value, Formula) and value.wrapped else (*path, key)
            yield from formulas_in(value, inside)


def formula_names(record: object) -> list[str]:
    """Every name the formulas of ``record`` read."""
    return [n.name for formula, _ in formulas_in(record) for n in names_in(formula.node)]


def measured_inputs(agreement: Agreement, names: list[str]) -> list[str]:
    """The measured metrics behind ``names``: a derived metric or a parameter by the metrics its formula reads
    (transitively), an outcome by its metric; in the order first read."""
    formulas = computed_formulas(agreement)
    outcomes = {o.id: o.metric for o in agreement.outcomes}
    metrics = {m.id for m in agreement.metrics}
    found: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        if name in formulas:
            for inner in names_in(formulas[name][0].node):
                visit(inner.name)
        elif name in metrics:
            found.append(name)
        elif name in outcomes:
            visit(outcomes[name])

    for name in names:
        visit(name)
    return found


def computed_formulas(agreement: Agreement) -> dict[str, tuple[Formula, tuple[str | int, ...]]]:
    """Every parameter and derived metric: its formula and the path of the formula in the agreement."""
    found: dict[str, tuple[Formula, tuple[str | int, ...]]] = {}
    for i, parameter in enumerate(agreement.parameters):
        found[parameter.id] = (parameter.value, ("parameters", i, "value"))
    for i, metric in enumerate(agreement.metrics):
        if metric.formula is not None:
            found[metric.id] = (metric.formula, ("metrics", i, "formula"))
    return found


def formula_order(formulas: Mapping[str, tuple[Formula, object]]) -> tuple[list[str], list[list[str]]]:
    """Names in an order where each comes after the formulas it reads; and the cycles found."""
    reads = {name: [n.name for n in names_in(f.node) if n.name in formulas] for name, (f, _) in formulas.items()}
    ordered: list[str] = []
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            cycles.append([*trail[trail.index(name):], name])
            return
        state[name] = "active"
        for dependency in reads[name]:
            visit(dependency, [*trail, name])
        state[name] = "done"
        ordered.append(name)

    for name in formulas:
        visit(name, [])
    return ordered, cycles


def reference_offset(node: Node, name: str) -> int:
    """Where in the formula ``name`` is first read (0 if it is not)."""
    return next((n.start for n in names_in(node) if n.name == name), 0)


@dataclass(frozen=True)
class Derived:
    """One period's values with the derived metrics added; parameter values; how each was computed."""

    values: Mapping[str, FactValue]
    computed: Mapping[str, Value]
    explanations: Mapping[str, str]
    scope: FormulaScope


def derive_period(agreement: Agreement, values: Mapping[str, FactValue]) -> Derived:
    """Evaluate parameters and derived metrics for a period, then check the rules; a located UserError if not."""
    formulas = computed_formulas(agreement)
    order, cycles = formula_order(formulas)
    if cycles:
        first = cycles[0]
        formula, path = formulas[first[0]]
        raise UserError("formula-cycle", f"formulas refer to each other in a cycle: {' → '.join(first)}",
                        "one of them must be a number or read other values", path, "agreement",
                        reference_offset(formula.node, first[1]))
    scope = FormulaScope(agreement, values, allow_terms=False)
    explanations: dict[str, str] = {}
    metrics = {m.id: m for m in agreement.metrics}
    for name in order:
        formula, path = formulas[name]
        value, text = _evaluate(formula, scope, path)
        scope.computed[name] = value
        explanations[name] = f"{name} = {text}"
    extended: dict[str, FactValue] = dict(values)
    for name, metric in metrics.items():
        if metric.formula is not None:
            exact = scope.computed[name]
            assert isinstance(exact, Fraction)
            value = to_decimal(exact * 100 if metric.unit == "percent" else exact)
            extended[name] = value
    scope = FormulaScope(agreement, extended, scope.computed, allow_terms=False)
    scope.explanations = explanations
    for i, rule in enumerate(agreement.rules):
        holds, text = _evaluate(rule.check, scope, ("rules", i, "check"))
        if not holds:
            read = [n.name for n in names_in(rule.check.node) if n.name in metrics and metrics[n.name].formula is None]
            where = ("values", read[0]) if read else ()
            raise UserError("rule", f"the facts break rule {rule.id!r}: {rule.message or rule.check.text} ({text})",
                            f"correct the facts, or the rule `{rule.check.text}`", where, "facts")
    return Derived(extended, scope.computed, explanations, scope)


def _evaluate(formula: Formula, scope: FormulaScope, path: tuple[str | int, ...]) -> tuple[Value, str]:
    try:
        return evaluate_exact(formula, scope)
    except FormulaError as problem:
        raise UserError(problem.code, problem.message, problem.hint, path, "agreement", problem.offset) from None

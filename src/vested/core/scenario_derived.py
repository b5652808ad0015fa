"""Scenario drivers computed from other drivers: their order, their exact values, their checks.

    derived_drivers(scenario) -> [names in order]     drivers with a `formula:`, each after those it reads
    derive_drivers(scenario, values) -> values         the computed drivers added (exact Decimal)
    check_derived_drivers(scenario) -> diagnostics     names, cycles, and what a computed driver may not have

A computed driver reads other drivers by name, after the levers' effects on them: a lever that
changes `calls` changes `labour_cost = calls × hours_per_call × hourly_rate` with it. Drivers have no
units of their own, so a scenario formula's values are plain numbers (an agreement's formulas check
units). A lever acts on the drivers a computed driver reads, never on the computed driver itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from vested.core.diagnostics import Diagnostic, error
from vested.core.formula import FormulaError, names_in
from vested.core.formula_eval import Formula, TableSpec, Value, evaluate, units_of
from vested.core.scenario import Scenario

DOCUMENT = "scenario"


class DriverScope:
    """What a scenario formula reads: the other drivers, as plain numbers."""

    boundaries = "lower_inclusive"

    def __init__(self, names: list[str], values: Mapping[str, Decimal] | None = None):
        self.names = names
        self.values = values or {}

    def unit(self, name: str) -> str | None:
        return "number" if name in self.names else None

    def value(self, name: str) -> Value:
        return self.values[name]

    def table(self, name: str) -> TableSpec | None:
        return None

    def known(self) -> list[str]:
        return self.names

    def known_tables(self) -> list[str]:
        return []


def _formulas(scenario: Scenario) -> dict[str, Formula]:
    return {name: driver.formula for name, driver in scenario.drivers.items() if driver.formula is not None}


def derived_drivers(scenario: Scenario) -> list[str]:
    """The computed drivers, each after the computed drivers it reads (a cycle is left to the checks)."""
    formulas = _formulas(scenario)
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered or name in visiting:
            return
        visiting.add(name)
        for read in names_in(formulas[name].node):
            if read.name in formulas:
                visit(read.name)
        visiting.discard(name)
        ordered.append(name)

    for name in formulas:
        visit(name)
    return ordered


def inputs_of(scenario: Scenario, names: list[str]) -> list[str]:
    """The drivers with values of their own behind ``names`` (a computed driver by what it reads, transitively)."""
    formulas = _formulas(scenario)
    found: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        if name in formulas:
            for read in names_in(formulas[name].node):
                visit(read.name)
        elif name in scenario.drivers:
            found.append(name)

    for name in names:
        visit(name)
    return found


def derive_drivers(scenario: Scenario, values: Mapping[str, Decimal], order: list[str] | None = None) -> dict[str, Decimal]:
    """``values`` (drivers with values of their own) with every computed driver added, in order."""
    result = dict(values)
    scope = DriverScope(list(scenario.drivers), result)
    for name in order if order is not None else derived_drivers(scenario):
        formula = scenario.drivers[name].formula
        assert formula is not None
        value, _ = evaluate(formula, scope)
        assert isinstance(value, Decimal), "checked: a driver's formula is a number"
        result[name] = value
    return result


def check_derived_drivers(scenario: Scenario) -> list[Diagnostic]:
    """A computed driver reads drivers that exist, is a number, is in no cycle, and no lever acts on it."""
    problems: list[Diagnostic] = []
    formulas = _formulas(scenario)
    names = list(scenario.drivers)
    scope = DriverScope(names)
    for name, formula in formulas.items():
        path = ("drivers", name, "formula")
        try:
            unit = units_of(formula.node, scope)
        except FormulaError as problem:
            problems.append(error(problem.code, f"driver {name!r}: {problem.message}", problem.hint, path,
                                  DOCUMENT, problem.offset))
            continue
        if unit == "bool":
            problems.append(error("formula-unit", f"driver {name!r} is computed as a condition, not a number",
                                  "a driver's formula gives a number", path, DOCUMENT, 0))
    for cycle in _cycles(formulas):
        first, second = cycle[0], cycle[1]
        offset = next((n.start for n in names_in(formulas[first].node) if n.name == second), 0)
        problems.append(error("formula-cycle", f"drivers are computed from each other in a cycle: {' → '.join(cycle)}",
                              "one of them must have a value of its own", ("drivers", first, "formula"), DOCUMENT, offset))
    for i, lever in enumerate(scenario.levers):
        for name in lever.effects:
            if name in formulas:
                problems.append(error("lever-effect", f"lever {lever.id!r} acts on driver {name!r}, which is computed "
                                      "by a formula", "let the lever act on the drivers the formula reads",
                                      ("levers", i, "effects", name), DOCUMENT))
    return problems


def _cycles(formulas: Mapping[str, Formula]) -> list[list[str]]:
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            cycles.append([*trail[trail.index(name):], name])
            return
        state[name] = "active"
        for read in names_in(formulas[name].node):
            if read.name in formulas:
                visit(read.name, [*trail, name])
        state[name] = "done"

    for name in formulas:
        visit(name, [])
    return cycles

"""What an agreement's formulas must mean: names that exist, units that fit, no cycles, sound tables.

Each ``validate_<rule>(agreement)`` yields diagnostics located at the formula's text and the
offset of the problem inside it (the adapter turns both into line and column). They run with the
other validations of ``vested.core.checks``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from vested.core.bands import band_problems
from vested.core.derived import FormulaScope, computed_formulas, formula_order, formulas_in, reference_offset
from vested.core.diagnostics import Diagnostic, Path, error, show_path
from vested.core.formula import FormulaError, names_in
from vested.core.formula_eval import Formula, units_of
from vested.core.model import Agreement
from vested.core.money import ONE, ZERO, show

_EXPECTED = {
    "amount": ("percent", "bool"),
    "rate": ("money", "bool"),
    "share": ("money", "bool"),
}
"""What a formula's place refuses: an amount is not a percentage, a rate is not money."""

_WHAT = {"money": "an amount of money", "percent": "a percentage", "bool": "a condition (true or false)",
         "number": "a plain number", "scalar": "a number"}


def all_formulas(agreement: Agreement) -> Iterator[tuple[Formula, Path, bool]]:
    """Every formula of the agreement: (formula, path, whether it may read term amounts)."""
    for formula, path in computed_formulas(agreement).values():
        yield formula, path, False
    for i, rule in enumerate(agreement.rules):
        yield rule.check, ("rules", i, "check"), False
    for i, term in enumerate(agreement.pricing):
        for formula, path in formulas_in(term, ("pricing", i)):
            yield formula, path, True


def _problem(problem: FormulaError, path: Path) -> Diagnostic:
    return error(problem.code, f"{_place(path)}: {problem.message}", problem.hint, path, offset=problem.offset)


def _place(path: Path) -> str:
    return f"the formula at {show_path(path)}"


def validate_formula_names(agreement: Agreement) -> Iterator[Diagnostic]:
    """Every name a formula reads exists (with a did-you-mean), and its units fit together and fit its place."""
    in_terms = FormulaScope(agreement)
    before_terms = FormulaScope(agreement, allow_terms=False)
    terms = {t.id for t in agreement.pricing}
    for formula, path, may_read_terms in all_formulas(agreement):
        scope = in_terms if may_read_terms else before_terms
        if not may_read_terms:
            term_name = next((n for n in names_in(formula.node) if n.name in terms and scope.kind(n.name) is None), None)
            if term_name is not None:
                yield error("formula-term", f"{_place(path)} reads the amount of term {term_name.name!r}, but it is "
                            "computed before any term is priced", "read term amounts only in a term's own formulas",
                            path, offset=term_name.start)
                continue
        elif path[:2] and path[0] == "pricing":
            own = agreement.pricing[int(path[1])].id
            itself = next((n for n in names_in(formula.node) if n.name == own), None)
            if itself is not None:
                yield error("formula-cycle", f"{_place(path)} reads the amount of its own term {own!r}",
                            "a term's formula reads other terms, metrics and parameters", path, offset=itself.start)
                continue
        try:
            unit = units_of(formula.node, scope)
        except FormulaError as problem:
            yield _problem(problem, path)
            continue
        yield from _fits(formula, unit, path, agreement)


def _fits(formula: Formula, unit: str, path: Path, agreement: Agreement) -> Iterator[Diagnostic]:
    refused = _EXPECTED.get(formula.expect, ())
    if formula.expect == "bool" and unit != "bool":
        yield error("formula-unit", f"{_place(path)} gives {_WHAT[unit]}, and a rule needs a condition",
                    "compare values, e.g. perfect_orders <= orders", path, offset=0)
    elif unit in refused or (formula.expect not in ("bool", "any") and unit == "bool"):
        needed = {"amount": "an amount", "rate": "a rate", "share": "a share"}[formula.expect]
        hint = ("multiply the rate by an amount, or give it as the rate field" if unit == "percent"
                else "divide by an amount, or give the amount in an amount field" if unit == "money" else "")
        yield error("formula-unit", f"{_place(path)} gives {_WHAT[unit]} where {needed} is expected", hint, path, offset=0)
    declared = _declared_unit(path, agreement)
    if declared is not None and unit not in ("scalar", declared) and "money" in (unit, declared):
        yield error("formula-unit", f"{_place(path)} gives {_WHAT[unit]}, and its unit is declared {declared}",
                    "a number written in a formula has no unit: give a price or a rate as a parameter with "
                    "`unit: money`" if declared == "money" and unit == "number"
                    else f"correct the formula, or declare the unit {unit}",
                    path, offset=0)


def _declared_unit(path: Path, agreement: Agreement) -> str | None:
    if path[0] == "parameters":
        return agreement.parameters[int(path[1])].unit
    if path[0] == "metrics":
        unit = agreement.metrics[int(path[1])].unit
        return unit if unit in ("money", "percent") else "number"
    return None


def validate_formula_cycles(agreement: Agreement) -> Iterator[Diagnostic]:
    """Parameters and derived metrics must not read each other in a circle."""
    formulas = computed_formulas(agreement)
    _, cycles = formula_order(formulas)
    for cycle in cycles:
        formula, path = formulas[cycle[0]]
        yield error("formula-cycle", f"formulas refer to each other in a cycle: {' → '.join(cycle)}",
                    "one of them must be a number or read other values", path,
                    offset=reference_offset(formula.node, cycle[1]))


def validate_formula_ids(agreement: Agreement) -> Iterator[Diagnostic]:
    """A name a formula reads means one thing: parameter and table ids differ from each other and from other ids."""
    taken = {**{m.id: "metric" for m in agreement.metrics}, **{o.id: "outcome" for o in agreement.outcomes},
             **{t.id: "term" for t in agreement.pricing}}
    named: list[tuple[str, int, str]] = [("parameters", i, p.id) for i, p in enumerate(agreement.parameters)]
    named += [("tables", i, t.id) for i, t in enumerate(agreement.tables)]
    for section, i, item_id in named:
        if item_id in taken:
            yield error("duplicate-id", f"{section[:-1]} id {item_id!r} is also a {taken[item_id]} id",
                        "give it its own id, so that a formula's name means one thing", (section, i, "id"))
        taken.setdefault(item_id, section[:-1])


def validate_tables(agreement: Agreement) -> Iterator[Diagnostic]:
    """A table's bands neither overlap nor leave gaps; a percent table's values are percentages."""
    for i, table in enumerate(agreement.tables):
        for problem in band_problems([(b.lower, b.upper) for b in table.bands]):
            yield error(f"tier-{problem.kind}", f"bands of table {table.id!r}: {problem.message}", "",
                        ("tables", i, "bands", problem.first))
        if table.unit == "percent":
            for j, band in enumerate(table.bands):
                for key in ("value", "start", "end"):
                    value = getattr(band, key)
                    if value is not None and value > ONE:
                        yield error("invalid-rate", f"{show(value)} in table {table.id!r} is not a percentage",
                                    f"write {show(value)}% if you mean {show(value)} percent", ("tables", i, "bands", j, key))


def validate_adjustments(agreement: Agreement) -> Iterator[Diagnostic]:
    """A rate withheld is between 0% and 100%; a factor is zero or more."""
    for i, term in enumerate(agreement.pricing):
        for j, adjustment in enumerate(term.adjustments):
            value = adjustment.value
            if not isinstance(value, Decimal):
                continue
            path: Path = ("pricing", i, "adjustments", j, "value")
            if adjustment.kind == "withhold" and not ZERO <= value <= ONE:
                yield error("invalid-rate", f"a withholding of {show(value)} is not between 0% and 100%",
                            f"write {show(value)}% if you mean {show(value)} percent", path)
            elif adjustment.kind == "factor" and value < 0:
                yield error("invalid-number", f"a factor of {show(value)} is negative", "a factor is zero or more", path)


FORMULA_VALIDATIONS = (validate_formula_ids, validate_formula_cycles, validate_formula_names, validate_tables,
                       validate_adjustments)
"""The formula validations, in the order they run."""

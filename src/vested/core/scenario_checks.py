"""Validate and check scenarios: plain data -> :class:`~vested.core.scenario.Scenario` and diagnostics.

    build_scenario(data) -> (Scenario | None, diagnostics)
    check_scenario(scenario) -> diagnostics                  (the scenario on its own)
    check_scenario_for(scenario, agreement) -> diagnostics   (can this agreement be evaluated on it?)
    check_tuning(scenario, agreement) -> diagnostics         (can `tune:` change this agreement's terms?)

Pure: diagnostics carry document paths (document ``scenario``); the YAML adapter
(``vested.adapters.scenario_load``) adds file positions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from difflib import get_close_matches
from functools import cache
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError

from vested.core.derived import formulas_in, measured_inputs
from vested.core.diagnostics import Diagnostic, Path, error, show_path, warning
from vested.core.facts import did_you_mean
from vested.core.format import diagnostics_from_validation
from vested.core.formula import names_in
from vested.core.model import Agreement
from vested.core.scenario import (
    DOCUMENT,
    Correlation,
    CustomerCost,
    CustomerSide,
    Driver,
    Effect,
    Lever,
    Payment,
    Scenario,
    ScenarioPeriods,
    SupplierSide,
    TuneParameter,
    Tuning,
    Uncertainty,
    resolve_periods,
)
from vested.core.scenario_derived import check_derived_drivers
from vested.core.terms import Term


@cache
def scenario_adapter() -> TypeAdapter[Scenario]:
    return TypeAdapter(Scenario)


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of the scenario format."""
    schema = scenario_adapter().json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "vested scenario"
    return schema


def build_scenario(data: Any) -> tuple[Scenario | None, list[Diagnostic]]:
    """Validate plain data as a scenario, then check it on its own."""
    if not isinstance(data, Mapping):
        return None, [error("type", "a scenario file must be a mapping of keys to values",
                            "start with `scenario: 1`, then `id:`, `discount_rate:` and `drivers:`", (), DOCUMENT)]
    try:
        scenario = scenario_adapter().validate_python(data)
    except ValidationError as exc:
        return None, [_placed(with_key_hint(d, data)) for d in diagnostics_from_validation(exc, data, DOCUMENT)]
    return scenario, check_scenario(scenario)


def check_scenario(scenario: Scenario) -> list[Diagnostic]:
    """What can be checked without an agreement: references between drivers, levers and costs."""
    problems: list[Diagnostic] = []
    drivers = sorted(scenario.drivers)

    def unknown(name: str, what: str, path: Path) -> None:
        problems.append(error("unknown-driver", f"{what} refers to driver {name!r}, which the scenario does not define",
                              did_you_mean(name, drivers) or "add it under `drivers:`", path, DOCUMENT))

    for name in scenario.supplier.unit_costs:
        if name not in scenario.drivers:
            unknown(name, "a supplier unit cost", ("supplier", "unit_costs", name))
    for i, cost in enumerate(scenario.customer.costs):
        if cost.driver is not None and cost.driver not in scenario.drivers:
            unknown(cost.driver, f"customer cost {cost.label!r}", ("customer", "costs", i, "driver"))
    seen: dict[str, int] = {}
    for i, lever in enumerate(scenario.levers):
        if lever.id in seen:
            problems.append(error("duplicate-id", f"lever id {lever.id!r} is used twice (first at levers[{seen[lever.id]}])",
                                  "give each lever its own id", ("levers", i, "id"), DOCUMENT))
        seen.setdefault(lever.id, i)
        for name in lever.effects:
            if name not in scenario.drivers:
                unknown(name, f"lever {lever.id!r}", ("levers", i, "effects", name))
    if scenario.periods is not None:
        problems.extend(check_months(scenario, scenario.periods.start, scenario.periods.months))
    problems.extend(check_uncertain_values(scenario))
    problems.extend(check_correlations(scenario))
    problems.extend(check_derived_drivers(scenario))
    return problems


def check_uncertain_values(scenario: Scenario) -> list[Diagnostic]:
    """A driver's value (the deterministic case) should be one its distribution can draw."""
    problems = []
    for name, driver in scenario.drivers.items():
        if driver.uncertain is None or driver.value is None:
            continue
        low, high = driver.uncertain.support
        if (low is not None and driver.value < low) or (high is not None and driver.value > high):
            span = f"{'' if low is None else low.normalize():f} to {'' if high is None else high.normalize():f}".strip()
            problems.append(warning("uncertain-value", f"driver {name!r} has value {driver.value.normalize():f}, outside "
                                    f"the range its distribution draws ({span})", "the value is the deterministic case: "
                                    "keep it within the distribution's range", ("drivers", name, "value"), DOCUMENT))
    return problems


CORRELATION_TOLERANCE = 1e-9
"""How far below zero the smallest eigenvalue of a correlation matrix may be (rounding) and still count as
positive semi-definite."""


def check_correlations(scenario: Scenario) -> list[Diagnostic]:
    """Correlations name two uncertain drivers that vary alike, each pair once, and fit together:
    the matrix they make must be positive semi-definite (a set of correlations that can all hold)."""
    problems: list[Diagnostic] = []
    drivers = sorted(scenario.drivers)
    seen: dict[frozenset[str], int] = {}
    for i, correlation in enumerate(scenario.correlations):
        path = ("correlations", i, "between")
        a, b = correlation.between
        problem = None
        for j, name in enumerate((a, b)):
            if name not in scenario.drivers:
                problem = error("unknown-driver", f"correlation {i + 1} refers to driver {name!r}, which the scenario does "
                                "not define", did_you_mean(name, drivers) or "add it under `drivers:`", (*path, j), DOCUMENT)
            elif scenario.drivers[name].uncertain is None:
                problem = error("not-uncertain", f"correlation {i + 1} refers to driver {name!r}, which is not uncertain",
                                f"give {name!r} an `uncertain:` distribution, or leave the correlation out", (*path, j), DOCUMENT)
            if problem is not None:
                break
        if problem is None and a == b:
            problem = error("correlation", f"correlation {i + 1} relates driver {a!r} to itself",
                            "name two different drivers", path, DOCUMENT)
        if problem is None:
            vary_a, vary_b = (_uncertain(scenario, name).vary for name in (a, b))
            if vary_a != vary_b:
                problem = error("correlation", f"correlation {i + 1} relates {a!r}, drawn {vary_a.replace('_', ' ')}, to "
                                f"{b!r}, drawn {vary_b.replace('_', ' ')}", "correlate drivers that vary alike (both "
                                "per_run or both per_period)", path, DOCUMENT)
        pair = frozenset((a, b))
        if problem is None and pair in seen:
            first = scenario.correlations[seen[pair]]
            same = first.rho == correlation.rho
            problem = error("duplicate-correlation", f"drivers {a!r} and {b!r} are correlated twice (correlations "
                            f"{seen[pair] + 1} and {i + 1})" + ("" if same else f", with rho {first.rho.normalize():f} and "
                                                                 f"{correlation.rho.normalize():f}: the matrix would not be "
                                                                 "symmetric"),
                            "give each pair of drivers one correlation", path, DOCUMENT)
        if problem is not None:
            problems.append(problem)
        else:
            seen[pair] = i
    if not problems:
        for vary in ("per_run", "per_period"):
            names, matrix = correlation_matrix(scenario, vary)
            if len(names) > 2:
                smallest = float(np.linalg.eigvalsh(np.array(matrix)).min())
                if smallest < -CORRELATION_TOLERANCE:
                    last = max(i for i, c in enumerate(scenario.correlations) if set(c.between) <= set(names))
                    problems.append(error("correlation-matrix", f"the correlations between {', '.join(names)} cannot all "
                                          f"hold at once: their matrix is not positive semi-definite (smallest eigenvalue "
                                          f"{smallest:.4g})", "weaken the correlations that contradict each other (if a "
                                          "goes with b and b with c, a cannot go strongly against c)",
                                          ("correlations", last, "rho"), DOCUMENT))
    return problems


def _uncertain(scenario: Scenario, name: str) -> Uncertainty:
    found = scenario.drivers[name].uncertain
    assert found is not None
    return found


def correlation_matrix(scenario: Scenario, vary: str) -> tuple[list[str], list[list[float]]]:
    """The drivers correlated with another one and drawn ``vary``, and their correlation matrix
    (1 on the diagonal, 0 between drivers no correlation relates), in the scenario's driver order."""
    related = {name for c in scenario.correlations for name in c.between}
    names = [name for name, driver in scenario.drivers.items()
             if name in related and driver.uncertain is not None and driver.uncertain.vary == vary]
    index = {name: i for i, name in enumerate(names)}
    matrix = [[1.0 if i == j else 0.0 for j in range(len(names))] for i in range(len(names))]
    for c in scenario.correlations:
        a, b = c.between
        if a in index and b in index and a != b:
            matrix[index[a]][index[b]] = matrix[index[b]][index[a]] = float(c.rho)
    return names, matrix


def check_months(scenario: Scenario, start: str, months: int, because: str = "") -> list[Diagnostic]:
    """Series lengths and lever starts against the number of months the scenario runs."""
    problems = []
    for name, driver in scenario.drivers.items():
        if driver.series is not None and len(driver.series) != months:
            problems.append(error("series-length", f"driver {name!r} has {len(driver.series)} values in its series and "
                                  f"the scenario runs {months} months{because}",
                                  f"give exactly {months} values, one per month from {start}",
                                  ("drivers", name, "series"), DOCUMENT))
    for i, lever in enumerate(scenario.levers):
        index = lever.start_index(start)
        if not 0 <= index < months:
            key = "starts" if lever.starts is not None else "after"
            problems.append(error("lever-start", f"lever {lever.id!r} starts outside the scenario's {months} months "
                                  f"from {start}{because}", "start it within the scenario", ("levers", i, key), DOCUMENT))
    return problems


def metrics_read(agreement: Agreement) -> dict[str, tuple[Term, Path]]:
    """Every metric the agreement's terms read (directly or through an outcome), with the first term
    that reads it and where; conversion rates given as metrics count too."""
    outcome_metric = {o.id: o.metric for o in agreement.outcomes}
    found: dict[str, tuple[Term, Path]] = {}
    for index, term in enumerate(agreement.pricing):
        for ref in term.references():
            metric = ref.id if ref.kind == "metric" else outcome_metric.get(ref.id) if ref.kind == "outcome" else None
            if metric is not None:
                # a derived metric is computed from the metrics its formula reads
                for measured in measured_inputs(agreement, [metric]):
                    found.setdefault(measured, (term, ("pricing", index, *ref.path)))
        for formula, path in formulas_in(term, ("pricing", index)):
            for measured in measured_inputs(agreement, [n.name for n in names_in(formula.node)]):
                found.setdefault(measured, (term, path))
    for i, rule in enumerate(agreement.rules):
        for measured in measured_inputs(agreement, [n.name for n in names_in(rule.check.node)]):
            if agreement.pricing:
                found.setdefault(measured, (agreement.pricing[0], ("rules", i, "check")))
    for conversion in agreement.policy.conversions:
        if isinstance(conversion.rate, str):
            used = [t for t in agreement.pricing if t.currency == conversion.from_currency]
            if used:
                found.setdefault(conversion.rate, (used[0], ("policy", "conversions")))
    return found


def check_scenario_for(scenario: Scenario, agreement: Agreement) -> list[Diagnostic]:
    """Can ``agreement`` be evaluated on ``scenario``? Every problem is located in the scenario.

    Drivers are numbers: a number metric a term reads must be one. A term that needs a yes/no,
    timestamp or series metric cannot be priced from a scenario (its optional ones are left out).
    """
    problems: list[Diagnostic] = []
    for role in ("customer", "supplier"):
        if agreement.party_with_role(role) is None:
            problems.append(error("party", f"agreement {agreement.id!r} needs exactly one {role} to be evaluated on a "
                                  "scenario", f"give one party `role: {role}`", ("parties",), "agreement"))
    for metric_id, (term, path) in metrics_read(agreement).items():
        metric = agreement.metric(metric_id)
        where = f"term {term.id!r} ({show_path(path)})"
        numeric = metric is None or metric.kind == "number"
        if metric_id not in scenario.drivers and numeric:
            problems.append(error("missing-driver", f"agreement {agreement.id!r} needs driver {metric_id!r}: {where} reads "
                                  "it, and the scenario has no such driver",
                                  f"add `{metric_id}: ...` under `drivers:`"
                                  + (f" ({did_you_mean(metric_id, sorted(scenario.drivers))})"
                                     if did_you_mean(metric_id, sorted(scenario.drivers)).startswith("did") else ""),
                                  ("drivers",), DOCUMENT))
        elif metric_id in scenario.drivers and metric is not None and not numeric:
            problems.append(error("driver-kind", f"{where} reads metric {metric_id!r}, a {metric.kind}; scenario drivers "
                                  "are numbers", "evaluate this agreement with facts files instead",
                                  ("drivers", metric_id), DOCUMENT))
    periods = resolve_periods(scenario, agreement)
    if periods is None:
        problems.append(error("missing-key", f"the scenario has no `periods:` and agreement {agreement.id!r} has no monthly "
                              "calendar to take them from", "add `periods: {start: 2025-01, months: 60}`", (), DOCUMENT))
    elif scenario.periods is None:
        problems.extend(check_months(scenario, periods.start, periods.months,
                                     f" (the calendar of agreement {agreement.id!r})"))
    return problems


def check_tuning(scenario: Scenario, agreement: Agreement) -> list[Diagnostic]:
    """Can ``tune:`` change ``agreement``? Each parameter names a term of it and a number field of that term."""
    if scenario.tune is None:
        return [error("missing-key", "the scenario has no `tune:` section saying which parameters to search",
                      "add e.g. `tune: {parameters: [{term: shared_value, field: sharing_rate, range: [10%, 50%], "
                      "step: 5%}]}`", (), DOCUMENT)]
    problems: list[Diagnostic] = []
    terms = [term.id for term in agreement.pricing]
    seen: dict[tuple[str, str], int] = {}
    for i, parameter in enumerate(scenario.tune.parameters):
        path: Path = ("tune", "parameters", i)
        term = next((t for t in agreement.pricing if t.id == parameter.term), None)
        if term is None:
            problems.append(error("unknown-term", f"tune parameter {i + 1} names term {parameter.term!r}, which agreement "
                                  f"{agreement.id!r} does not have", did_you_mean(parameter.term, terms)
                                  or f"the agreement's terms: {', '.join(terms)}", (*path, "term"), DOCUMENT))
            continue
        try:
            value = field_value(term, parameter.field)
        except LookupError as exc:
            problems.append(error("unknown-field", f"tune parameter {i + 1}: term {term.id!r} has no {exc.args[0]}",
                                  exc.args[1], (*path, "field"), DOCUMENT))
            continue
        if value is not None and not isinstance(value, Decimal | int):
            problems.append(error("unknown-field", f"tune parameter {i + 1}: {term.id}.{parameter.field} is not a number "
                                  "(only numbers, rates and amounts can be tuned)", "name a number field of the term",
                                  (*path, "field"), DOCUMENT))
            continue
        key = (parameter.term, parameter.field)
        if key in seen:
            problems.append(error("duplicate-parameter", f"tune parameters {seen[key] + 1} and {i + 1} both change "
                                  f"{term.id}.{parameter.field}", "keep one of them", (*path, "field"), DOCUMENT))
        seen.setdefault(key, i)
    return problems


def field_value(record: Any, field_path: str) -> Any:
    """The value at a dotted path in a record (``service_levels.0.target``; aliases such as ``from``
    work too). Raises LookupError(what is missing, hint) when the path does not lead to a value."""
    node = record
    walked: list[str] = []
    for part in field_path.split("."):
        if isinstance(node, tuple):
            if not part.isdigit() or int(part) >= len(node):
                raise LookupError(f"item {part} in {'.'.join(walked)}",
                                  f"{'.'.join(walked)} has {len(node)} item(s), counted from 0")
            node = node[int(part)]
        elif dataclasses.is_dataclass(node):
            name = record_field(type(node), part)
            if name is None:
                known = [info.alias or key for key, info in getattr(type(node), "__pydantic_fields__", {}).items()]
                raise LookupError(f"field {'.'.join([*walked, part])!r}",
                                  did_you_mean(part, known) or f"its fields: {', '.join(known)}")
            node = getattr(node, name)
        else:
            raise LookupError(f"field {'.'.join([*walked, part])!r}", f"{'.'.join(walked)} is a single value")
        walked.append(part)
    return node


def record_field(cls: Any, key: str) -> str | None:
    """The Python name of the field written ``key`` in a record (its name or its alias)."""
    for name, info in getattr(cls, "__pydantic_fields__", {}).items():
        if key in (name, info.alias):
            return str(name)
    return None


def _placed(diagnostic: Diagnostic) -> Diagnostic:
    """Say where, in the message too, for the scenario's own validation errors."""
    if diagnostic.code != "invalid-value" or not diagnostic.path:
        return diagnostic
    return replace(diagnostic, message=f"{show_path(diagnostic.path)}: {diagnostic.message}")


def with_key_hint(diagnostic: Diagnostic, data: Any) -> Diagnostic:
    """The shared format machinery suggests keys for agreement records only; do it for scenario records."""
    if diagnostic.code != "unknown-key" or diagnostic.hint or not diagnostic.path:
        return diagnostic
    allowed = allowed_keys(diagnostic.path[:-1], data)
    if not allowed:
        return diagnostic
    close = get_close_matches(str(diagnostic.path[-1]), allowed, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"allowed here: {', '.join(allowed)}"
    return replace(diagnostic, hint=hint)


def allowed_keys(path: Path, data: Any) -> list[str]:
    """The keys allowed in the mapping at ``path`` of a scenario document."""
    record: Any = Scenario
    parts = list(path)
    while parts:
        part = parts.pop(0)
        if isinstance(part, int):
            continue  # an item of a list of records: the record was chosen by the list's key
        record = _RECORD_OF.get((record, part))
        if record is None:
            return []
        if record in _MAPPED:
            if not parts:
                return []  # the keys of a mapping of drivers or effects are ids, not fixed keys
            parts.pop(0)
            record = _MAPPED[record]
    return [info.alias or name for name, info in getattr(record, "__pydantic_fields__", {}).items()]


class _DriverMap:  # markers for mappings whose values are records
    pass


class _EffectMap:
    pass


_RECORD_OF: dict[tuple[Any, str], Any] = {
    (Scenario, "periods"): ScenarioPeriods, (Scenario, "drivers"): _DriverMap, (Scenario, "customer"): CustomerSide,
    (Scenario, "supplier"): SupplierSide, (Scenario, "levers"): Lever, (CustomerSide, "costs"): CustomerCost,
    (Lever, "investment"): Payment, (Lever, "running_cost"): Payment, (Lever, "effects"): _EffectMap,
    (Driver, "uncertain"): Uncertainty, (Scenario, "correlations"): Correlation, (Scenario, "tune"): Tuning,
    (Tuning, "parameters"): TuneParameter,
}
_MAPPED: dict[Any, Any] = {_DriverMap: Driver, _EffectMap: Effect}

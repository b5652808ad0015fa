"""Validate and check scenarios: plain data -> :class:`~vested.core.scenario.Scenario` and diagnostics.

    build_scenario(data) -> (Scenario | None, diagnostics)
    check_scenario(scenario) -> diagnostics                  (the scenario on its own)
    check_scenario_for(scenario, agreement) -> diagnostics   (can this agreement be evaluated on it?)

Pure: diagnostics carry document paths (document ``scenario``); the YAML adapter
(``vested.adapters.scenario_load``) adds file positions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from difflib import get_close_matches
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from vested.core.diagnostics import Diagnostic, Path, error, show_path
from vested.core.facts import did_you_mean
from vested.core.format import diagnostics_from_validation
from vested.core.model import Agreement
from vested.core.scenario import (
    DOCUMENT,
    CustomerCost,
    CustomerSide,
    Driver,
    Effect,
    Lever,
    Payment,
    Scenario,
    ScenarioPeriods,
    SupplierSide,
    resolve_periods,
)
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
    return problems


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
                found.setdefault(metric, (term, ("pricing", index, *ref.path)))
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
}
_MAPPED: dict[Any, Any] = {_DriverMap: Driver, _EffectMap: Effect}

"""A period's facts: the measured values of the agreement's metrics, checked against their declarations.

Facts come from a facts file (``vested price --facts``), from measurement (``vested measure``) or
from a scenario (``vested economics``). Whatever their origin they are checked here, against the
metric declarations of the agreement: known metric, right kind, inside the declared range.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from difflib import get_close_matches
from typing import Any

from pydantic_core import PydanticCustomError

from vested.core.diagnostics import Diagnostic, error
from vested.core.model import Agreement, Metric
from vested.core.terms.base import FactValue
from vested.core.values import parse_number, parse_period, type_name


@dataclass(frozen=True)
class Facts:
    """The values of one period, by metric id, and the state terms carry in from earlier periods."""

    values: Mapping[str, FactValue] = field(default_factory=dict)
    period: str | None = None
    as_of: datetime | None = None
    state: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


MAX_DIGITS = 15
"""Most digits a number in an agreement or a facts file may have before its decimal point (10**15 is a
quadrillion): more is a typo of extra zeros, and no statement could show it to the cent."""


def did_you_mean(name: str, choices: list[str]) -> str:
    close = get_close_matches(name, choices, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else (f"known: {', '.join(sorted(choices))}" if choices else "")


def parse_timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        raise PydanticCustomError("timestamp", "a date without a time", {"hint": "write a timestamp such as 2025-06-30T17:00:00Z"})
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise PydanticCustomError("timestamp", f"{value!r} is not an ISO 8601 timestamp",
                                      {"hint": "write e.g. 2025-06-30T17:00:00Z"}) from None
    else:
        raise PydanticCustomError("timestamp", f"expected a timestamp, found {type_name(value)}",
                                  {"hint": "write e.g. 2025-06-30T17:00:00Z"})
    if parsed.tzinfo is None:
        raise PydanticCustomError("timestamp", f"{value} has no time zone",
                                  {"hint": "add an offset (Z, +01:00) so the time is unambiguous"})
    return parsed


def measured_number(raw: Any) -> Decimal:
    number = parse_number(raw)
    if abs(number) >= 10**MAX_DIGITS:
        raise PydanticCustomError("too-large", f"{number:f} is too large for a measured value (more than {MAX_DIGITS} "
                                  "digits before the decimal point)", {"hint": "check for extra zeros"})
    return number


def coerce_value(metric: Metric, raw: Any) -> FactValue:
    """Turn a raw value into the metric's kind, or raise ``PydanticCustomError`` with a hint."""
    if metric.kind == "boolean":
        if not isinstance(raw, bool):
            raise PydanticCustomError("boolean", f"expected true or false, found {type_name(raw)}", {"hint": "write true or false"})
        return raw
    if metric.kind == "timestamp":
        return parse_timestamp(raw)
    if metric.kind == "series":
        if not isinstance(raw, list | tuple):
            raise PydanticCustomError("series", f"expected a list of numbers, found {type_name(raw)}", {"hint": "write e.g. [0.2, 0.4]"})
        return tuple(measured_number(item) for item in raw)
    number = measured_number(raw)
    if metric.minimum is not None and number < metric.minimum:
        raise PydanticCustomError("range", f"{number} is below the metric's minimum {metric.minimum}",
                                  {"hint": f"{metric.id} must be at least {metric.minimum}"})
    if metric.maximum is not None and number > metric.maximum:
        raise PydanticCustomError("range", f"{number} is above the metric's maximum {metric.maximum}",
                                  {"hint": f"{metric.id} must be at most {metric.maximum}"})
    return number


def build_facts(agreement: Agreement, raw: Mapping[str, Any]) -> tuple[Facts | None, list[Diagnostic]]:
    """Check a raw facts mapping (``period``, ``as_of``, ``values``, ``state``) against the agreement."""
    problems: list[Diagnostic] = []
    allowed = {"period", "as_of", "values", "state"}
    for key in raw:
        if key not in allowed:
            problems.append(error("unknown-key", f"unknown key {key!r} in the facts", did_you_mean(str(key), sorted(allowed)),
                                  (key,), "facts"))
    period = None
    if raw.get("period") is not None:
        try:
            period = parse_period(raw["period"])
        except PydanticCustomError as exc:
            problems.append(error("period", exc.message(), (exc.context or {}).get("hint", ""), ("period",), "facts"))
    as_of = None
    if raw.get("as_of") is not None:
        try:
            as_of = parse_timestamp(raw["as_of"])
        except PydanticCustomError as exc:
            problems.append(error("timestamp", exc.message(), (exc.context or {}).get("hint", ""), ("as_of",), "facts"))
    values: dict[str, FactValue] = {}
    raw_values = raw.get("values") or {}
    if not isinstance(raw_values, Mapping):
        problems.append(error("type", "`values` must be a mapping of metric id to value", "e.g. `values: {calls: 1200}`",
                              ("values",), "facts"))
        raw_values = {}
    metrics = {m.id: m for m in agreement.metrics}
    for name, value in raw_values.items():
        metric = metrics.get(str(name))
        if metric is None:
            problems.append(error("unknown-metric", f"{name!r} is not a metric of agreement {agreement.id!r}",
                                  did_you_mean(str(name), sorted(metrics)), ("values", name), "facts"))
            continue
        if metric.formula is not None:
            problems.append(error("derived-metric", f"{metric.id!r} is a derived metric, computed from its formula "
                                  f"({metric.formula.text}); the facts do not give it",
                                  f"remove `{metric.id}` from the facts", ("values", name), "facts"))
            continue
        try:
            values[metric.id] = coerce_value(metric, value)
        except PydanticCustomError as exc:
            problems.append(error(exc.type, f"{metric.id}: {exc.message()}", (exc.context or {}).get("hint", ""),
                                  ("values", name), "facts"))
    state = raw.get("state") or {}
    if not isinstance(state, Mapping) or not all(isinstance(v, Mapping) for v in state.values()):
        problems.append(error("type", "`state` must map term ids to mappings", "", ("state",), "facts"))
        state = {}
    for term_id in state:
        if agreement.term(str(term_id)) is None:
            problems.append(error("unknown-term", f"state given for {term_id!r}, which is not a term",
                                  did_you_mean(str(term_id), [t.id for t in agreement.pricing]), ("state", term_id), "facts"))
    if any(p.is_error for p in problems):
        return None, problems
    return Facts(values=values, period=period, as_of=as_of, state={str(k): dict(v) for k, v in state.items()}), problems


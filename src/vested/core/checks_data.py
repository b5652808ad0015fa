"""Validations of the measurement declarations: datasets, their columns, and each metric's measure.

Registered in ``vested.core.checks.VALIDATIONS`` like every other validation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from vested.core.diagnostics import Diagnostic, Path, error
from vested.core.facts import did_you_mean
from vested.core.measures import Comparison, Dataset, Measure, RowRule
from vested.core.model import Agreement

NUMERIC = {"integer", "number"}
TIME = {"timestamp", "date"}


def validate_datasets(agreement: Agreement) -> Iterator[Diagnostic]:
    """Dataset ids are unique; columns are unique; key, time and owner refer to what exists."""
    seen: set[str] = set()
    parties = [p.id for p in agreement.parties]
    for i, dataset in enumerate(agreement.datasets):
        path: Path = ("datasets", i)
        if dataset.id in seen:
            yield error("duplicate-id", f"dataset id {dataset.id!r} is used twice", "give each dataset its own id", (*path, "id"))
        seen.add(dataset.id)
        names = [c.name for c in dataset.columns]
        for j, name in enumerate(names):
            if names.index(name) != j:
                yield error("duplicate-id", f"column {name!r} appears twice in dataset {dataset.id!r}", "", (*path, "columns", j, "name"))
        time_column = dataset.column(dataset.time)
        if time_column is None:
            yield error("unknown-column", f"time column {dataset.time!r} is not a column of {dataset.id!r}",
                        did_you_mean(dataset.time, names), (*path, "time"))
        elif time_column.type not in TIME:
            yield error("column-type", f"time column {dataset.time!r} is a {time_column.type}, not a timestamp or date",
                        "declare it with `type: timestamp`", (*path, "time"))
        for j, key in enumerate(dataset.key):
            if key not in names:
                yield error("unknown-column", f"key column {key!r} is not a column of {dataset.id!r}", did_you_mean(key, names),
                            (*path, "key", j))
        if dataset.owner is not None and dataset.owner not in parties:
            yield error("unknown-party", f"party {dataset.owner!r} is not defined", did_you_mean(dataset.owner, parties), (*path, "owner"))
        for j, column in enumerate(dataset.columns):
            if column.allowed and column.type != "string":
                yield error("column-type", f"`allowed` values need a string column; {column.name!r} is a {column.type}",
                            "use minimum/maximum for numbers", (*path, "columns", j, "allowed"))
            if column.zone is not None and column.type != "timestamp":
                yield error("column-type", f"`zone` is for timestamp columns; {column.name!r} is a {column.type}", "",
                            (*path, "columns", j, "zone"))
            if (column.minimum is not None or column.maximum is not None) and column.type not in NUMERIC:
                yield error("column-type", f"minimum/maximum need a number column; {column.name!r} is a {column.type}", "",
                            (*path, "columns", j))
        for j, rule in enumerate(dataset.row_rules()):
            yield from _rule(rule, dataset, (*path, "rules", j))


def _rule(rule: RowRule, dataset: Dataset, path: Path) -> Iterator[Diagnostic]:
    """A row rule compares columns of the dataset, or a column with a value of its type."""
    names = [c.name for c in dataset.columns]
    left = dataset.column(rule.left)
    if left is None:
        yield error("unknown-column", f"{rule.left!r} in the rule `{rule}` is not a column of {dataset.id!r}",
                    did_you_mean(rule.left, names), path)
        return
    if rule.right_is_column:
        right = dataset.column(str(rule.right))
        if right is None:
            yield error("unknown-column", f"{rule.right!r} in the rule `{rule}` is not a column of {dataset.id!r}",
                        did_you_mean(str(rule.right), names) or "quote a text value: 'phone'", path)
            return
        if left.type != right.type and not {left.type, right.type} <= NUMERIC:
            yield error("rule", f"the rule `{rule}` compares a {left.type} with a {right.type}",
                        "compare columns of the same type", path)
            return
    else:
        wanted = {"boolean": bool, "integer": Decimal, "number": Decimal}.get(left.type, str)
        if not isinstance(rule.right, wanted) or (wanted is Decimal and isinstance(rule.right, bool)):
            example = {"boolean": "true or false", "integer": "a number", "number": "a number", "date": "'2025-01-01'",
                       "timestamp": "'2025-01-01T00:00:00Z'"}.get(left.type, "a quoted text, e.g. 'phone'")
            yield error("rule", f"the rule `{rule}` compares the {left.type} column {left.name!r} with {rule.right!r}",
                        f"compare it with {example}", path)
            return
        if left.type in TIME and isinstance(rule.right, str) and not _time_text(rule.right, left.type):
            yield error("rule", f"{rule.right!r} in the rule `{rule}` is not a {left.type}",
                        "write e.g. '2025-01-01'" if left.type == "date" else "write e.g. '2025-01-01T00:00:00Z', with its offset",
                        path)
    if left.type == "boolean" and rule.operator not in ("=", "!="):
        yield error("rule", f"the rule `{rule}` orders true and false", "compare booleans with = or !=", path)


def _time_text(text: str, kind: str) -> bool:
    try:
        if kind == "date":
            date.fromisoformat(text)
            return len(text) == 10
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return moment.tzinfo is not None


def validate_measures(agreement: Agreement) -> Iterator[Diagnostic]:
    """Each measure reads a declared dataset, existing columns of the right type, and valid exclusions."""
    datasets = {d.id: d for d in agreement.datasets}
    parties = [p.id for p in agreement.parties]
    for i, metric in enumerate(agreement.metrics):
        path: Path = ("metrics", i)
        if metric.reported_by is not None and metric.reported_by not in parties:
            yield error("unknown-party", f"party {metric.reported_by!r} is not defined", did_you_mean(metric.reported_by, parties),
                        (*path, "reported_by"))
        if metric.measure is None:
            continue
        if metric.reported_by is not None:
            yield error("measure", f"metric {metric.id!r} is both measured and reported", "keep `measure:` or `reported_by:`",
                        (*path, "reported_by"))
        if metric.kind != "number":
            yield error("measure", f"metric {metric.id!r} has a measure but is a {metric.kind}", "measured metrics are numbers",
                        (*path, "kind"))
        measure = metric.measure
        mpath: Path = (*path, "measure")
        dataset = datasets.get(measure.dataset)
        if dataset is None:
            yield error("unknown-dataset", f"dataset {measure.dataset!r} is not defined",
                        did_you_mean(measure.dataset, list(datasets)) or "declare it under datasets", (*mpath, "dataset"))
            continue
        yield from _measure_columns(measure, dataset, datasets, mpath)


def _measure_columns(measure: Measure, dataset: Dataset, datasets: Mapping[str, Dataset], path: Path) -> Iterator[Diagnostic]:
    def column(name: str | None, where: Path, types: set[str] | None = None) -> Iterator[Diagnostic]:
        if name is None:
            return
        found = dataset.column(name)
        if found is None:
            yield error("unknown-column", f"{name!r} is not a column of dataset {dataset.id!r}",
                        did_you_mean(name, [c.name for c in dataset.columns]), where)
        elif types is not None and found.type not in types:
            yield error("column-type", f"column {name!r} is a {found.type}; this needs {' or '.join(sorted(types))}", "", where)

    value_types = None if measure.aggregate == "count_distinct" else NUMERIC
    yield from column(measure.column, (*path, "column"), value_types)
    yield from _where(measure.where, (*path, "where"), column, dataset)
    for part in ("numerator", "denominator"):
        tally = getattr(measure, part)
        if tally is not None:
            if tally.aggregate == "sum" and tally.column is None:
                yield error("measure", f"the {part} sums but names no column", "add `column:`", (*path, part))
            yield from column(tally.column, (*path, part, "column"), NUMERIC)
            yield from _where(tally.where, (*path, part, "where"), column, dataset)
    yield from column(measure.start, (*path, "start"), TIME)
    yield from column(measure.end, (*path, "end"), TIME)
    if measure.availability is not None:
        yield from column(measure.availability.start, (*path, "availability", "start"), TIME)
        yield from column(measure.availability.end, (*path, "availability", "end"), TIME)
        yield from _where(measure.availability.planned, (*path, "availability", "planned"), column, dataset)
    for j, exclusion in enumerate(measure.exclude):
        epath: Path = (*path, "exclude", j)
        relief = datasets.get(exclusion.dataset)
        if relief is None:
            yield error("unknown-dataset", f"dataset {exclusion.dataset!r} is not defined",
                        did_you_mean(exclusion.dataset, list(datasets)), (*epath, "dataset"))
            continue
        if relief.column("reason") is None:
            yield error("relief-reason", f"relief dataset {relief.id!r} has no `reason` column",
                        "relief events are recorded with a reason: add a `reason` column", (*epath, "dataset"))
        for k, name in enumerate(exclusion.match):
            yield from column(name, (*epath, "match", k))
            if relief.column(name) is None:
                yield error("unknown-column", f"{name!r} is not a column of relief dataset {relief.id!r}", "", (*epath, "match", k))
        if exclusion.during is not None:
            for k, name in enumerate(exclusion.during):
                found = relief.column(name)
                if found is None or found.type not in TIME:
                    yield error("unknown-column", f"{name!r} is not a timestamp column of relief dataset {relief.id!r}", "",
                                (*epath, "during", k))


def _where(where: Mapping[str, Any], path: Path, column: Any, dataset: Dataset | None = None) -> Iterator[Diagnostic]:
    for name, condition in where.items():
        yield from column(name, (*path, name))
        if isinstance(condition, Comparison) and all(getattr(condition, f) is None for f in
                                                     ("equals", "differs", "one_of", "at_least", "at_most", "above", "below", "missing")):
            yield error("measure", f"the condition on {name!r} is empty", "give e.g. `{equals: phone}` or `{at_least: 4}`",
                        (*path, name))


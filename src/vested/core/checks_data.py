"""Validations of the measurement declarations: datasets, their columns, and each metric's measure.

Registered in ``vested.core.checks.VALIDATIONS`` like every other validation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from vested.core.diagnostics import Diagnostic, Path, error
from vested.core.facts import did_you_mean
from vested.core.measures import Comparison, Dataset, Measure
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
            if (column.minimum is not None or column.maximum is not None) and column.type not in NUMERIC:
                yield error("column-type", f"minimum/maximum need a number column; {column.name!r} is a {column.type}", "",
                            (*path, "columns", j))


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


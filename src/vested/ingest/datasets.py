"""Which dataset a source is ingested into: one the agreement declares, or the built-in ``reported``."""

from __future__ import annotations

from vested.core.facts import did_you_mean
from vested.core.measures import Column, Dataset
from vested.core.model import Agreement
from vested.ingest.report import IngestReport, refusal

REPORTED = Dataset(
    id="reported",
    columns=(
        Column(name="metric", required=True, description="The reported metric (a metric id with `reported_by`)."),
        Column(name="period", required=True, description="The month the value is for (YYYY-MM)."),
        Column(name="value", type="number", required=True, description="The reported value."),
        Column(name="reported_by", required=True, description="The party reporting it (must be the metric's reporter)."),
        Column(name="note", description="Where the value comes from (survey, report)."),
    ),
    time="period",
    key=("metric", "period"),
    description="Values reported directly (survey scores) for metrics with `reported_by`.",
)
"""The built-in dataset of directly reported metric values (unless the agreement declares its own)."""


def dataset_for(agreement: Agreement, dataset_id: str) -> Dataset | None:
    """The agreement's dataset, or the built-in ``reported`` dataset."""
    found = agreement.dataset(dataset_id)
    if found is None and dataset_id == REPORTED.id:
        return REPORTED
    return found


def find_dataset(agreement: Agreement, dataset_id: str, label: str, fmt: str) -> tuple[Dataset | None, IngestReport | None]:
    """The dataset, or a refusal that names the datasets there are."""
    dataset = dataset_for(agreement, dataset_id)
    if dataset is not None:
        return dataset, None
    known = [d.id for d in agreement.datasets] + ([REPORTED.id] if agreement.dataset(REPORTED.id) is None else [])
    return None, refusal(dataset_id, label, fmt, "unknown-dataset",
                         f"agreement {agreement.id!r} has no dataset {dataset_id!r}",
                         did_you_mean(dataset_id, known) or "declare it under `datasets:`")

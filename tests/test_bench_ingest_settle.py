"""The ingest, start-up and settlement benchmarks compute the right numbers (never their timings)."""

from __future__ import annotations

import pytest
from benchmarks.ingest import AGREEMENT
from benchmarks.settle import slope

from vested.adapters.load import load_agreement_text

pytestmark = pytest.mark.bench


def test_the_slope_is_the_least_squares_slope() -> None:
    assert slope([1, 2, 3, 4], [2.0, 4.0, 6.0, 8.0]) == pytest.approx(2.0)
    assert slope([1, 2, 3], [5.0, 5.0, 5.0]) == 0


def test_the_ingest_agreement_declares_the_generated_columns() -> None:
    loaded = load_agreement_text(AGREEMENT, "bench.yaml")
    assert loaded.agreement is not None and loaded.ok
    dataset = loaded.agreement.dataset("tickets")
    assert dataset is not None
    assert [c.name for c in dataset.columns][-2:] == ["cost", "priority"]

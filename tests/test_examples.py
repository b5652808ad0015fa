"""The shipped examples: the Vested agreements check clean, the task-based ones draw the Activity Trap."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from vested.adapters.load import load_agreement, load_facts
from vested.core.pricing import price_period

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("folder", ["helpdesk", "car-repair", "shared-savings"])
def test_vested_agreement_checks_without_any_warning(folder: str) -> None:
    loaded = load_agreement(EXAMPLES / folder / "vested.yaml")
    assert loaded.ok
    assert loaded.diagnostics == ()


@pytest.mark.parametrize("folder", ["helpdesk", "car-repair"])
def test_task_based_agreement_draws_the_activity_trap(folder: str) -> None:
    loaded = load_agreement(EXAMPLES / folder / "task-based.yaml")
    assert loaded.ok
    codes = {d.code for d in loaded.diagnostics}
    assert "activity-trap" in codes
    assert all(not d.is_error for d in loaded.diagnostics)


def test_car_repair_pays_for_vans_on_the_road() -> None:
    """March 2025 by hand: 20 vans × 450 = 9,000; availability 95.5 on a 90→97 curve earns 5.5/7 of the 900 at risk,
    so 900 × 1.5/7 = 192.857… returns to the customer (192.86); 8% repeat repairs reach the 10% step: 50% of 1,500."""
    loaded = load_agreement(EXAMPLES / "car-repair" / "vested.yaml")
    assert loaded.agreement is not None
    facts = load_facts(loaded.agreement, EXAMPLES / "car-repair" / "vested-facts-2025-03.yaml")
    assert facts.facts is not None
    statement = price_period(loaded.agreement, facts.facts).statement
    assert statement is not None
    amounts = {line.term_id: (line.payer, line.amount) for line in statement.lines}
    assert amounts["van_fee"] == ("fleet", 9000)
    assert amounts["availability_at_risk"] == ("garage", Decimal("192.86"))
    assert amounts["first_time_bonus"] == ("fleet", 750)
    assert statement.owed("fleet", "garage") == 9000 - amounts["availability_at_risk"][1] + 750

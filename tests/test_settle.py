"""Settlement runs: measure -> price with carried state -> one statement file per month, reproducible."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import agreement as load
from vested.ingest import ingest_file
from vested.project import open_project
from vested.settle import settle_months

AGREEMENT = textwrap.dedent("""
    vested: 1
    id: desk
    title: Desk
    calendar: {start: 2025-01, months: 12, time_zone: UTC}
    parties:
      - {id: c, name: Customer, role: customer}
      - {id: s, name: Supplier, role: supplier}
    datasets:
      - id: tickets
        time: opened_at
        key: [ticket_id]
        columns:
          - {name: ticket_id, required: true}
          - {name: opened_at, type: timestamp, required: true}
          - {name: fixed, type: boolean}
    metrics:
      - id: fixed_first_time
        unit: percent
        measure: {dataset: tickets, aggregate: ratio, numerator: {where: {fixed: true}}, denominator: {}, scale: 100}
      - id: csat
        reported_by: c
    pricing:
      - {id: fee, type: fixed_fee, amount: 1000}
      - id: credits
        type: service_credits
        base: {term: fee}
        service_levels:
          - metric: fixed_first_time
            target: 80
            tiers: [{to: 80, credit: 10%}]
        rolling_cap: {periods: 3, rate: 15%}
""")

# fixed-first-time per month: Jan 50%, Feb 50%, Mar 100%: credits 100, 100, then 0;
# the rolling cap (15% of 3 × 1000 = 450 over any 3 months) never binds here.
TICKETS = [("1", "2025-01-05T10:00:00Z", "true"), ("2", "2025-01-06T10:00:00Z", "false"),
           ("3", "2025-02-05T10:00:00Z", "true"), ("4", "2025-02-06T10:00:00Z", "false"),
           ("5", "2025-03-05T10:00:00Z", "true")]


@pytest.fixture
def setup(tmp_path: Path) -> tuple[object, str, object]:
    text = AGREEMENT
    agreement = load(text)
    project = open_project(tmp_path / "project")
    data = tmp_path / "tickets.csv"
    data.write_text("ticket_id,opened_at,fixed\n" + "".join(f"{a},{b},{c}\n" for a, b, c in TICKETS))
    report = ingest_file(agreement, project, "tickets", data, who="test", now=datetime(2025, 4, 1, tzinfo=UTC))
    assert report.ok, report.summary()
    return agreement, text, project


def test_range_equals_month_by_month_byte_for_byte(setup: tuple, tmp_path: Path) -> None:
    agreement, text, project = setup
    months = ["2025-01", "2025-02", "2025-03"]
    ranged = settle_months(agreement, text, project, months)
    assert ranged.ok, ranged.diagnostics
    first = {s.period: s.text for s in ranged.settlements}
    # again, month by month into a fresh project with the same batches
    other = open_project(tmp_path / "other")
    (other.root / "batches").parent.mkdir(parents=True, exist_ok=True)
    import shutil
    shutil.copytree(project.root / "batches", other.root / "batches")
    for month in months:
        one = settle_months(agreement, text, other, [month])
        assert one.ok, one.diagnostics
        assert one.settlements[0].text == first[month]
        assert other.statement_path("desk", month).read_text() == first[month]


def test_amounts_and_carried_state(setup: tuple) -> None:
    agreement, text, project = setup
    result = settle_months(agreement, text, project, ["2025-01", "2025-02", "2025-03"])
    owed = [s.statement.owed("c", "s") for s in result.settlements]
    assert owed == [Decimal("900.00"), Decimal("900.00"), Decimal("1000.00")]
    # the rolling cap's history carries the earlier credits forward
    history = result.settlements[2].state_in["credits"]["history"]
    assert [Decimal(h["credit"]) for h in history] == [Decimal(100), Decimal(100)]


def test_resettling_same_inputs_reproduces_and_changed_inputs_are_refused(setup: tuple, tmp_path: Path) -> None:
    agreement, text, project = setup
    first = settle_months(agreement, text, project, ["2025-01"]).settlements[0].text
    again = settle_months(agreement, text, project, ["2025-01"])
    assert again.ok and again.settlements[0].text == first
    late = tmp_path / "late.csv"
    late.write_text("ticket_id,opened_at,fixed\n9,2025-01-20T10:00:00Z,true\n")
    assert ingest_file(agreement, project, "tickets", late, who="test", now=datetime(2025, 4, 2, tzinfo=UTC)).ok
    changed = settle_months(agreement, text, project, ["2025-01"])
    assert not changed.ok and changed.diagnostics[0].code == "settled"
    assert project.statement_path("desk", "2025-01").read_text() == first  # nothing overwritten
    replaced = settle_months(agreement, text, project, ["2025-01"], replace=True)
    assert replaced.ok and replaced.settlements[0].text != first


def test_months_settle_in_order(setup: tuple) -> None:
    agreement, text, project = setup
    result = settle_months(agreement, text, project, ["2025-03"])
    assert not result.ok
    assert result.diagnostics[0].code == "settle-order" and "2025-02" in result.diagnostics[0].message
    assert not project.statement_path("desk", "2025-03").exists()


def test_a_month_without_data_says_so_and_writes_nothing(setup: tuple) -> None:
    agreement, text, project = setup
    result = settle_months(agreement, text, project, ["2025-01", "2025-02", "2025-03", "2025-04"])
    assert not result.ok
    assert [s.period for s in result.settlements] == ["2025-01", "2025-02", "2025-03"]
    problem = result.diagnostics[0]
    assert problem.code == "missing-fact" and "2025-04" in problem.message and "fixed_first_time" in problem.message
    assert not project.statement_path("desk", "2025-04").exists()

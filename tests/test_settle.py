"""Settlement runs: measure -> price with carried state -> one statement file per month, reproducible."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import agreement as load
from tests.helpers import ws
from vested.ingest import ingest_file
from vested.services.settling import settle_months
from vested.storage.folder import open_project

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
    ranged = settle_months(ws(project), agreement, text, months)
    assert ranged.ok, ranged.diagnostics
    first = {s.period: s.text for s in ranged.settlements}
    # again, month by month into a fresh project with the same batches
    other = open_project(tmp_path / "other")
    (other.root / "batches").parent.mkdir(parents=True, exist_ok=True)
    import shutil
    shutil.copytree(project.root / "batches", other.root / "batches")
    for month in months:
        one = settle_months(ws(other), agreement, text, [month])
        assert one.ok, one.diagnostics
        assert one.settlements[0].text == first[month]
        assert other.statement_path("desk", month).read_text() == first[month]


def test_amounts_and_carried_state(setup: tuple) -> None:
    agreement, text, project = setup
    result = settle_months(ws(project), agreement, text, ["2025-01", "2025-02", "2025-03"])
    owed = [s.statement.owed("c", "s") for s in result.settlements]
    assert owed == [Decimal("900.00"), Decimal("900.00"), Decimal("1000.00")]
    # the rolling cap's history carries the earlier credits forward
    history = result.settlements[2].state_in["credits"]["history"]
    assert [Decimal(h["credit"]) for h in history] == [Decimal(100), Decimal(100)]


def test_resettling_same_inputs_reproduces_and_changed_inputs_are_refused(setup: tuple, tmp_path: Path) -> None:
    agreement, text, project = setup
    first = settle_months(ws(project), agreement, text, ["2025-01"]).settlements[0].text
    again = settle_months(ws(project), agreement, text, ["2025-01"])
    assert again.ok and again.settlements[0].text == first
    late = tmp_path / "late.csv"
    late.write_text("ticket_id,opened_at,fixed\n9,2025-01-20T10:00:00Z,true\n")
    assert ingest_file(agreement, project, "tickets", late, who="test", now=datetime(2025, 4, 2, tzinfo=UTC)).ok
    changed = settle_months(ws(project), agreement, text, ["2025-01"])
    assert not changed.ok and changed.diagnostics[0].code == "settled"
    assert project.statement_path("desk", "2025-01").read_text() == first  # nothing overwritten
    replaced = settle_months(ws(project), agreement, text, ["2025-01"], replace=True)
    assert replaced.ok and replaced.settlements[0].text != first


def test_months_settle_in_order(setup: tuple) -> None:
    agreement, text, project = setup
    result = settle_months(ws(project), agreement, text, ["2025-03"])
    assert not result.ok
    assert result.diagnostics[0].code == "settle-order" and "2025-02" in result.diagnostics[0].message
    assert not project.statement_path("desk", "2025-03").exists()


def test_a_month_without_data_says_so_and_writes_nothing(setup: tuple) -> None:
    agreement, text, project = setup
    result = settle_months(ws(project), agreement, text, ["2025-01", "2025-02", "2025-03", "2025-04"])
    assert not result.ok
    assert [s.period for s in result.settlements] == ["2025-01", "2025-02", "2025-03"]
    problem = result.diagnostics[0]
    assert problem.code == "missing-fact" and "2025-04" in problem.message and "fixed_first_time" in problem.message
    assert not project.statement_path("desk", "2025-04").exists()


# -- a dataset timed by dates (not instants) ------------------------------------------------------------------

VISITS = textwrap.dedent("""
    vested: 1
    id: visits
    title: Site visits
    calendar: {start: 2025-01, months: 12, time_zone: America/Chicago}
    parties:
      - {id: c, name: Customer, role: customer}
      - {id: s, name: Supplier, role: supplier}
    datasets:
      - id: visits
        time: day
        key: [visit_id]
        columns:
          - {name: visit_id, required: true}
          - {name: day, type: date, required: true}
    metrics:
      - {id: visit_count, unit: visits, measure: {dataset: visits, aggregate: count}}
    pricing:
      - {id: per_visit, type: per_unit, quantity: visit_count, rate: 50}
""")


def test_a_dataset_timed_by_dates_settles_and_lists_only_the_batches_that_reach_the_month(tmp_path: Path) -> None:
    """A date is a local day: a batch starting on February 1 holds nothing from January (in any time zone)."""
    agreement = load(VISITS)
    project = open_project(tmp_path / "project")
    january = tmp_path / "january.csv"
    january.write_text("visit_id,day\nV1,2025-01-03\nV2,2025-01-31\nV3,2025-02-02\n")
    february = tmp_path / "february.csv"
    february.write_text("visit_id,day\nV4,2025-02-01\n")
    for path in (january, february):
        assert ingest_file(agreement, project, "visits", path, who="test", now=datetime(2025, 3, 1, tzinfo=UTC)).ok
    result = settle_months(ws(project), agreement, VISITS, ["2025-01", "2025-02"])
    assert result.ok, result.diagnostics
    jan, feb = result.settlements
    assert jan.statement.owed("c", "s") == Decimal("100.00")  # V1, V2: 2 × 50
    assert feb.statement.owed("c", "s") == Decimal("100.00")  # V3, V4
    batch_of = {b.manifest["file"]: b.batch_id for b in project.batches("visits")}
    assert [b["batch_id"] for b in jan.inputs["batches"]] == [batch_of["january.csv"]]
    assert sorted(b["batch_id"] for b in feb.inputs["batches"]) == sorted(batch_of.values())
    assert {b.manifest["file"]: b.manifest["time_range"] for b in project.batches("visits")} == {
        "january.csv": ["2025-01-03", "2025-02-02"], "february.csv": ["2025-02-01", "2025-02-01"]}


# -- the first month ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["2025", "2025-Q1"])
def test_a_start_that_is_not_a_month_never_drops_carried_state(start: str, setup: tuple) -> None:
    """`start: 2025` or `2025-Q1` is refused when the agreement is checked (a start is a month); if it ever
    loads, it counts from January 2025: January settles from nothing, and February needs January first."""
    from vested.adapters.load import load_agreement_text

    _, _, project = setup
    text = AGREEMENT.replace("start: 2025-01", f"start: {start}")
    loaded = load_agreement_text(text, "desk.yaml", lint=False)
    if not loaded.ok:
        assert [d.path for d in loaded.diagnostics if d.is_error] == [("calendar", "start")]
        return
    assert loaded.agreement is not None
    february_first = settle_months(ws(project), loaded.agreement, text, ["2025-02"])
    assert not february_first.ok and february_first.diagnostics[0].code == "settle-order"
    january = settle_months(ws(project), loaded.agreement, text, ["2025-01", "2025-02"])
    assert january.ok, january.diagnostics
    assert january.settlements[0].state_in == {}
    assert [Decimal(h["credit"]) for h in january.settlements[1].state_in["credits"]["history"]] == [Decimal(100)]


# -- settling again without breaking the chain --------------------------------------------------------------------


def test_settling_a_month_again_is_refused_when_the_settled_month_after_it_would_no_longer_follow(
        setup: tuple, tmp_path: Path) -> None:
    agreement, text, project = setup
    assert settle_months(ws(project), agreement, text, ["2025-01", "2025-02", "2025-03"]).ok
    before = {m: project.statement_path("desk", m).read_text() for m in ("2025-01", "2025-02", "2025-03")}
    # three more tickets fixed first time in January: 4 of 5 = 80%, the target: no credit in January any more
    late = tmp_path / "late.csv"
    late.write_text("ticket_id,opened_at,fixed\n6,2025-01-20T10:00:00Z,true\n7,2025-01-21T10:00:00Z,true\n"
                    "8,2025-01-22T10:00:00Z,true\n")
    assert ingest_file(agreement, project, "tickets", late, who="test", now=datetime(2025, 4, 2, tzinfo=UTC)).ok

    alone = settle_months(ws(project), agreement, text, ["2025-01"], replace=True)
    assert not alone.ok and alone.written == () and alone.settlements == ()
    [problem] = alone.diagnostics
    assert problem.code == "chain" and "2025-02" in problem.message
    assert problem.hint.endswith("vested settle --from 2025-01 --to 2025-03 --replace")
    assert {m: project.statement_path("desk", m).read_text() for m in before} == before  # nothing written

    again = settle_months(ws(project), agreement, text, ["2025-01", "2025-02", "2025-03"], replace=True)
    assert again.ok, again.diagnostics
    assert [s.statement.owed("c", "s") for s in again.settlements] == [Decimal("1000.00"), Decimal("900.00"),
                                                                        Decimal("1000.00")]
    files = {m: json.loads(project.statement_path("desk", m).read_text()) for m in before}
    assert files["2025-02"]["inputs"]["state_in"] == files["2025-01"]["state_out"]
    assert files["2025-03"]["inputs"]["state_in"] == files["2025-02"]["state_out"]
    assert [Decimal(h["credit"]) for h in files["2025-03"]["inputs"]["state_in"]["credits"]["history"]] == [0, 100]


# -- problems located in the agreement, and saying the month --------------------------------------------------------


def test_settle_problems_name_the_month_and_point_into_the_agreement(tmp_path: Path) -> None:
    from vested.services import running

    project_dir = tmp_path / "project"
    data = tmp_path / "tickets.csv"
    data.write_text("ticket_id,opened_at,fixed\n" + "".join(f"{a},{b},{c}\n" for a, b, c in TICKETS))
    assert ingest_file(load(AGREEMENT), open_project(project_dir), "tickets", data, who="t",
                       now=datetime(2025, 4, 1, tzinfo=UTC)).ok
    # a bonus per ticket whose only tier stops at 1 ticket: January has 2
    tiered = AGREEMENT.replace("  - id: csat\n", "  - {id: tickets, measure: {dataset: tickets, aggregate: count}}\n"
                                                  "  - id: csat\n") \
        + "  - {id: bonus, type: tiered_volume, quantity: tickets, tiers: [{to: 1, rate: 10}]}\n"
    (tmp_path / "tiered.yaml").write_text(tiered)
    [problem] = running.settle(ws(open_project(project_dir)), tmp_path / "tiered.yaml", ["2025-01"]).diagnostics
    assert problem.code == "no-tier" and problem.message.startswith("2025-01: ") and "volume of 2" in problem.message
    assert problem.location is not None and problem.location.file == str(tmp_path / "tiered.yaml")
    assert "tiers: [{to: 1, rate: 10}]" in tiered.splitlines()[problem.location.line - 1]

    (tmp_path / "desk.yaml").write_text(AGREEMENT)
    [problem] = running.settle(ws(open_project(project_dir)), tmp_path / "desk.yaml",
                               ["2025-01", "2025-02", "2025-03", "2025-04"]).diagnostics
    assert problem.code == "missing-fact" and problem.message.startswith("2025-04: metric 'fixed_first_time' has no value")
    assert problem.location is not None and "- id: fixed_first_time" in AGREEMENT.splitlines()[problem.location.line - 1]


# -- reading the project once per run ----------------------------------------------------------------------------------


def test_settling_more_months_does_not_list_the_batches_again(setup: tuple, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Each batch's manifest is read once per run, however many months are settled."""
    import shutil

    from vested.storage.folder import Project

    agreement, text, project = setup
    calls: list[str] = []
    listed = Project.batches

    def counted(self: Project, dataset: str) -> list:
        calls.append(dataset)
        return listed(self, dataset)

    monkeypatch.setattr(Project, "batches", counted)
    assert settle_months(ws(project), agreement, text, ["2025-01"]).ok
    one_month = len(calls)
    other = open_project(tmp_path / "other")
    shutil.copytree(project.root / "batches", other.root / "batches")
    calls.clear()
    assert settle_months(ws(other), agreement, text, ["2025-01", "2025-02", "2025-03"]).ok
    assert len(calls) == one_month


@pytest.mark.parametrize(("kind", "first", "instant"), [
    ("timestamp", "2025-01-31T23:00:00.000000+00:00", datetime(2025, 1, 31, 23, tzinfo=UTC)),  # as written now
    ("timestamp", "2025-01-31T23:00:00+00:00", datetime(2025, 1, 31, 23, tzinfo=UTC)),         # as written before
    ("date", "2025-02-01", datetime(2025, 2, 1, 6, tzinfo=UTC)),     # local midnight in Chicago: 06:00 UTC in winter
    ("string", "2025-02", datetime(2025, 2, 1, 6, tzinfo=UTC)),      # a reported month starts at its first midnight
    ("date", "not a date", None),                                    # unreadable: listed for every month
])
def test_the_first_time_of_a_batch_is_read_in_the_form_of_its_time_column(kind: str, first: str,
                                                                        instant: datetime | None) -> None:
    from zoneinfo import ZoneInfo

    from vested.core.measures import Column, Dataset
    from vested.services.settling import first_instant
    from vested.storage.folder import Batch

    dataset = Dataset(id="d", columns=(Column(name="t", type=kind),), time="t")
    batch = Batch("d", "b", Path("b.parquet"), {"time_range": [first, first], "columns": {"t": kind}})
    assert first_instant(batch, dataset, ZoneInfo("America/Chicago")) == instant

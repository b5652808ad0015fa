"""Running an agreement at the command line, as a user does: ingest, measure, scorecard, settle (issue 3).

The flow runs on eight months of seeded help-desk data (``vested.demo_data``), ingested once into a
project that each test copies. Expected values are computed here, independently, from the CSV rows
(counts, ratios and means per local month) and, for the scorecard and the statements, by hand from
the measured values with the rules the docs state. The second half feeds bad input to each command
and checks the exit status, a located message, and that the project folder is left as it was.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import sqlite3
import textwrap
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner, Result

from tests.helpers import recorded, recorded_statements
from vested.cli import app
from vested.demo_data import write_helpdesk_csv

runner = CliRunner()
CHICAGO = ZoneInfo("America/Chicago")
MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]

TICKETS_DATASET = """\
  - id: tickets
    owner: deskco
    time: opened_at
    key: [ticket_id]
    columns:
      - {name: ticket_id, required: true}
      - {name: store, required: true}
      - {name: opened_at, type: timestamp, required: true}
      - {name: resolved_at, type: timestamp}
      - {name: channel, required: true, allowed: [phone, remote, onsite]}
      - {name: first_contact, type: boolean, required: true}
      - {name: satisfaction, type: integer, minimum: 1, maximum: 5}
"""

# The help desk, run from data: the datasets of examples/helpdesk/vested.yaml, metrics of each kind
# of aggregate, three outcomes (one supporting) and pricing with carried state (a rolling cap).
DESK = """\
vested: 1
id: desk-run
title: Store IT support, run from data
calendar: {start: 2025-01, months: 24, time_zone: America/Chicago}
parties:
  - {id: acme, name: Acme Retail, role: customer}
  - {id: deskco, name: DeskCo Services, role: supplier}
datasets:
""" + TICKETS_DATASET + """\
  - id: outages
    owner: deskco
    time: started_at
    key: [outage_id]
    columns:
      - {name: outage_id, required: true}
      - {name: store, required: true}
      - {name: started_at, type: timestamp, required: true}
      - {name: ended_at, type: timestamp}
      - {name: planned, type: boolean, required: true}
  - id: relief
    owner: deskco
    time: starts_at
    key: [relief_id, store]
    columns:
      - {name: relief_id, required: true}
      - {name: store, required: true}
      - {name: starts_at, type: timestamp, required: true}
      - {name: ends_at, type: timestamp}
      - {name: reason, required: true, allowed: [force majeure, customer-caused]}
      - {name: note}
metrics:
  - id: onsite_visits
    unit: visits
    measure: {dataset: tickets, aggregate: count, where: {channel: onsite}}
  - id: onsite_visits_qtd
    unit: visits
    measure: {dataset: tickets, aggregate: count, where: {channel: onsite}, window: quarter}
  - id: first_contact_resolution
    unit: percent
    measure: {dataset: tickets, aggregate: ratio, numerator: {where: {first_contact: true}}, denominator: {}, scale: 100}
  - id: resolution_hours
    unit: hours
    measure: {dataset: tickets, aggregate: duration, start: opened_at, end: resolved_at, statistic: mean, duration_unit: hours}
  - id: stores_calling
    unit: stores
    measure: {dataset: tickets, aggregate: count_distinct, column: store}
  - id: ticket_satisfaction
    unit: score
    measure: {dataset: tickets, aggregate: mean, column: satisfaction}
  - id: store_availability
    unit: percent
    measure:
      dataset: outages
      aggregate: availability
      availability: {start: started_at, end: ended_at, units: 400, hours_per_day: 14, planned: {planned: true}}
      scale: 100
      exclude:
        - {dataset: relief, match: [store], during: [starts_at, ends_at]}
  - {id: satisfaction, unit: score, minimum: 1, maximum: 5, reported_by: acme}
  - {id: downtime_cost, unit: money, minimum: 0, reported_by: acme}
outcomes:
  - id: stores_trading
    statement: Stores can sell during every trading hour.
    metric: store_availability
    direction: higher
    baseline: {value: 97.8, period: 2024}
    target: 99.5
    weight: 60%
  - id: happy_stores
    statement: Store managers rate their IT support good or better.
    metric: satisfaction
    direction: higher
    baseline: {value: 3.1, period: 2024}
    target: 4.2
    weight: 40%
  - id: fixed_first_time
    statement: Problems are fixed at the first contact.
    metric: first_contact_resolution
    direction: higher
    parent: stores_trading
    baseline: {value: 55, period: 2024}
    target: 60
pricing:
  - {id: store_fee, type: fixed_fee, amount: 270000}
  - {id: shared_value, type: gainshare, baseline: 240000, actual: downtime_cost, sharing_rate: 30%, minimum_savings_rate: 2%, cap: 15%}
  - id: availability_credits
    type: service_credits
    base: {term: store_fee}
    service_levels:
      - metric: store_availability
        target: 99.0
        tiers:
          - {from: 98.0, to: 99.0, credit: 2%}
          - {from: 97.0, to: 98.0, credit: 4%}
          - {to: 97.0, credit: 6%}
    rolling_cap: {periods: 3, rate: 3%}
"""

# A small desk for the bad-input tests: a few tickets written by hand.
SMALL = """\
vested: 1
id: desk-small
title: Store IT support, a small run
calendar: {start: 2025-01, months: 12, time_zone: America/Chicago}
parties:
  - {id: acme, name: Acme Retail, role: customer}
  - {id: deskco, name: DeskCo Services, role: supplier}
datasets:
""" + TICKETS_DATASET + """\
metrics:
  - id: tickets_opened
    measure: {dataset: tickets, aggregate: count}
  - id: fixed_first_time
    unit: percent
    measure: {dataset: tickets, aggregate: ratio, numerator: {where: {first_contact: true}}, denominator: {}, scale: 100}
  - id: remote_fix_rate
    unit: percent
    measure:
      dataset: tickets
      aggregate: ratio
      numerator: {where: {channel: remote, first_contact: true}}
      denominator: {where: {channel: remote}}
      scale: 100
pricing:
  - {id: desk_fee, type: fixed_fee, amount: 10000}
  - id: desk_credits
    type: service_credits
    base: {term: desk_fee}
    service_levels:
      - {metric: fixed_first_time, target: 80, tiers: [{to: 80, credit: 5%}]}
      - {metric: remote_fix_rate, target: 70, tiers: [{to: 70, credit: 5%}]}
"""

HEADER = "ticket_id,store,opened_at,resolved_at,channel,first_contact,satisfaction\n"
# January in Chicago: five tickets. T5 is opened at 03:00 UTC on 1 February, which is 21:00 on
# 31 January in Chicago: it belongs to January. Fixed first time 3 of 5 = 60%; remote 1 of 2 = 50%.
JANUARY = HEADER + """\
T1,S001,2025-01-06T09:00:00-06:00,2025-01-06T09:30:00-06:00,phone,true,5
T2,S002,2025-01-07T10:00:00-06:00,2025-01-07T11:00:00-06:00,remote,true,4
T3,S002,2025-01-08T10:00:00-06:00,2025-01-09T10:00:00-06:00,remote,false,
T4,S003,2025-01-09T10:00:00-06:00,2025-01-10T16:00:00-06:00,onsite,false,2
T5,S004,2025-02-01T03:00:00Z,2025-02-01T04:00:00Z,phone,true,
"""
# February: three tickets, all fixed first time (100%, 100%): no credits.
FEBRUARY = HEADER + """\
T6,S001,2025-02-03T09:00:00-06:00,2025-02-03T09:20:00-06:00,phone,true,5
T7,S005,2025-02-04T09:00:00-06:00,2025-02-04T10:00:00-06:00,remote,true,4
T8,S006,2025-02-05T09:00:00-06:00,,phone,true,
"""


# -- running the command --------------------------------------------------------------------------

def vested(*args: object) -> Result:
    """Run `vested ARGS` in-process. An exception is a bug: the real command would exit 70, not 1."""
    result = runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        pytest.fail(f"`vested {' '.join(map(str, args))}` crashed (internal error, exit 70): "
                    f"{type(result.exception).__name__}: {result.exception}")
    return result


def ok(*args: object) -> Result:
    result = vested(*args)
    assert result.exit_code == 0, result.output
    return result


def as_json(*args: object) -> Any:
    return json.loads(ok(*args, "--json").stdout)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with the SHA-256 of its content; the record's database
    by what it holds (every row of every table), since SQLite's own files change when it is only read."""
    if not folder.exists():
        return {}
    found = {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith("vested.db")}
    if (folder / "vested.db").is_file():
        con = sqlite3.connect(folder / "vested.db")
        try:
            tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            rows = {t: sorted(map(repr, con.execute(f'SELECT * FROM "{t}"'))) for t in tables}
        finally:
            con.close()
        found["vested.db"] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return found


def refused(*args: object, says: tuple[str, ...], project: Path, stream: str = "output") -> Result:
    """Exit 1, every expected fragment in the output, and the project folder exactly as it was."""
    before = snapshot(project)
    result = vested(*args)
    text = getattr(result, stream)
    assert result.exit_code == 1, text
    for fragment in says:
        assert fragment in text, f"{fragment!r} not in:\n{text}"
    assert snapshot(project) == before, "the project folder changed"
    return result


# -- the help-desk data, measured independently from the CSV rows ------------------------------------

def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def local_month(timestamp: str) -> str:
    return datetime.fromisoformat(timestamp).astimezone(CHICAGO).strftime("%Y-%m")


@dataclass(frozen=True)
class Expected:
    """Metric values per month, computed from the rows of tickets.csv and reported.csv."""

    onsite: dict[str, int]
    tickets: dict[str, int]
    first_contact: dict[str, int]
    hours: dict[str, Decimal]
    stores: dict[str, int]
    satisfaction: dict[str, Decimal]
    reported: dict[tuple[str, str], Decimal]

    def onsite_quarter_to_date(self, month: str) -> int:
        year, number = int(month[:4]), int(month[5:])
        first = (number - 1) // 3 * 3 + 1
        return sum(self.onsite.get(f"{year}-{m:02d}", 0) for m in range(first, number + 1))


def expected_values(data: dict[str, Path]) -> Expected:
    onsite: dict[str, int] = defaultdict(int)
    tickets: dict[str, int] = defaultdict(int)
    first: dict[str, int] = defaultdict(int)
    micros: dict[str, int] = defaultdict(int)
    resolved: dict[str, int] = defaultdict(int)
    stores: dict[str, set[str]] = defaultdict(set)
    scores: dict[str, list[int]] = defaultdict(list)
    for row in read_rows(data["tickets"]):
        month = local_month(row["opened_at"])
        tickets[month] += 1
        onsite[month] += row["channel"] == "onsite"
        first[month] += row["first_contact"] == "true"
        stores[month].add(row["store"])
        if row["resolved_at"]:
            took = datetime.fromisoformat(row["resolved_at"]) - datetime.fromisoformat(row["opened_at"])
            micros[month] += (took.days * 86400 + took.seconds) * 10**6 + took.microseconds
            resolved[month] += 1
        if row["satisfaction"]:
            scores[month].append(int(row["satisfaction"]))
    with localcontext(Context(prec=40)):
        hours = {m: Decimal(micros[m]) / resolved[m] / Decimal(3600 * 10**6) for m in resolved}
        satisfaction = {m: Decimal(sum(s)) / len(s) for m, s in scores.items()}
    reported = {(r["metric"], r["period"]): Decimal(r["value"]) for r in read_rows(data["reported"])}
    return Expected(dict(onsite), dict(tickets), dict(first), hours, {m: len(s) for m, s in stores.items()},
                    satisfaction, reported)


def close(actual: str | Decimal, expected: Decimal | int, places: int = 18) -> bool:
    return abs(Decimal(actual) - Decimal(expected)) < Decimal(10) ** -places


# -- the project everyone copies: eight months of data, ingested once ----------------------------------

@dataclass(frozen=True)
class Desk:
    root: Path
    agreement: Path
    data: dict[str, Path]
    project: Path
    ingested: dict[str, Result]
    expected: Expected

    def copy(self, target: Path) -> Path:
        shutil.copytree(self.project, target)
        return target


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    root = tmp_path_factory.mktemp("desk")
    agreement = root / "desk.yaml"
    agreement.write_text(DESK, encoding="utf-8")
    data = write_helpdesk_csv(root / "data", seed=7, start="2024-11", months=8)
    project = root / "project"
    ingested = {}
    for dataset, path in data.items():
        # tickets and relief as text, outages and reported as JSON: both faces are exercised
        json_flag = ("--json",) if dataset in ("outages", "reported") else ()
        ingested[dataset] = vested("ingest", agreement, dataset, path, "--project", project, "--who", "alice", *json_flag)
    return Desk(root, agreement, data, project, ingested, expected_values(data))


@pytest.fixture
def measured(desk: Desk) -> dict[str, dict[str, str]]:
    """`vested measure --json` for 2024-11 .. 2025-06: month -> metric -> value."""
    data = as_json("measure", desk.agreement, "--from", "2024-11", "--to", "2025-06", "--project", desk.project)
    months: dict[str, dict[str, str]] = data["months"]
    return months


# -- ingest --------------------------------------------------------------------------------------------

def test_ingest_reports_each_batch_in_text(desk: Desk) -> None:
    rows = len(read_rows(desk.data["tickets"]))
    result = desk.ingested["tickets"]
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ingested {rows} rows of tickets.csv into dataset tickets as batch ")
    # the seed's story has no relief event in these months: an empty file is not an error, and writes nothing
    relief = desk.ingested["relief"]
    assert relief.exit_code == 0, relief.output
    assert "nothing ingested from relief.csv: no rows to ingest" in relief.stdout
    with recorded(desk.project) as record:
        assert record.batches("relief") == []


@pytest.mark.parametrize("dataset", ["outages", "reported"])
def test_ingest_json_carries_the_provenance_manifest(desk: Desk, dataset: str) -> None:
    result = desk.ingested[dataset]
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    path = desk.data[dataset]
    rows = len(read_rows(path))
    manifest = report["manifest"]
    assert report["ok"] is True and report["rows_ingested"] == rows and report["rows_quarantined"] == 0
    assert manifest["file"] == path.name and manifest["rows"] == rows and manifest["who"] == "alice"
    assert manifest["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert manifest["ingested_at"].endswith("+00:00")
    with recorded(desk.project) as record:
        [batch] = [b for b in record.batches(dataset) if b.batch_id == report["batch_id"]]
        assert dict(batch.manifest) == manifest
        assert (desk.project / "files" / batch.file).is_file()


def test_ingesting_the_same_file_twice_is_refused(desk: Desk, tmp_path: Path) -> None:
    project = desk.copy(tmp_path / "project")
    batch = json.loads(desk.ingested["outages"].stdout)["batch_id"]
    refused("ingest", desk.agreement, "outages", desk.data["outages"], "--project", project,
            says=(f"this content was already ingested as batch {batch} (from 'outages.csv', by alice at ",
                  "nothing ingested: 1 problem in outages.csv"), project=project)
    # the same file under another name is the same content
    renamed = tmp_path / "outages-again.csv"
    shutil.copy(desk.data["outages"], renamed)
    refused("ingest", desk.agreement, "outages", renamed, "--project", project, "--json",
            says=('"already-ingested"',), project=project)


# -- measure -------------------------------------------------------------------------------------------

def test_measure_json_agrees_with_the_rows(desk: Desk, measured: dict[str, dict[str, str]]) -> None:
    e = desk.expected
    assert list(measured) == ["2024-11", "2024-12", *MONTHS]
    for month, values in measured.items():
        assert Decimal(values["onsite_visits"]) == e.onsite[month], month
        assert Decimal(values["onsite_visits_qtd"]) == e.onsite_quarter_to_date(month), month
        assert Decimal(values["stores_calling"]) == e.stores[month], month
        with localcontext(Context(prec=40)):
            ratio = Decimal(100 * e.first_contact[month]) / e.tickets[month]
        assert close(values["first_contact_resolution"], ratio), month
        assert close(values["resolution_hours"], e.hours[month], 15), month
        assert close(values["ticket_satisfaction"], e.satisfaction[month], 15), month
        assert Decimal(values["satisfaction"]) == e.reported[("satisfaction", month)], month
        assert Decimal(values["downtime_cost"]) == e.reported[("downtime_cost", month)], month
        assert 90 < Decimal(values["store_availability"]) < 100, month
    # the quarter to date restarts in April
    assert Decimal(measured["2025-04"]["onsite_visits_qtd"]) == e.onsite["2025-04"]
    assert Decimal(measured["2025-03"]["onsite_visits_qtd"]) == sum(e.onsite[m] for m in MONTHS[:3])


def test_measure_csv_and_table_show_the_same_values(desk: Desk, measured: dict[str, dict[str, str]]) -> None:
    text = ok("measure", desk.agreement, "--from", "2025-01", "--to", "2025-03", "--project", desk.project, "--csv", "-").stdout
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["metric", "period", "value"]
    assert len(rows) == 1 + 9 * 3  # nine metrics, three months, every one with a value
    for metric, period, value in rows[1:]:
        assert Decimal(value) == Decimal(measured[period][metric]), (metric, period)
    table = ok("measure", desk.agreement, "--period", "2025-02", "--project", desk.project).stdout
    onsite = next(line for line in table.splitlines() if "onsite_visits " in line)
    assert f"{desk.expected.onsite['2025-02']:,}" in onsite and "visits" in onsite
    assert "Store IT support, run from data — metrics" in table and "2025-02" in table


# -- scorecard -----------------------------------------------------------------------------------------

def attainment(value: Decimal, baseline: Decimal, target: Decimal) -> Decimal:
    """How far from the baseline toward the target, in percent (docs/running.md)."""
    return (value - baseline) / (target - baseline) * 100


def status(value: Decimal, target: Decimal, previous: list[Decimal]) -> str:
    """Higher is better here: met at the target; else against the mean of up to three earlier months."""
    if value >= target:
        return "met"
    reference = sum(previous, Decimal(0)) / len(previous)
    return "improving" if value > reference else "worsening" if value < reference else "not met"


def test_scorecard_by_hand_from_the_measured_values(desk: Desk, measured: dict[str, dict[str, str]]) -> None:
    period, earlier = "2025-04", ["2025-01", "2025-02", "2025-03"]
    card = as_json("scorecard", desk.agreement, "--period", period, "--project", desk.project)["scorecard"]
    rows = {r["outcome_id"]: r for r in card["rows"]}
    outcomes = {"stores_trading": ("store_availability", "97.8", "99.5"),
                "happy_stores": ("satisfaction", "3.1", "4.2"),
                "fixed_first_time": ("first_contact_resolution", "55", "60")}
    reached = {}
    for outcome, (metric, baseline, target) in outcomes.items():
        value = Decimal(measured[period][metric])
        reached[outcome] = attainment(value, Decimal(baseline), Decimal(target))
        row = rows[outcome]
        assert Decimal(row["value"]) == value
        assert close(row["attainment"], reached[outcome], 20), outcome
        assert row["status"] == status(value, Decimal(target), [Decimal(measured[m][metric]) for m in earlier]), outcome
    assert rows["fixed_first_time"]["status"] == "met"  # about 62% of tickets fixed first time, target 60%
    assert rows["stores_trading"]["status"] != "met"    # availability below 99.5
    clamp = {o: min(Decimal(1), max(Decimal(0), reached[o] / 100)) for o in ("stores_trading", "happy_stores")}
    overall = (Decimal("0.6") * clamp["stores_trading"] + Decimal("0.4") * clamp["happy_stores"]) * 100
    assert close(card["overall"], overall, 20)
    # a red top-level outcome over a green supporting one: the watermelon
    assert len(card["warnings"]) == 1 and "'stores_trading'" in card["warnings"][0]
    text = ok("scorecard", desk.agreement, "--period", period, "--project", desk.project).stdout
    assert f"overall score {overall.quantize(Decimal('0.1'))} / 100" in text
    assert "warning: watermelon: outcome 'stores_trading' is not met while everything measured beneath it is green" in text
    for outcome in outcomes:
        assert outcome in text


# -- settle --------------------------------------------------------------------------------------------

def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def owed_by_hand(measured: dict[str, dict[str, str]], reported: dict[tuple[str, str], Decimal]) -> dict[str, Decimal]:
    """What Acme owes DeskCo each month: fee + shared savings − credits after the rolling cap."""
    fee = Decimal(270000)
    history: list[tuple[Decimal, Decimal]] = []
    owed: dict[str, Decimal] = {}
    for month in MONTHS:
        savings = 240000 - reported[("downtime_cost", month)]
        shared = min(Decimal("0.3") * savings, Decimal("0.15") * 240000) if savings >= Decimal("0.02") * 240000 else 0
        level = Decimal(measured[month]["store_availability"])
        rate = (Decimal(0) if level >= 99 else Decimal("0.02") if level >= 98 else Decimal("0.04") if level >= 97
                else Decimal("0.06"))
        window = history[-2:]  # a rolling cap over 3 periods: the two before this one
        allowed = max(Decimal(0), Decimal("0.03") * (sum(b for b, _ in window) + fee) - sum(c for _, c in window))
        credit = min(rate * fee, allowed)
        history.append((fee, credit))
        owed[month] = fee + cents(Decimal(shared)) - credit
    return owed


def statements(project: Path) -> dict[str, bytes]:
    return recorded_statements(project, "desk-run")


def test_settling_a_range_equals_month_by_month_and_reproduces(desk: Desk, tmp_path: Path,
                                                               measured: dict[str, dict[str, str]]) -> None:
    ranged = desk.copy(tmp_path / "ranged")
    settled = as_json("settle", desk.agreement, "--from", "2025-01", "--to", "2025-06", "--project", ranged)
    assert settled["ok"] is True and [s["period"] for s in settled["settled"]] == MONTHS
    expected = owed_by_hand(measured, desk.expected.reported)
    for s in settled["settled"]:
        [net] = s["statement"]["net"]
        assert (net["payer"], net["payee"], Decimal(net["amount"])) == ("acme", "deskco", expected[s["period"]])
    files = statements(ranged)
    assert list(files) == [f"{m}.json" for m in MONTHS]
    for s in settled["settled"]:
        record = json.loads(files[f"{s['period']}.json"])
        assert record["inputs_hash"] == s["inputs_hash"]
        assert record["inputs_hash"] == hashlib.sha256(canonical(record["inputs"])).hexdigest()
    # the rolling cap's history is carried from each month's statement into the next
    assert json.loads(files["2025-01.json"])["state_out"]["availability_credits"]["history"]
    for before, after in pairwise(MONTHS):
        assert json.loads(files[f"{after}.json"])["inputs"]["state_in"] == json.loads(files[f"{before}.json"])["state_out"]

    one_by_one = desk.copy(tmp_path / "one-by-one")
    for month in MONTHS:
        text = ok("settle", desk.agreement, "--period", month, "--project", one_by_one).stdout
        assert "Acme Retail owes DeskCo Services" in text and month in text
    assert statements(one_by_one) == files

    again = as_json("settle", desk.agreement, "--from", "2025-01", "--to", "2025-06", "--project", ranged)
    assert [s["inputs_hash"] for s in again["settled"]] == [s["inputs_hash"] for s in settled["settled"]]
    assert statements(ranged) == files


def canonical(data: Any) -> bytes:
    """Canonical JSON as docs/running.md describes it: sorted keys, two-space indent, UTF-8, a final newline."""
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def test_settling_a_month_out_of_order_is_refused(desk: Desk, tmp_path: Path) -> None:
    project = desk.copy(tmp_path / "project")
    refused("settle", desk.agreement, "--period", "2025-03", "--project", project, stream="stderr",
            says=("2025-02 is not settled, and 2025-03 carries on from it [settle-order]",
                  "settle in order from the first unsettled month"), project=project)
    result = refused("settle", desk.agreement, "--period", "2025-03", "--project", project, "--json",
                     says=(), project=project)
    assert json.loads(result.stdout)["diagnostics"][0]["code"] == "settle-order"


def test_settling_each_month_as_its_data_arrives_equals_settling_the_range(desk: Desk, tmp_path: Path) -> None:
    months = MONTHS[:3]
    split = {dataset: split_by_month(desk.data[dataset], column, tmp_path / "split")
             for dataset, column in (("tickets", "opened_at"), ("outages", "started_at"), ("reported", "period"))}
    monthly, ranged = tmp_path / "monthly", tmp_path / "ranged"
    for month in months:  # the parties' routine: the month's files arrive, the month is settled
        for dataset, files in split.items():
            ok("ingest", desk.agreement, dataset, files[month], "--project", monthly)
        ok("settle", desk.agreement, "--period", month, "--project", monthly)
    for month in months:  # an auditor later: every file, then the range
        for dataset, files in split.items():
            ok("ingest", desk.agreement, dataset, files[month], "--project", ranged)
    ok("settle", desk.agreement, "--from", months[0], "--to", months[-1], "--project", ranged)
    assert statements(monthly) == statements(ranged)
    ok("settle", desk.agreement, "--from", months[0], "--to", months[-1], "--project", monthly)  # re-settle: same inputs


def split_by_month(path: Path, column: str, folder: Path) -> dict[str, Path]:
    """One file per local month of ``column`` (``<dataset>-<month>.csv``), for the months in MONTHS."""
    rows = read_rows(path)
    folder.mkdir(exist_ok=True)
    files = {}
    for month in MONTHS:
        chosen = [r for r in rows if (r[column] if column == "period" else local_month(r[column])) == month]
        target = folder / f"{path.stem}-{month}.csv"
        with target.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(chosen)
        files[month] = target
    return files


# -- bad input: a small desk, written by hand ------------------------------------------------------------

@dataclass(frozen=True)
class Small:
    agreement: Path
    project: Path
    folder: Path

    def file(self, name: str, text: str) -> Path:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture
def small(tmp_path: Path) -> Small:
    """The small desk with January and February ingested (so the project already has a tickets batch)."""
    agreement = tmp_path / "small.yaml"
    agreement.write_text(SMALL, encoding="utf-8")
    desk = Small(agreement, tmp_path / "project", tmp_path)
    for name, text in (("january.csv", JANUARY), ("february.csv", FEBRUARY)):
        ok("ingest", agreement, "tickets", desk.file(name, text), "--project", desk.project)
    return desk


def test_months_are_cut_in_the_agreement_time_zone_and_settled_by_hand(small: Small) -> None:
    months = as_json("measure", small.agreement, "--from", "2025-01", "--to", "2025-02", "--project", small.project)["months"]
    assert months["2025-01"]["tickets_opened"] == "5"  # T5, 03:00 UTC on 1 February, is 31 January in Chicago
    assert months["2025-02"]["tickets_opened"] == "3"
    assert Decimal(months["2025-01"]["fixed_first_time"]) == 60 and Decimal(months["2025-01"]["remote_fix_rate"]) == 50
    settled = as_json("settle", small.agreement, "--from", "2025-01", "--to", "2025-02", "--project", small.project)
    # January misses both service levels: 5% × 10,000 twice; February meets both
    assert [s["statement"]["net"][0]["amount"] for s in settled["settled"]] == ["9000.00", "10000.00"]


def test_a_ragged_csv_row_is_refused_at_its_line(small: Small) -> None:
    ragged = small.file("ragged.csv", HEADER + "T9,S001,2025-01-20T09:00:00-06:00,,phone,true,4\n"
                                               "T10,S001,2025-01-20T10:00:00-06:00,,phone,true\n"
                                               "T11,S002,2025-01-21T10:00:00-06:00,,phone,false,5,extra\n")
    refused("ingest", small.agreement, "tickets", ragged, "--project", small.project, project=small.project,
            says=("ragged.csv:3:7: error: column 'satisfaction': malformed CSV line (missing columns)",
                  "ragged.csv:4:1: error: malformed CSV line (too many columns)",
                  "each line needs one value per header column", "nothing ingested: 2 problems in ragged.csv"))
    # a line that cannot be split into the columns cannot be quarantined either: the file is refused
    quarantine = small.folder / "bad-rows.csv"
    refused("ingest", small.agreement, "tickets", ragged, "--project", small.project, "--quarantine", quarantine,
            project=small.project, says=("nothing ingested: 2 problems in ragged.csv",))
    assert not quarantine.exists()


def test_an_unknown_dataset_is_refused_with_a_suggestion(small: Small) -> None:
    data = small.file("march.csv", HEADER + "T9,S001,2025-03-03T09:00:00-06:00,,phone,true,4\n")
    refused("ingest", small.agreement, "tikets", data, "--project", small.project, project=small.project,
            says=("error: march.csv: agreement 'desk-small' has no dataset 'tikets' [unknown-dataset]",
                  "hint: did you mean 'tickets'?"))
    result = refused("ingest", small.agreement, "tikets", data, "--project", small.project, "--json",
                     project=small.project, says=())
    assert json.loads(result.stdout)["diagnostics"][0]["code"] == "unknown-dataset"


def test_values_of_the_wrong_type_are_refused_at_their_row_and_column(small: Small) -> None:
    data = small.file("march.csv", HEADER + "T9,S001,2025-03-03T09:00:00-06:00,,phone,true,four\n"
                                            "T10,S001,2025-03-03T10:00:00-06:00,,fone,maybe,9\n")
    refused("ingest", small.agreement, "tickets", data, "--project", small.project, project=small.project,
            says=("march.csv:2:7: error: row 1, column 'satisfaction': 'four' is not a whole number [integer]",
                  "march.csv:3:5: error: row 2, column 'channel': 'fone' is not an allowed value [allowed]",
                  "did you mean 'phone'?",
                  "march.csv:3:6: error: row 2, column 'first_contact': 'maybe' is not true or false [boolean]",
                  "march.csv:3:7: error: row 2, column 'satisfaction': 9 is above the maximum 5 [maximum]",
                  "nothing ingested: 4 problems in march.csv"))


def test_a_timestamp_without_an_offset_is_refused_at_ingest(small: Small) -> None:
    data = small.file("march.csv", HEADER + "T9,S001,2025-03-03T09:00:00-06:00,2025-03-03 10:00:00,phone,true,4\n"
                                            "T10,S001,2025-03-31 23:30:00,,phone,true,\n")
    refused("ingest", small.agreement, "tickets", data, "--project", small.project, project=small.project,
            says=("march.csv:2:4: error: row 1, column 'resolved_at': '2025-03-03 10:00:00' has no UTC offset",
                  "march.csv:3:3: error: row 2, column 'opened_at': '2025-03-31 23:30:00' has no UTC offset, so the "
                  "moment it names is unknown [naive-timestamp]",
                  "periods are cut in America/Chicago time"))


def test_quarantine_ingests_the_good_rows_and_keeps_the_bad_ones(small: Small) -> None:
    data = small.file("march.csv", HEADER + "T9,S001,2025-03-03T09:00:00-06:00,,phone,true,4\n"
                                            "T10,S001,2025-03-04T09:00:00-06:00,,fone,true,\n"
                                            "T11,S002,2025-03-05T09:00:00-06:00,,remote,false,\n"
                                            "T1,S002,2025-03-06T09:00:00-06:00,,remote,true,\n")
    quarantine = small.folder / "bad-rows.csv"
    report = as_json("ingest", small.agreement, "tickets", data, "--project", small.project, "--quarantine", quarantine)
    assert (report["ok"], report["rows_ingested"], report["rows_quarantined"]) == (True, 2, 2)
    assert report["manifest"]["rows"] == 2 and report["manifest"]["quarantined"] == 2
    bad = read_rows(quarantine)
    assert [r["ticket_id"] for r in bad] == ["T10", "T1"]
    assert bad[0]["error"] == "row 2: channel: 'fone' is not an allowed value"
    assert bad[1]["error"].startswith("row 4: ticket_id: key ticket_id='T1' was already ingested in batch ")
    months = as_json("measure", small.agreement, "--period", "2025-03", "--project", small.project)["months"]
    assert months["2025-03"]["tickets_opened"] == "2"


def test_a_month_without_data_names_the_metric_and_the_month(small: Small) -> None:
    ok("settle", small.agreement, "--from", "2025-01", "--to", "2025-02", "--project", small.project)
    # measure reports an empty month (exit 0) and says why each metric has no value
    measured = ok("measure", small.agreement, "--period", "2025-03", "--project", small.project)
    text = " ".join(measured.stdout.split())
    assert "fixed_first_time: no value for 2025-03: dataset 'tickets' has no rows in 2025-03" in text
    # settle refuses: a statement needs every value its terms use
    refused("settle", small.agreement, "--period", "2025-03", "--project", small.project, stream="stderr",
            project=small.project,
            says=("error: 2025-03: metric 'fixed_first_time' has no value: ", "no rows in 2025-03 [missing-fact]",
                  "hint: ingest tickets data for 2025-03"))


def test_a_range_settles_the_months_before_a_month_without_data(small: Small) -> None:
    result = vested("settle", small.agreement, "--from", "2025-01", "--to", "2025-04", "--project", small.project, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    # each month is all or nothing: January and February are settled (as they would be one by one), March stops the run
    assert [s["period"] for s in report["settled"]] == ["2025-01", "2025-02"]
    assert report["written"] == ["desk-small 2025-01 revision 1", "desk-small 2025-02 revision 1"]
    assert list(statements_of(small.project)) == ["2025-01.json", "2025-02.json"]
    assert "2025-03: metric 'fixed_first_time' has no value" in report["diagnostics"][0]["message"]


def test_availability_without_any_outage_rows_says_so(desk: Desk) -> None:
    measured = as_json("measure", desk.agreement, "--period", "2025-07", "--project", desk.project)
    notes = [d["message"] for d in measured["diagnostics"]]
    assert any("store_availability" in note and "2025-07" in note for note in notes), notes


def test_a_zero_denominator_is_explained_by_measure_and_settle(tmp_path: Path) -> None:
    agreement = tmp_path / "small.yaml"
    agreement.write_text(SMALL, encoding="utf-8")
    project = tmp_path / "project"
    phone_only = tmp_path / "january.csv"
    phone_only.write_text(HEADER + "T1,S001,2025-01-06T09:00:00-06:00,,phone,true,5\n"
                                   "T2,S002,2025-01-07T09:00:00-06:00,,phone,false,\n", encoding="utf-8")
    ok("ingest", agreement, "tickets", phone_only, "--project", project)
    measured = as_json("measure", agreement, "--period", "2025-01", "--project", project)
    assert "remote_fix_rate" not in measured["months"]["2025-01"]
    [note] = measured["diagnostics"]
    assert (note["code"], note["message"]) == ("zero-denominator", "remote_fix_rate: no value for 2025-01: the denominator is zero")
    refused("settle", agreement, "--period", "2025-01", "--project", project, stream="stderr", project=project,
            says=("error: 2025-01: metric 'remote_fix_rate' has no value:", "the denominator is zero [missing-fact]"))


def test_settle_explains_a_zero_denominator_without_asking_for_more_data(tmp_path: Path) -> None:
    agreement = tmp_path / "small.yaml"
    agreement.write_text(SMALL, encoding="utf-8")
    project = tmp_path / "project"
    phone_only = tmp_path / "january.csv"
    phone_only.write_text(HEADER + "T1,S001,2025-01-06T09:00:00-06:00,,phone,true,5\n", encoding="utf-8")
    ok("ingest", agreement, "tickets", phone_only, "--project", project)
    result = vested("settle", agreement, "--period", "2025-01", "--project", project)
    assert result.exit_code == 1
    assert "error: 2025-01: metric 'remote_fix_rate' has no value: the denominator is zero [missing-fact]" in result.stderr
    assert "ingest the month's tickets data" not in result.stderr


def test_a_changed_input_needs_replace_to_settle_again(small: Small) -> None:
    ok("settle", small.agreement, "--period", "2025-01", "--project", small.project)
    first = statements_of(small.project)
    ok("ingest", small.agreement, "tickets", small.file("late.csv", HEADER + "T9,S009,2025-01-30T09:00:00-06:00,,remote,true,\n"),
       "--project", small.project)
    refused("settle", small.agreement, "--period", "2025-01", "--project", small.project, stream="stderr",
            project=small.project, says=("2025-01 is already settled from other inputs", "pass --replace"))
    ok("settle", small.agreement, "--period", "2025-01", "--project", small.project, "--replace")
    assert statements_of(small.project) != first


def statements_of(project: Path) -> dict[str, bytes]:
    return recorded_statements(project, "desk-small")


# -- a time zone that does not exist, a filter of the wrong type ------------------------------------------

BAD_ZONE = SMALL.replace("time_zone: America/Chicago", "time_zone: America/Chicag")
BAD_FILTER = SMALL.replace("{where: {channel: remote, first_contact: true}}", "{where: {channel: remote, first_contact: maybe}}")
COMMANDS: dict[str, Callable[[Path, Path], list[object]]] = {
    "measure": lambda agreement, project: ["measure", agreement, "--period", "2025-01", "--project", project],
    "scorecard": lambda agreement, project: ["scorecard", agreement, "--period", "2025-01", "--project", project],
    "settle": lambda agreement, project: ["settle", agreement, "--period", "2025-01", "--project", project],
}


def test_check_names_an_unknown_time_zone_at_its_line(tmp_path: Path) -> None:
    agreement = tmp_path / "zone.yaml"
    agreement.write_text(BAD_ZONE, encoding="utf-8")
    result = vested("check", agreement)
    assert result.exit_code == 1
    assert f"{agreement}:4:" in result.output and "unknown time zone 'America/Chicag'" in result.output
    assert "use an IANA name such as Europe/London or America/Chicago" in result.output


def test_check_names_an_unknown_time_zone_without_measures(tmp_path: Path) -> None:
    agreement = tmp_path / "zone.yaml"
    agreement.write_text(textwrap.dedent("""\
        vested: 1
        id: plain
        title: Plain
        calendar: {start: 2025-01, months: 12, time_zone: Europe/Londn}
        parties:
          - {id: acme, name: Acme Retail, role: customer}
          - {id: deskco, name: DeskCo Services, role: supplier}
        pricing:
          - {id: fee, type: fixed_fee, amount: 1000}
        """), encoding="utf-8")
    result = vested("check", agreement)
    assert result.exit_code == 1 and "unknown time zone 'Europe/Londn'" in result.output


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize(("text", "says"), [
    (BAD_ZONE, ":4:51: error: unknown time zone 'America/Chicag'"),
    (BAD_FILTER, "column 'first_contact' holds true/false; 'maybe' is neither"),
], ids=["unknown-time-zone", "filter-of-the-wrong-type"])
def test_running_an_agreement_that_cannot_be_measured_is_a_located_error(small: Small, command: str, text: str,
                                                                         says: str) -> None:
    agreement = small.folder / "broken.yaml"
    agreement.write_text(text, encoding="utf-8")
    result = refused(*COMMANDS[command](agreement, small.project), project=small.project, says=())
    assert f"{agreement}" in result.output and says in result.output


# -- SQL sources -------------------------------------------------------------------------------------------

def test_ingest_from_a_sqlite_database_with_table_and_query(tmp_path: Path) -> None:
    agreement = tmp_path / "small.yaml"
    agreement.write_text(SMALL, encoding="utf-8")
    project = tmp_path / "project"
    database = tmp_path / "desk.db"
    columns = HEADER.strip().split(",")
    with sqlite3.connect(database) as db:
        for table, text in (("tickets", JANUARY), ("february_tickets", FEBRUARY)):
            db.execute(f"CREATE TABLE {table} ({', '.join(f'{c} TEXT' for c in columns)})")
            rows = [[v or None for v in line.split(",")] for line in text.splitlines()[1:]]
            db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})", rows)
    url = f"sqlite:///{database}"
    by_table = as_json("ingest", agreement, "tickets", url, "--table", "tickets", "--project", project, "--who", "bob")
    assert by_table["rows_ingested"] == 5
    assert (by_table["manifest"]["file"], by_table["manifest"]["table"], by_table["manifest"]["format"]) == (
        f"{url}#tickets", "tickets", "sql")
    query = "SELECT * FROM february_tickets WHERE channel <> 'onsite'"
    by_query = as_json("ingest", agreement, "tickets", url, "--query", query, "--project", project)
    assert by_query["rows_ingested"] == 3 and by_query["manifest"]["query"] == query
    months = as_json("measure", agreement, "--from", "2025-01", "--to", "2025-02", "--project", project)["months"]
    assert (months["2025-01"]["tickets_opened"], months["2025-02"]["tickets_opened"]) == ("5", "3")
    refused("ingest", agreement, "tickets", url, "--query", query, "--project", project, project=project,
            says=("this content was already ingested",))
    refused("ingest", agreement, "tickets", url, "--project", project, project=project,
            says=("give either a table or a query",))
    refused("ingest", agreement, "tickets", url, "--table", "no_such_table", "--project", project, project=project,
            says=("cannot read from the database:", "no_such_table"))


# -- the demo ----------------------------------------------------------------------------------------------

def test_the_demo_runs_again_in_the_same_folder(tmp_path: Path) -> None:
    first = as_json("demo", "--out", tmp_path / "story")
    assert first["ok"] is True
    again = vested("demo", "--out", tmp_path / "story", "--json")
    assert again.exit_code == 0, again.stdout[-2000:]
    assert json.loads(again.stdout)["contracts"] == first["contracts"]


def test_the_demo_shows_the_same_comparison_in_the_terminal_and_as_json(tmp_path: Path) -> None:
    """Month by month, what Acme paid under each contract and the difference; the totals; in both renderings."""
    data = as_json("demo", "--out", tmp_path / "story")
    task, vested_contract = data["contracts"]
    assert (task["file"], vested_contract["file"]) == ("examples/helpdesk/task-based.yaml", "examples/helpdesk/vested.yaml")
    for row in data["months"]:
        a, b = Decimal(task["paid"][row["month"]]), Decimal(vested_contract["paid"][row["month"]])
        assert row["paid"] == {task["agreement"]: str(a), vested_contract["agreement"]: str(b)}
        assert Decimal(row["difference"]) == b - a
    totals = [sum(map(Decimal, c["paid"].values()), Decimal(0)) for c in (task, vested_contract)]
    assert [Decimal(c["total"]) for c in (task, vested_contract)] == totals
    assert Decimal(data["total_difference"]) == totals[1] - totals[0]

    text = ok("demo", "--out", tmp_path / "story").stdout
    total_row = next(line for line in text.splitlines() if "total" in line and "│" in line)
    cells = [cell.strip() for cell in total_row.split("│") if cell.strip()]
    assert cells == ["total", *(f"{t:,.2f}" for t in totals), f"{totals[1] - totals[0]:,.2f}"]


# -- tune reads the measured history of the project given ----------------------------------------------------------

def test_tune_resamples_a_driver_from_the_project_given(tmp_path: Path) -> None:
    deal = textwrap.dedent("""\
        vested: 1
        id: deal
        title: Fee and shared savings
        parties:
          - {id: buyer, name: Buyer Co, role: customer}
          - {id: seller, name: Seller Co, role: supplier}
        metrics:
          - {id: downtime, unit: money, minimum: 0, reported_by: buyer}
        pricing:
          - {id: fee, type: fixed_fee, amount: 1000}
          - {id: share, type: gainshare, baseline: 1000, actual: downtime, sharing_rate: 30%}
        """)
    flat = deal.replace("id: deal", "id: flat").split("pricing:")[0] + "pricing:\n  - {id: fee, type: fixed_fee, amount: 1000}\n"
    (tmp_path / "deal.yaml").write_text(deal)
    (tmp_path / "flat.yaml").write_text(flat)
    (tmp_path / "scenario.yaml").write_text(textwrap.dedent("""\
        scenario: 1
        id: deal
        discount_rate: 0%
        periods: {start: 2025-01, months: 12}
        status_quo: flat.yaml
        drivers:
          downtime:
            value: 1000
            uncertain: {distribution: resample, metric: downtime, from: 2024-10, to: 2024-12}
        customer:
          costs: [{label: Lost sales, driver: downtime}]
        levers:
          - {id: fix, running_cost: {paid_by: supplier, amount: 110}, effects: {downtime: -50%}}
        tune:
          parameters:
            - {term: share, field: sharing_rate, range: [15%, 45%], step: 10%}
          runs: 20
        """))
    reported = tmp_path / "reported.csv"
    reported.write_text("metric,period,value,reported_by\n" + "".join(f"downtime,2024-{m},1000,buyer\n" for m in (10, 11, 12)))
    project = tmp_path / "history"
    ok("ingest", tmp_path / "deal.yaml", "reported", reported, "--project", project)
    found = as_json("tune", tmp_path / "deal.yaml", tmp_path / "scenario.yaml", "--project", project)
    # Every month drew 1000: the supplier fixes (saving 500 of downtime for 110) once its share of the 500 pays more
    # than 110, from 25%, and the deal then creates 500 − 110 = 390 a month; at 15% nothing changes.
    assert found["best"]["levers"] == ["fix"] and Decimal(found["best"]["joint_gain"]) == 12 * 390
    without = vested("tune", tmp_path / "deal.yaml", tmp_path / "scenario.yaml", "--project", tmp_path / "empty", "--json")
    assert without.exit_code == 1 and "no-history" in without.stdout


@pytest.mark.parametrize("command", ["economics", "align", "simulate", "tune"])
def test_a_deal_command_that_fails_prints_its_diagnostics_as_json(tmp_path: Path, command: str) -> None:
    """With errors there is no result to render: `--json` gives ok false and the located diagnostics (exit 1)."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("vested: 1\nid: [unclosed\n")
    result = vested(command, bad, bad, "--json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["diagnostics"][0]["file"] == str(bad)

"""The help-desk generator: deterministic for a seed, and the seed's story holds in its rows.

Every expectation is computed here from the generated rows (counting tickets, adding up outage
hours), not read back from the generator's parameters.
"""

from __future__ import annotations

import csv
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from vested.adapters.load import load_agreement_text
from vested.core.periods import add_months, months_between
from vested.demo_data import generate_helpdesk, write_helpdesk_csv

CHICAGO = ZoneInfo("America/Chicago")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "helpdesk"
OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2}|Z)$")
TIMESTAMPS = {"tickets": ("opened_at", "resolved_at"), "outages": ("started_at", "ended_at"), "relief": ("starts_at", "ends_at")}
MONTHS = months_between("2024-07", "2026-06")
BEFORE, AFTER = MONTHS[:12], MONTHS[12:]
"""Months 1-12 (the investment lands in month 12) and months 13-24."""

Data = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def data() -> Data:
    return generate_helpdesk(seed=7)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def local_month(text: str) -> str:
    return instant(text).astimezone(CHICAGO).strftime("%Y-%m")


def per_month(rows: Iterable[dict[str, Any]], column: str, keep: Callable[[dict[str, Any]], bool] = lambda _: True) -> Counter[str]:
    return Counter(local_month(r[column]) for r in rows if keep(r))


def mean_of(counts: Counter[str] | dict[str, float], months: list[str]) -> float:
    return statistics.mean(counts.get(m, 0) for m in months)


# -- deterministic ---------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_rows_and_another_seed_others() -> None:
    first = generate_helpdesk(seed=3, months=3, stores=60)
    again = generate_helpdesk(seed=3, months=3, stores=60)
    other = generate_helpdesk(seed=4, months=3, stores=60)
    assert first == again
    assert first["tickets"] != other["tickets"]
    assert first["outages"] != other["outages"]


def test_without_the_investment_the_months_before_it_are_the_same(data: Data) -> None:
    """Each month draws from its own stream: the counterfactual shares the history before month 12."""
    never = generate_helpdesk(seed=7, invest_month=None)
    before = BEFORE[:11]
    assert [r for r in data["tickets"] if local_month(r["opened_at"]) in before] == \
        [r for r in never["tickets"] if local_month(r["opened_at"]) in before]
    onsite = per_month(never["tickets"], "opened_at", lambda r: r["channel"] == "onsite")
    # Without remote support nothing changes: on-site visits stay where they were.
    assert mean_of(onsite, AFTER) > 0.8 * mean_of(onsite, before)


# -- the rows are well formed ----------------------------------------------------------------------


def test_every_timestamp_carries_an_offset(data: Data) -> None:
    for dataset, columns in TIMESTAMPS.items():
        for row in data[dataset]:
            for column in columns:
                value = row[column]
                if value is None:
                    continue
                assert OFFSET.match(value), (dataset, column, value)
                assert instant(value).utcoffset() is not None


def test_keys_are_unique(data: Data) -> None:
    keys = {"tickets": ("ticket_id",), "outages": ("outage_id",), "relief": ("relief_id", "store"), "reported": ("metric", "period")}
    for dataset, key in keys.items():
        seen = Counter(tuple(row[k] for k in key) for row in data[dataset])
        assert seen and max(seen.values()) == 1, dataset


def test_values_are_in_their_domains(data: Data) -> None:
    for t in data["tickets"]:
        assert t["channel"] in {"phone", "remote", "onsite"}
        assert isinstance(t["first_contact"], bool)
        assert t["satisfaction"] is None or t["satisfaction"] in {1, 2, 3, 4, 5}
        assert re.fullmatch(r"S\d{3}", t["store"]) and 1 <= int(t["store"][1:]) <= 400
        assert t["resolved_at"] is None or instant(t["resolved_at"]) >= instant(t["opened_at"])
        assert not (t["channel"] == "onsite" and t["first_contact"]), "a visit is never a first-contact fix"
    assert {r["reason"] for r in data["relief"]} == {"force majeure", "customer-caused"}
    for r in data["reported"]:
        assert r["reported_by"] == "acme" and r["metric"] in {"satisfaction", "downtime_cost"}
        assert (1 <= r["value"] <= 5) if r["metric"] == "satisfaction" else r["value"] >= 0


def test_outages_fall_within_trading_hours(data: Data) -> None:
    """Availability divides downtime by 14 trading hours a day: every outage row is inside 08:00-22:00 local."""
    for o in data["outages"]:
        start, end = instant(o["started_at"]).astimezone(CHICAGO), instant(o["ended_at"]).astimezone(CHICAGO)
        assert start.date() == end.date() and start.hour >= 8 and (end.hour, end.minute, end.second) <= (22, 0, 0), o
        assert end > start


# -- the story -------------------------------------------------------------------------------------


def test_onsite_visits_fall_sharply_after_the_investment(data: Data) -> None:
    onsite = per_month(data["tickets"], "opened_at", lambda r: r["channel"] == "onsite")
    tickets = per_month(data["tickets"], "opened_at")
    assert 700 < mean_of(onsite, BEFORE[:11]) < 1100  # about 15% of about 6,000
    assert mean_of(onsite, AFTER) < 0.4 * mean_of(onsite, BEFORE)
    share_before = sum(onsite[m] for m in BEFORE[:11]) / sum(tickets[m] for m in BEFORE[:11])
    assert 0.12 < share_before < 0.18


def test_ticket_volume_drops(data: Data) -> None:
    tickets = per_month(data["tickets"], "opened_at")
    assert 5500 < mean_of(tickets, BEFORE[:11]) < 6500
    assert mean_of(tickets, AFTER) < 0.85 * mean_of(tickets, BEFORE)


def test_most_former_visits_become_remote_resolutions(data: Data) -> None:
    remote = per_month(data["tickets"], "opened_at", lambda r: r["channel"] == "remote")
    assert mean_of(remote, AFTER) > 1.4 * mean_of(remote, BEFORE[:11])


def test_first_contact_resolution_improves_and_resolution_gets_faster(data: Data) -> None:
    fixed: dict[str, list[bool]] = defaultdict(list)
    hours: dict[str, list[float]] = defaultdict(list)
    for t in data["tickets"]:
        month = local_month(t["opened_at"])
        fixed[month].append(t["first_contact"])
        if t["resolved_at"]:
            hours[month].append((instant(t["resolved_at"]) - instant(t["opened_at"])).total_seconds() / 3600)
    fcr = {m: 100 * sum(v) / len(v) for m, v in fixed.items()}
    mean_hours = {m: statistics.mean(v) for m, v in hours.items()}
    assert 58 < mean_of(fcr, BEFORE[:11]) < 66  # the agreement's baseline is 62
    assert mean_of(fcr, MONTHS[-6:]) > 78  # near the target of 80
    assert mean_of(mean_hours, MONTHS[-6:]) < 0.5 * mean_of(mean_hours, BEFORE[:11])


def availability_by_month(data: Data) -> dict[str, float]:
    """Store availability computed by hand: unplanned, unexcused down hours over scheduled hours less planned ones."""
    relief = defaultdict(list)
    for r in data["relief"]:
        relief[r["store"]].append((instant(r["starts_at"]), instant(r["ends_at"])))
    down: dict[str, float] = defaultdict(float)
    planned: dict[str, float] = defaultdict(float)
    for o in data["outages"]:
        start = instant(o["started_at"])
        hours = (instant(o["ended_at"]) - start).total_seconds() / 3600
        month = local_month(o["started_at"])
        if o["planned"]:
            planned[month] += hours
        elif not any(begins <= start < ends for begins, ends in relief[o["store"]]):
            down[month] += hours
    result = {}
    for month in sorted(set(down) | set(planned)):
        days = (datetime.fromisoformat(add_months(month, 1) + "-01") - datetime.fromisoformat(month + "-01")).days
        result[month] = 100 * (1 - down[month] / (400 * 14 * days - planned[month]))
    return result


def test_store_availability_improves_from_the_baseline_to_the_target(data: Data) -> None:
    availability = availability_by_month(data)
    assert 97.3 < mean_of(availability, BEFORE[:11]) < 98.3  # the agreement's baseline is 97.8
    assert mean_of(availability, MONTHS[-6:]) > 99.3  # the target is 99.5


def test_relief_events_excuse_outages(data: Data) -> None:
    """Each relief event has outages at its stores that start inside its window (so exclusions matter)."""
    outages = defaultdict(list)
    for o in data["outages"]:
        outages[o["store"]].append(instant(o["started_at"]))
    for relief_id in {r["relief_id"] for r in data["relief"]}:
        rows = [r for r in data["relief"] if r["relief_id"] == relief_id]
        hit = sum(any(instant(r["starts_at"]) <= s < instant(r["ends_at"]) for s in outages[r["store"]]) for r in rows)
        assert hit >= len(rows) // 2, relief_id


def test_downtime_cost_and_survey_follow_the_story(data: Data) -> None:
    cost = {r["period"]: r["value"] for r in data["reported"] if r["metric"] == "downtime_cost"}
    survey = {r["period"]: r["value"] for r in data["reported"] if r["metric"] == "satisfaction"}
    assert sorted(cost) == sorted(survey) == MONTHS
    assert 200_000 < mean_of(cost, BEFORE[:11]) < 280_000  # the gainshare baseline is 240,000
    assert mean_of(cost, AFTER) < 0.5 * mean_of(cost, BEFORE)
    assert 2.9 < mean_of(survey, BEFORE[:11]) < 3.3  # baseline 3.1
    assert mean_of(survey, MONTHS[-6:]) > 4.0  # target 4.2


# -- files and agreements --------------------------------------------------------------------------


def test_csv_files_hold_every_row_with_plain_values(tmp_path: Path) -> None:
    data = generate_helpdesk(seed=5, months=2, stores=40)
    paths = write_helpdesk_csv(tmp_path, seed=5, months=2, stores=40)
    assert set(paths) == {"tickets", "outages", "relief", "reported"}
    tickets = list(csv.DictReader(paths["tickets"].open(encoding="utf-8")))
    assert len(tickets) == len(data["tickets"])
    assert {t["first_contact"] for t in tickets} == {"true", "false"}
    assert "" in {t["satisfaction"] for t in tickets}  # not every store answers the survey
    assert tickets[0]["ticket_id"] == data["tickets"][0]["ticket_id"]


@pytest.mark.parametrize("name", ["vested.yaml", "task-based.yaml"])
def test_generated_columns_are_the_agreements_dataset_columns(data: Data, name: str) -> None:
    loaded = load_agreement_text((EXAMPLES / name).read_text(encoding="utf-8"), name)
    assert loaded.agreement is not None
    assert loaded.agreement.datasets
    for dataset in loaded.agreement.datasets:
        assert [c.name for c in dataset.columns] == list(data[dataset.id][0]), dataset.id
        for column in dataset.columns:
            if column.allowed:
                assert {r[column.name] for r in data[dataset.id]} <= set(column.allowed)
    reported = {m.id for m in loaded.agreement.metrics if m.reported_by == "acme"}
    assert reported <= {r["metric"] for r in data["reported"]}


def test_measured_from_the_generated_files_the_metrics_tell_the_story(tmp_path: Path) -> None:
    """Ingest ten months and measure the agreements' metrics: they equal the same figures counted by hand here."""
    from vested.ingest import ingest_file
    from vested.measure.engine import measure_project
    from vested.storage.folder import open_project

    data = generate_helpdesk(seed=9, start="2025-01", months=10, invest_month=6)
    paths = write_helpdesk_csv(tmp_path / "data", seed=9, start="2025-01", months=10, invest_month=6)
    months = ["2025-05", "2025-10"]  # before the investment; after it, with a storm excused by relief
    assert any(local_month(r["starts_at"]) == "2025-10" for r in data["relief"])
    availability = availability_by_month(data)
    now = datetime(2025, 11, 1, tzinfo=UTC)
    for name in ("vested.yaml", "task-based.yaml"):
        loaded = load_agreement_text((EXAMPLES / name).read_text(encoding="utf-8"), name)
        assert loaded.agreement is not None
        agreement = loaded.agreement
        project = open_project(tmp_path / name)
        for dataset in agreement.datasets:
            report = ingest_file(agreement, project, dataset.id, paths[dataset.id], who="test", now=now)
            assert report.ok, report
        table = measure_project(agreement, project, months)
        for month in months:
            tickets = [t for t in data["tickets"] if local_month(t["opened_at"]) == month]
            expected: dict[str, float] = {
                "calls": len(tickets),
                "onsite_visits": sum(t["channel"] == "onsite" for t in tickets),
                "first_contact_resolution": 100 * sum(t["first_contact"] for t in tickets) / len(tickets),
                "resolution_hours": statistics.mean((instant(t["resolved_at"]) - instant(t["opened_at"])).total_seconds() / 3600
                                                    for t in tickets if t["resolved_at"]),
            }
            if any(d.id == "outages" for d in agreement.datasets):
                expected["store_availability"] = availability[month]
            for metric, value in expected.items():
                if metric in table.values:
                    measured = table.value(metric, month)
                    assert measured is not None and abs(measured - Decimal(repr(value))) < Decimal("0.0001"), (metric, month)
        if "onsite_visits" in table.values:
            assert table.value("onsite_visits", "2025-10") < table.value("onsite_visits", "2025-05") / 2  # type: ignore[operator]


def test_a_write_that_fails_midway_leaves_the_files_as_they_were(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each CSV file is replaced whole or not at all: a later `vested demo` never ingests half a file."""
    import vested.demo_data

    paths = write_helpdesk_csv(tmp_path, seed=7, months=2, stores=20)
    before = {name: path.read_bytes() for name, path in paths.items()}
    written = 0
    real = vested.demo_data._csv

    def failing(value: Any) -> str:
        nonlocal written
        written += 1
        if written > 50:
            raise OSError(28, "No space left on device")
        return real(value)

    monkeypatch.setattr(vested.demo_data, "_csv", failing)
    with pytest.raises(OSError, match="No space left"):
        write_helpdesk_csv(tmp_path, seed=8, months=2, stores=20)
    assert {name: path.read_bytes() for name, path in paths.items()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths.values())  # no temporary file left

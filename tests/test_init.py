"""``vested init``: a folder from a template that runs end to end, and the command's promises.

For each template a folder is made, its generated data ingested into both agreements, the months
settled, and the deal tested (economics, compare, align, simulate) from the files in the folder, as a
user would in the first hour, through the service functions the commands call.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import ws
from vested.cli import app
from vested.core.model import Agreement
from vested.core.periods import months_between
from vested.services import agreements, deal, risk, running
from vested.services.init import Initialised, init, list_templates
from vested.services.result import Result
from vested.templates.catalog import TEMPLATES, TEMPLATES_BY_NAME

runner = CliRunner()


def init_project(folder: Path, template: str, force: bool = False, **options: int) -> Result[Initialised]:
    return init(ws(), folder, template, force, **options)
MONTHS = 5
"""Enough months for every lever to go live (month 3 or 4) and start to bed in."""


@pytest.mark.parametrize("name", [t.name for t in TEMPLATES])
def test_a_template_folder_runs_from_ingest_to_simulate(tmp_path: Path, name: str) -> None:
    template = TEMPLATES_BY_NAME[name]
    folder = tmp_path / name
    report = init_project(folder, name, months=MONTHS).value
    assert report is not None
    assert {"task-based.yaml", "vested.yaml", "scenario.yaml", "README.md"} <= set(report.files)
    assert all((folder / f).is_file() for f in report.files)
    assert agreements.check(ws(), folder / "vested.yaml").diagnostics == ()

    months = months_between(template.data_start, f"2025-{MONTHS:02d}")
    upside = {}
    for agreement in ("task-based.yaml", "vested.yaml"):
        project = tmp_path / f"project-{agreement}"
        loaded = agreements.check(ws(), folder / agreement).value
        assert isinstance(loaded, Agreement)
        needed = [d.id for d in loaded.datasets] + (["reported"] if any(m.reported_by for m in loaded.metrics) else [])
        for dataset in needed:
            ingested = running.ingest(ws(project), folder / agreement, dataset, str(folder / "data" / f"{dataset}.csv"))
            assert ingested.ok, (dataset, ingested.diagnostics[:3])
        settled = running.settle(ws(project), folder / agreement, months)
        assert settled.ok and settled.value is not None, settled.diagnostics
        statements = [s.statement for s in settled.value.result.settlements]
        assert [s.period for s in settled.value.result.settlements] == months
        customer, supplier = loaded.party_with_role("customer"), loaded.party_with_role("supplier")
        assert customer is not None and supplier is not None
        assert all(s.owed(customer.id, supplier.id) > 0 for s in statements)
        kinds = {term.id: term.lint_kind() for term in loaded.pricing}
        upside[agreement] = [sum((line.amount for line in s.lines if kinds.get(line.term_id) == "upside"), Decimal(0))
                             for s in statements]
    # The data is the Vested world: once the lever is in, the supplier earns its share of the gain.
    assert upside["vested.yaml"][-1] > upside["vested.yaml"][0]
    assert upside["task-based.yaml"] == [0] * MONTHS  # the task-based contract shares nothing

    scenario = folder / "scenario.yaml"
    economics = deal.economics(ws(), folder / "vested.yaml", scenario)
    assert economics.ok and economics.value is not None, economics.diagnostics
    assert template.lever in economics.value.economics.levers
    compared = deal.compare(ws(), folder / "task-based.yaml", folder / "vested.yaml", scenario)
    assert compared.ok and compared.value is not None
    assert compared.value.positions[1].verdict == "win-win"
    aligned = deal.align(ws(), folder / "task-based.yaml", scenario)
    assert aligned.value is not None and aligned.value.misaligned
    simulated = risk.simulate(ws(), folder / "vested.yaml", scenario, runs=500, seed=1)
    assert simulated.ok and simulated.value is not None, simulated.diagnostics
    assert template.lever in simulated.value.levers
    assert simulated.value.p_both > 0.8  # both beat today's contract in most runs


def test_the_same_seed_gives_the_same_data(tmp_path: Path) -> None:
    a, b = init_project(tmp_path / "a", "facilities", months=2).value, init_project(tmp_path / "b", "facilities", months=2).value
    assert a is not None and b is not None and a.files == b.files
    for name in a.files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert init_project(tmp_path / "c", "facilities", months=2, seed=2).ok
    assert (tmp_path / "c" / "data" / "work_orders.csv").read_bytes() != (tmp_path / "a" / "data" / "work_orders.csv").read_bytes()


def test_a_folder_that_is_not_empty_is_refused_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    refused = init_project(tmp_path, "equipment", months=1)
    assert not refused.ok and refused.value is None
    assert [d.code for d in refused.diagnostics] == ["folder-not-empty"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # nothing written
    forced = init_project(tmp_path, "equipment", force=True, months=1)
    assert forced.ok and forced.value is not None and "vested.yaml" in forced.value.files
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_an_unknown_template_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    refused = init_project(tmp_path / "x", "logistic")
    assert [d.code for d in refused.diagnostics] == ["unknown-template"]
    assert "did you mean 'logistics'?" in refused.diagnostics[0].hint
    assert not (tmp_path / "x").exists()


def test_the_readme_says_the_next_commands_for_the_datasets_written(tmp_path: Path) -> None:
    report = init_project(tmp_path / "desk", "helpdesk", months=1).value
    assert report is not None
    readme = (tmp_path / "desk" / "README.md").read_text(encoding="utf-8")
    for data in (f for f in report.files if f.startswith("data/")):
        dataset = Path(data).stem
        assert f"vested ingest vested.yaml {dataset} {data}" in readme
    assert "vested compare task-based.yaml vested.yaml --scenario scenario.yaml" in readme
    assert "vested settle vested.yaml --from 2025-01 --to 2025-01" in readme


def test_init_list_shows_one_line_per_template() -> None:
    result = runner.invoke(app, ["init", "--list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == [t.name for t in list_templates()]
    listed = json.loads(runner.invoke(app, ["init", "--list", "--json"]).output)
    assert [t["name"] for t in listed] == [t.name for t in TEMPLATES]


def test_init_command_writes_the_folder_and_refuses_to_write_it_twice(tmp_path: Path) -> None:
    target = tmp_path / "deal"
    result = runner.invoke(app, ["init", str(target), "--template", "logistics", "--json"])
    assert result.exit_code == 0, result.output
    written = json.loads(result.output)
    assert written["ok"] and "data/shipments.csv" in written["files"]
    again = runner.invoke(app, ["init", str(target), "--template", "logistics"])
    assert again.exit_code == 1 and "not empty" in again.output and "--force" in again.output
    assert runner.invoke(app, ["init", str(target), "--template", "logistics", "--force"]).exit_code == 0
    missing = runner.invoke(app, ["init", str(tmp_path / "other")])
    assert missing.exit_code == 1 and "--template" in missing.output


def test_check_accepts_a_scenario_and_schema_prints_the_scenario_schema(tmp_path: Path) -> None:
    init_project(tmp_path, "facilities", months=1)
    checked = runner.invoke(app, ["check", str(tmp_path / "scenario.yaml")])
    assert checked.exit_code == 0 and checked.output.strip().endswith(": ok"), checked.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario: 1\nid: x\nperiods: {start: 2025-01, months: 12}\ndiscount_rate: 8%\ndrivers:\n"
                   "  calls: {value: 6000, uncertain: {distribution: triangular, low: 5400, mode: 7500, high: 7200}}\n",
                   encoding="utf-8")
    refused = runner.invoke(app, ["check", str(bad), "--json"])
    assert refused.exit_code == 1
    (problem,) = json.loads(refused.output)["diagnostics"]
    assert (problem["line"], problem["code"]) == (6, "invalid-value")
    schema = json.loads(runner.invoke(app, ["schema", "--scenario"]).output)
    assert schema["title"] == "vested scenario" and "drivers" in schema["properties"]
    assert json.loads(runner.invoke(app, ["schema"]).output)["title"] == "vested agreement"

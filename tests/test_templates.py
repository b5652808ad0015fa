"""The templates of ``vested init`` tell their story: each claim below could fail if a file drifted.

    The Vested agreement checks clean and the task-based one draws only the Activity Trap; under the
    task-based contract the supplier's most profitable choice leaves the transforming lever out
    although it is best for both together (misaligned); under the Vested agreement the supplier
    chooses it (aligned) and both parties beat the status quo; the margins and paybacks are those
    of a plausible deal. docs/templates.md lists exactly the templates there are.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from tests.helpers import ws
from vested.adapters.load import load_agreement
from vested.adapters.scenario_load import load_scenario
from vested.core.measures import Dataset
from vested.services import agreements, deal
from vested.templates.catalog import FILES, TEMPLATES, TEMPLATES_BY_NAME, Template

EXAMPLES = Path(str(resources.files("vested").joinpath("examples")))
DOC = Path(__file__).resolve().parents[1] / "docs" / "templates.md"
NAMES = [t.name for t in TEMPLATES]


def folder(template: Template) -> Path:
    return EXAMPLES.joinpath(*template.folder)


@pytest.fixture(params=NAMES)
def template(request: pytest.FixtureRequest) -> Template:
    return TEMPLATES_BY_NAME[request.param]


def test_there_are_at_least_four_domains_and_each_has_its_files() -> None:
    assert {"helpdesk", "logistics", "facilities", "equipment"} <= set(NAMES)
    for t in TEMPLATES:
        for name in FILES:
            assert (folder(t) / name).is_file(), f"{t.name}: {name} is missing"


def test_every_template_folder_in_the_package_is_in_the_catalog() -> None:
    shipped = {p.name for p in (EXAMPLES / "templates").iterdir() if p.is_dir()}
    listed = {t.folder[-1] for t in TEMPLATES if t.folder[0] == "templates"}
    assert shipped == listed


def test_the_vested_agreement_checks_without_any_diagnostic(template: Template) -> None:
    report = agreements.check(ws(), folder(template) / "vested.yaml")  # measures compiled too
    assert report.ok and report.diagnostics == ()


def test_the_task_based_agreement_draws_only_the_activity_trap(template: Template) -> None:
    report = agreements.check(ws(), folder(template) / "task-based.yaml")
    assert report.ok
    assert {d.code for d in report.diagnostics} == {"activity-trap"}


def test_the_scenario_checks_clean_and_its_status_quo_is_the_task_based_contract(template: Template) -> None:
    loaded = load_scenario(folder(template) / "scenario.yaml")
    assert loaded.ok and loaded.diagnostics == ()
    assert loaded.scenario is not None and loaded.scenario.status_quo == "task-based.yaml"
    assert template.lever in [lever.id for lever in loaded.scenario.levers]


def test_both_agreements_read_the_same_datasets(template: Template) -> None:
    """The data of ``vested init`` is ingested by either agreement: the task-based one's datasets are the Vested one's."""
    task = load_agreement(folder(template) / "task-based.yaml").agreement
    vested = load_agreement(folder(template) / "vested.yaml").agreement
    assert task is not None and vested is not None
    def shape(dataset: Dataset) -> tuple[object, ...]:  # what ingest checks; the descriptions may differ
        return (dataset.time, dataset.key, tuple(replace(column, description="") for column in dataset.columns))

    vested_datasets = {d.id: shape(d) for d in vested.datasets}
    for dataset in task.datasets:
        assert shape(dataset) == vested_datasets[dataset.id]


def test_under_the_task_based_contract_the_supplier_leaves_the_lever_out(template: Template) -> None:
    report = deal.align(ws(), folder(template) / "task-based.yaml", folder(template) / "scenario.yaml")
    assert report.value is not None, report.diagnostics
    assert template.lever not in report.value.supplier_best.levers
    assert template.lever in report.value.joint_best.levers
    assert report.value.misaligned


def test_under_the_vested_agreement_the_supplier_pulls_the_lever(template: Template) -> None:
    report = deal.align(ws(), folder(template) / "vested.yaml", folder(template) / "scenario.yaml")
    assert report.value is not None, report.diagnostics
    assert template.lever in report.value.supplier_best.levers
    assert not report.value.misaligned


def test_under_the_vested_agreement_both_beat_the_status_quo(template: Template) -> None:
    report = deal.compare(ws(), folder(template) / "task-based.yaml", folder(template) / "vested.yaml", folder(template) / "scenario.yaml")
    assert report.value is not None, report.diagnostics
    task, vested = report.value.positions
    assert task.value_created == 0  # the supplier keeps things as they are
    assert vested.verdict == "win-win"
    assert vested.customer_change > 0 and vested.supplier_change > 0


@pytest.mark.parametrize("name", [n for n in NAMES if n != "helpdesk"])  # the help desk is tested in test_helpdesk_story
def test_the_margins_and_the_payback_are_those_of_a_plausible_deal(name: str) -> None:
    """Today the supplier makes a thin margin; under the Vested agreement it earns more but not a windfall, and the
    transforming investment pays back within a year (whoever pays it)."""
    t = TEMPLATES_BY_NAME[name]
    today = deal.economics(ws(), folder(t) / "task-based.yaml", folder(t) / "scenario.yaml", "none").value.economics
    vested = deal.economics(ws(), folder(t) / "vested.yaml", folder(t) / "scenario.yaml").value.economics
    assert today is not None and vested is not None
    before = today.totals.supplier_margin / today.totals.supplier_revenue
    after = vested.totals.supplier_margin / vested.totals.supplier_revenue
    assert Decimal("0.05") < before < Decimal("0.20")
    assert before < after < Decimal("0.35")
    (investment,) = [i for i in vested.investments if i.lever == t.lever]
    assert investment.payback_months is not None and investment.payback_months < 12


def test_the_templates_doc_lists_exactly_the_templates() -> None:
    text = DOC.read_text(encoding="utf-8")
    listed = re.findall(r"^\| `([\w-]+)` \|", text, re.MULTILINE)
    assert listed == NAMES, "docs/templates.md lists the templates in the order of vested init --list"
    for t in TEMPLATES:
        assert f"`{t.lever}`" in text, f"docs/templates.md does not name the lever of {t.name}"

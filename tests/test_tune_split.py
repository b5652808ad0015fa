"""`vested tune` can target a split of the value created: each party's least share of the joint gain."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import ws
from vested.adapters.scenario_load import load_scenario_text
from vested.core.scenario import SplitTarget
from vested.render.simulate import tune_json
from vested.services import risk

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "helpdesk"
VESTED, SCENARIO = EXAMPLES / "vested.yaml", EXAMPLES / "scenario.yaml"
RUNS = 60


def test_a_split_is_written_as_least_shares() -> None:
    split = SplitTarget(customer="at least 40%", supplier="35%")
    assert (split.customer, split.supplier) == (Decimal("0.4"), Decimal("0.35"))
    assert split.met(Decimal(60), Decimal(40)) and split.met(Decimal(40), Decimal(60))
    assert not split.met(Decimal(70), Decimal(30))  # the supplier gets 30%, less than 35%
    assert not split.met(Decimal(-5), Decimal(5))  # no value created: no share of it


def test_least_shares_over_the_whole_are_refused_where_written() -> None:
    text = SCENARIO.read_text(encoding="utf-8").replace(
        "  threshold: 80%\n", "  threshold: 80%\n  split: {customer: at least 70%, supplier: at least 40%}\n")
    loaded = load_scenario_text(text, "scenario.yaml")
    assert not loaded.ok
    problem = next(d for d in loaded.diagnostics if d.is_error)
    assert "110" in problem.message and "more than the whole value created" in problem.message
    assert problem.location is not None and problem.location.file == "scenario.yaml"
    assert problem.path[:2] == ("tune", "split")


@pytest.fixture(scope="module")
def free_and_split() -> tuple[dict, dict]:
    free = risk.tune(ws(), VESTED, SCENARIO, runs=RUNS, seed=1)
    split = risk.tune(ws(), VESTED, SCENARIO, runs=RUNS, seed=1, min_share="40%")
    assert free.value is not None and split.value is not None
    return tune_json(free.value), tune_json(split.value)


def test_every_candidate_reports_its_split(free_and_split: tuple[dict, dict]) -> None:
    free, _ = free_and_split
    for c in free["candidates"]:
        if not c["valid"] or Decimal(c["joint_gain"]) <= 0:
            continue
        joint = Decimal(c["customer_gain"]) + Decimal(c["supplier_gain"])
        assert abs(Decimal(c["customer_share"]) - Decimal(c["customer_gain"]) / joint) < Decimal("1e-12")
        assert abs(Decimal(c["customer_share"]) + Decimal(c["supplier_share"]) - 1) < Decimal("1e-12")


def test_a_least_share_changes_which_terms_are_best(free_and_split: tuple[dict, dict]) -> None:
    free, split = free_and_split
    assert split["split"] == {"customer": "0.4", "supplier": "0.4"} and free["split"] is None
    # without a split the best terms give the supplier less than 40% of the value (the test is not vacuous) ...
    best = free["best"]
    assert Decimal(best["supplier_gain"]) < Decimal("0.4") * (Decimal(best["customer_gain"]) + Decimal(best["supplier_gain"]))
    # ... with one, every feasible candidate gives each party at least 40%, and the best is one of them
    feasible = [c for c in split["candidates"] if c["feasible"]]
    assert feasible and split["best"] in feasible
    for c in feasible:
        customer, supplier = Decimal(c["customer_gain"]), Decimal(c["supplier_gain"])
        assert customer >= Decimal("0.4") * (customer + supplier) and supplier >= Decimal("0.4") * (customer + supplier)
    assert any(c["feasible"] and not s["feasible"] for c, s in zip(free["candidates"], split["candidates"], strict=True))


@pytest.mark.parametrize(("given", "says"), [("abc", "--min-share abc"), ("60%", "more than half")])
def test_a_bad_least_share_is_a_diagnostic(given: str, says: str) -> None:
    result = risk.tune(ws(), VESTED, SCENARIO, runs=RUNS, seed=1, min_share=given)
    assert result.value is None and says in result.diagnostics[0].message


def test_the_candidates_sheet_holds_each_split_as_a_share(free_and_split: tuple[dict, dict]) -> None:
    import io

    import openpyxl

    from vested.render.sheets import tune_sheets
    from vested.render.xlsx import render_xlsx

    tuned = risk.tune(ws(), VESTED, SCENARIO, runs=RUNS, seed=1, min_share="40%").value
    assert tuned is not None
    sheet = openpyxl.load_workbook(io.BytesIO(render_xlsx(tune_sheets(tuned))))["candidates"]
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 1 + len(tuned.candidates)  # the terms as written, then every candidate
    share = header.index("customer share")
    assert sheet.cell(row=2, column=share + 1).number_format.endswith("%")
    for row, c in zip(rows[1:], tuned.candidates, strict=True):
        if c.customer_share is not None:
            assert abs(row[share] - float(c.customer_gain / (c.customer_gain + c.supplier_gain))) < 1e-9

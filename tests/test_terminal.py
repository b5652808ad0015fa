"""At 80 columns no value is cut with "…": every table of the help-desk example, read as a terminal shows it.

Each table is rendered by a rich console 80 columns wide, and every amount its result's JSON holds
must appear whole in the text (as ``money.show_money`` writes it): a table too wide is stacked or
shown one record per row, never cut.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console, RenderableType
from rich.table import Table

from vested.core.money import show_money
from vested.core.scorecard import build_scorecard
from vested.render.deal import align_json, align_table, compare_json, compare_table, economics_json, economics_table
from vested.render.fit import fitted, money_column, text_column
from vested.render.run import metric_table, scorecard_table
from vested.render.simulate import simulate_json, simulate_table, tune_json, tune_table
from vested.render.statement import fmt, statement_json, statement_table, statement_view
from vested.services import agreements, deal, risk
from vested.services.workspace import open_workspace

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "helpdesk"
VESTED, TASK, SCENARIO = EXAMPLES / "vested.yaml", EXAMPLES / "task-based.yaml", EXAMPLES / "scenario.yaml"


def text_at(width: int, renderable: RenderableType) -> str:
    console = Console(width=width, record=True, file=open("/dev/null", "w"), color_system=None)  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def amounts(values: Iterable[Any]) -> list[str]:
    return [show_money(Decimal(v)) for v in values if v is not None]


def assert_whole(text: str, shown: Iterable[str]) -> None:
    assert "…" not in text, text
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80, text
    missing = [s for s in shown if s not in text]
    assert not missing, f"not shown whole: {missing[:5]}\n{text}"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return open_workspace(tmp_path_factory.mktemp("project"), "tester")


def test_a_statement_fits_and_shows_every_amount(ws: Any) -> None:
    priced = agreements.price(ws, VESTED, EXAMPLES / "vested-facts-2025-06.yaml").value
    assert priced is not None
    view = statement_view(priced.agreement, priced.statement)
    data = statement_json(view)
    text = text_at(80, statement_table(view))
    assert_whole(text, amounts([*(line["amount"] for line in data["lines"]), *(n["amount"] for n in data["net"])]))
    assert "cap binds yes" in text and "True" not in text and "False" not in text


def test_economics_per_month_is_stacked_not_cut(ws: Any) -> None:
    run = deal.economics(ws, VESTED, SCENARIO).value
    assert run is not None
    data = economics_json(run.economics, run.lever_choice)
    fields = ("customer_pays", "customer_own_costs", "customer_total_cost", "supplier_revenue", "supplier_cost",
              "supplier_investment", "supplier_margin")
    shown = amounts(p["money"][f] for p in data["periods"] for f in fields)
    shown += amounts([data["customer_npv"], data["supplier_npv"], data["joint_npv"]])
    text = text_at(80, economics_table(run.economics, run.lever_choice))
    assert_whole(text, shown)
    assert "proactive_monitoring" in text  # a long lever id is whole too
    assert "cut to the places shown" in text or "≈" not in text


def test_compare_and_align_fit(ws: Any) -> None:
    comparison = deal.compare(ws, TASK, VESTED, SCENARIO).value
    assert comparison is not None
    data = compare_json(comparison)
    shown = amounts([data["status_quo"]["customer_npv"], data["status_quo"]["supplier_npv"]])
    for p in data["positions"]:
        shown += amounts([p["outcome"]["customer_npv"], p["outcome"]["supplier_npv"], p["customer_change"],
                          p["supplier_change"], p["value_created"]])
    text = text_at(80, compare_table(comparison))
    assert_whole(text, shown)
    assert "≈ marks a value cut" in text  # the NPVs are exact quotients, cut to the cent for reading

    alignment = deal.align(ws, VESTED, SCENARIO).value
    assert alignment is not None
    a = align_json(alignment)
    shown = amounts(a[c][k] for c in ("no_levers", "supplier_best", "joint_best") for k in ("customer_npv", "supplier_npv"))
    shown += amounts(e[k] for e in a["lever_effects"] for k in ("customer_change", "supplier_change"))
    assert_whole(text_at(80, align_table(alignment)), shown)


def test_simulate_and_tune_fit(ws: Any) -> None:
    simulation = risk.simulate(ws, VESTED, SCENARIO, runs=200, seed=1).value
    assert simulation is not None
    s = simulate_json(simulation)
    stats = ("mean", "p5", "p50", "p95", "expected_shortfall")
    shown = amounts(s[party][part][k] for party in ("customer", "supplier") for part in ("result", "status_quo", "gain")
                    for k in stats)
    shown += amounts(s["joint_gain"][k] for k in stats)
    assert_whole(text_at(80, simulate_table(simulation)), shown)

    tuned = risk.tune(ws, VESTED, SCENARIO, runs=50, seed=1).value
    assert tuned is not None
    t = tune_json(tuned)
    shown = amounts(t[row][k] for row in ("as_written", "best") for k in ("expected_joint", "customer_gain", "supplier_gain"))
    assert_whole(text_at(80, tune_table(tuned)), shown)


def test_many_months_of_metrics_and_a_scorecard_fit() -> None:
    loaded = agreements.load_for_run(VESTED)
    agreement = loaded.agreement
    assert agreement is not None
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    rows = {month: {"store_availability": Decimal("97.8") + Decimal(i) / 7, "satisfaction": Decimal("3.1"),
                    "first_contact_resolution": Decimal(62 + i), "resolution_hours": Decimal("4.5"),
                    "downtime_cost": Decimal("240000") - 12345 * i} for i, month in enumerate(months)}
    text = text_at(80, metric_table(agreement, rows))
    assert_whole(text, [show_money(rows[m]["downtime_cost"], trim=True) for m in months] + months)
    assert "store_availability" in text and "≈ marks a value cut" in text  # 97.8 + 1/7 is cut to two places

    card = build_scorecard(agreement, "2025-12", rows)
    text = text_at(80, scorecard_table(agreement, card))
    assert_whole(text, ["fixed_first_time", "60%", "40%"])


def test_a_table_too_wide_for_any_stack_reads_one_record_per_row() -> None:
    table = Table(title="wide")
    text_column(table, "name")
    for i in range(3):
        money_column(table, f"amount {i}")
    table.add_row("first", "1" * 40, "2" * 40, "3" * 40)
    text = text_at(50, fitted(table))
    assert "…" not in text and "1" * 40 in text and "3" * 40 in text
    assert "amount 2" in text  # each value with the name of its field


def test_flags_read_yes_or_no() -> None:
    assert fmt(True) == "yes" and fmt(False) == "no" and fmt(Decimal("1.50")) == "1.5"

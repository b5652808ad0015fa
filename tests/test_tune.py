"""Finding the deal: tunable terms searched for the most joint value both parties accept.

The small agreement here is worked by hand: a fixed fee F and a share s of the savings on the
customer's downtime. The supplier can fix things (cost 110 a month, downtime −50%) and fix more
(cost 80 a month, downtime −40%); together they cut downtime 1000 to 300. Per month, against no
levers, the supplier earns s × savings − cost:

    s      fix (saves 500)   more (saves 400)   both (saves 700)   the supplier picks
    15%    75 − 110 = −35    60 − 80 = −20      105 − 190 = −85    neither
    25%    125 − 110 = 15    100 − 80 = 20      175 − 190 = −15    fix more
    35%    175 − 110 = 65    140 − 80 = 60      245 − 190 = 55     fix
    45%    225 − 110 = 115   180 − 80 = 100     315 − 190 = 125    both

The joint value created a month is savings − costs: 0, 320, 390 or 510 — the most only at s = 45%.
Against the status quo (a fee of 1000, downtime 1000, no levers), a month gives the customer
1000 − F + (1 − s) × savings and the supplier F + s × savings − cost − 1000.
"""

from __future__ import annotations

import math
import textwrap
from decimal import Decimal
from itertools import product
from pathlib import Path

import pytest

from tests.helpers import minimal, ws
from vested.adapters.scenario_load import load_scenario_text
from vested.core.scenario_checks import check_tuning
from vested.render.diagnostics import format_diagnostics
from vested.render.simulate import tune_json
from vested.services import risk
from vested.services.result import Result
from vested.simulate.tune import TuneResult

FEE_AND_SHARE = minimal(
    """
    - {id: fee, type: fixed_fee, amount: 1000}
    - {id: share, type: gainshare, baseline: 1000, actual: downtime, sharing_rate: 30%}
    """,
    "- {id: downtime, unit: money, minimum: 0}",
)
FLAT = minimal("- {id: fee, type: fixed_fee, amount: 1000}")
SCENARIO = """\
scenario: 1
id: deal
discount_rate: 0%
periods: {start: 2025-01, months: 12}
status_quo: flat.yaml
drivers:
  downtime: 1000
customer:
  costs: [{label: Lost sales, driver: downtime}]
levers:
  - {id: fix, running_cost: {paid_by: supplier, amount: 110}, effects: {downtime: -50%}}
  - {id: fix_more, running_cost: {paid_by: supplier, amount: 80}, effects: {downtime: -40%}}
tune:
  parameters:
    - {term: fee, field: amount, range: [900, 1300], step: 100}
    - {term: share, field: sharing_rate, range: [15%, 45%], step: 10%}
  threshold: 80%
  runs: 20
"""

PICKS = {"15%": ((), 0, 0), "25%": (("fix_more",), 400, 80), "35%": (("fix",), 500, 110),
         "45%": (("fix", "fix_more"), 700, 190)}
"""The supplier's choice at each share, from the table above: (levers, savings a month, cost a month)."""


def by_hand(fee: str, rate: str) -> tuple[tuple[str, ...], Decimal, Decimal]:
    """(levers, customer gain, supplier gain) over the 12 months, from the formulas in the docstring."""
    levers, savings, cost = PICKS[rate]
    f, s = Decimal(fee), Decimal(rate[:-1]) / 100
    return levers, 12 * (1000 - f + (1 - s) * savings), 12 * (f + s * savings - cost - 1000)


def write(tmp_path: Path, scenario: str = SCENARIO, agreement: str = FEE_AND_SHARE) -> tuple[Path, Path]:
    (tmp_path / "deal.yaml").write_text(textwrap.dedent(agreement), encoding="utf-8")
    (tmp_path / "flat.yaml").write_text(textwrap.dedent(FLAT), encoding="utf-8")
    (tmp_path / "scenario.yaml").write_text(scenario, encoding="utf-8")
    return tmp_path / "deal.yaml", tmp_path / "scenario.yaml"


def ok(report: Result[TuneResult]) -> Result[TuneResult]:
    assert report.ok and report.value is not None, format_diagnostics(report.diagnostics)
    return report


def test_the_search_finds_the_terms_worked_out_by_hand(tmp_path: Path) -> None:
    result = ok(risk.tune(ws(), *write(tmp_path), seed=1)).value
    assert result is not None and result.method == "grid" and result.grid_size == 20 and len(result.candidates) == 20
    expected = {}
    for fee, rate in product(("900", "1000", "1100", "1200", "1300"), PICKS):
        levers, customer, supplier = by_hand(fee, rate)
        expected[(fee, rate)] = (levers, customer, supplier, customer > 0 and supplier > 0)
    for c in result.candidates:
        levers, customer, supplier, feasible = expected[c.settings]
        assert (set(c.levers), c.customer_gain, c.supplier_gain, c.feasible) == (set(levers), customer, supplier, feasible)
        assert c.p_both == (1.0 if feasible else 0.0)
    # The most joint value (510 a month) needs s = 45%, and at 45% every fee from 900 to 1300 leaves both better
    # off: they tie, and the tie goes to the least change from the terms as written (fee 1000, share 30%).
    assert result.best is not None and result.best.settings == ("1000", "45%")
    assert result.best.joint_gain == 12 * 510
    assert result.as_written.settings == ("1000", "30%")
    frontier = {(fee, rate) for (fee, rate), (_, c, s, _) in expected.items()
                if not any(c2 >= c and s2 >= s and (c2, s2) != (c, s) for (_, c2, s2, _) in expected.values())}
    assert {c.settings for c in result.frontier} == frontier
    assert all(rate == "45%" for _, rate in frontier)  # every other share leaves joint value on the table


def test_the_terms_as_written_are_evaluated_for_reference(tmp_path: Path) -> None:
    result = ok(risk.tune(ws(), *write(tmp_path), seed=1)).value
    assert result is not None
    # at 30% the supplier earns 150 − 110 = 40 with fix, 120 − 80 = 40 with fix more, 210 − 190 = 20 with both:
    # fix and fix more tie for it (40 a month); the tie goes to the one better for both: fix (390 > 320)
    written = result.as_written
    assert written.levers == ("fix",)
    assert written.customer_gain == 12 * (1000 - 1000 + Decimal("0.7") * 500)
    assert written.supplier_gain == 12 * (1000 + Decimal("0.3") * 500 - 110 - 1000)


def test_a_candidate_the_format_refuses_is_skipped_with_the_reason(tmp_path: Path) -> None:
    scenario = SCENARIO.replace("range: [15%, 45%], step: 10%", "range: [45%, 125%], step: 40%")
    result = ok(risk.tune(ws(), *write(tmp_path, scenario), seed=1)).value
    assert result is not None
    skipped = result.skipped
    assert {c.settings[1] for c in skipped} == {"125%"} and len(skipped) == 5
    assert "125%" in skipped[0].reason and "more than 100%" in skipped[0].reason
    assert {c.settings[1] for c in result.candidates if c.valid} == {"45%", "85%"}


def test_a_grid_larger_than_the_budget_is_searched_at_random_then_refined(tmp_path: Path) -> None:
    scenario = SCENARIO.replace("threshold: 80%", "threshold: 80%\n  budget: 8")
    first = ok(risk.tune(ws(), *write(tmp_path, scenario), seed=3)).value
    again = ok(risk.tune(ws(), *write(tmp_path, scenario), seed=3)).value
    assert first is not None and again is not None
    assert first.method == "random search + local refinement" and "not guaranteed" in first.method_note
    assert len(first.candidates) <= 8
    assert [c.settings for c in first.candidates] == [c.settings for c in again.candidates]  # seeded
    assert first.best is not None and first.best.feasible


def test_when_no_terms_meet_the_threshold_the_closest_is_reported(tmp_path: Path) -> None:
    # The customer pays a flat fee F instead of 10 a job, jobs ~ uniform(80, 120) for the whole year: it beats
    # the status quo when 10 × jobs > F, the supplier when 10 × jobs < F. Both cannot reach 80%.
    flat_fee = minimal("- {id: fee, type: fixed_fee, amount: 1000}")
    per_job = minimal("- {id: fee, type: per_unit, quantity: jobs, rate: 10}", "- {id: jobs, unit: count}")
    scenario = """\
scenario: 1
id: jobs
discount_rate: 0%
periods: {start: 2025-01, months: 12}
status_quo: per_job.yaml
drivers:
  jobs: {value: 100, uncertain: {distribution: uniform, low: 80, high: 120}}
tune:
  parameters: [{term: fee, field: amount, range: [900, 1100], step: 50}]
  runs: 20000
"""
    (tmp_path / "per_job.yaml").write_text(textwrap.dedent(per_job), encoding="utf-8")
    path, scenario_path = write(tmp_path, scenario, flat_fee)
    result = ok(risk.tune(ws(), path, scenario_path, seed=2)).value
    assert result is not None and result.best is None and result.threshold == Decimal("0.8")
    for c in result.candidates:
        p = (120 - int(c.settings[0]) / 10) / 40  # P(jobs > F/10)
        assert abs(c.p_customer - p) <= 4 * math.sqrt(p * (1 - p) / 20_000) + 1e-9
        assert not c.feasible
    assert result.closest is not None and result.closest.settings == ("1000",)  # 50/50 is the closest to 80/80


@pytest.mark.parametrize(("parameter", "code", "words"), [
    ("{term: fees, field: amount, range: [1, 2]}", "unknown-term", "did you mean 'fee'?"),
    ("{term: fee, field: amuont, range: [1, 2]}", "unknown-field", "did you mean 'amount'?"),
    ("{term: fee, field: label, range: [1, 2]}", "unknown-field", "is not a number"),
])
def test_a_parameter_the_agreement_does_not_have_is_refused_where_it_is_written(tmp_path: Path, parameter: str, code: str,
                                                                                 words: str) -> None:
    scenario = SCENARIO.replace("    - {term: fee, field: amount, range: [900, 1300], step: 100}\n", f"    - {parameter}\n")
    report = risk.tune(ws(), *write(tmp_path, scenario), seed=1)
    errors = [d for d in report.diagnostics if d.is_error]
    assert len(errors) == 1 and errors[0].code == code and words in errors[0].message + errors[0].hint
    line = scenario.splitlines().index(f"    - {parameter}") + 1
    assert errors[0].location is not None and errors[0].location.line == line


def test_a_nested_field_is_reached_by_its_path() -> None:
    from tests.helpers import agreement

    credits = agreement(minimal("""
        - {id: fee, type: fixed_fee, amount: 1000}
        - id: credits
          type: service_credits
          base: {term: fee}
          service_levels: [{metric: up, target: 99, tiers: [{from: 98, to: 99, credit: 5%}, {to: 98, credit: 10%}]}]
        """, "- {id: up, unit: percent}"))
    loaded = load_scenario_text(textwrap.dedent("""\
        scenario: 1
        id: s
        discount_rate: 0%
        periods: {start: 2025-01, months: 2}
        drivers: {up: 99}
        tune:
          parameters:
            - {term: credits, field: service_levels.0.target, range: [98, 99.5], step: 0.5}
            - {term: credits, field: service_levels.0.tiers.1.credit, range: [5%, 15%], step: 5%}
            - {term: credits, field: service_levels.3.target, range: [98, 99]}
        """), "scenario.yaml")
    assert loaded.scenario is not None
    (d,) = check_tuning(loaded.scenario, credits)
    assert d.code == "unknown-field" and d.path == ("tune", "parameters", 2, "field") and "1 item(s)" in d.hint


def test_the_help_desk_terms_as_written_are_among_the_best() -> None:
    examples = Path(__file__).resolve().parents[1] / "examples" / "helpdesk"
    result = ok(risk.tune(ws(), examples / "vested.yaml", examples / "scenario.yaml", runs=300, seed=1)).value
    assert result is not None and result.method == "grid" and result.best is not None
    # Under every fee and share in range the supplier pulls every lever, so the joint value is the same and the
    # terms as written (on the grid, feasible) win the tie.
    assert result.best.settings == result.as_written.settings == ("270000", "30%")
    assert {c.levers for c in result.candidates} == {("remote_support", "train_staff", "proactive_monitoring")}
    assert any(not c.feasible for c in result.candidates)  # a fee of 400,000 is too much for the customer


def test_a_candidate_that_cannot_be_simulated_is_skipped_with_the_reason(tmp_path: Path) -> None:
    # At a rate of −10 a job the per-job fee, the base of the credits, is negative: the simulation refuses it.
    credited = minimal(
        """
        - {id: per_job, type: per_unit, quantity: jobs, rate: 10}
        - id: credits
          type: service_credits
          base: {term: per_job}
          service_levels: [{metric: up, target: 99, tiers: [{to: 99, credit: 10%}]}]
        """,
        "- {id: jobs, unit: count}\n- {id: up, unit: percent}",
    )
    scenario = """\
scenario: 1
id: jobs
discount_rate: 0%
periods: {start: 2025-01, months: 12}
status_quo: flat.yaml
drivers:
  jobs: {value: 100, uncertain: {distribution: uniform, low: 80, high: 120}}
  up: 98
tune:
  parameters: [{term: per_job, field: rate, range: [-10, 10], step: 10}]
  runs: 50
"""
    report = ok(risk.tune(ws(), *write(tmp_path, scenario, credited), seed=1, levers="none"))
    result = report.value
    assert result is not None and result.lever_choice == "no levers" and result.engine.startswith("vectorised")
    (skipped,) = result.skipped
    assert skipped.settings == ("-10",) and "cannot be simulated" in skipped.reason and "below zero" in skipped.reason
    assert {c.settings for c in result.candidates if c.valid} == {("0",), ("10",)}
    data = tune_json(report.value)  # the derived values reach the JSON
    assert [c["settings"] for c in data["skipped"]] == [["-10"]]
    written = result.as_written
    assert data["as_written"]["weaker_probability"] == min(written.p_customer, written.p_supplier)
    assert Decimal(data["as_written"]["joint_gain"]) == written.customer_gain + written.supplier_gain

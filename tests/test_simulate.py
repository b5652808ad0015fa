"""The risk simulation: exact without uncertainty, the vectorised engine equal to the exact one run by run,
and statistics that match what the distributions imply.

Expected values come from the deterministic economics (``vested economics``), from the exact Decimal
engine (``price_period``) run by run, and from the normal and uniform distributions' formulas
computed here; sampled figures must lie within a few standard errors of them.
"""

from __future__ import annotations

import json
import math
import shutil
import textwrap
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.helpers import agreement, minimal, ws
from vested.adapters.load import load_agreement
from vested.adapters.scenario_load import load_scenario
from vested.core.facts import Facts
from vested.core.pricing import price_period
from vested.render.diagnostics import format_diagnostics
from vested.render.simulate import simulate_json, simulate_table
from vested.services import deal, risk
from vested.services.charts import write_simulate_charts
from vested.services.result import Result
from vested.simulate.run import ExactEngine, Plan, Simulation, run_worlds
from vested.simulate.vector import VectorEngine

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "helpdesk"


def phi(z: float) -> float:
    """The standard normal CDF."""
    return 0.5 * math.erfc(-z / math.sqrt(2))


def within(estimate: float, expected: float, standard_error: float, sigmas: float = 4.0) -> bool:
    return abs(estimate - expected) <= sigmas * standard_error


def files(tmp_path: Path, scenario: str, **agreements: str) -> Path:
    """Write agreements (name -> YAML) and the scenario into a folder; return the scenario's path."""
    for name, text in agreements.items():
        (tmp_path / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(scenario), encoding="utf-8")
    return path


def ok(report: Result[Simulation]) -> Result[Simulation]:
    assert report.ok and report.value is not None, format_diagnostics(report.diagnostics)
    return report


def without_uncertainty(tmp_path: Path) -> Path:
    """The help-desk example with every driver at its deterministic value."""
    data = yaml.safe_load((EXAMPLES / "scenario.yaml").read_text(encoding="utf-8"))
    for spec in data["drivers"].values():
        spec.pop("uncertain", None)
    data.pop("correlations")
    for name in ("vested.yaml", "task-based.yaml"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


# -- exact without uncertainty ----------------------------------------------------------------------------

def test_without_uncertainty_every_run_is_the_deterministic_economics_to_the_cent(tmp_path: Path) -> None:
    scenario = without_uncertainty(tmp_path)
    simulation = ok(risk.simulate(ws(), tmp_path / "vested.yaml", scenario, runs=3, seed=1)).value
    assert simulation is not None
    vested = deal.economics(ws(), tmp_path / "vested.yaml", scenario).value.economics  # the supplier's best levers, as here
    today = deal.economics(ws(), tmp_path / "task-based.yaml", scenario, levers="none").value.economics
    assert vested is not None and today is not None
    assert simulation.levers == vested.levers and "remote_support" in simulation.levers
    for party, mine, status_quo in ((simulation.customer, vested.customer_npv, today.customer_npv),
                                   (simulation.supplier, vested.supplier_npv, today.supplier_npv)):
        for summary, expected in ((party.result, mine), (party.status_quo, status_quo), (party.gain, mine - status_quo)):
            assert summary.sd == 0
            for estimate in (summary.mean, summary.p5, summary.p50, summary.p95, summary.expected_shortfall):
                assert abs(estimate - expected) <= Decimal("0.005"), (risk.role, estimate, expected)
        assert party.p_beats == 1.0
    assert simulation.p_both == 1.0


# -- the vectorised engine against the exact one, run by run -----------------------------------------------

CREDITS = minimal(
    """
    - {id: fee, type: fixed_fee, amount: 1000}
    - id: credits
      type: service_credits
      base: {term: fee}
      service_levels:
        - metric: fixed_first_time
          target: 80
          tiers: [{from: 70, to: 80, credit: 5%}, {to: 70, credit: 10%}]
      rolling_cap: {periods: 3, rate: 15%}
    - {id: share, type: gainshare, baseline: 500, actual: spend, sharing_rate: 40%, minimum_savings_rate: 5%, cap: 20%}
    """,
    """
    - {id: fixed_first_time, unit: percent, minimum: 0, maximum: 100}
    - {id: spend, unit: money, minimum: 0}
    """,
)
CREDITS_SCENARIO = """\
scenario: 1
id: credits
discount_rate: 6%
periods: {start: 2025-01, months: 12}
drivers:
  fixed_first_time: {value: 80, uncertain: {distribution: normal, mean: 78, sd: 6, vary: per_period}}
  spend: {value: 450, uncertain: {distribution: triangular, low: 300, mode: 450, high: 560}}
  effort: {value: 10, uncertain: {distribution: uniform, low: 5, high: 15, vary: per_period}}
correlations:
  - {between: [fixed_first_time, effort], rho: 0.5}
supplier: {fixed_cost: 200, unit_costs: {effort: 30}}
customer:
  costs: [{label: Overspend, driver: spend, per_unit: 1}]
levers:
  - {id: coach, after: 4, running_cost: {paid_by: supplier, amount: 40}, effects: {fixed_first_time: {add: 5}}}
"""


def helpdesk_plan() -> tuple[Plan, list, list]:
    vested = load_agreement(EXAMPLES / "vested.yaml").agreement
    task = load_agreement(EXAMPLES / "task-based.yaml").agreement
    scenario = load_scenario(EXAMPLES / "scenario.yaml").scenario
    assert vested is not None and task is not None and scenario is not None
    plan = Plan(scenario, (vested, task))
    levers = ("remote_support", "proactive_monitoring")
    exact = [plan.world(vested, levers, ExactEngine(vested, plan.labels)), plan.world(task, (), ExactEngine(task, plan.labels))]
    vector = [plan.world(vested, levers, VectorEngine(vested)), plan.world(task, (), VectorEngine(task))]
    return plan, exact, vector


def credits_plan() -> tuple[Plan, list, list]:
    a = agreement(CREDITS)
    scenario = load_scenario_text(CREDITS_SCENARIO)
    plan = Plan(scenario, (a,))
    return plan, [plan.world(a, ("coach",), ExactEngine(a, plan.labels))], [plan.world(a, ("coach",), VectorEngine(a))]


def load_scenario_text(text: str):  # type: ignore[no-untyped-def]
    from vested.adapters.scenario_load import load_scenario_text as load

    loaded = load(text, "scenario.yaml")
    assert loaded.ok and loaded.scenario is not None, format_diagnostics(loaded.diagnostics)
    return loaded.scenario


@pytest.mark.parametrize("build", [helpdesk_plan, credits_plan], ids=["help-desk", "credits-with-a-rolling-cap"])
def test_the_vectorised_simulation_equals_the_exact_engine_run_by_run_to_the_cent(build) -> None:  # type: ignore[no-untyped-def]
    plan, exact_worlds, vector_worlds = build()
    runs = 40
    exact = run_worlds(plan, exact_worlds, runs, seed=11, trace=True)
    vector = run_worlds(plan, vector_worlds, runs, seed=11, trace=True)
    for e, v in zip(exact, vector, strict=True):
        assert e.values is not None and v.values is not None and e.payments is not None and v.payments is not None
        for name in e.values:  # the same draws
            assert np.array_equal(e.values[name], v.values[name])
        assert float(np.max(np.abs(e.payments - v.payments))) < 0.005  # every run-month, to the cent
        assert float(np.max(np.abs(e.customer - v.customer))) < 0.01
        assert float(np.max(np.abs(e.supplier - v.supplier))) < 0.01
        assert e.values and np.std(next(iter(e.values.values()))) > 0  # the draws did vary


def test_a_traced_run_repriced_month_by_month_by_the_exact_engine_gives_the_same_payments() -> None:
    """Independently of the simulation's own exact engine: price_period on the traced values, state carried."""
    plan, _, vector_worlds = credits_plan()
    (traced,) = run_worlds(plan, vector_worlds, 5, seed=3, trace=True)
    assert traced.values is not None and traced.payments is not None
    a = vector_worlds[0].agreement
    for run in range(5):
        state: dict = {}
        for t, label in enumerate(plan.labels):
            facts = Facts(values={m: Decimal(repr(float(traced.values[m][run, t]))) for m in traced.values}, period=label)
            priced = price_period(a, facts, state)
            assert priced.statement is not None, priced.diagnostics
            state = dict(priced.state)
            assert abs(float(priced.statement.owed("buyer", "seller")) - traced.payments[run, t]) < 0.005


# -- statistics against the distributions' formulas -----------------------------------------------------------

PER_JOB = minimal("- {id: per_job, type: per_unit, quantity: jobs, rate: 10}", "- {id: jobs, unit: count}")
FLAT = minimal("- {id: flat, type: fixed_fee, amount: 900}")
JOBS = """\
scenario: 1
id: jobs
discount_rate: 0%
periods: {start: 2025-01, months: 12}
status_quo: flat.yaml
drivers:
  jobs: {value: 100, uncertain: {distribution: normal, mean: 100, sd: 20, vary: VARY}}
"""


def test_a_normal_driver_through_a_linear_fee_gives_the_normal_probabilities(tmp_path: Path) -> None:
    scenario = files(tmp_path, JOBS.replace("VARY", "per_run"), per_job=PER_JOB, flat=FLAT)
    runs = 100_000
    s = ok(risk.simulate(ws(), tmp_path / "per_job.yaml", scenario, runs, seed=5)).value
    assert s is not None and s.status_quo == "flat.yaml with no levers"
    # The customer pays 12 × 10 × jobs instead of 12 × 900: it beats the status quo when jobs < 90, i.e. z < −0.5.
    p = phi(-0.5)
    error = math.sqrt(p * (1 - p) / runs)
    assert within(s.customer.p_beats, p, error) and within(s.supplier.p_beats, 1 - p, error)
    assert s.p_both == 0  # what one gains the other loses
    # The customer's NPV is −120 × jobs: mean −12,000, sd 2,400; its P5 is −120 × (100 + 1.6449 × 20), and its
    # expected shortfall (the worst 5%) −120 × (100 + 20 × φ(1.6449)/0.05).
    sd = 2400
    assert within(float(s.customer.result.mean), -12_000, sd / math.sqrt(runs))
    assert float(s.customer.result.sd) == pytest.approx(sd, rel=0.01)
    z95 = 1.6448536
    assert within(float(s.customer.result.p5), -120 * (100 + z95 * 20), 20)
    assert within(float(s.customer.result.p95), -120 * (100 - z95 * 20), 20)
    density = math.exp(-z95**2 / 2) / math.sqrt(2 * math.pi)
    assert within(float(s.customer.result.expected_shortfall), -120 * (100 + 20 * density / 0.05), 30)
    assert s.customer.status_quo.mean == Decimal("-10800.00") and s.customer.status_quo.sd == 0


def test_a_driver_drawn_every_month_averages_out_over_the_term(tmp_path: Path) -> None:
    scenario = files(tmp_path, JOBS.replace("VARY", "per_period"), per_job=PER_JOB, flat=FLAT)
    runs = 100_000
    s = ok(risk.simulate(ws(), tmp_path / "per_job.yaml", scenario, runs, seed=6)).value
    assert s is not None
    # twelve independent months: the customer beats 12 × 900 when Σ jobs < 1,080, Σ jobs ~ N(1200, 20·√12)
    p = phi((1080 - 1200) / (20 * math.sqrt(12)))
    assert within(s.customer.p_beats, p, math.sqrt(p * (1 - p) / runs))
    assert float(s.customer.result.sd) == pytest.approx(10 * 20 * math.sqrt(12), rel=0.01)


CAPPED = minimal("- {id: shared, type: gainshare, baseline: 1000, actual: spend, sharing_rate: 50%, cap: 20%}",
                 "- {id: spend, unit: money, minimum: 0, maximum: 1000}")
SPEND = """\
scenario: 1
id: spend
discount_rate: 8%
periods: {start: 2025-01, months: 12}
drivers:
  spend: {value: 500, uncertain: {distribution: uniform, low: 0, high: 1000, vary: per_period}}
  uptime: {value: 99.8, uncertain: {distribution: normal, mean: 99.9, sd: 0.2, vary: per_period}}
"""
UPTIME = "- {id: uptime, unit: percent, minimum: 0, maximum: 100}"


def test_how_often_a_cap_binds_and_a_driver_is_clipped(tmp_path: Path) -> None:
    capped = CAPPED.replace("  - {id: spend", f"  {UPTIME}\n  - {{id: spend")
    scenario = files(tmp_path, SPEND, capped=capped)
    runs = 20_000
    s = ok(risk.simulate(ws(), tmp_path / "capped.yaml", scenario, runs, seed=2)).value
    assert s is not None and s.status_quo == "capped.yaml (the agreement itself) with no levers"
    # 50% of the savings (1000 − spend) exceed the cap of 20% × 1000 when spend < 600: 60% of the run-months
    (cap,) = [limit for limit in s.limits if limit.limit == "shared.cap" and not limit.status_quo]
    cells = runs * 12
    assert within(cap.share, 0.6, math.sqrt(0.24 / cells)) and cap.run_months == round(cap.share * cells)
    # uptime ~ N(99.9, 0.2) is kept within its metric's 0-100: clipped in 1 − Φ(0.5) of the run-months
    (clipped,) = s.clipped
    p = 1 - phi(0.5)
    assert clipped.driver == "uptime" and within(clipped.share, p, math.sqrt(p * (1 - p) / cells))


def test_the_same_seed_gives_the_same_numbers_and_another_seed_others(tmp_path: Path) -> None:
    first = ok(risk.simulate(ws(), EXAMPLES / "vested.yaml", EXAMPLES / "scenario.yaml", 3000, seed=1)).value
    again = ok(risk.simulate(ws(), EXAMPLES / "vested.yaml", EXAMPLES / "scenario.yaml", 3000, seed=1)).value
    other = ok(risk.simulate(ws(), EXAMPLES / "vested.yaml", EXAMPLES / "scenario.yaml", 3000, seed=2)).value
    assert first == again
    assert other is not None and first is not None and other.customer.result.mean != first.customer.result.mean


def test_runs_beyond_a_chunk_are_drawn_chunk_by_chunk() -> None:
    plan, _, vector_worlds = credits_plan()
    (whole,) = run_worlds(plan, vector_worlds, 2500, seed=4, chunk=1000, fan_runs=1200)
    (first,) = run_worlds(plan, vector_worlds, 1000, seed=4, chunk=1000)
    assert np.array_equal(whole.customer[:1000], first.customer)  # chunk i always draws from child i of the seed
    assert len(set(whole.customer[1000:2000]) & set(whole.customer[:1000])) == 0
    assert whole.customer_path.shape == (1200, 12) and np.all(whole.customer_path[1100] != 0)
    assert np.allclose(whole.customer_path[:, -1], whole.customer[:1200])  # the path ends at the NPV


# -- the help-desk story under uncertainty ------------------------------------------------------------------------

def test_under_uncertainty_the_vested_agreement_still_beats_the_task_based_contract_for_both() -> None:
    s = ok(risk.simulate(ws(), EXAMPLES / "vested.yaml", EXAMPLES / "scenario.yaml", 20_000, seed=1)).value
    assert s is not None and s.status_quo == "task-based.yaml with no levers"
    assert "remote_support" in s.levers and s.engine.startswith("vectorised")
    assert s.customer.p_beats > 0.95 and s.supplier.p_beats > 0.95 and s.p_both > 0.95
    assert s.customer.gain.mean > 0 and s.supplier.gain.mean > 0
    assert {note.driver for note in s.uncertain} == {"calls", "onsite_visits", "store_availability", "downtime_cost"}
    assert any(limit.limit == "shared_value.cap" and 0 < limit.share < 1 for limit in s.limits)
    assert abs(s.customer_fan[-1].p50 / s.customer.gain.p50 - 1) < Decimal('0.02')  # the fan ends at the NPV gain
    assert sum(b.runs for b in s.customer_histogram) == s.runs


def test_the_report_renders_as_a_table_json_and_charts(tmp_path: Path) -> None:
    from rich.console import Console

    report = ok(risk.simulate(ws(), EXAMPLES / "vested.yaml", EXAMPLES / "scenario.yaml", 2000, seed=1))
    console = Console(record=True, width=160)
    console.print(simulate_table(report.value))
    text = console.export_text()
    assert "Both beat the status quo in" in text and "expected shortfall" in text and "shared_value.cap" in text
    data = json.loads(json.dumps(simulate_json(report.value)))
    assert data["runs"] == 2000 and data["seed"] == 1 and data["customer"]["p_beats"] == report.value.customer.p_beats
    written = write_simulate_charts(report.value, tmp_path / "charts")
    names = sorted(p.name for p in written)
    assert names == ["fan.png", "fan.svg", "histogram-customer.png", "histogram-customer.svg",
                     "histogram-supplier.png", "histogram-supplier.svg"]
    assert (tmp_path / "charts" / "fan.svg").read_text(encoding="utf-8").lstrip().startswith("<svg")
    assert (tmp_path / "charts" / "fan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- what cannot be simulated, located ------------------------------------------------------------------------------

def test_zero_runs_and_an_unknown_lever_are_refused() -> None:
    report = risk.simulate(ws(), EXAMPLES / "vested.yaml", EXAMPLES / "scenario.yaml", 0, seed=1)
    assert not report.ok and report.diagnostics[0].code == "runs"
    report = risk.simulate(ws(), EXAMPLES / "vested.yaml", EXAMPLES / "scenario.yaml", 10, seed=1, levers="remote_suport")
    (d,) = [d for d in report.diagnostics if d.is_error]
    assert d.code == "unknown-lever" and "did you mean 'remote_support'?" in d.hint


INSTALLMENTS = minimal(
    "- {id: loan, type: installment_plan, principal: 1000, interest: 1%, payment: paid, closing: closed}",
    "- {id: paid, unit: money}\n- {id: closed, kind: boolean}",
)
PAID = """\
scenario: 1
id: loan
discount_rate: 5%
periods: {start: 2025-01, months: 6}
drivers:
  paid: {value: 100, uncertain: {distribution: uniform, low: 50, high: 150}}
"""


def test_a_term_the_vectorised_engine_cannot_take_is_priced_run_by_run_or_refused_where_it_is(tmp_path: Path) -> None:
    scenario = files(tmp_path, PAID, loan=INSTALLMENTS)
    small = ok(risk.simulate(ws(), tmp_path / "loan.yaml", scenario, 20, seed=1)).value
    assert small is not None and small.engine.startswith("exact, run by run") and "'loan'" in small.engine
    large = risk.simulate(ws(), tmp_path / "loan.yaml", scenario, 100_000, seed=1)
    (d,) = large.diagnostics
    assert d.code == "unsupported-term" and d.path == ("pricing", 0) and "200,000 run-months" in d.hint
    assert d.location is not None and d.location.file.endswith("loan.yaml")
    assert d.location.line == INSTALLMENTS.splitlines().index(next(line for line in INSTALLMENTS.splitlines()
                                                                   if "installment_plan" in line)) + 1


# -- resampling a measured history ------------------------------------------------------------------------------------

REPORTED = minimal("- {id: share, type: gainshare, baseline: 1000, actual: spend, sharing_rate: 50%}",
                   "- {id: spend, unit: money, minimum: 0, reported_by: buyer}")


def test_a_driver_resampled_from_the_projects_measured_history(tmp_path: Path) -> None:
    from vested.ingest import ingest_file
    from vested.storage.folder import open_project

    scenario = files(tmp_path, """\
scenario: 1
id: history
discount_rate: 0%
periods: {start: 2025-01, months: 12}
drivers:
  spend: {value: 800, uncertain: {distribution: resample, metric: spend, from: 2024-01, to: 2024-06}}
""", reported=REPORTED)
    project = open_project(tmp_path / "project")
    csv = tmp_path / "reported.csv"
    history = {"2024-01": 700, "2024-02": 900, "2024-03": 800, "2024-05": 1100, "2024-07": 100}  # July is outside
    csv.write_text("metric,period,value,reported_by\n" + "".join(f"spend,{m},{v},buyer\n" for m, v in history.items()))
    assert ingest_file(agreement(REPORTED), project, "reported", csv, who="test", now=datetime(2024, 8, 1, tzinfo=UTC)).ok
    report = ok(risk.simulate(ws(tmp_path / "project", store="folder"), tmp_path / "reported.yaml", scenario, 20_000, seed=1))
    s = report.value
    assert s is not None and "resample" in s.uncertain[0].note
    # each run draws one of 700, 900, 800, 1100; the supplier earns 50% of (1000 − spend) a month when positive
    expected = 12 * 0.5 * (300 + 100 + 200 + 0) / 4
    assert within(float(s.supplier.result.mean), expected, 12 * 0.5 * 112 / math.sqrt(20_000))
    missing = risk.simulate(ws(tmp_path / "empty", store="folder"), tmp_path / "reported.yaml", scenario, 10, seed=1)
    (d,) = missing.diagnostics
    assert d.code == "no-history" and d.path == ("drivers", "spend", "uncertain", "metric") and d.location is not None


# -- what the service refuses, located in the file at fault ---------------------------------------------------------

def test_a_status_quo_in_another_currency_is_refused_in_the_status_quo(tmp_path: Path) -> None:
    euros = FLAT + "policy: {currency: EUR}\n"
    scenario = files(tmp_path, JOBS.replace("VARY", "per_run"), per_job=PER_JOB, flat=euros)
    report = risk.simulate(ws(), tmp_path / "per_job.yaml", scenario, 10, seed=1)
    assert report.value is None
    (d,) = report.diagnostics
    assert d.code == "currency" and "EUR" in d.message and "USD" in d.message
    assert d.location is not None and d.location.file == str(tmp_path / "flat.yaml")
    assert d.location.line == euros.splitlines().index("policy: {currency: EUR}") + 1


CREDITED = minimal(
    """
    - {id: per_job, type: per_unit, quantity: jobs, rate: 10}
    - id: credits
      type: service_credits
      base: {term: per_job}
      service_levels: [{metric: up, target: 99, tiers: [{to: 99, credit: 10%}]}]
    """,
    "- {id: jobs, unit: count}\n- {id: up, unit: percent}",
)
NEGATIVE_JOBS = """\
scenario: 1
id: negative
discount_rate: 0%
periods: {start: 2025-01, months: 12}
status_quo: credited.yaml
drivers:
  jobs: {value: 100, uncertain: {distribution: normal, mean: 5, sd: 20, vary: per_period}}
  up: 98
"""


def test_a_status_quo_that_cannot_be_simulated_is_reported_in_the_status_quo(tmp_path: Path) -> None:
    # jobs below zero make the per-job fee, the base of the credits, negative: only the status quo reads jobs
    scenario = files(tmp_path, NEGATIVE_JOBS, flat=FLAT, credited=CREDITED)
    report = risk.simulate(ws(), tmp_path / "flat.yaml", scenario, 100, seed=1, levers="none")
    (d,) = report.diagnostics
    assert d.code == "simulate-value" and "'t'" in d.message and "the base is below zero" in d.message
    assert d.location is not None and d.location.file == str(tmp_path / "credited.yaml")
    assert d.path == ("pricing", 1)


@pytest.mark.parametrize(("runs", "seed", "code"), [(10, -1, "seed"), (10**12, 1, "runs"), (1_000_001, 1, "runs")])
def test_a_negative_seed_or_too_many_runs_is_refused(runs: int, seed: int, code: str) -> None:
    report = risk.simulate(ws(), EXAMPLES / "vested.yaml", EXAMPLES / "scenario.yaml", runs, seed=seed)
    assert not report.ok
    (d,) = report.diagnostics
    assert d.code == code and d.is_error and d.document == "command"


MEASURED = """\
vested: 1
id: measured
title: Measured
parties:
  - {id: buyer, name: Buyer Co, role: customer}
  - {id: seller, name: Seller Co, role: supplier}
calendar: {start: 2024-01, time_zone: UTC}
datasets:
  - id: tickets
    time: opened_at
    columns:
      - {name: opened_at, type: timestamp}
      - {name: satisfaction, type: integer}
metrics:
  - {id: spend, unit: money, minimum: 0, measure: {dataset: tickets, aggregate: count, where: {satisfaction: lots}}}
pricing:
  - {id: share, type: gainshare, baseline: 1000, actual: spend, sharing_rate: 50%}
"""


def test_a_measure_that_cannot_be_compiled_is_reported_not_a_missing_history(tmp_path: Path) -> None:
    scenario = files(tmp_path, """\
scenario: 1
id: history
discount_rate: 0%
periods: {start: 2025-01, months: 12}
drivers:
  spend: {value: 800, uncertain: {distribution: resample, metric: spend, from: 2024-01, to: 2024-06}}
""", measured=MEASURED)
    report = risk.simulate(ws(tmp_path / "project", store="folder"), tmp_path / "measured.yaml", scenario, 10, seed=1)
    errors = [d for d in report.diagnostics if d.is_error]
    assert [d.code for d in errors] == ["measure"] and "holds numbers" in errors[0].message
    assert errors[0].location is not None and errors[0].location.file == str(tmp_path / "measured.yaml")
    assert errors[0].path[:3] == ("metrics", 0, "measure")


def test_what_the_measurement_notes_about_a_resampled_metric_comes_with_the_missing_history(tmp_path: Path) -> None:
    counted = MEASURED.replace(", where: {satisfaction: lots}", "")
    scenario = files(tmp_path, """\
scenario: 1
id: history
discount_rate: 0%
periods: {start: 2025-01, months: 12}
drivers:
  spend: {value: 800, uncertain: {distribution: resample, metric: spend, from: 2024-01, to: 2024-06}}
""", measured=counted)
    report = risk.simulate(ws(tmp_path / "empty", store="folder"), tmp_path / "measured.yaml", scenario, 10, seed=1)
    (missing,) = [d for d in report.diagnostics if d.is_error]
    assert missing.code == "no-history"
    notes = [d for d in report.diagnostics if not d.is_error]
    assert notes and {d.code for d in notes} == {"no-data"} and all(d.path == ("metrics", 0, "measure") for d in notes)
    assert all(d.location is not None and d.location.file == str(tmp_path / "measured.yaml") for d in notes)

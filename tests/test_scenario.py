"""Scenario files: the records, their shorthands, and every problem reported where it is written."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import agreement, minimal
from vested.adapters.scenario_load import LoadedScenario, load_scenario, load_scenario_text, locate_pair
from vested.adapters.yamlsource import read_yaml
from vested.core.diagnostics import Diagnostic
from vested.core.scenario import (
    CustomerCost,
    CustomerSide,
    Driver,
    Effect,
    Lever,
    Payment,
    Scenario,
    ScenarioPeriods,
    SupplierSide,
)
from vested.core.scenario_checks import check_scenario_for, scenario_schema
from vested.render.diagnostics import format_diagnostics

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "helpdesk"

JOBS_AGREEMENT = minimal(
    """
    - {id: base, type: fixed_fee, amount: 100}
    - {id: per_job, type: per_unit, quantity: jobs, rate: 10}
    """,
    """
    - {id: jobs, unit: count}
    - {id: uptime, unit: percent, minimum: 0, maximum: 100}
    """,
)


def load(text: str) -> LoadedScenario:
    return load_scenario_text(textwrap.dedent(text), "scenario.yaml")


def scenario(text: str) -> Scenario:
    loaded = load(text)
    assert loaded.scenario is not None and loaded.ok, format_diagnostics(loaded.diagnostics)
    return loaded.scenario


def only_error(text: str) -> Diagnostic:
    errors = [d for d in load(text).diagnostics if d.is_error]
    assert len(errors) == 1, format_diagnostics(errors)
    return errors[0]


def where(d: Diagnostic) -> tuple[int, int]:
    assert d.location is not None
    return d.location.line, d.location.column


def at(text: str, token: str, line: int) -> tuple[int, int]:
    """Line and column (from 1) of ``token`` on line ``line`` of ``text``: where a problem should point."""
    return line, text.splitlines()[line - 1].index(token) + 1


HEAD = """\
scenario: 1
id: s
discount_rate: 8%
periods: {start: 2025-01, months: 3}
"""


def test_a_driver_is_a_constant_a_growing_value_or_a_series() -> None:
    s = scenario(HEAD + """\
drivers:
  jobs: 20
  calls: {value: 1000, growth: 10%}
  uptime: {series: [97, 98.5, 99]}
  shrink: {value: 100, growth: -50%}
""")
    assert s.drivers["jobs"].values(3) == (20, 20, 20)
    assert s.drivers["calls"].values(3) == (1000, 1100, 1210)  # 1000 × 1.1 × 1.1, compounding
    assert s.drivers["uptime"].values(3) == (Decimal(97), Decimal("98.5"), Decimal(99))
    assert s.drivers["shrink"].values(3) == (100, 50, 25)
    assert s.discount_rate == Decimal("0.08")


def test_effects_are_relative_percentages_or_absolute_additions() -> None:
    s = scenario(HEAD + """\
drivers: {jobs: 20, uptime: 97}
levers:
  - id: automate
    after: 1
    investment: {paid_by: supplier, amount: 90}
    running_cost: {paid_by: customer, amount: 5}
    effects:
      jobs: -50%
      uptime: {add: 1.5}
  - id: both
    starts: 2025-03
    effects: {jobs: {relative: "+10%", add: -2}}
""")
    automate, both = s.levers
    assert automate.effects["jobs"].factor == Decimal("0.5") and automate.effects["jobs"].shift == 0
    assert automate.effects["uptime"].factor == 1 and automate.effects["uptime"].shift == Decimal("1.5")
    assert automate.start_index("2025-01") == 1 and both.start_index("2025-01") == 2
    assert both.effects["jobs"].factor == Decimal("1.1") and both.effects["jobs"].shift == -2
    assert automate.investment is not None and automate.investment.paid_by == "supplier"


def test_the_help_desk_scenario_loads_clean_and_fits_both_agreements() -> None:
    from vested.adapters.load import load_agreement

    loaded = load_scenario(EXAMPLES / "scenario.yaml")
    assert loaded.ok and loaded.diagnostics == (), format_diagnostics(loaded.diagnostics)
    assert loaded.scenario is not None
    for name in ("task-based.yaml", "vested.yaml"):
        a = load_agreement(EXAMPLES / name).agreement
        assert a is not None
        assert check_scenario_for(loaded.scenario, a) == []


# -- problems, located ---------------------------------------------------------------------------------

def test_an_unknown_key_is_located_with_a_suggestion() -> None:
    text = HEAD + "drivers:\n  jobs: {valeu: 20}\n"
    d = only_error(text)
    assert d.code == "unknown-key" and where(d) == at(text, "valeu", 6)
    assert "did you mean 'value'?" in d.hint


def test_an_unknown_lever_key_suggests_the_right_one() -> None:
    text = HEAD + "drivers: {jobs: 20}\nlevers:\n  - id: automate\n    efects: {jobs: -10%}\n"
    d = only_error(text)
    assert d.code == "unknown-key" and where(d) == at(text, "efects", 8) and "'effects'" in d.hint


def test_a_series_of_the_wrong_length() -> None:
    text = HEAD + "drivers:\n  jobs: {series: [20, 30]}\n"
    d = only_error(text)
    assert d.code == "series-length" and where(d) == at(text, "[20", 6)
    assert "'jobs' has 2 values" in d.message and "runs 3 months" in d.message


def test_a_lever_effect_on_an_unknown_driver() -> None:
    text = HEAD + "drivers: {jobs: 20}\nlevers:\n  - id: automate\n    effects: {jbos: -10%}\n"
    d = only_error(text)
    assert d.code == "unknown-driver" and where(d) == at(text, "-10%", 8)
    assert "lever 'automate'" in d.message and "did you mean 'jobs'?" in d.hint


def test_a_negative_discount_rate() -> None:
    text = HEAD.replace("8%", "-2%") + "drivers: {jobs: 20}\n"
    d = only_error(text)
    assert where(d) == at(text, "-2%", 3) and "negative" in d.message


def test_a_discount_rate_written_as_a_bare_number_above_one() -> None:
    text = HEAD.replace("8%", "8") + "drivers: {jobs: 20}\n"
    d = only_error(text)
    assert where(d) == at(text, "8", 3) and "8%" in d.hint


def test_a_bare_number_is_not_an_effect() -> None:
    text = HEAD + "drivers: {jobs: 20}\nlevers:\n  - {id: automate, effects: {jobs: -70}}\n"
    d = only_error(text)
    assert where(d) == at(text, "-70", 7) and "-70%" in d.hint


def test_a_relative_change_below_minus_one_hundred_percent() -> None:
    text = HEAD + "drivers: {jobs: 20}\nlevers:\n  - {id: automate, effects: {jobs: -120%}}\n"
    d = only_error(text)
    assert where(d) == at(text, "-120%", 7) and "below zero" in d.message


def test_a_lever_that_starts_outside_the_scenario() -> None:
    text = HEAD + "drivers: {jobs: 20}\nlevers:\n  - {id: automate, starts: 2025-04}\n"
    d = only_error(text)
    assert d.code == "lever-start" and where(d) == at(text, "2025-04", 7)


def test_starts_and_after_together() -> None:
    text = HEAD + "drivers: {jobs: 20}\nlevers:\n  - {id: automate, starts: 2025-02, after: 1}\n"
    d = only_error(text)
    assert where(d) == at(text, "{id", 7) and "not both" in d.message


def test_a_quarter_is_not_a_month() -> None:
    text = HEAD.replace("start: 2025-01", "start: 2025-Q1") + "drivers: {jobs: 20}\n"
    d = only_error(text)
    assert where(d) == at(text, "2025-Q1", 4) and "not a month" in d.message


def test_two_levers_with_one_id() -> None:
    text = HEAD + "drivers: {jobs: 20}\nlevers:\n  - {id: automate}\n  - {id: automate}\n"
    d = only_error(text)
    assert d.code == "duplicate-id" and where(d) == at(text, "automate", 8)


def test_costs_must_name_known_drivers() -> None:
    text = HEAD + ("drivers: {jobs: 20}\nsupplier: {unit_costs: {jbos: 6}}\n"
                   "customer:\n  costs: [{label: Lost sales, driver: downtime}]\n")
    problems = load(text).diagnostics
    assert [(d.code, where(d)) for d in problems] == [("unknown-driver", at(text, "6}", 6)),
                                                      ("unknown-driver", at(text, "downtime", 8))]


def test_a_cost_is_per_unit_of_a_driver_or_a_fixed_amount_not_both() -> None:
    text = HEAD + "drivers: {jobs: 20}\ncustomer:\n  costs: [{label: Lost sales, driver: jobs, amount: 10}]\n"
    d = only_error(text)
    assert where(d) == at(text, "{label", 7) and "not both" in d.message


# -- the scenario against an agreement ---------------------------------------------------------------------

def checked(agreement_text: str, scenario_text: str) -> tuple[Diagnostic, ...]:
    text = textwrap.dedent(scenario_text)
    loaded = load(text)
    assert loaded.scenario is not None, format_diagnostics(loaded.diagnostics)
    problems = check_scenario_for(loaded.scenario, agreement(agreement_text))
    return locate_pair(problems, read_yaml(agreement_text, "agreement.yaml"), loaded.source)


def test_a_driver_the_agreement_needs_names_the_metric_and_the_term_that_reads_it() -> None:
    (d,) = checked(JOBS_AGREEMENT, HEAD + "drivers:\n  uptime: 99\n")
    assert d.code == "missing-driver" and d.document == "scenario"
    assert "needs driver 'jobs'" in d.message and "term 'per_job' (pricing[1].quantity)" in d.message
    assert d.location is not None and (d.location.file, d.location.line, d.location.column) == ("scenario.yaml", 5, 1)


def test_a_misspelt_driver_gets_a_suggestion() -> None:
    (d,) = checked(JOBS_AGREEMENT, HEAD + "drivers:\n  job: 20\n")
    assert "did you mean 'job'?" in d.hint


def test_without_periods_the_agreement_calendar_is_used() -> None:
    calendar = JOBS_AGREEMENT + "calendar: {start: 2025-01, months: 2}\n"
    text = "scenario: 1\nid: s\ndiscount_rate: 8%\ndrivers:\n  jobs: {series: [1, 2, 3]}\n"
    (d,) = checked(calendar, text)
    assert d.code == "series-length" and "the calendar of agreement 't'" in d.message
    (d,) = checked(JOBS_AGREEMENT, text)
    assert d.code == "missing-key" and "no `periods:`" in d.message


INSTALLMENTS = minimal(
    "- {id: loan, type: installment_plan, principal: 1000, interest: 1%, payment: paid, closing: closed}",
    "- {id: paid, unit: money}\n- {id: closed, kind: boolean}",
)


def test_an_optional_yes_no_metric_is_left_out_of_a_scenario() -> None:
    assert checked(INSTALLMENTS, HEAD + "drivers: {paid: 100}\n") == ()


def test_a_yes_no_metric_cannot_be_a_driver() -> None:
    (d,) = checked(INSTALLMENTS, HEAD + "drivers: {paid: 100, closed: 0}\n")
    assert d.code == "driver-kind" and "'closed', a boolean" in d.message and d.path == ("drivers", "closed")


def test_the_schema_accepts_the_example_and_refuses_a_typo() -> None:
    import jsonschema
    import yaml

    schema = scenario_schema()
    example = yaml.safe_load((EXAMPLES / "scenario.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(example, schema)
    example["levers"][0]["effects"]["calls"] = -70  # a bare number is not an effect
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(example, schema)


def test_every_field_of_the_format_says_what_it_is() -> None:
    records = [Scenario, ScenarioPeriods, Driver, Effect, Lever, Payment, CustomerCost, CustomerSide, SupplierSide]
    undocumented = [f"{record.__name__}.{name}" for record in records
                    for name, info in record.__pydantic_fields__.items() if not info.description]
    assert undocumented == []

"""docs/scenario.md, kept true by tests.

* Every ```yaml block is a whole scenario that loads without errors or warnings; a ```yaml refused
  block is refused with the message in the ```text block after it.
* Every key of the scenario format is named in the guide (in backticks).
* The examples that claim something do it: the tune example fits the help-desk agreement, and the
  worked per-job example gives the probabilities the text states.
"""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import minimal, ws
from vested.adapters.load import load_agreement
from vested.adapters.scenario_load import load_scenario_text
from vested.core.scenario import (
    Correlation,
    CustomerCost,
    CustomerSide,
    Driver,
    Effect,
    Lever,
    Payment,
    Scenario,
    ScenarioPeriods,
    SupplierSide,
    TuneParameter,
    Tuning,
    Uncertainty,
)
from vested.core.scenario_checks import check_tuning
from vested.render.diagnostics import format_diagnostics
from vested.services import risk

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "docs" / "scenario.md").read_text(encoding="utf-8")


def blocks() -> list[tuple[int, str, str, str | None]]:
    """(line, info, body, the text block after a refused example) of every fenced block."""
    lines = GUIDE.splitlines()
    found: list[tuple[int, str, str]] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("```") and lines[i].strip() != "```":
            start, info, body = i + 1, lines[i][3:].strip(), []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            found.append((start, info, "\n".join(body) + "\n"))
        i += 1
    return [(line, info, body, found[n + 1][2] if "refused" in info and n + 1 < len(found) else None)
            for n, (line, info, body) in enumerate(found)]


YAML = [b for b in blocks() if b[1].split()[:1] == ["yaml"]]


def named(info: str, line: int) -> str:
    return f"docs/scenario.md:{line} ({info})"


@pytest.mark.parametrize(("line", "info", "body", "output"), YAML, ids=[named(b[1], b[0]) for b in YAML])
def test_every_example_is_what_it_claims(line: int, info: str, body: str, output: str | None) -> None:
    loaded = load_scenario_text(body, "scenario.yaml")
    if "refused" not in info:
        assert loaded.ok and loaded.diagnostics == (), format_diagnostics(loaded.diagnostics)
        return
    assert output is not None, "a refused example is followed by a ```text block with what vested reports"
    errors = [d for d in loaded.diagnostics if d.is_error]
    assert errors, "the example should be refused"
    shown = format_diagnostics(errors).splitlines()[0]
    assert shown == output.strip().splitlines()[0]


def test_the_guide_has_examples_of_each_kind() -> None:
    assert len([b for b in YAML if "refused" not in b[1]]) >= 6
    assert len([b for b in YAML if "refused" in b[1]]) >= 3


RECORDS: list[Any] = [Scenario, ScenarioPeriods, Driver, Uncertainty, Correlation, CustomerSide, CustomerCost, SupplierSide,
                      Lever, Payment, Effect, Tuning, TuneParameter]


def test_every_key_of_the_format_is_in_the_guide() -> None:
    keys = {info.alias or name for record in RECORDS for name, info in record.__pydantic_fields__.items()}
    missing = sorted(key for key in keys if f"`{key}" not in GUIDE and f"{key}:" not in GUIDE)
    assert missing == []
    for distribution in ("normal", "lognormal", "triangular", "pert", "uniform", "resample"):
        assert f"| `{distribution}` |" in GUIDE


def example(marker: str) -> str:
    (body,) = [b[2] for b in YAML if marker in b[2]]
    return body


def test_the_tune_example_fits_the_help_desk_agreement() -> None:
    loaded = load_scenario_text(example("id: tuned"), "scenario.yaml")
    vested = load_agreement(ROOT / "examples" / "helpdesk" / "vested.yaml").agreement
    assert loaded.scenario is not None and vested is not None
    assert check_tuning(loaded.scenario, vested) == []


def test_the_worked_example_gives_the_probabilities_the_guide_states(tmp_path: Path) -> None:
    stated = re.search(r"probability Φ\(−0\.5\) = ([\d.]+)%; the supplier in the other ([\d.]+)%", GUIDE)
    assert stated is not None
    (tmp_path / "jobs.yaml").write_text(
        textwrap.dedent(minimal("- {id: per_job, type: per_unit, quantity: jobs, rate: 10}", "- {id: jobs, unit: count}")))
    (tmp_path / "flat.yaml").write_text(textwrap.dedent(minimal("- {id: flat, type: fixed_fee, amount: 900}")))
    (tmp_path / "scenario.yaml").write_text(example("id: jobs"))
    runs = 50_000
    report = risk.simulate(ws(), tmp_path / "jobs.yaml", tmp_path / "scenario.yaml", runs, seed=1)
    assert report.value is not None, format_diagnostics(report.diagnostics)
    customer, supplier = (float(v) / 100 for v in stated.groups())
    assert customer == pytest.approx(0.5 * math.erfc(0.5 / math.sqrt(2)), abs=0.0005)
    error = 4 * math.sqrt(customer * (1 - customer) / runs)
    assert abs(report.value.customer.p_beats - customer) < error
    assert abs(report.value.supplier.p_beats - supplier) < error
    assert report.value.p_both == 0

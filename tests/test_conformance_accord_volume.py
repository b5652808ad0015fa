"""Tiered volume rates against the Accord Project's volume-discount templates.

Each template (``accord_volumediscount*.json`` in ``shared/conformance/accord``) becomes a
``tiered_volume`` term with ``method: all_units``; the rate of the tier the volume falls in is the
term's ``rate`` figure, which stands for the template's ``discountRate``. The boundary semantics
follow each template's logic, not its prose (see the files' notes):

* ``volumediscount``: ``firstRate if volume < firstVolume; secondRate if volume < secondVolume;
  else thirdRate``, so each threshold belongs to the tier above it: ``lower_inclusive``.
* ``volumediscountolist`` / ``ulist``: the band with ``volumeAbove < volume <= volumeUpTo``, so each
  threshold belongs to the tier below it: ``upper_inclusive`` (the text says the opposite).

Comparison follows the Accord runner: the keys the expected response lists must match (extra
keys are allowed); ``$class`` names the response type and has no counterpart here. An expected
error ("Could not find rate for that volume") must be a pricing diagnostic ``no-tier``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.conformance_data import conformance_params, load_json
from tests.helpers import minimal, price
from vested.core.money import D

TEMPLATES = ("volumediscount", "volumediscountolist", "volumediscountulist")
RESPONSE_FIGURES = {"discountRate": "rate"}
"""Which figure of the term answers each key of the Accord response."""


def tiers_of(template: str, parameters: dict[str, Any]) -> tuple[list[dict[str, Decimal | None]], str]:
    """The template's rate table as tiers (from, to, rate) and the boundary rule its logic uses."""
    if template == "volumediscount":
        first, second = D(parameters["firstVolume"]), D(parameters["secondVolume"])
        return [
            {"from": None, "to": first, "rate": D(parameters["firstRate"])},
            {"from": first, "to": second, "rate": D(parameters["secondRate"])},
            {"from": second, "to": None, "rate": D(parameters["thirdRate"])},
        ], "lower_inclusive"
    return [{"from": D(r["volumeAbove"]), "to": D(r["volumeUpTo"]), "rate": D(r["rate"])}
            for r in parameters["rates"]], "upper_inclusive"


def volume_agreement(template: str, parameters: dict[str, Any]) -> str:
    tiers, boundaries = tiers_of(template, parameters)
    written = ", ".join(
        "{" + ", ".join(f"{key}: {value:f}" for key, value in tier.items() if value is not None) + "}"
        for tier in tiers
    )
    return minimal(
        f"""
        - id: discount
          type: tiered_volume
          quantity: net_annual_charge_volume
          method: all_units
          boundaries: {boundaries}
          tiers: [{written}]
        """,
        "- {id: net_annual_charge_volume, unit: USD million, minimum: 0}",
    )


def accord_cases(template: str) -> list[pytest.ParameterSet]:
    def build(data: Any) -> Iterator[pytest.ParameterSet]:
        for index, case in enumerate(data["cases"]):
            parameters = data["contracts"][case["contract"]]["parameters_extracted_from_text"]
            yield pytest.param(template, parameters, case, id=f"{template}-{index}")

    return conformance_params(build, "accord", f"accord_{template}.json", arity=3)


CASES = [param for template in TEMPLATES for param in accord_cases(template)]


@pytest.mark.parametrize(("template", "parameters", "case"), CASES)
def test_accord_volume_discount(template: str, parameters: dict[str, Any], case: dict[str, Any]) -> None:
    volume = D(case["request"]["netAnnualChargeVolume"])
    priced = price(volume_agreement(template, parameters), f"values: {{net_annual_charge_volume: {volume:f}}}")
    expected = case["expected"]
    if "error" in expected:
        assert "Could not find rate for that volume" in expected["error"]
        assert priced.statement is None
        assert [d.code for d in priced.diagnostics] == ["no-tier"]
        return
    assert priced.statement is not None, priced.diagnostics
    figures = priced.statement.figures["discount"]
    listed = {key: value for key, value in expected["response"].items() if key != "$class"}
    assert listed, "the expected response lists no value to compare"
    for key, value in listed.items():
        actual = figures[RESPONSE_FIGURES[key]]
        assert actual == D(value), f"{key}: expected {value}, got {actual}"


def test_every_case_of_the_templates_is_checked() -> None:
    counts = {template: len(load_json("accord", f"accord_{template}.json")["cases"]) for template in TEMPLATES}
    assert sum(counts.values()) == len(CASES) and all(counts.values())


THRESHOLDS = [
    # The thresholds themselves, where the two boundary rules disagree: (volume, the rate the
    # template's logic gives, the rate the other rule would give), all read off the parameters.
    pytest.param("volumediscount", lambda p: (p["firstVolume"], p["secondRate"], p["firstRate"]),
                 id="volumediscount-first"),
    pytest.param("volumediscount", lambda p: (p["secondVolume"], p["thirdRate"], p["secondRate"]),
                 id="volumediscount-second"),
    pytest.param("volumediscountolist", lambda p: (p["rates"][1]["volumeUpTo"], p["rates"][1]["rate"],
                                                   p["rates"][2]["rate"]), id="olist-upper-of-tier-2"),
    pytest.param("volumediscountolist", lambda p: (p["rates"][2]["volumeUpTo"], p["rates"][2]["rate"],
                                                   p["rates"][3]["rate"]), id="olist-upper-of-tier-3"),
    pytest.param("volumediscountulist", lambda p: (p["rates"][4]["volumeUpTo"], p["rates"][4]["rate"],
                                                   p["rates"][5]["rate"]), id="ulist-upper-of-tier-5"),
]


@pytest.mark.parametrize(("template", "threshold"), THRESHOLDS)
def test_thresholds_follow_the_template_logic(
    template: str, threshold: Callable[[dict[str, Any]], tuple[Any, Any, Any]]
) -> None:
    data = load_json("accord", f"accord_{template}.json")
    parameters = data["contracts"]["contract1"]["parameters_extracted_from_text"]
    volume, rate, other_rule_rate = (D(x) for x in threshold(parameters))
    assert rate != other_rule_rate, "this threshold would not tell the boundary rules apart"
    priced = price(volume_agreement(template, parameters), f"values: {{net_annual_charge_volume: {volume:f}}}")
    assert priced.statement is not None, priced.diagnostics
    assert priced.statement.figures["discount"]["rate"] == rate

"""The incentive terms against the published worked examples: FPIF, CPIF, award fee, target cost.

Every number comes from ``shared/conformance`` (``worked_examples.json`` and the FPIF derived
examples of ``public_sla_and_incentive_schedules.json``); each case is written here as a small
agreement in YAML, priced for one period, and compared to the cent. Nothing is copied from the
data into the repository; see ``conformance_data`` for what happens when it is absent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.conformance_data import conformance_params, load_conformance
from tests.helpers import minimal, price
from vested.core.money import CENT, ONE, D
from vested.core.pricing import Priced
from vested.core.statement import Statement

WORKED_EXAMPLES = "worked_examples.json"
SCHEDULES = "public_sla_and_incentive_schedules.json"
FAMILIES = {
    "fpif": {"FPIF-A", "FPIF-B"},
    "cpif": {"CPIF-A", "CPIF-B"},
    "award_fee": {"AWARD-A"},
    "target_cost_pain_gain": {"TARGET-A", "TARGET-B"},
}


def text(value: Any) -> str:
    """A JSON number as exact YAML text (floats through their repr, as the data wrote them)."""
    return format(D(value), "f")


def to_cent(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def assert_cents(actual: Any, expected: Any, what: str) -> None:
    """Money to the cent: the actual figure, rounded to cents, equals the published one."""
    assert isinstance(actual, Decimal), f"{what}: expected a number, got {actual!r}"
    assert to_cent(actual) == to_cent(D(expected)), f"{what}: expected {expected}, got {actual}"


def cost_facts(actual_cost: Any) -> str:
    return f"values: {{actual_cost: {text(actual_cost)}}}"


def statement_of(priced: Priced) -> Statement:
    assert priced.statement is not None, priced.diagnostics
    return priced.statement


def examples(data: Any, family: str) -> list[dict[str, Any]]:
    return [e for e in data["examples"] if e["family"] == family]


def cases_of(family: str) -> list[pytest.ParameterSet]:
    """One param (example, case) per case of every example of ``family``, with ids like FPIF-A-3."""

    def build(data: Any) -> Iterator[pytest.ParameterSet]:
        for example in examples(data, family):
            for index, case in enumerate(example["cases"]):
                yield pytest.param(example, case, id=f"{example['id']}-{index}")

    return conformance_params(build, WORKED_EXAMPLES, arity=2)


def derived_of(family: str, key: str) -> list[pytest.ParameterSet]:
    """One param per example of ``family`` that publishes the derived figure ``key``."""

    def build(data: Any) -> Iterator[pytest.ParameterSet]:
        for example in examples(data, family):
            if key in example.get("derived", {}):
                yield pytest.param(example, id=example["id"])

    return conformance_params(build, WORKED_EXAMPLES)


@pytest.mark.parametrize(("family", "ids"), sorted(FAMILIES.items()))
def test_every_example_of_the_family_is_checked(family: str, ids: set[str]) -> None:
    """A new example in the data must get a translation here, not be silently ignored."""
    data = load_conformance(WORKED_EXAMPLES)
    assert {e["id"] for e in examples(data, family)} == ids


# --- fixed-price incentive (FPIF) -----------------------------------------------------------


def split(supplier: Any) -> str:
    """A customer/supplier mapping from the supplier's share (the shares add up to 100%)."""
    share = D(supplier)
    return f"{{customer: {ONE - share:f}, supplier: {share:f}}}"


def fpif_agreement(target_cost: Any, target_profit: Any, ceiling: Any, underrun: str, overrun: str) -> str:
    return minimal(
        f"""
        - id: incentive
          type: fixed_price_incentive
          actual_cost: actual_cost
          target_cost: {text(target_cost)}
          target_profit: {text(target_profit)}
          ceiling_price: {text(ceiling)}
          underrun_share: {underrun}
          overrun_share: {overrun}
        """,
        "- {id: actual_cost, unit: money, minimum: 0}",
    )


def fpif_from_example(terms: dict[str, Any]) -> str:
    underrun, overrun = split(terms["supplier_share_of_underrun"]), split(terms["supplier_share_of_overrun"])
    return fpif_agreement(terms["target_cost"], terms["target_profit"], terms["ceiling_price"],
                          underrun, overrun)


@pytest.mark.parametrize(("example", "case"), cases_of("fpif"))
def test_fpif_price_and_profit(example: dict[str, Any], case: dict[str, Any]) -> None:
    priced = price(fpif_from_example(example["terms"]), cost_facts(case["actual_cost"]))
    statement = statement_of(priced)
    figures = statement.figures["incentive"]
    assert_cents(figures["price"], case["expect"]["price"], "price")
    assert_cents(figures["profit"], case["expect"]["profit"], "profit")
    # The customer pays the price; the statement says so to the cent.
    assert statement.owed("buyer", "seller") == to_cent(D(case["expect"]["price"]))


@pytest.mark.parametrize("example", derived_of("fpif", "point_of_total_assumption"))
def test_fpif_point_of_total_assumption(example: dict[str, Any]) -> None:
    priced = price(fpif_from_example(example["terms"]), cost_facts(example["terms"]["target_cost"]))
    pta = statement_of(priced).figures["incentive"]["point_of_total_assumption"]
    assert_cents(pta, example["derived"]["point_of_total_assumption"], "point of total assumption")


def schedule_fpif_cases(data: Any) -> Iterator[pytest.ParameterSet]:
    (family,) = [f for f in data["incentive_formula_families"] if "FPIF" in f["name"]]
    for index, case in enumerate(family["derived_examples"]):
        yield pytest.param(case, id=f"schedules-FPIF-{index}")


@pytest.mark.parametrize("case", conformance_params(schedule_fpif_cases, SCHEDULES))
def test_fpif_derived_examples_of_the_schedules(case: dict[str, Any]) -> None:
    """TC/TP/share/CP → profit (price − actual cost), price and, where given, the PTA."""
    assert case["profit_field_means"] == "effective profit = price - actual_cost"
    buyer, seller = case["share_buyer_seller"]
    shares = f"{text(buyer)}/{text(seller)}"
    priced = price(fpif_agreement(case["TC"], case["TP"], case["CP"], shares, shares),
                   cost_facts(case["actual_cost"]))
    figures = statement_of(priced).figures["incentive"]
    assert_cents(figures["price"], case["price"], "price")
    assert_cents(figures["profit"], case["profit"], "profit")
    if "PTA" in case:
        assert_cents(figures["point_of_total_assumption"], case["PTA"], "point of total assumption")


def test_the_schedules_publish_fpif_examples() -> None:
    data = load_conformance(SCHEDULES)
    assert len(list(schedule_fpif_cases(data))) == 3


# --- cost-plus-incentive-fee (CPIF) ----------------------------------------------------------


def cpif_agreement(terms: dict[str, Any]) -> str:
    under, over = D(terms["supplier_share_of_underrun"]), D(terms["supplier_share_of_overrun"])
    target_cost, target_fee = D(terms["target_cost"]), D(terms["target_fee"])
    # CPIF-A (Wikipedia's FAR mechanics) publishes no minimum or maximum fee. The format requires
    # both, so we write bounds the formula cannot reach for any cost the example uses: the maximum
    # is the fee at zero cost (the most the formula gives), the minimum is zero (reached only at a
    # cost of target cost + target fee ÷ overrun share). The test also checks they did not bind.
    minimum = D(terms.get("minimum_fee", 0))
    maximum = D(terms.get("maximum_fee", target_fee + under * target_cost))
    return minimal(
        f"""
        - id: incentive
          type: cost_plus_incentive_fee
          actual_cost: actual_cost
          target_cost: {target_cost:f}
          target_fee: {target_fee:f}
          minimum_fee: {minimum:f}
          maximum_fee: {maximum:f}
          underrun_share: {split(under)}
          overrun_share: {split(over)}
        """,
        "- {id: actual_cost, unit: money, minimum: 0}",
    )


@pytest.mark.parametrize(("example", "case"), cases_of("cpif"))
def test_cpif_fee_and_price(example: dict[str, Any], case: dict[str, Any]) -> None:
    terms = example["terms"]
    statement = statement_of(price(cpif_agreement(terms), cost_facts(case["actual_cost"])))
    figures = statement.figures["incentive"]
    assert_cents(figures["fee"], case["expect"]["fee"], "fee")
    assert_cents(figures["price"], case["expect"]["price"], "price")
    assert statement.owed("buyer", "seller") == to_cent(D(case["expect"]["price"]))
    if "minimum_fee" not in terms:
        (fee_line,) = [line for line in statement.lines if "fee" in line.label]
        assert not fee_line.notes, "the stand-in fee bounds of an example without them must not bind"


@pytest.mark.parametrize("example", derived_of("cpif", "range_of_incentive_effectiveness"))
def test_cpif_range_of_incentive_effectiveness(example: dict[str, Any]) -> None:
    terms = example["terms"]
    statement = statement_of(price(cpif_agreement(terms), cost_facts(terms["target_cost"])))
    low, high = statement.figures["incentive"]["range_of_incentive_effectiveness"]
    expected_low, expected_high = example["derived"]["range_of_incentive_effectiveness"]
    assert_cents(low, expected_low, "low end of the range of incentive effectiveness")
    assert_cents(high, expected_high, "high end of the range of incentive effectiveness")


# --- award fee -------------------------------------------------------------------------------


def award_bands(terms: dict[str, Any]) -> list[dict[str, Any]]:
    """The published min/max bands as from/to bands (lower-inclusive: from <= score < to).

    The published table rates whole scores (51-75, 76-90, ...). A weighted score need not be whole,
    so each band runs from its own minimum up to the next band's minimum; the top band is open.
    The fee rule: rated bands earn the weighted score as a percentage of the pool, Unsatisfactory
    earns nothing.
    """
    assert "Unsatisfactory earns nothing" in terms["fee_rule"]
    assert "weighted score percent of pool" in terms["fee_rule"]
    ordered = sorted(terms["bands"], key=lambda b: D(b["min"]))
    bands = []
    for band, above in zip(ordered, [*ordered[1:], None], strict=True):
        bands.append({"rating": band["rating"], "from": D(band["min"]),
                      "to": None if above is None else D(above["min"]),
                      "earns": "0" if band["rating"] == "Unsatisfactory" else "score"})
    return bands


def test_award_bands_translate_the_published_table() -> None:
    """Every whole score from 0 to 100 gets the same rating from the translated bands."""
    (example,) = [e for e in load_conformance(WORKED_EXAMPLES)["examples"] if e["id"] == "AWARD-A"]
    bands = award_bands(example["terms"])
    for score in range(101):
        published = [b["rating"] for b in example["terms"]["bands"] if b["min"] <= score <= b["max"]]
        translated = [b["rating"] for b in bands
                      if b["from"] <= score and (b["to"] is None or score < b["to"])]
        assert published == translated, score


def award_agreement(terms: dict[str, Any]) -> str:
    factors = ", ".join(f"{{score: {name}, weight: {text(weight)}%, label: {name}}}"
                        for name, weight in terms["weights"].items())
    bands = ", ".join(
        f"{{rating: {band['rating']}, from: {band['from']:f}"
        + (f", to: {band['to']:f}" if band["to"] is not None else "") + f", earns: {band['earns']}}}"
        for band in award_bands(terms)
    )
    metrics = "\n".join(f"- {{id: {name}, unit: score, minimum: 0, maximum: 100}}"
                        for name in terms["weights"])
    return minimal(
        f"""
        - id: award
          type: award_fee
          pool: {text(terms["pool"])}
          factors: [{factors}]
          bands: [{bands}]
        """,
        metrics,
    )


@pytest.mark.parametrize(("example", "case"), cases_of("award_fee"))
def test_award_fee_score_rating_and_fee(example: dict[str, Any], case: dict[str, Any]) -> None:
    facts = "values:\n" + "".join(f"  {name}: {text(score)}\n" for name, score in case["scores"].items())
    statement = statement_of(price(award_agreement(example["terms"]), facts))
    figures = statement.figures["award"]
    assert figures["weighted_score"] == D(case["expect"]["weighted_score"])
    assert figures["rating"] == case["expect"]["rating"]
    assert_cents(figures["fee"], case["expect"]["fee"], "fee")
    assert statement.owed("buyer", "seller") == to_cent(D(case["expect"]["fee"]))


# --- target cost with pain/gain share ranges -------------------------------------------------


def target_agreement(terms: dict[str, Any]) -> str:
    def bound(key: str, value: Any) -> str:
        return "" if value is None else f", {key}: {text(value)}%"

    ranges = ", ".join(
        f"{{supplier_share: {text(r['supplier_share'])}"
        f"{bound('from', r['from_pct'])}{bound('to', r['to_pct'])}}}"
        for r in terms["share_ranges"]
    )
    return minimal(
        f"""
        - id: pain_gain
          type: target_cost
          target: {text(terms["total_of_prices"])}
          actual: price_for_work_done
          ranges: [{ranges}]
        """,
        "- {id: price_for_work_done, unit: money, minimum: 0}",
    )


@pytest.mark.parametrize(("example", "case"), cases_of("target_cost_pain_gain"))
def test_target_cost_supplier_gain_or_pain(example: dict[str, Any], case: dict[str, Any]) -> None:
    statement = statement_of(price(target_agreement(example["terms"]),
                                   f"values: {{price_for_work_done: {text(case['price_for_work_done'])}}}"))
    figures = statement.figures["pain_gain"]
    ((key, expected),) = case["expect"].items()
    assert key in ("supplier_gain", "supplier_pain")
    assert_cents(figures[key], expected, key)
    # A gain is paid by the customer; a pain is paid by the supplier.
    sign: Callable[[Decimal], Decimal] = (lambda x: x) if key == "supplier_gain" else (lambda x: -x)
    assert statement.owed("buyer", "seller") == sign(to_cent(D(expected)))

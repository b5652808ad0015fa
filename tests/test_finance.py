"""The finance formulas against the published worked examples, plus the invariants they must keep.

The worked examples (family ``finance`` in ``shared/conformance/worked_examples.json``) are read,
never copied; see ``conformance_data`` for what happens when they are absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.conformance_data import conformance_params, load_conformance
from vested.core.finance import discounted_payback, fv, irr, npv, payback, pmt
from vested.core.money import D

WORKED_EXAMPLES = "worked_examples.json"
FINANCE_IDS = {"NPV-A", "IRR-A", "PAYBACK-A", "PMT-FV-A"}

# Tolerances from the data's notes; NPV is published to 5+ decimals; PMT-FV to float precision
# (numpy-financial's own output), so a micro-unit is already generous there.
NPV_TOLERANCE = Decimal("1e-5")
IRR_TOLERANCE = Decimal("5e-5")
PAYBACK_TOLERANCE = Decimal("0.001")
PMT_FV_TOLERANCE = Decimal("1e-6")


def cases_of(example_id: str) -> list[pytest.ParameterSet]:
    """One param per case of the worked example ``example_id``, with ids like ``IRR-A-2``."""

    def build(data: Any) -> Iterator[pytest.ParameterSet]:
        (example,) = [e for e in data["examples"] if e["id"] == example_id]
        for index, case in enumerate(example["cases"]):
            yield pytest.param(case, id=f"{example_id}-{index}")

    return conformance_params(build, WORKED_EXAMPLES)


def assert_close(actual: Decimal | None, expected: Any, tolerance: Decimal) -> None:
    assert actual is not None, f"expected {expected}, got None"
    gap = actual - D(expected)
    assert abs(gap) <= tolerance, f"expected {expected}, got {actual} (off by {gap}, tolerance {tolerance})"


# --- the worked examples ---------------------------------------------------------------------


def test_every_finance_example_is_checked() -> None:
    """A new finance example in the data must get a test here, not be silently ignored."""
    data = load_conformance(WORKED_EXAMPLES)
    assert {e["id"] for e in data["examples"] if e["family"] == "finance"} == FINANCE_IDS


@pytest.mark.parametrize(
    ("convention", "key"),
    [("first_undiscounted", "npv_first_flow_undiscounted"), ("excel", "npv_excel_convention")],
    ids=["first_undiscounted", "excel"],
)
@pytest.mark.parametrize("case", cases_of("NPV-A"))
def test_npv_worked_example(case: dict[str, Any], convention: Any, key: str) -> None:
    assert_close(npv(case["rate"], case["cashflows"], convention), case["expect"][key], NPV_TOLERANCE)


@pytest.mark.parametrize("case", cases_of("IRR-A"))
def test_irr_worked_example(case: dict[str, Any]) -> None:
    assert_close(irr(case["cashflows"]), case["expect"]["irr"], IRR_TOLERANCE)


@pytest.mark.parametrize("case", cases_of("PAYBACK-A"))
def test_payback_worked_example(case: dict[str, Any]) -> None:
    result = payback(case["investment"], case["cashflows"])
    assert_close(result, case["expect"]["payback_years"], PAYBACK_TOLERANCE)


@pytest.mark.parametrize("case", cases_of("PAYBACK-A"))
def test_discounted_payback_worked_example(case: dict[str, Any]) -> None:
    result = discounted_payback(case["investment"], case["cashflows"], case["rate"])
    assert_close(result, case["expect"]["discounted_payback_years"], PAYBACK_TOLERANCE)


@pytest.mark.parametrize("case", cases_of("PMT-FV-A"))
def test_pmt_fv_worked_example(case: dict[str, Any]) -> None:
    if case["fn"] == "pmt":
        result = pmt(case["rate"], case["nper"], case["pv"], case.get("fv", 0))
    elif case["fn"] == "fv":
        result = fv(case["rate"], case["nper"], case["pmt"], case["pv"])
    else:
        pytest.fail(f"unknown function {case['fn']!r} in PMT-FV-A")
    assert_close(result, case["expect"]["value"], PMT_FV_TOLERANCE)


# --- conventions and edges ---------------------------------------------------------------------


def test_excel_npv_is_one_more_period_of_discounting() -> None:
    flows = [Decimal(-1000), Decimal(300), Decimal(400), Decimal(500)]
    assert npv(Decimal("0.1"), flows, "excel") * Decimal("1.1") == pytest.approx(npv(Decimal("0.1"), flows))


def test_npv_rejects_rates_at_or_below_minus_one() -> None:
    with pytest.raises(ValueError, match="above -1"):
        npv(-1, [-100, 110])


def test_irr_is_none_without_a_sign_change() -> None:
    assert irr([100, 50, 25]) is None
    assert irr([-100, -50]) is None
    assert irr([0, 0, 0]) is None
    assert irr([-100]) is None


def test_irr_ignores_zero_flows_at_either_end() -> None:
    assert irr([0, -100, 110, 0]) == pytest.approx(Decimal("0.1"))


def test_irr_finds_a_root_where_the_npv_only_touches_zero() -> None:
    assert irr([-1, 2, -1]) == 0  # NPV = -(1 - 1/(1+r))², zero only at r = 0


def test_irr_picks_the_root_closest_to_zero() -> None:
    flows = [-100, 100, 0, -7]  # NPV is zero at about -0.0833 and -0.679
    rate = irr(flows)
    assert rate is not None
    assert abs(rate - Decimal("-0.0833")) < IRR_TOLERANCE
    assert abs(npv(rate, flows)) < Decimal("1e-20")


def test_irr_accepts_floats_through_their_repr() -> None:
    assert irr([-5, 10.5, 1, -8, 1]) == irr([-5, Decimal("10.5"), 1, -8, 1])


def test_payback_edges() -> None:
    assert payback(0, [100]) == 0
    assert payback(100, [50, 50]) == 2
    assert payback(100, [40, 40]) is None
    assert payback(100, [150, -100, 100]) == Decimal(100) / 150  # the first recovery counts
    with pytest.raises(ValueError, match="positive amount"):
        payback(-100, [50, 50])


def test_discounted_payback_at_zero_rate_is_simple_payback() -> None:
    flows = [D(30), D(45), D(70)]
    assert discounted_payback(100, flows, 0) == payback(100, flows)


def test_pmt_and_fv_at_zero_rate_are_straight_lines() -> None:
    assert pmt(0, 10, 1000) == -100
    assert pmt(0, 10, 1000, fv=-200) == -80
    assert fv(0, 10, -100, 1000) == 0


def test_payments_at_the_beginning_are_smaller_by_one_period_of_interest() -> None:
    rate = Decimal("0.01")
    assert pmt(rate, 12, 1000, when="begin") * (1 + rate) == pytest.approx(pmt(rate, 12, 1000))


def test_pmt_rejects_an_unknown_timing() -> None:
    with pytest.raises(ValueError, match="when"):
        pmt(Decimal("0.01"), 12, 1000, when="middle")  # type: ignore[arg-type]


# --- invariants ----------------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=1_000_000, places=2)


@st.composite
def conventional_cashflows(draw: st.DrawFn) -> list[Decimal]:
    """One outflow, then inflows that more than repay it: the IRR exists, is unique and positive."""
    inflows = draw(st.lists(amounts, min_size=1, max_size=12))
    assume(sum(inflows) > 0)
    share = draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.99"), places=2))
    investment = (sum(inflows) * share).quantize(Decimal("0.01"))
    assume(0 < investment < sum(inflows))  # a strictly positive return, so the IRR is above 0
    return [-investment, *inflows]


@given(conventional_cashflows())
def test_npv_at_the_irr_is_zero(flows: list[Decimal]) -> None:
    rate = irr(flows)
    assert rate is not None and rate > 0
    assert abs(npv(rate, flows)) <= Decimal("1e-15") * sum(abs(c) for c in flows)


@st.composite
def cash_moved_sooner(draw: st.DrawFn) -> tuple[Decimal, list[Decimal], list[Decimal]]:
    """An investment, some inflows, and the same inflows with part of one paid some periods sooner."""
    investment = draw(st.decimals(min_value=1, max_value=1_000_000, places=2))
    later = draw(st.lists(amounts, min_size=2, max_size=10))
    source = draw(st.integers(min_value=1, max_value=len(later) - 1))
    target = draw(st.integers(min_value=0, max_value=source - 1))
    moved = (later[source] * draw(st.decimals(min_value=0, max_value=1, places=2))).quantize(Decimal("0.01"))
    sooner = list(later)
    sooner[source] -= moved
    sooner[target] += moved
    return investment, later, sooner


def no_later(sooner: Decimal | None, later: Decimal | None) -> bool:
    """``sooner`` pays back no later than ``later`` (``None`` means never)."""
    return later is None or (sooner is not None and sooner <= later)


@given(cash_moved_sooner())
def test_cash_sooner_never_delays_payback(example: tuple[Decimal, list[Decimal], list[Decimal]]) -> None:
    investment, later, sooner = example
    assert no_later(payback(investment, sooner), payback(investment, later))


@given(cash_moved_sooner(), st.decimals(min_value=0, max_value=Decimal("0.5"), places=3))
def test_cash_sooner_never_delays_discounted_payback(
    example: tuple[Decimal, list[Decimal], list[Decimal]], rate: Decimal
) -> None:
    investment, later, sooner = example
    assert no_later(discounted_payback(investment, sooner, rate), discounted_payback(investment, later, rate))


@given(
    rate=st.one_of(st.just(Decimal(0)), st.decimals(min_value=Decimal("-0.05"), max_value=1, places=4)),
    nper=st.integers(min_value=1, max_value=480),
    pv=st.decimals(min_value=-1_000_000, max_value=1_000_000, places=2),
    target=st.decimals(min_value=-1_000_000, max_value=1_000_000, places=2),
    when=st.sampled_from(["end", "begin"]),
)
def test_pmt_reaches_the_future_value_it_was_asked_for(
    rate: Decimal, nper: int, pv: Decimal, target: Decimal, when: Any
) -> None:
    # pmt() solves fv + pv·(1+r)^n + pmt·annuity = 0 for pmt; fv() solves the same equation for fv,
    # so feeding the payment back must return the target itself (with its sign).
    payment = pmt(rate, nper, pv, target, when)
    scale = abs(pv) * (1 + rate) ** nper + abs(target) + 1
    assert abs(fv(rate, nper, payment, pv, when) - target) <= Decimal("1e-20") * scale

"""Late-delivery penalties, quality deductions and installment plans: hand-worked cases and invariants.

Every expected number is worked out in the test from the contract's wording; the properties
(hypothesis) check what must hold for any delay or readings: the penalty never exceeds its cap,
it never falls as the delay grows, a capped deduction never exceeds the amount it is capped at.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import diagnostics, minimal, price
from vested.core.pricing import Priced
from vested.core.terms.base import PricingContext, Source
from vested.core.terms.delivery import (
    Due,
    EscalationStep,
    LateDeliveryPenalty,
    QualityCheck,
    QualityDeduction,
    price_late_delivery_penalty,
    price_quality_deduction,
)
from vested.core.values import parse_duration

DUE = datetime(2025, 6, 1, tzinfo=UTC)
TIMESTAMPS = """
- {id: due, kind: timestamp}
- {id: delivered, kind: timestamp}
- {id: goods_value, unit: money}
- {id: force_majeure, kind: boolean}
"""


def at(**offset: float) -> str:
    """A quoted timestamp ``offset`` after the due time (e.g. ``at(days=8, hours=12)``)."""
    return f'"{(DUE + timedelta(**offset)).isoformat()}"'


def late_term(**fields: str) -> str:
    lines = {"due": "{metric: due}", "delivered": "delivered", "value": "{metric: goods_value}", **fields}
    return "- id: late\n  type: late_delivery_penalty\n" + "".join(f"  {k}: {v}\n" for k, v in lines.items() if v)


def facts(*, as_of: str | None = None, **values: Any) -> str:
    values = {"due": f'"{DUE.isoformat()}"', "goods_value": 1000, **values}
    head = f"as_of: {as_of}\n" if as_of else ""
    return head + "values:\n" + "".join(f"  {k}: {v}\n" for k, v in values.items() if v is not None)


def priced_late(term: str, facts_text: str, state: dict[str, Any] | None = None) -> Priced:
    return price(minimal(term, TIMESTAMPS), facts_text, state)


def penalty_of(priced: Priced, term_id: str = "late") -> Decimal:
    assert priced.statement is not None, priced.diagnostics
    return sum((line.amount for line in priced.statement.lines if line.term_id == term_id), Decimal(0))


def figures_of(priced: Priced, term_id: str = "late") -> dict[str, Any]:
    assert priced.statement is not None, priced.diagnostics
    return dict(priced.statement.figures[term_id])


def codes(priced: Priced) -> list[str]:
    return [d.code for d in priced.diagnostics]


# --- late delivery: rate per period ----------------------------------------------------------

PRO_RATA = {"rate": "10%", "per": "2 days", "whole": "day"}


def test_delay_truncated_to_whole_days_then_pro_rated() -> None:
    # 8.5 days late -> 8 whole days; 8 / 2 × 10% × 1,000 = 400
    priced = priced_late(late_term(**PRO_RATA), facts(delivered=at(days=8, hours=12)))
    assert penalty_of(priced) == Decimal("400.00")
    figures = figures_of(priced)
    assert (figures["late"], figures["delay_days"], figures["buyer_may_terminate"]) == (True, 8, False)
    line = priced.statement.lines[0] if priced.statement else None
    assert line is not None and (line.payer, line.payee) == ("seller", "buyer")


def test_without_whole_units_the_part_day_counts_pro_rata() -> None:
    # 8.5 / 2 × 10% × 1,000 = 425
    term = late_term(rate="10%", per="2 days")
    assert penalty_of(priced_late(term, facts(delivered=at(days=8, hours=12)))) == Decimal("425.00")


def test_cap_limits_the_penalty_to_a_share_of_the_value() -> None:
    # 20 days: 20 / 2 × 10% × 1,000 = 1,000, capped at 30% × 1,000 = 300
    priced = priced_late(late_term(**PRO_RATA, cap="30%"), facts(delivered=at(days=20)))
    assert penalty_of(priced) == Decimal("300.00")
    assert figures_of(priced)["cap_binds"] is True


@pytest.mark.parametrize(("delay", "may_terminate"), [
    ({"days": 15}, False),                 # exactly the threshold: not "more than"
    ({"days": 15, "hours": 23}, False),    # 15.96 days counts as 15 whole days
    ({"days": 16}, True),
])
def test_termination_needs_a_whole_delay_strictly_longer_than_the_threshold(delay: dict[str, float], may_terminate: bool) -> None:
    priced = priced_late(late_term(**PRO_RATA, termination_after="15 days"), facts(delivered=at(**delay)))
    assert figures_of(priced)["buyer_may_terminate"] is may_terminate


@pytest.mark.parametrize("delivered", [at(days=0), at(days=-3)], ids=["at-due-time", "early"])
def test_on_time_delivery_is_priced_at_zero_with_the_reason(delivered: str) -> None:
    priced = priced_late(late_term(**PRO_RATA, termination_after="15 days"), facts(delivered=delivered))
    assert penalty_of(priced) == 0
    figures = figures_of(priced)
    assert (figures["late"], figures["buyer_may_terminate"], figures["penalty"]) == (False, False, 0)
    assert priced.statement is not None and priced.statement.lines[0].formula == "on time, no penalty"


def test_late_but_less_than_one_whole_day_costs_nothing() -> None:
    priced = priced_late(late_term(**PRO_RATA), facts(delivered=at(hours=20)))
    assert penalty_of(priced) == 0
    assert figures_of(priced)["late"] is True


def test_force_majeure_excuses_the_delay_and_opens_termination() -> None:
    term = late_term(**PRO_RATA, termination_after="15 days", excused_by="force_majeure")
    priced = priced_late(term, facts(delivered=at(days=4), force_majeure="true"))
    assert penalty_of(priced) == 0
    figures = figures_of(priced)
    assert (figures["excused"], figures["buyer_may_terminate"]) == (True, True)
    # not reported (absent) or false: the penalty applies: 4 / 2 × 10% × 1,000 = 200
    assert penalty_of(priced_late(term, facts(delivered=at(days=4)))) == Decimal("200.00")
    assert penalty_of(priced_late(term, facts(delivered=at(days=4), force_majeure="false"))) == Decimal("200.00")


def test_measured_to_as_of_when_no_delivery_timestamp_is_named() -> None:
    # 5 days to as_of -> 5 / 2 × 10% × 1,000 = 250
    priced = priced_late(late_term(**PRO_RATA, delivered=""), facts(as_of=at(days=5, hours=3)))
    assert penalty_of(priced) == Decimal("250.00")
    assert "delivered" not in figures_of(priced)


def test_measured_to_as_of_needs_an_as_of() -> None:
    priced = priced_late(late_term(**PRO_RATA, delivered=""), facts())
    assert codes(priced) == ["as-of"]


def test_goods_not_delivered_yet_bear_no_penalty_but_count_towards_termination() -> None:
    term = late_term(**PRO_RATA, termination_after="15 days")
    priced = priced_late(term, facts(as_of=at(days=20)))
    assert penalty_of(priced) == 0
    figures = figures_of(priced)
    assert (figures["delivered"], figures["late"], figures["buyer_may_terminate"]) == (False, True, True)


# --- late delivery: fixed amount and escalation steps ----------------------------------------


@pytest.mark.parametrize(("minutes", "seconds", "expected"), [(10, 1, "200.00"), (10, 0, "0"), (3, 0, "0")])
def test_fixed_penalty_when_the_allowed_duration_is_exceeded(minutes: int, seconds: int, expected: str) -> None:
    term = late_term(due="{metric: due, within: 10 minutes}", value="", amount="200")
    assert penalty_of(priced_late(term, facts(delivered=at(minutes=minutes, seconds=seconds)))) == Decimal(expected)


def test_fixed_penalty_counts_only_whole_units_when_told_to() -> None:
    term = late_term(value="", amount="200", whole="day")
    assert penalty_of(priced_late(term, facts(delivered=at(hours=23)))) == 0
    assert penalty_of(priced_late(term, facts(delivered=at(days=1)))) == Decimal("200.00")


STEPS = "[{after: 1 day, rate: 5%}, {after: 10 days, rate: 50%}, {after: 2 days, rate: 10%}]"


@pytest.mark.parametrize(("delay", "expected"), [
    ({"hours": 12}, "0"),                   # within the first step: no penalty
    ({"days": 1}, "0"),                     # "after" means strictly more than
    ({"days": 1, "hours": 1}, "50.00"),     # 5% × 1,000
    ({"days": 2, "seconds": 1}, "100.00"),  # 10%: the steps apply in order of `after`, whatever their order
    ({"days": 30}, "500.00"),               # 50%
])
def test_escalation_steps(delay: dict[str, float], expected: str) -> None:
    assert penalty_of(priced_late(late_term(steps=STEPS), facts(delivered=at(**delay)))) == Decimal(expected)


# --- late delivery: repeated failures --------------------------------------------------------

REPEAT = {"steps": STEPS, "delivered": "", "repeat_failures": "{window: 60 days, at_least: 3, surcharge: 99.99}"}
AS_OF = at(days=5)  # 5 days late: the 10% step, 100


def test_repeat_failures_add_the_surcharge_once_the_window_holds_enough() -> None:
    earlier = [(DUE - timedelta(days=d)).isoformat() for d in (10, 40, 70)]  # 70 days back is outside the window
    priced = priced_late(late_term(**REPEAT), facts(as_of=AS_OF), {"late": {"failures": earlier}})
    # in the window: 10 and 40 days back, and this one: 3 >= 3 -> 100 + 99.99
    assert penalty_of(priced) == Decimal("199.99")
    state = priced.state["late"]
    assert state["failure_count"] == 3
    assert state["failures"][-1] == DUE.isoformat()


def test_fewer_failures_than_the_threshold_add_nothing() -> None:
    priced = priced_late(late_term(**REPEAT), facts(as_of=AS_OF), {"late": {"failures": [(DUE - timedelta(days=10)).isoformat()]}})
    assert penalty_of(priced) == Decimal("100.00")
    assert priced.state["late"]["failure_count"] == 2


def test_pricing_the_same_failure_again_does_not_count_it_twice() -> None:
    first = priced_late(late_term(**REPEAT), facts(as_of=AS_OF), {"late": {"failures": []}})
    again = priced_late(late_term(**REPEAT), facts(as_of=AS_OF), {"late": dict(first.state["late"])})
    assert again.state["late"]["failure_count"] == first.state["late"]["failure_count"] == 1


def test_a_delivery_within_the_first_step_is_not_a_failure() -> None:
    earlier = [(DUE - timedelta(days=d)).isoformat() for d in (10, 20)]
    priced = priced_late(late_term(**REPEAT), facts(as_of=at(hours=12)), {"late": {"failures": earlier}})
    assert penalty_of(priced) == 0
    assert priced.state["late"]["failure_count"] == 2


def test_malformed_failure_state_is_a_diagnostic() -> None:
    priced = priced_late(late_term(**REPEAT), facts(as_of=AS_OF), {"late": {"failures": ["last tuesday"]}})
    assert codes(priced) == ["state"]


# --- late delivery: the record's own checks --------------------------------------------------


@pytest.mark.parametrize(("fields", "says"), [
    ({"rate": "10%", "per": "2 days", "value": ""}, "need the `value`"),
    ({"rate": "10%"}, "rate and per go together"),
    ({"rate": "10%", "per": "2 days", "amount": "200"}, "exactly one of rate"),
    ({"amount": "200", "value": "", "cap": "50%"}, "need the `value`"),
])
def test_inconsistent_late_delivery_terms_are_refused(fields: dict[str, str], says: str) -> None:
    problems = diagnostics(minimal(late_term(**fields), TIMESTAMPS), lint=False)
    assert any(says in d.message and d.is_error for d in problems), problems


# --- quality deductions ----------------------------------------------------------------------

SENSORS = """
- {id: shocks, kind: series, unit: g}
- {id: temperature, kind: series, unit: centigrade}
- {id: humidity, kind: series, unit: percent}
- {id: units, unit: kg}
"""


def quality(term: str, values: str, price_fee: str = "") -> Priced:
    return price(minimal(price_fee + textwrap.dedent(term), SENSORS), "values:\n" + textwrap.indent(textwrap.dedent(values), "  "))


PER_READING = """\
- id: handling
  type: quality_deduction
  method: per_reading
  checks: [{readings: shocks, minimum: -0.5, maximum: 0.5}]
  amount: 5
"""


def test_per_reading_counts_readings_outside_the_range_bounds_included() -> None:
    # -0.5 and 0.5 are inside; 0.51 and -0.7 are outside -> 2 × 5 = 10
    priced = quality(PER_READING, "shocks: [-0.5, 0.5, 0.51, -0.7, 0]")
    assert penalty_of(priced, "handling") == Decimal("10.00")
    assert figures_of(priced, "handling")["readings_outside"] == 2


def test_per_reading_without_readings_deducts_nothing() -> None:
    assert penalty_of(quality(PER_READING, "shocks: []"), "handling") == 0


PER_EXCESS = """\
- id: spoilage
  type: quality_deduction
  method: per_unit_of_excess
  checks:
    - {readings: temperature, minimum: 2, maximum: 13}
    - {readings: humidity, minimum: 70, maximum: 90}
  factor: 0.2
  units: units
  cap: {term: price}
"""
PRICE = "- {id: price, type: per_unit, quantity: units, rate: 1.5}\n"


def test_per_unit_of_excess_counts_one_side_per_series_below_first() -> None:
    # temperature [1, 20]: 1 below 2 -> excess 1 (the 7 above 13 is not counted); humidity [95]: 5 above 90
    # per unit (1 + 5) × 0.2 = 1.2; × 100 units = 120; price 150 -> net 30
    priced = quality(PER_EXCESS, "temperature: [1, 20]\nhumidity: [95]\nunits: 100", PRICE)
    assert penalty_of(priced, "spoilage") == Decimal("120.00")
    assert priced.statement is not None and priced.statement.owed("buyer", "seller") == Decimal("30.00")


def test_a_deduction_capped_at_the_price_never_makes_it_negative() -> None:
    # temperature 40: 27 above 13 -> 27 × 0.2 × 100 = 540 > price 150 -> deduction 150, net 0
    priced = quality(PER_EXCESS, "temperature: [40]\nhumidity: [80]\nunits: 100", PRICE)
    assert penalty_of(priced, "spoilage") == Decimal("150.00")
    assert figures_of(priced, "spoilage")["uncapped"] == Decimal("540.0")
    assert priced.statement is not None and priced.statement.owed("buyer", "seller") == 0


def test_per_unit_of_excess_needs_readings() -> None:
    priced = quality(PER_EXCESS, "temperature: [5]\nhumidity: []\nunits: 100", PRICE)
    assert codes(priced) == ["no-readings"]
    assert priced.diagnostics[0].path[-3:] == ("checks", 1, "readings")


@pytest.mark.parametrize(("term", "says"), [
    ("- {id: q, type: quality_deduction, method: per_reading, checks: [{readings: shocks, maximum: 1}]}", "needs an amount"),
    ("- {id: q, type: quality_deduction, method: per_unit_of_excess, factor: 1, checks: [{readings: shocks, maximum: 1}]}",
     "factor and a units metric"),
    ("- {id: q, type: quality_deduction, method: per_reading, amount: 1, checks: [{readings: shocks}]}", "a minimum, a maximum"),
])
def test_inconsistent_quality_deductions_are_refused(term: str, says: str) -> None:
    problems = diagnostics(minimal(term, SENSORS), lint=False)
    assert any(says in d.message and d.is_error for d in problems), problems


# --- installment plans -----------------------------------------------------------------------

PLAN = """
- id: plan
  type: installment_plan
  principal: 350.50
  interest: 1%
  payment: payment
  closing: closing
  minimum_payment: 100
  due_at_closing: 50
  first_installment: 1
  max_installments: 3
"""
PAYMENTS = """
- {id: payment, unit: money}
- {id: closing, kind: boolean}
"""


def pay(amount: str, state: dict[str, Any] | None = None, *, closing: bool | None = None, plan: str = PLAN) -> Priced:
    flag = f"  closing: {str(closing).lower()}\n" if closing is not None else ""
    return price(minimal(plan, PAYMENTS), f"values:\n  payment: {amount}\n{flag}", {"plan": state} if state else None)


def test_an_installment_reduces_the_balance_then_interest_is_added_rounded_half_up() -> None:
    # 350.50 − 100 = 250.50; × 1.01 = 253.005 -> 253.01 (half up; half-even would give 253.00)
    priced = pay("100")
    assert priced.state["plan"] == {"balance": "253.01", "total_paid": "100", "next_installment": 2, "status": "active"}
    assert penalty_of(priced, "plan") == Decimal("100.00")
    line = priced.statement.lines[0] if priced.statement else None
    assert line is not None and (line.payer, line.payee) == ("buyer", "seller")
    assert figures_of(priced, "plan")["interest"] == Decimal("2.51")


def test_without_rounding_the_balance_keeps_every_digit() -> None:
    priced = pay("100", plan=PLAN + "  rounding: none\n")
    assert Decimal(priced.state["plan"]["balance"]) == Decimal("253.005")


def test_the_closing_payment_settles_balance_plus_the_amount_due_at_closing() -> None:
    state = {"balance": "253.01", "total_paid": "100", "next_installment": 2, "status": "active"}
    priced = pay("303.01", state, closing=True)  # 253.01 + 50
    assert priced.state["plan"] == {"balance": "0", "total_paid": "403.01", "next_installment": 0, "status": "fulfilled"}
    assert penalty_of(priced, "plan") == Decimal("303.01")


def test_a_missing_closing_flag_means_an_ordinary_installment() -> None:
    assert pay("100", closing=None).state == pay("100", closing=False).state


@pytest.mark.parametrize(("amount", "state", "closing", "code"), [
    ("99.99", None, False, "payment-below-minimum"),
    ("350.51", None, False, "payment-above-balance"),
    ("350.50", None, True, "closing-amount"),  # closing needs 350.50 + 50
    ("100", {"balance": "0", "total_paid": "400.50", "next_installment": 0, "status": "fulfilled"}, False, "plan-fulfilled"),
    ("100", {"balance": "200", "total_paid": "150", "next_installment": 4, "status": "active"}, False, "installments-over"),
    ("60", {"balance": "60", "total_paid": "290.50", "next_installment": 3, "status": "active"}, False, "balance-below-minimum"),
    ("100", {"balance": "lots", "total_paid": "0", "next_installment": 1, "status": "active"}, False, "state"),
], ids=["below-minimum", "above-balance", "wrong-closing", "fulfilled", "past-last", "balance-below-minimum", "bad-state"])
def test_payments_the_plan_does_not_allow_are_errors(amount: str, state: dict[str, Any] | None, closing: bool, code: str) -> None:
    assert codes(pay(amount, state, closing=closing)) == [code]


# --- invariants ------------------------------------------------------------------------------


def context(values: dict[str, Any], *, as_of: datetime | None = None, priced: dict[str, Decimal] | None = None) -> PricingContext:
    return PricingContext(values=values, metric_kinds={}, outcome_metrics={}, outcome_directions={}, priced=priced or {},
                          state={}, tier_boundaries="lower_inclusive", path=("pricing", 0), as_of=as_of)


def late_penalty(term: LateDeliveryPenalty, delay_seconds: int, value: Decimal) -> Decimal:
    ctx = context({"due": DUE, "delivered": DUE + timedelta(seconds=delay_seconds), "goods_value": value})
    return sum((c.amount for c in price_late_delivery_penalty(term, ctx).charges), Decimal(0))


rates = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1"), places=3)
caps = st.decimals(min_value=Decimal("0"), max_value=Decimal("1"), places=2)
values = st.decimals(min_value=Decimal("0"), max_value=Decimal("1e7"), places=2)
delays = st.integers(min_value=-10 * 86400, max_value=400 * 86400)
whole_units: st.SearchStrategy[Literal["hour", "day", "week"] | None] = st.sampled_from([None, "hour", "day", "week"])
periods = st.sampled_from(["1 hour", "1 day", "2 days", "9 days", "1 week"])


Whole = Literal["hour", "day", "week"] | None


def rate_term(rate: Decimal, per: str, whole: Whole, cap: Decimal | None) -> LateDeliveryPenalty:
    return LateDeliveryPenalty(type="late_delivery_penalty", id="late", due=Due(metric="due"), delivered="delivered",
                               value=Source(metric="goods_value"), rate=rate, per=parse_duration(per), whole=whole, cap=cap)


@given(rate=rates, per=periods, whole=whole_units, cap=caps, value=values, delay=delays)
def test_the_penalty_never_exceeds_its_cap(rate: Decimal, per: str, whole: Whole, cap: Decimal, value: Decimal,
                                           delay: int) -> None:
    penalty = late_penalty(rate_term(rate, per, whole, cap), delay, value)
    assert Decimal(0) <= penalty <= cap * value


@given(rate=rates, per=periods, whole=whole_units, cap=st.none() | caps, value=values, first=delays, second=delays)
def test_the_penalty_never_falls_as_the_delay_grows(rate: Decimal, per: str, whole: Whole, cap: Decimal | None,
                                                    value: Decimal, first: int, second: int) -> None:
    term = rate_term(rate, per, whole, cap)
    shorter, longer = sorted((first, second))
    assert late_penalty(term, shorter, value) <= late_penalty(term, longer, value)


step_lists = st.lists(st.tuples(st.integers(min_value=0, max_value=60), rates), min_size=1, max_size=4, unique_by=lambda s: s[0])


@given(steps=step_lists, value=values, first=delays, second=delays)
def test_escalation_never_falls_as_the_delay_grows(steps: list[tuple[int, Decimal]], value: Decimal, first: int, second: int) -> None:
    # Escalation means a later step's rate is at least the earlier one's: sort the rates along the days.
    ordered = zip(sorted(d for d, _ in steps), sorted(r for _, r in steps), strict=True)
    term = LateDeliveryPenalty(type="late_delivery_penalty", id="late", due=Due(metric="due"), delivered="delivered",
                               value=Source(metric="goods_value"),
                               steps=tuple(EscalationStep(after=parse_duration(f"{d} days"), rate=r) for d, r in ordered))
    shorter, longer = sorted((first, second))
    assert late_penalty(term, shorter, value) <= late_penalty(term, longer, value)


readings = st.lists(st.decimals(min_value=Decimal("-50"), max_value=Decimal("150"), places=1), min_size=1, max_size=20)


@given(temperature=readings, humidity=readings, count=st.integers(min_value=0, max_value=10_000),
       factor=st.decimals(min_value=Decimal("0"), max_value=Decimal("10"), places=2), price_amount=values)
def test_a_capped_deduction_never_exceeds_the_amount_it_is_capped_at(
        temperature: list[Decimal], humidity: list[Decimal], count: int, factor: Decimal, price_amount: Decimal) -> None:
    term = QualityDeduction(type="quality_deduction", id="spoilage", method="per_unit_of_excess", factor=factor, units="units",
                            checks=(QualityCheck(readings="temperature", minimum=Decimal(2), maximum=Decimal(13)),
                                    QualityCheck(readings="humidity", minimum=Decimal(70), maximum=Decimal(90))),
                            cap=Source(term="price"))
    ctx = context({"temperature": tuple(temperature), "humidity": tuple(humidity), "units": Decimal(count)},
                  priced={"price": price_amount})
    (charge,) = price_quality_deduction(term, ctx).charges
    assert Decimal(0) <= charge.amount <= price_amount

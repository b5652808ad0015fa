"""Service credits: tiers, per-point shortfall, monthly and rolling caps, earn-back, and the at-risk pool.

The published cases come from ``shared/conformance``: the SLA worked examples (CREDIT-A, CREDIT-B)
of ``worked_examples.json``, the public SLA schedules of ``public_sla_and_incentive_schedules.json``
and the Accord Project ``servicelevelagreement`` suite. Each is written here as a small agreement
in YAML, priced for one period, and compared to the cent. Nothing is copied from the data into the
repository; see ``conformance_data`` for what happens when it is absent.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conformance_data import conformance_params, load_conformance, load_json
from tests.helpers import agreement, diagnostics, minimal, price
from vested.adapters.load import load_facts_text
from vested.core.money import CENT, D, round_amount
from vested.core.pricing import Priced
from vested.core.statement import Statement

WORKED_EXAMPLES = "worked_examples.json"
SCHEDULES = "public_sla_and_incentive_schedules.json"
ACCORD = ("accord", "accord_servicelevelagreement.json")


def text(value: Any) -> str:
    """A JSON number as exact YAML text (floats through their repr, as the data wrote them)."""
    return format(D(value), "f")


def to_cent(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def statement_of(priced: Priced) -> Statement:
    assert priced.statement is not None, priced.diagnostics
    return priced.statement


def credit_to_customer(priced: Priced) -> Decimal:
    """What the supplier (seller) owes the customer (buyer) net, after the lines are rounded."""
    return statement_of(priced).owed("seller", "buyer")


def facts(period: str = "2025-06", **values: Any) -> str:
    lines = "".join(f"  {name}: {text(value)}\n" for name, value in values.items())
    return f"period: {period}\nvalues:\n{lines}"


def figures_of(priced: Priced, term_id: str = "credits") -> dict[str, Any]:
    return dict(statement_of(priced).figures[term_id])


def schedule(data: Any, publisher: str) -> dict[str, Any]:
    (found,) = [s for s in data["schedules"] if s["publisher"].startswith(publisher)]
    return dict(found)


def tier_rows(tiers: list[dict[str, Any]]) -> str:
    """Published tiers ({from_incl, to_excl} or {below}, credit in percent) as YAML flow mappings."""
    rows = []
    for tier in tiers:
        pct = next(value for key, value in tier.items() if key.startswith("credit_pct"))
        bounds = []
        if "from_incl" in tier:
            bounds.append(f"from: {text(tier['from_incl'])}")
        upper = tier.get("to_excl", tier.get("below"))
        if upper is not None:
            bounds.append(f"to: {text(upper)}")
        rows.append(f"- {{{', '.join(bounds)}, credit: {text(pct)}%}}")
    return "\n".join(rows)


def indent(block: str, spaces: int) -> str:
    return textwrap.indent(block, " " * spaces)


METRICS = """\
- {id: uptime, unit: percent, minimum: 0, maximum: 100}
- {id: monthly_fee, unit: money, minimum: 0}
"""


def tiered_credits(rows: str, *, target: Any, extra: str = "", levels: str = "") -> str:
    """An agreement with one service_credits term on `uptime`, a share of `monthly_fee`."""
    return minimal(
        "- id: credits\n"
        "  type: service_credits\n"
        "  base: {metric: monthly_fee}\n"
        "  service_levels:\n"
        "    - metric: uptime\n"
        f"      target: {text(target)}\n"
        "      tiers:\n" + indent(rows, 8) + "\n" + levels + extra,
        METRICS,
    )


# --- worked examples: CREDIT-A (pool) and CREDIT-B (tiers) ---------------------------------------


def worked(example_id: str) -> list[pytest.ParameterSet]:
    def build(data: Any) -> Iterator[pytest.ParameterSet]:
        (example,) = [e for e in data["examples"] if e["id"] == example_id]
        for index, case in enumerate(example["cases"]):
            yield pytest.param(example, case, id=f"{example_id}-{index}")

    return conformance_params(build, WORKED_EXAMPLES, arity=2)


def test_every_service_credit_example_is_checked() -> None:
    data = load_conformance(WORKED_EXAMPLES)
    ids = {e["id"] for e in data["examples"] if e["family"].startswith("service_credit")}
    assert ids == {"CREDIT-A", "CREDIT-B"}


POOL_METRICS = """\
- {id: monthly_invoice, unit: money, minimum: 0}
- {id: uptime, unit: percent}
- {id: response_hours, unit: hours}
- {id: csat, unit: score}
"""


def pool_agreement(at_risk: str, first_category: str, level_allocation: str, second_category: str = "50%") -> str:
    """Two categories; the first has two levels (uptime with `level_allocation`, response the rest)."""
    rest = f"{100 - D(level_allocation.rstrip('%'))}%"
    return minimal(f"""\
        - id: pool
          type: service_credit_pool
          base: {{metric: monthly_invoice}}
          at_risk: {at_risk}
          categories:
            - id: operations
              allocation: {first_category}
              service_levels:
                - {{metric: uptime, target: 99.9, allocation: {level_allocation}}}
                - {{metric: response_hours, target: 4, direction: lower, allocation: {rest}}}
            - id: satisfaction
              allocation: {second_category}
              service_levels:
                - {{metric: csat, target: 80, allocation: 100%}}
        """, POOL_METRICS)


@pytest.mark.parametrize(("example", "case"), worked("CREDIT-A"))
def test_credit_a_pool_allocation(example: dict[str, Any], case: dict[str, Any]) -> None:
    terms = example["terms"]
    text_ = pool_agreement(f"{text(terms['at_risk_pct'])}%", f"{text(terms['category_pool_allocation_pct'])}%",
                           f"{text(terms['service_level_credit_allocation_pct'])}%")
    uptime = "99.0" if case["missed"] else "99.95"
    priced = price(text_, facts(monthly_invoice=terms["monthly_invoice"], uptime=uptime, response_hours=3, csat=85))
    figures = figures_of(priced, "pool")
    assert to_cent(figures["credit"]) == to_cent(D(case["expect"]["credit"]))
    assert to_cent(figures["at_risk_amount"]) == to_cent(D(case["expect"]["monthly_cap"]))
    assert figures["cap_binds"] is False
    assert credit_to_customer(priced) == to_cent(D(case["expect"]["credit"]))


def test_pool_without_a_miss_shows_a_zero_line() -> None:
    priced = price(pool_agreement("10%", "50%", "40%"),
                   facts(monthly_invoice=100000, uptime="99.95", response_hours=3, csat=85))
    (line,) = statement_of(priced).lines
    assert line.amount == 0 and "no service level missed" in line.calculation
    assert figures_of(priced, "pool")["credit"] == 0


def test_pool_credits_never_exceed_the_at_risk_amount() -> None:
    # By hand: at risk 10% × 50,000 = 5,000. Allocations 80% and 70% (they may add up to more than
    # 100%). Every level missed: 80% × 40% × 5,000 = 1,600; 80% × 60% × 5,000 = 2,400;
    # 70% × 100% × 5,000 = 3,500; total 7,500 > 5,000, so the cap takes 2,500 back.
    priced = price(pool_agreement("10%", "80%", "40%", "70%"),
                   facts(monthly_invoice=50000, uptime=98, response_hours=6, csat=70))
    statement = statement_of(priced)
    amounts = sorted(line.amount for line in statement.lines if line.payer == "seller")
    assert amounts == [D(1600), D(2400), D(3500)]
    (cap,) = [line for line in statement.lines if line.payer == "buyer"]
    assert cap.amount == D(2500) and "at-risk cap" in cap.label
    assert figures_of(priced, "pool") == {"at_risk_amount": D(5000), "credit": D(5000), "cap_binds": True}
    assert credit_to_customer(priced) == D(5000)


@pytest.mark.parametrize(("example", "case"), worked("CREDIT-B"))
def test_credit_b_tier_share_of_the_monthly_fee(example: dict[str, Any], case: dict[str, Any]) -> None:
    terms = example["terms"]
    (tier,) = terms["tiers"]
    threshold = D(tier["availability_below"])
    rows = f"- {{to: {text(threshold)}, credit: {text(case['credit_pct_applied'])}%}}"
    text_ = tiered_credits(rows, target=threshold)
    below = price(text_, facts(uptime=threshold - 1, monthly_fee=terms["monthly_fee"]))
    assert credit_to_customer(below) == to_cent(D(case["expect"]["credit"]))
    # "below 98.5": a level of exactly 98.5 is not below it, so it earns nothing.
    at = price(text_, facts(uptime=threshold, monthly_fee=terms["monthly_fee"]))
    assert credit_to_customer(at) == 0


# --- public SLA schedules ------------------------------------------------------------------------


def tier_schedule_cases() -> list[pytest.ParameterSet]:
    def build(data: Any) -> Iterator[pytest.ParameterSet]:
        for publisher in ("Agilentic", "Agile Ticketing"):
            found = schedule(data, publisher)
            for index, example in enumerate(found["derived_examples"]):
                yield pytest.param(found, example, id=f"{publisher}-{index}")

    return conformance_params(build, SCHEDULES, arity=2)


@pytest.mark.parametrize(("published", "example"), tier_schedule_cases())
def test_public_tier_schedules(published: dict[str, Any], example: dict[str, Any]) -> None:
    # Tiers are written from_incl/to_excl, so the agreement's lower_inclusive default fits.
    text_ = tiered_credits(tier_rows(published["tiers"]), target=published["target"])
    fee = example.get("monthly_fee", example.get("recurring_charges"))
    priced = price(text_, facts(uptime=example["uptime"], monthly_fee=fee))
    assert credit_to_customer(priced) == to_cent(D(example["credit"]))
    assert to_cent(figures_of(priced)["credit"]) == to_cent(D(example["credit"]))


RESHAPEX_RULE = re.compile(r"(\d+)% of .* for each (\d+)% below target, capped at (\d+)%")


def reshapex_agreement(published: dict[str, Any]) -> str:
    # The rule text leaves partial points open. We choose whole steps: "5% for each 1% below
    # target" counts completed points only, so a 0.5-point shortfall earns nothing.
    match = RESHAPEX_RULE.search(published["rule"])
    assert match, published["rule"]
    credit, per, cap = match.groups()
    return minimal(f"""\
        - id: credits
          type: service_credits
          base: {{metric: monthly_fee}}
          monthly_cap: {cap}%
          service_levels:
            - metric: uptime
              target: {text(published['target'])}
              shortfall: {{per: {per}, credit: {credit}%, partial: whole_steps}}
        """, METRICS)


def reshapex_cases() -> list[pytest.ParameterSet]:
    def build(data: Any) -> Iterator[pytest.ParameterSet]:
        found = schedule(data, "reshapex")
        for index, example in enumerate(found["derived_examples"]):
            yield pytest.param(found, example, id=f"reshapex-{index}")

    return conformance_params(build, SCHEDULES, arity=2)


@pytest.mark.parametrize(("published", "example"), reshapex_cases())
def test_reshapex_shortfall_schedule(published: dict[str, Any], example: dict[str, Any]) -> None:
    priced = price(reshapex_agreement(published), facts(uptime=example["uptime"], monthly_fee=example["fee"]))
    assert credit_to_customer(priced) == to_cent(D(example["credit"]))
    assert figures_of(priced)["monthly_cap_binds"] is bool(example.get("capped", False))


def test_reshapex_partial_points_use_whole_steps() -> None:
    published = schedule(load_json(SCHEDULES), "reshapex")
    text_ = reshapex_agreement(published)
    # By hand, with whole steps (target 99, 5% of 1,000 per whole point below):
    # 98.5 → 0.5 short → 0 steps → 0; 97.5 → 1.5 short → 1 step → 50.
    assert credit_to_customer(price(text_, facts(uptime="98.5", monthly_fee=1000))) == 0
    assert credit_to_customer(price(text_, facts(uptime="97.5", monthly_fee=1000))) == D(50)


ONSITE_ROW = re.compile(r"^<([\d.]+)%(?: and >=([\d.]+)%)? = ([\d.]+)%$")


def test_onsite_overlapping_tiers_are_refused_at_the_tier() -> None:
    published = schedule(load_json(SCHEDULES), "Onsite")
    rows = []
    for row in published["tiers_as_published"]:
        match = ONSITE_ROW.match(row)
        assert match, row
        upper, lower, credit = match.groups()
        rows.append(f"- {{{f'from: {lower}, ' if lower else ''}to: {upper}, credit: {credit}%}}")
    text_ = textwrap.dedent(tiered_credits("\n".join(rows), target=published["target"]))
    problems = [d for d in diagnostics(text_) if d.code == "tier-overlap"]
    assert problems, "the overlapping Onsite tiers must be reported"
    lines = text_.splitlines()
    # Rows 1 (98-99.9, 5%) and 2 (95-99.9, 25%) overlap; the error must point at one of them.
    overlapping = {[line.strip() for line in lines].index(row) + 1 for row in rows[:2]}
    for problem in problems:
        assert problem.is_error
        assert problem.location is not None and problem.location.line in overlapping, problem


def test_azmonitor_monthly_cap_binds_across_two_services() -> None:
    published = schedule(load_json(SCHEDULES), "AzMonitor")
    match = re.search(r"maximum (\d+)% of monthly fee", published["caps"])
    assert match, published["caps"]
    rows = tier_rows(published["tiers"])
    second = ("    - metric: portal_uptime\n"
              f"      target: {text(published['target'])}\n"
              "      tiers:\n" + indent(rows, 8) + "\n")
    text_ = minimal(
        "- id: credits\n  type: service_credits\n  base: {metric: monthly_fee}\n"
        f"  monthly_cap: {match.group(1)}%\n  service_levels:\n"
        "    - metric: uptime\n"
        f"      target: {text(published['target'])}\n"
        "      tiers:\n" + indent(rows, 8) + "\n" + second,
        METRICS + "- {id: portal_uptime, unit: percent, minimum: 0, maximum: 100}\n",
    )
    # By hand: fee 2,000. uptime 94 (< 95) → 50% = 1,000; portal 97 (95-99) → 25% = 500.
    # Before caps 1,500; the cap is 50% × 2,000 = 1,000, so 500 comes back on a cap line.
    priced = price(text_, facts(uptime=94, portal_uptime=97, monthly_fee=2000))
    figures = figures_of(priced)
    assert figures["credits_before_caps"] == D(1500)
    assert figures["credit"] == D(1000)
    assert figures["monthly_cap_binds"] is True and figures["rolling_cap_binds"] is False
    (cap,) = [line for line in statement_of(priced).lines if "monthly cap" in line.label]
    assert (cap.payer, cap.payee, cap.amount) == ("buyer", "seller", D(500))
    assert credit_to_customer(priced) == D(1000)


# --- Accord Project servicelevelagreement --------------------------------------------------------


def accord_cases() -> list[pytest.ParameterSet]:
    def build(data: Any) -> Iterator[pytest.ParameterSet]:
        for index, case in enumerate(data["cases"]):
            yield pytest.param(data["contracts"][case["contract"]]["parameters_extracted_from_text"], case,
                               id=f"accord-sla-{index}")

    return conformance_params(build, *ACCORD, arity=2)


def test_every_accord_case_is_checked() -> None:
    assert len(load_json(*ACCORD)["cases"]) == 7


def accord_agreement(params: dict[str, str]) -> str:
    """The template as vested terms. Its service credits are written as money ("2.0 GBP") but used
    as percentages of the monthly charge; its thresholds are strict "<" (lower_inclusive tiers)."""

    def pct(name: str) -> str:
        return params[name].split()[0] + "%"

    return minimal(f"""\
        - id: credits
          type: service_credits
          base: {{metric: monthly_charge}}
          boundaries: lower_inclusive
          monthly_cap: {params['monthlyCapPercentage']}%
          rolling_cap: {{periods: 12, rate: {params['yearlyCapPercentage']}%}}
          service_levels:
            - metric: monthly_service_level
              target: {params['availability1']}
              tiers:
                - {{from: {params['availability2']}, to: {params['availability1']}, credit: {pct('serviceCredit1')}}}
                - {{to: {params['availability2']}, credit: {pct('serviceCredit2')}}}
        """, """\
        - {id: monthly_service_level, unit: percent, minimum: 0, maximum: 100}
        - {id: monthly_charge, unit: money, minimum: 0}
        """, "policy:\n  currency: GBP\n")


@pytest.mark.parametrize(("params", "case"), accord_cases())
def test_accord_service_level_agreement(params: dict[str, str], case: dict[str, Any]) -> None:
    request = case["request"]
    text_ = accord_agreement(params)
    facts_text = facts(monthly_service_level=request["monthlyServiceLevel"], monthly_charge=request["monthlyCharge"])
    if "error" in case["expected"]:
        loaded = load_facts_text(agreement(text_), facts_text, "facts.yaml")
        assert loaded.facts is None
        (problem,) = [d for d in loaded.diagnostics if d.is_error]
        assert problem.code == "range" and "minimum 0" in problem.message, problem
        return
    # The last eleven months enter as one aggregate history entry of the rolling 12-month window.
    state = {"credits": {"history": [{"base": text(request["last11MonthCharge"]),
                                      "credit": text(request["last11MonthCredit"])}]}}
    priced = price(text_, facts_text, state)
    expected = to_cent(D(case["expected"]["response"]["monthlyCredit"]))
    assert credit_to_customer(priced) == expected
    assert to_cent(figures_of(priced)["credit"]) == expected
    assert statement_of(priced).currency == "GBP"


def test_accord_caps_show_on_the_statement() -> None:
    data = load_json(*ACCORD)
    text_ = accord_agreement(data["contracts"]["contract2"]["parameters_extracted_from_text"])
    # By hand (contract2: 11% below 98, caps 10% a month and 10% over 12 months): level 97 on a
    # charge of 10 → 1.10; monthly cap 1.00 (−0.10); rolling cap 10% × (110 + 10) − 11.01 = 0.99 (−0.01).
    priced = price(text_, facts(monthly_service_level=97, monthly_charge=10),
                   {"credits": {"history": [{"base": "110", "credit": "11.01"}]}})
    caps = {line.label.split(": ")[-1]: line.amount for line in statement_of(priced).lines if line.payer == "buyer"}
    assert caps == {"monthly cap": D("0.10"), "rolling cap": D("0.01")}
    assert figures_of(priced)["monthly_cap_binds"] is True and figures_of(priced)["rolling_cap_binds"] is True
    assert priced.state["credits"] == {"history": [{"base": "110", "credit": "11.01"},
                                                   {"base": "10", "credit": "0.99"}]}


# --- earn-back -----------------------------------------------------------------------------------


EARN_BACK = tiered_credits("- {from: 99, to: 99.5, credit: 5%}\n- {to: 99, credit: 10%}", target="99.5",
                           extra="  earn_back: {periods: 2}\n")


def test_earn_back_over_four_periods() -> None:
    # By hand, fee 1,000, target 99.5, earn back after 2 following periods that all meet target:
    # P1 99.2 → 5% = 50, paid; pending 50 (needs P2 and P3).
    # P2 98.0 → 10% = 100, paid; the 50 of P1 is forfeited (P2 missed); pending 100 (P3, P4).
    # P3 99.9 → 0; the 100 of P2 has one period to go.
    # P4 99.5 (equal to target meets it) → 0; the 100 of P2 is earned back: the customer returns 100.
    levels = ["99.2", "98.0", "99.9", "99.5"]
    owed, state = [], None
    forfeited, earned = [], []
    for month, level in enumerate(levels, start=1):
        priced = price(EARN_BACK, facts(f"2025-{month:02d}", uptime=level, monthly_fee=1000), state)
        owed.append(credit_to_customer(priced))
        figures = figures_of(priced)
        forfeited.append(figures["forfeited"])
        earned.append(figures["earned_back"])
        state = dict(priced.state)
    assert owed == [D(50), D(100), D(0), D(-100)]
    assert forfeited == [0, D(50), 0, 0]
    assert earned == [0, 0, 0, D(100)]
    assert state == {"credits": {"pending": []}}


def test_earned_back_line_flows_to_the_supplier() -> None:
    pending = {"credits": {"pending": [{"credit": "75", "remaining": 1, "period": "2025-01"}]}}
    priced = price(EARN_BACK, facts(uptime="99.9", monthly_fee=1000), pending)
    (line,) = [line for line in statement_of(priced).lines if "earned back" in line.label]
    assert (line.payer, line.payee, line.amount) == ("buyer", "seller", D(75))
    assert "2025-01" in line.calculation


# --- explanations and refusals -------------------------------------------------------------------


def test_tier_line_explains_the_level_tier_and_base() -> None:
    text_ = tiered_credits("- {from: 99, to: 99.5, credit: 5%}", target="99.5")
    (line,) = statement_of(price(text_, facts(uptime="99.2", monthly_fee=1000))).lines
    assert line.calculation.startswith("uptime = 99.2 → tier 1 (99 ≤ level < 99.5): 5% × 1,000 = 50")
    assert line.amount == D(50) and (line.payer, line.payee) == ("seller", "buyer")


def test_malformed_history_is_a_facts_error() -> None:
    text_ = tiered_credits("- {to: 99, credit: 10%}", target=99, extra="  rolling_cap: {periods: 3, rate: 10%}\n")
    priced = price(text_, facts(uptime=98, monthly_fee=1000), {"credits": {"history": [{"base": "lots"}]}})
    assert priced.statement is None
    (problem,) = priced.diagnostics
    assert (problem.code, problem.document) == ("state", "facts")
    assert problem.path == ("state", "credits", "history", 0, "base") and "'lots'" in problem.message


def test_a_zero_step_is_refused() -> None:
    text_ = minimal("""\
        - id: credits
          type: service_credits
          base: 1000
          service_levels:
            - {metric: uptime, target: 99, shortfall: {per: 0, credit: 5%}}
        """, METRICS)
    assert any("more than zero" in d.message for d in diagnostics(text_) if d.is_error)


# --- invariants ----------------------------------------------------------------------------------


PERCENT = st.integers(min_value=0, max_value=100)
MONEY = st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False, allow_infinity=False)
LEVEL = st.decimals(min_value=80, max_value=100, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def tier_tables(draw: st.DrawFn) -> str:
    """Contiguous credit tiers below a target of 100, each a share of the base or a fixed amount."""
    cuts = sorted(draw(st.sets(st.integers(min_value=80, max_value=99), min_size=1, max_size=4)))
    rows = []
    for lower, upper in zip([None, *cuts], [*cuts, 100], strict=True):
        share = f"credit: {draw(PERCENT)}%"
        fixed = f"amount: {draw(st.integers(min_value=0, max_value=2_000_000))}"
        credit = share if draw(st.booleans()) else fixed
        rows.append(f"- {{{f'from: {lower}, ' if lower is not None else ''}to: {upper}, {credit}}}")
    return "\n".join(rows)


def capped_credits(tables: list[str], caps: str) -> str:
    levels = "".join(
        f"    - metric: uptime{i}\n      target: 100\n      tiers:\n" + indent(rows, 8) + "\n"
        for i, rows in enumerate(tables)
    )
    metrics = "".join(f"- {{id: uptime{i}, unit: percent}}\n" for i in range(len(tables)))
    return minimal("- id: credits\n  type: service_credits\n  base: {metric: monthly_fee}\n" + caps
                   + "  service_levels:\n" + levels, metrics + "- {id: monthly_fee, unit: money}\n")


def signed_line_total(statement: Statement) -> Decimal:
    return sum((line.amount if line.payer == "seller" else -line.amount for line in statement.lines), Decimal(0))


@settings(max_examples=60, deadline=None)
@given(tables=st.lists(tier_tables(), min_size=1, max_size=3), levels=st.lists(LEVEL, min_size=3, max_size=3),
       base=MONEY, cap=st.integers(min_value=1, max_value=100))
def test_credit_never_exceeds_the_monthly_cap(tables: list[str], levels: list[Decimal], base: Decimal,
                                              cap: int) -> None:
    text_ = capped_credits(tables, f"  monthly_cap: {cap}%\n")
    values: dict[str, Any] = {f"uptime{i}": levels[i] for i in range(len(tables))}
    priced = price(text_, facts(monthly_fee=base, **values))
    figures = figures_of(priced)
    assert Decimal(0) <= figures["credit"] <= D(cap) / 100 * base
    statement = statement_of(priced)
    assert signed_line_total(statement) == credit_to_customer(priced)
    # Per-line policy (half up to the cent): each line is rounded, and the net is their sum.
    assert all(line.amount == round_amount(line.exact) for line in statement.lines)


@st.composite
def period_sequences(draw: st.DrawFn) -> tuple[int, int, list[tuple[Decimal, Decimal]]]:
    periods = draw(st.integers(min_value=2, max_value=5))
    rate = draw(st.integers(min_value=1, max_value=30))
    months = draw(st.lists(st.tuples(MONEY, LEVEL), min_size=1, max_size=10))
    return periods, rate, months


def run_periods(table: str, periods: int, rate: int, months: list[tuple[Decimal, Decimal]]) -> list[Decimal]:
    """Price the months in turn, threading the returned state; the credit of each month."""
    return run_paid_periods(table, periods, rate, months)[0]


def run_paid_periods(table: str, periods: int, rate: int,
                     months: list[tuple[Decimal, Decimal]]) -> tuple[list[Decimal], list[Decimal]]:
    """Price the months in turn, threading the returned state; each month's credit, and what its lines paid."""
    text_ = agreement(capped_credits([table], f"  rolling_cap: {{periods: {periods}, rate: {rate}%}}\n"))
    state: dict[str, Any] | None = None
    credits: list[Decimal] = []
    paid: list[Decimal] = []
    for month, (base, level) in enumerate(months, start=1):
        priced = price(text_, facts(f"2025-{month:02d}", monthly_fee=base, uptime0=level), state)
        credit = figures_of(priced)["credit"]
        assert credit >= 0
        assert signed_line_total(statement_of(priced)) == credit_to_customer(priced)
        credits.append(credit)
        paid.append(signed_line_total(statement_of(priced)))
        state = dict(priced.state)
        assert len(state["credits"]["history"]) <= periods - 1
        # The window remembers what the lines paid, not the exact credit (a cent is a cent given).
        assert D(state["credits"]["history"][-1]["credit"]) == paid[-1]
    return credits, paid


def windows(count: int, periods: int) -> Iterator[slice]:
    """Every rolling window: this period and up to ``periods − 1`` before it."""
    for end in range(1, count + 1):
        yield slice(max(0, end - periods), end)


@settings(max_examples=40, deadline=None)
@given(sequence=period_sequences(), table=tier_tables(), base=MONEY)
def test_rolling_windows_within_the_cap_when_charges_are_steady(
        sequence: tuple[int, int, list[tuple[Decimal, Decimal]]], table: str, base: Decimal) -> None:
    # The rule: a period's credit is at most rate × the window's bases − what the window's earlier
    # periods paid (their lines, as rounded). It cannot take back what rounding overpaid, so a window
    # whose earlier periods paid the whole allowance gives no new credit.
    periods, rate, months = sequence
    steady = [(base, level) for _, level in months]
    credits, paid = run_paid_periods(table, periods, rate, steady)
    limit = D(rate) / 100
    for window in windows(len(steady), periods):
        earlier = sum(paid[window][:-1], Decimal(0))
        assert earlier + credits[window][-1] <= limit * base * len(credits[window]) or credits[window][-1] == 0, window


@settings(max_examples=40, deadline=None)
@given(sequence=period_sequences(), table=tier_tables())
def test_rolling_cap_stops_new_credits_once_a_window_is_full(
        sequence: tuple[int, int, list[tuple[Decimal, Decimal]]], table: str) -> None:
    # When the charges fall, credits already given in the window can exceed rate × its (smaller)
    # bases; the cap cannot take them back, but it then allows no new credit in that window.
    periods, rate, months = sequence
    credits, paid = run_paid_periods(table, periods, rate, months)
    bases = [base for base, _ in months]
    limit = D(rate) / 100
    for window in windows(len(months), periods):
        total = sum(paid[window][:-1], Decimal(0)) + credits[window][-1]
        assert total <= limit * sum(bases[window], Decimal(0)) or credits[window][-1] == 0, window


def test_rolling_cap_cannot_take_back_earlier_credits() -> None:
    # By hand, 2-period window at 8%, a fixed credit of 1 whenever the level is below 100:
    # P1 base 12.51 → allowed 8% × 12.51 = 1.0008 → 1. P2 base 0 → allowed 8% × 12.51 − 1 = 0.0008.
    # P3 base 0 → allowed 8% × 0 − 0.0008 < 0 → 0, although P2 + P3 = 0.0008 > 8% × 0.
    credits = run_periods("- {to: 100, amount: 1}", 2, 8,
                          [(D("12.51"), D(90)), (D(0), D(90)), (D(0), D(90))])
    assert credits == [D(1), D("0.0008"), D(0)]

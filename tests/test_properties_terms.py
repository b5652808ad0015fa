"""Invariants of the fee, incentive, sharing and outcome terms, and of rounding, as properties.

Each property draws a term's parameters, writes the agreement as YAML text, prices it through the
engine and checks what the contract promises: the ceiling is never exceeded, the fee stays in its
range, shares are continuous and monotone, caps hold, lines add up to the net. Expected values
are computed here by hand (independently of the pricers), never read back from them.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import agreement, minimal, price
from vested.core.model import Agreement
from vested.core.money import ONE, ROUNDING_MODES, ZERO, round_amount
from vested.core.pricing import PRECISION
from vested.core.statement import Statement

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EPSILON = Decimal("0.000001")
"""A step far below a cent, to look at a formula on both sides of a boundary."""


# --- drawing numbers ---------------------------------------------------------------------------


def money(low: int | str, high: int | str) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal(low), max_value=Decimal(high), places=2, allow_nan=False, allow_infinity=False)


def shares(low: int = 0, high: int = 100) -> st.SearchStrategy[Decimal]:
    """A share in whole percent, as a fraction (0.37)."""
    return st.integers(low, high).map(lambda n: Decimal(n) / 100)


# --- pricing helpers ---------------------------------------------------------------------------


def facts(values: Mapping[str, Decimal]) -> str:
    return "values:\n" + "".join(f"  {key}: {value:f}\n" for key, value in values.items()) if values else "values: {}"


def priced_statement(terms: Agreement | str, values: Mapping[str, Decimal]) -> Statement:
    priced = price(terms, facts(values))
    assert priced.statement is not None, priced.diagnostics
    for line in priced.statement.lines:
        # Lines read "payer pays payee a positive amount"; not even a negative zero ("-0.00").
        assert not line.amount.is_signed() and not line.exact.is_signed(), line
    return priced.statement


def flow(statement: Statement, term_id: str | None = None) -> Decimal:
    """What the buyer pays the seller, exactly (before rounding), over the lines of one term or all."""
    total = ZERO
    with decimal.localcontext() as ctx:
        ctx.prec = PRECISION  # sum as exactly as the engine computes
        for line in statement.lines:
            if term_id is not None and line.term_id != term_id:
                continue
            total += line.exact if (line.payer, line.payee) == ("buyer", "seller") else -line.exact
    return total


def split(supplier: Decimal) -> str:
    return f"{{customer: {ONE - supplier:f}, supplier: {supplier:f}}}"


# --- FPIF ---------------------------------------------------------------------------------------


@PROPERTY
@given(
    target_cost=money(1_000, 10_000_000),
    profit_rate=shares(0, 30),
    headroom=shares(0, 50),
    under=shares(0, 100),
    over=shares(0, 99),
    cost_ratio=st.decimals(min_value=0, max_value=3, places=4),
)
def test_fpif_price_never_above_the_ceiling_and_profit_is_price_minus_cost(
    target_cost: Decimal, profit_rate: Decimal, headroom: Decimal, under: Decimal, over: Decimal, cost_ratio: Decimal
) -> None:
    target_profit = (target_cost * profit_rate).quantize(Decimal("0.01"))
    ceiling = ((target_cost + target_profit) * (ONE + headroom)).quantize(Decimal("0.01"))
    cost = (target_cost * cost_ratio).quantize(Decimal("0.01"))
    text = minimal(
        f"""
        - id: fpif
          type: fixed_price_incentive
          actual_cost: cost
          target_cost: {target_cost:f}
          target_profit: {target_profit:f}
          ceiling_price: {ceiling:f}
          underrun_share: {split(under)}
          overrun_share: {split(over)}
        """,
        "- {id: cost, unit: money, minimum: 0}",
    )
    statement = priced_statement(text, {"cost": cost})
    figures = statement.figures["fpif"]
    assert figures["price"] <= ceiling
    assert statement.owed("buyer", "seller") <= ceiling
    assert figures["profit"] == figures["price"] - cost
    # By hand: the supplier's share of the under- or overrun moves the profit; the ceiling caps the price.
    share = under if cost <= target_cost else over
    assert figures["price"] == min(cost + target_profit + share * (target_cost - cost), ceiling)
    # Beyond the point of total assumption the supplier bears every extra unit: the price is the ceiling.
    pta = target_cost + (ceiling - target_cost - target_profit) / (ONE - over)
    if cost >= pta:
        assert figures["price"] == ceiling


# --- CPIF ---------------------------------------------------------------------------------------


@PROPERTY
@given(
    target_cost=money(1_000, 10_000_000),
    fee_rates=st.lists(shares(0, 20), min_size=3, max_size=3).map(sorted),
    under=shares(0, 100),
    over=shares(0, 100),
    cost_ratio=st.decimals(min_value=0, max_value=3, places=4),
)
def test_cpif_fee_always_within_minimum_and_maximum(
    target_cost: Decimal, fee_rates: list[Decimal], under: Decimal, over: Decimal, cost_ratio: Decimal
) -> None:
    minimum, target_fee, maximum = (target_cost * r for r in fee_rates)
    cost = (target_cost * cost_ratio).quantize(Decimal("0.01"))
    text = minimal(
        f"""
        - id: cpif
          type: cost_plus_incentive_fee
          actual_cost: cost
          target_cost: {target_cost:f}
          target_fee: {target_fee:f}
          minimum_fee: {minimum:f}
          maximum_fee: {maximum:f}
          underrun_share: {split(under)}
          overrun_share: {split(over)}
        """,
        "- {id: cost, unit: money, minimum: 0}",
    )
    statement = priced_statement(text, {"cost": cost})
    figures = statement.figures["cpif"]
    assert minimum <= figures["fee"] <= maximum
    assert figures["price"] == cost + figures["fee"]
    share = under if cost <= target_cost else over
    formula = target_fee + share * (target_cost - cost)
    assert figures["fee"] == max(minimum, min(maximum, formula))
    low, high = figures["range_of_incentive_effectiveness"]
    if (low is None or low <= cost) and (high is None or cost <= high):
        assert figures["fee"] == formula, "inside the range of incentive effectiveness the clamp does not bind"


# --- target cost: pain/gain share ranges --------------------------------------------------------


@st.composite
def share_ranges(draw: st.DrawFn) -> tuple[list[Decimal], list[Decimal]]:
    """Breakpoints (as fractions of the target, 50%-150% in steps of 0.1%) and one share per range."""
    per_mille = draw(st.lists(st.integers(500, 1500), min_size=1, max_size=4, unique=True))
    points = [Decimal(n) / 1000 for n in sorted(per_mille)]
    range_shares = draw(st.lists(st.integers(0, 20).map(lambda n: Decimal(n) / 20),
                                 min_size=len(points) + 1, max_size=len(points) + 1))
    return points, range_shares


def target_cost_agreement(target: Decimal, points: list[Decimal], range_shares: list[Decimal]) -> Agreement:
    bounds = [None, *points, None]
    ranges = []
    for (low, high), share in zip(pairwise(bounds), range_shares, strict=True):
        written = [f"supplier_share: {share:f}"]
        if low is not None:
            written.append(f"from: {low * 100:f}%")
        if high is not None:
            written.append(f"to: {high * 100:f}%")
        ranges.append("{" + ", ".join(written) + "}")
    return agreement(minimal(
        f"""
        - id: pain_gain
          type: target_cost
          target: {target:f}
          actual: actual_cost
          ranges: [{", ".join(ranges)}]
        """,
        "- {id: actual_cost, unit: money, minimum: 0}",
    ))


def clip(x: Decimal, low: Decimal | None, high: Decimal | None) -> Decimal:
    if low is not None and x < low:
        return low
    if high is not None and x > high:
        return high
    return x


def hand_share(target: Decimal, actual: Decimal, points: list[Decimal], range_shares: list[Decimal]) -> Decimal:
    """The supplier's share as the integral of the share function from the actual to the target."""
    bounds = [None, *(target * p for p in points), None]
    return sum((share * (clip(target, low, high) - clip(actual, low, high))
                for (low, high), share in zip(pairwise(bounds), range_shares, strict=True)), ZERO)


@PROPERTY
@given(target=money(1_000, 10_000_000), ranges=share_ranges())
def test_target_cost_share_is_continuous_at_every_range_boundary(
    target: Decimal, ranges: tuple[list[Decimal], list[Decimal]]
) -> None:
    points, range_shares = ranges
    terms = target_cost_agreement(target, points, range_shares)
    for point in points:
        boundary = target * point
        at = flow(priced_statement(terms, {"actual_cost": boundary}))
        below = flow(priced_statement(terms, {"actual_cost": boundary - EPSILON}))
        above = flow(priced_statement(terms, {"actual_cost": boundary + EPSILON}))
        assert at == hand_share(target, boundary, points, range_shares)
        # No share exceeds 100%, so a step of ε moves the share by at most ε: no jump at the boundary.
        assert abs(below - at) <= EPSILON and abs(above - at) <= EPSILON
        assert below >= at >= above


@PROPERTY
@given(target=money(1_000, 10_000_000), ranges=share_ranges(),
       costs=st.lists(st.decimals(min_value=0, max_value=2, places=4), min_size=2, max_size=2).map(sorted))
def test_target_cost_share_is_monotone_in_actual_cost(
    target: Decimal, ranges: tuple[list[Decimal], list[Decimal]], costs: list[Decimal]
) -> None:
    points, range_shares = ranges
    terms = target_cost_agreement(target, points, range_shares)
    lower_cost, higher_cost = (target * c for c in costs)
    cheaper = priced_statement(terms, {"actual_cost": lower_cost})
    dearer = priced_statement(terms, {"actual_cost": higher_cost})
    assert flow(cheaper) == hand_share(target, lower_cost, points, range_shares)
    assert flow(cheaper) >= flow(dearer), "a higher actual cost never leaves the supplier better off"
    # The figure names the direction: a gain when the actual is within the target, else a pain.
    key = "supplier_gain" if lower_cost <= target else "supplier_pain"
    assert cheaper.figures["pain_gain"][key] == abs(flow(cheaper))


# --- gainshare ----------------------------------------------------------------------------------


@st.composite
def gainshare_terms(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "sharing_rate": draw(shares()),
        "minimum_savings_rate": draw(shares(0, 10)),
        "share_from": draw(st.sampled_from(["first_dollar", "corridor"])),
        "cap": draw(st.none() | shares(0, 30)),
        "losses": draw(st.none() | st.fixed_dictionaries({
            "minimum_loss_rate": shares(0, 10), "sharing_rate": shares(), "cap": st.none() | shares(0, 30)})),
    }


def hand_gainshare(baseline: Decimal, actual: Decimal, t: dict[str, Any]) -> Decimal:
    """What the buyer pays the seller under a gainshare, computed from the contract's words."""
    savings = baseline - actual
    if savings >= 0:
        corridor = t["minimum_savings_rate"] * baseline
        if savings == 0 or savings < corridor:
            return ZERO
        shareable = savings if t["share_from"] == "first_dollar" else savings - corridor
        earned = t["sharing_rate"] * shareable
        return earned if t["cap"] is None else min(earned, t["cap"] * baseline)
    losses = t["losses"]
    if losses is None:
        return ZERO
    assert isinstance(losses, dict)
    loss = -savings
    if loss < losses["minimum_loss_rate"] * baseline:
        return ZERO
    owed = losses["sharing_rate"] * loss
    return -(owed if losses["cap"] is None else min(owed, losses["cap"] * baseline))


@PROPERTY
@given(baseline=money(1_000, 10_000_000), actual_ratio=st.decimals(min_value=0, max_value=2, places=4),
       terms=gainshare_terms())
def test_gainshare_never_pays_more_than_the_cap_nor_charges_more_than_the_loss_cap(
    baseline: Decimal, actual_ratio: Decimal, terms: dict[str, Any]
) -> None:
    actual = (baseline * actual_ratio).quantize(Decimal("0.01"))
    lines = [f"sharing_rate: {terms['sharing_rate']:f}", f"minimum_savings_rate: {terms['minimum_savings_rate']:f}",
             f"share_from: {terms['share_from']}"]
    if terms["cap"] is not None:
        lines.append(f"cap: {terms['cap']:f}")
    losses = terms["losses"]
    if losses is not None:
        assert isinstance(losses, dict)
        written = ", ".join(f"{key}: {value:f}" for key, value in losses.items() if value is not None)
        lines.append(f"losses: {{{written}}}")
    lines = [f"baseline: {baseline:f}", "actual: spend", *lines]
    text = minimal("- id: shared\n  type: gainshare\n" + "".join(f"  {line}\n" for line in lines),
                   "- {id: spend, unit: money, minimum: 0}")
    paid = flow(priced_statement(text, {"spend": actual}))
    if terms["cap"] is not None:
        assert paid <= terms["cap"] * baseline
    if losses is None:
        assert paid >= 0, "one-sided sharing never charges the supplier"
    elif losses["cap"] is not None:
        assert -paid <= losses["cap"] * baseline
    assert (paid >= 0) if actual <= baseline else (paid <= 0)
    assert paid == hand_gainshare(baseline, actual, terms)


# --- outcome incentive --------------------------------------------------------------------------


def outcome_agreement(direction: str, curve: str, kind: str, amount: Decimal) -> Agreement:
    return agreement(minimal(
        f"""
        - id: incentive
          type: outcome_incentive
          outcome: uptime
          kind: {kind}
          amount: {amount:f}
          curve: {curve}
        """,
        "- {id: availability, unit: percent}",
        f"""
        outcomes:
          - {{id: uptime, statement: Stores can trade, metric: availability, direction: {direction}, target: 99}}
        """,
    ))


@st.composite
def curves(draw: st.DrawFn, direction: str) -> str:
    """A linear curve oriented with the outcome's direction, or a stepped curve."""
    if draw(st.booleans()):
        low, high = sorted(draw(st.lists(st.decimals(min_value=0, max_value=100, places=2),
                                         min_size=2, max_size=2, unique=True)))
        zero_at, full_at = (low, high) if direction == "higher" else (high, low)
        return f"{{zero_at: {zero_at:f}, full_at: {full_at:f}}}"
    steps = draw(st.lists(st.tuples(st.decimals(min_value=0, max_value=100, places=2), shares()), min_size=1, max_size=4))
    return "{steps: [" + ", ".join(f"{{at: {at:f}, earns: {earns:f}}}" for at, earns in steps) + "]}"


@PROPERTY
@given(data=st.data(), direction=st.sampled_from(["higher", "lower"]), kind=st.sampled_from(["bonus", "at_risk"]),
       amount=money(0, 1_000_000),
       values=st.lists(st.decimals(min_value=0, max_value=100, places=3), min_size=2, max_size=2))
def test_outcome_incentive_earned_share_is_a_share_and_monotone_in_the_outcome(
    data: st.DataObject, direction: str, kind: str, amount: Decimal, values: list[Decimal]
) -> None:
    terms = outcome_agreement(direction, data.draw(curves(direction)), kind, amount)
    worse, better = sorted(values, reverse=direction == "lower")
    at_worse = priced_statement(terms, {"availability": worse})
    at_better = priced_statement(terms, {"availability": better})
    earned_worse = at_worse.figures["incentive"]["attainment"]
    earned_better = at_better.figures["incentive"]["attainment"]
    assert ZERO <= earned_worse <= ONE and ZERO <= earned_better <= ONE
    assert earned_worse <= earned_better, "a better outcome never earns less"
    for statement, earned in ((at_worse, earned_worse), (at_better, earned_better)):
        with decimal.localcontext() as ctx:
            ctx.prec = PRECISION  # the engine's arithmetic precision
            expected = amount * earned if kind == "bonus" else -(amount * (ONE - earned))
        assert flow(statement) == expected


@PROPERTY
@given(direction=st.sampled_from(["higher", "lower"]),
       ends=st.lists(st.decimals(min_value=0, max_value=100, places=2), min_size=2, max_size=2, unique=True),
       value=st.decimals(min_value=0, max_value=100, places=2))
def test_a_linear_curve_against_the_outcome_direction_is_refused(
    direction: str, ends: list[Decimal], value: Decimal
) -> None:
    low, high = sorted(ends)
    zero_at, full_at = (high, low) if direction == "higher" else (low, high)
    terms = outcome_agreement(direction, f"{{zero_at: {zero_at:f}, full_at: {full_at:f}}}", "bonus", Decimal(1000))
    priced = price(terms, facts({"availability": value}))
    assert priced.statement is None
    assert [d.code for d in priced.diagnostics] == ["curve-direction"]


# --- graduated tiered volume --------------------------------------------------------------------


@st.composite
def graduated_tiers(draw: st.DrawFn) -> tuple[list[int], list[Decimal]]:
    """Whole-number breakpoints (the first tier starts at 0, the last is open) and a rate per tier."""
    points = sorted(draw(st.lists(st.integers(1, 500), min_size=0, max_size=4, unique=True)))
    rates = draw(st.lists(money(0, 100), min_size=len(points) + 1, max_size=len(points) + 1))
    return points, rates


def volume_agreement(points: list[int], rates: list[Decimal], boundaries: str = "lower_inclusive") -> Agreement:
    bounds: list[int | None] = [0, *points, None]
    tiers = ", ".join(
        "{" + f"from: {low}" + (f", to: {high}" if high is not None else "") + f", rate: {rate:f}" + "}"
        for (low, high), rate in zip(pairwise(bounds), rates, strict=True)
    )
    return agreement(minimal(
        f"""
        - id: volume
          type: tiered_volume
          quantity: units
          method: graduated
          boundaries: {boundaries}
          tiers: [{tiers}]
        """,
        "- {id: units, unit: count, minimum: 0}",
    ))


def brute_force(points: list[int], rates: list[Decimal], volume: int) -> Decimal:
    """Unit by unit: the k-th unit (from k−1 to k) is priced at the rate of the tier it lies in."""
    total = ZERO
    for k in range(1, volume + 1):
        tier = sum(1 for p in points if k > p)  # breakpoints the unit lies beyond
        total += rates[tier]
    return total


@PROPERTY
@given(tiers=graduated_tiers(), volume=st.integers(0, 1200))
def test_graduated_volume_equals_a_unit_by_unit_count(tiers: tuple[list[int], list[Decimal]], volume: int) -> None:
    points, rates = tiers
    fee = flow(priced_statement(volume_agreement(points, rates), {"units": Decimal(volume)}))
    assert fee == brute_force(points, rates, volume)
    # Graduated pricing does not depend on which end of a tier holds its boundary.
    other = flow(priced_statement(volume_agreement(points, rates, "upper_inclusive"), {"units": Decimal(volume)}))
    assert other == fee


@PROPERTY
@given(tiers=graduated_tiers(), volume=st.decimals(min_value=0, max_value=1200, places=3))
def test_graduated_volume_is_continuous_in_volume(tiers: tuple[list[int], list[Decimal]], volume: Decimal) -> None:
    points, rates = tiers
    terms = volume_agreement(points, rates)
    steepest = max(rates)
    for at in [volume, *(Decimal(p) for p in points)]:
        fee = flow(priced_statement(terms, {"units": at}))
        above = flow(priced_statement(terms, {"units": at + EPSILON}))
        assert ZERO <= above - fee <= steepest * EPSILON
        if at >= EPSILON:
            below = flow(priced_statement(terms, {"units": at - EPSILON}))
            assert ZERO <= fee - below <= steepest * EPSILON


@pytest.mark.parametrize(
    ("tiers", "volume"),
    [
        ("[{from: 0, to: 100, rate: 2}, {from: 100, to: 1000, rate: 1}]", 1500),  # beyond the last tier
        ("[{from: 10, to: 100, rate: 2}, {from: 100, rate: 1}]", 50),  # below the first tier
    ],
)
def test_graduated_volume_outside_every_tier_is_refused_not_priced_at_nothing(tiers: str, volume: int) -> None:
    text = minimal(
        f"""
        - {{id: volume, type: tiered_volume, quantity: units, method: graduated, tiers: {tiers}}}
        """,
        "- {id: units, unit: count, minimum: 0}",
    )
    priced = price(text, facts({"units": Decimal(volume)}))
    assert priced.statement is None
    assert [d.code for d in priced.diagnostics] == ["no-tier"]


# --- rounding and netting -----------------------------------------------------------------------

POWERS_OF_TEN = [Decimal("0.001"), Decimal("0.01"), Decimal("0.1"), Decimal(1), Decimal("1E+2")]
"""Steps written with their exponent (1E+2, not 100), so that ``Decimal.quantize`` rounds to them."""


@st.composite
def charges(draw: st.DrawFn) -> list[tuple[Decimal, str]]:
    """Fixed fees with amounts finer than a cent, some negative, some written from seller to buyer."""
    amount = st.decimals(min_value=-100_000, max_value=100_000, places=draw(st.integers(0, 6)))
    return draw(st.lists(st.tuples(amount, st.sampled_from(["buyer", "seller"])), min_size=1, max_size=6))


def fees_agreement(items: list[tuple[Decimal, str]], mode: str, step: Decimal, apply: str,
                   parties: tuple[str, str] = ("buyer", "seller")) -> Agreement:
    customer, supplier = parties
    names = {"buyer": customer, "seller": supplier}
    terms = "\n".join(
        f"  - {{id: fee{i}, type: fixed_fee, amount: {amount:f}, payer: {names[payer]}, "
        f"payee: {names['seller' if payer == 'buyer' else 'buyer']}}}"
        for i, (amount, payer) in enumerate(items)
    )
    return agreement(
        f"vested: 1\nid: t\ntitle: Rounding\n"
        f"parties:\n  - {{id: {customer}, name: Customer, role: customer}}\n"
        f"  - {{id: {supplier}, name: Supplier, role: supplier}}\n"
        f"policy: {{rounding: {{mode: {mode}, step: {step:f}, apply: {apply}}}}}\n"
        f"pricing:\n{terms}\n"
    )


def buyer_pays(statement: Statement, buyer: str = "buyer", seller: str = "seller") -> Decimal:
    """Net amount the customer pays the supplier, checked to mirror what the supplier receives."""
    pays, receives = statement.owed(buyer, seller), -statement.owed(seller, buyer)
    assert pays == receives, "the customer pays exactly what the supplier receives"
    assert all(n.amount >= 0 for n in statement.net), "net amounts read payer pays payee a positive amount"
    return pays


@PROPERTY
@given(items=charges(), mode=st.sampled_from(sorted(ROUNDING_MODES)), step=st.sampled_from(POWERS_OF_TEN))
def test_per_line_rounding_follows_the_declared_mode_and_lines_sum_to_the_net(
    items: list[tuple[Decimal, str]], mode: str, step: Decimal
) -> None:
    statement = priced_statement(fees_agreement(items, mode, step, "per_line"), {})
    for line in statement.lines:
        assert line.amount % step == 0
        assert line.amount == line.exact.quantize(step, rounding=ROUNDING_MODES[mode])
        assert line.amount >= 0, "a line reads payer pays payee a positive amount"
    lines = sum((line.amount if line.payer == "buyer" else -line.amount for line in statement.lines), ZERO)
    assert buyer_pays(statement) == lines, "per-line rounding: the net is exactly the sum of the lines"


@PROPERTY
@given(items=charges(), mode=st.sampled_from(sorted(ROUNDING_MODES)),
       step=st.sampled_from([Decimal("0.05"), Decimal("0.25")]))
def test_rounding_to_a_step_that_is_not_a_power_of_ten_gives_multiples_of_the_step(
    items: list[tuple[Decimal, str]], mode: str, step: Decimal
) -> None:
    for apply in ("per_line", "per_statement"):
        statement = priced_statement(fees_agreement(items, mode, step, apply), {})
        assert all(n.amount % step == 0 for n in statement.net)
        if apply == "per_line":
            assert all(line.amount % step == 0 for line in statement.lines)


@PROPERTY
@given(items=charges(), mode=st.sampled_from(sorted(ROUNDING_MODES)), step=st.sampled_from(POWERS_OF_TEN))
def test_per_statement_rounding_keeps_lines_exact_and_rounds_the_net(
    items: list[tuple[Decimal, str]], mode: str, step: Decimal
) -> None:
    statement = priced_statement(fees_agreement(items, mode, step, "per_statement"), {})
    assert all(line.amount == line.exact for line in statement.lines), "lines keep full precision"
    exact = flow(statement)
    assert exact == sum((amount if payer == "buyer" else -amount for amount, payer in items), ZERO)
    rounded = abs(exact).quantize(step, rounding=ROUNDING_MODES[mode])
    assert buyer_pays(statement) == (rounded if exact >= 0 else -rounded)


@pytest.mark.parametrize("mode", ["ceiling", "floor"])
def test_per_statement_rounding_does_not_depend_on_how_the_parties_are_named(mode: str) -> None:
    """A net of 10.005 from supplier to customer: ceiling is 10.01 and floor 10.00, whatever the ids."""
    items = [(Decimal("10.005"), "seller")]
    expected = Decimal("10.005").quantize(Decimal("0.01"), rounding=ROUNDING_MODES[mode])
    for parties in (("buyer", "seller"), ("zbuyer", "aseller")):
        statement = priced_statement(fees_agreement(items, mode, Decimal("0.01"), "per_statement", parties), {})
        assert buyer_pays(statement, *parties) == -expected, parties


def test_round_amount_agrees_with_quantize_for_powers_of_ten() -> None:
    """The engine's one rounding function, against the standard library, on the halfway cases."""
    for mode, rounding in ROUNDING_MODES.items():
        for amount in ("2.345", "-2.345", "2.355", "-2.355", "0.005", "-0.005", "1.0049", "7"):
            assert round_amount(Decimal(amount), mode) == Decimal(amount).quantize(Decimal("0.01"), rounding=rounding)


# --- lines and net on a mixed agreement ---------------------------------------------------------


@PROPERTY
@given(fee=money(0, 100_000), units=st.integers(0, 10_000), unit_rate=st.decimals(min_value=0, max_value=10, places=4),
       baseline=money(1_000, 100_000), spend_ratio=st.decimals(min_value=0, max_value=2, places=4),
       mode=st.sampled_from(sorted(ROUNDING_MODES)))
def test_lines_sum_to_the_net_on_a_mixed_agreement(
    fee: Decimal, units: int, unit_rate: Decimal, baseline: Decimal, spend_ratio: Decimal, mode: str
) -> None:
    text = minimal(
        f"""
        - {{id: base_fee, type: fixed_fee, amount: {fee:f}}}
        - {{id: calls, type: per_unit, quantity: calls, rate: {unit_rate:f}}}
        - id: shared
          type: gainshare
          baseline: {baseline:f}
          actual: spend
          sharing_rate: 35%
          losses: {{sharing_rate: 35%, cap: 10%}}
        """,
        "- {id: calls, unit: count, minimum: 0}\n- {id: spend, unit: money, minimum: 0}",
        f"policy: {{rounding: {{mode: {mode}, apply: per_line}}}}\n",
    )
    spend = (baseline * spend_ratio).quantize(Decimal("0.0001"))
    statement = priced_statement(text, {"calls": Decimal(units), "spend": spend})
    assert [line.term_id for line in statement.lines] == ["base_fee", "calls", "shared"]
    lines = sum((line.amount if line.payer == "buyer" else -line.amount for line in statement.lines), ZERO)
    assert buyer_pays(statement) == lines

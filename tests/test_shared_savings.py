"""The shipped shared-savings programme, priced for five care networks whose numbers are worked out here by hand.

The rules (examples/shared-savings/vested.yaml): the minimum savings rate (MSR) depends on the assigned
members, linear inside each band (3,000-5,000: 5.0% → 3.9%; 5,000-10,000: 3.9% → 3.0%; 10,000-60,000:
3.0% → 2.0%; from 60,000: 2.0%). Savings that reach it are shared from the first dollar at the final
sharing rate, 75% × the quality score, up to a payment limit of 10% of the benchmark (applied after
the quality scaling); 2% of a payment is withheld. Losses beyond 2% of the benchmark are shared at
1 − the final sharing rate, at least 40% and at most 75%, up to the lesser of 4% of the benchmark and
8% of participant revenue, then reduced by 1 − months affected ÷ 12 × share of members affected.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from vested.adapters.load import load_agreement, load_facts
from vested.core.pricing import price_period
from vested.core.statement import Statement

FOLDER = Path(__file__).resolve().parents[1] / "examples" / "shared-savings"
D = Decimal


def statement(network: str) -> Statement:
    loaded = load_agreement(FOLDER / "vested.yaml")
    assert loaded.ok and loaded.agreement is not None
    facts = load_facts(loaded.agreement, FOLDER / f"facts-{network}-2025.yaml")
    assert facts.facts is not None, facts.diagnostics
    priced = price_period(loaded.agreement, facts.facts)
    assert priced.statement is not None, priced.diagnostics
    return priced.statement


def msr(members: int) -> Decimal:
    """The minimum savings rate of the table, by hand."""
    bands = [(3000, 5000, D("0.050"), D("0.039")), (5000, 10000, D("0.039"), D("0.030")), (10000, 60000, D("0.030"), D("0.020"))]
    for low, high, start, end in bands:
        if low <= members < high:
            return start + D(members - low) / D(high - low) * (end - start)
    return D("0.020")


def test_northside_clears_its_minimum_rate_and_shares_from_the_first_dollar() -> None:
    # 4,000 members: MSR = 5.0% + 1,000/2,000 × (3.9% − 5.0%) = 4.45%; savings 40,000,000 − 37,600,000 = 2,400,000 = 6%
    assert msr(4000) == D("0.0445")
    rate = D("0.75") * D("0.90")                      # quality 90: final sharing rate 67.5%
    shared = rate * D(2_400_000)                      # 1,620,000, below the limit of 10% × 40,000,000 = 4,000,000
    withheld = shared * D("0.02")                     # 32,400
    lines = statement("northside").lines
    assert [(line.payer, line.amount) for line in lines] == [("purchaser", shared), ("network", withheld)]
    assert lines[1].label == "Shared savings and losses: 2% sequestration"
    assert lines[1].calculation == "1,620,000 × 2% = 32,400"
    assert "final_sharing_rate = maximum_sharing_rate × quality_score = 75% × 90% = 67.5%" in lines[0].calculation
    assert statement("northside").owed("purchaser", "network") == D("1587600.00")   # 1,620,000 − 32,400


def test_lakeside_falls_short_of_its_minimum_rate_and_shares_nothing() -> None:
    # 20,000 members: MSR = 3.0% + 10,000/50,000 × (2.0% − 3.0%) = 2.8% of 200,000,000 = 5,600,000 > 5,400,000 saved
    assert msr(20000) == D("0.028")
    assert D(200_000_000) - D(194_600_000) < msr(20000) * D(200_000_000)
    s = statement("lakeside")
    assert [line.amount for line in s.lines] == [D("0.00")]
    assert "2.8%" in s.lines[0].calculation


def test_hillside_hits_the_payment_limit_after_quality_scaling() -> None:
    # 7,500 members: MSR 3.9% − 2,500/5,000 × 0.9% = 3.45%; savings 15,000,000 = 25% of 60,000,000
    assert msr(7500) == D("0.0345")
    scaled = D("0.75") * D("1.00") * D(15_000_000)    # 11,250,000 at quality 100
    limit = D("0.10") * D(60_000_000)                  # 6,000,000: binds
    assert scaled > limit
    s = statement("hillside")
    assert [(line.payer, line.amount) for line in s.lines] == [("purchaser", limit), ("network", limit * D("0.02"))]
    assert s.figures["shared_savings"]["cap_binds"] is True
    assert s.owed("purchaser", "network") == D("5880000.00")


def test_riverside_loss_at_the_floor_rate_within_the_lesser_limit_then_relieved() -> None:
    # loss 86,000,000 − 80,000,000 = 6,000,000 (7.5%, beyond the 2% minimum loss rate)
    # loss rate: 1 − 67.5% = 32.5%, raised to the floor of 40% → 2,400,000
    owed = D("0.40") * D(6_000_000)
    # limit: the lesser of 4% × 80,000,000 = 3,200,000 and 8% × 25,000,000 = 2,000,000
    limit = min(D("0.04") * D(80_000_000), D("0.08") * D(25_000_000))
    assert limit == D(2_000_000) and owed > limit
    # disaster relief: 1 − 3/12 × 40% = 0.9 → 1,800,000 owed; nothing withheld from a loss
    factor = 1 - D(3) / 12 * D("0.40")
    s = statement("riverside")
    assert [(line.payer, line.amount) for line in s.lines] == [("network", limit), ("purchaser", limit - limit * factor)]
    assert s.owed("network", "purchaser") == D("1800000.00")


def test_eastside_loss_at_the_ceiling_rate() -> None:
    # quality 20: final rate 15%, loss rate 1 − 15% = 85%, held at the ceiling of 75%; loss 1,000,000 → 750,000
    # limits 4% × 30,000,000 = 1,200,000 and 8% × 20,000,000 = 1,600,000 do not bind; no disaster: no relief line
    s = statement("eastside")
    assert [(line.payer, line.amount) for line in s.lines] == [("network", D("0.75") * D(1_000_000))]


@pytest.mark.parametrize("network", ["northside", "lakeside", "hillside", "riverside", "eastside"])
def test_every_network_statement_adds_up(network: str) -> None:
    s = statement(network)
    signed = sum((line.amount if line.payer == "purchaser" else -line.amount for line in s.lines), D(0))
    assert s.owed("purchaser", "network") == signed

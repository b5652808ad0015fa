"""The scorecard: attainment, status, trend, weighted score and the watermelon warning."""

from __future__ import annotations

from decimal import Decimal as D

from tests.helpers import agreement
from vested.core.scorecard import build_scorecard

AGREEMENT = """
vested: 1
id: sc
title: Scorecard test
parties:
  - {id: c, name: Customer, role: customer}
  - {id: s, name: Supplier, role: supplier}
metrics:
  - {id: uptime}
  - {id: csat}
  - {id: answered_fast}
  - {id: fcr}
outcomes:
  - {id: stores_up, statement: Stores can trade, metric: uptime, direction: higher, target: 99.5, weight: 60%,
     baseline: {value: 97.5, period: 2024}}
  - {id: happy, statement: Managers are happy, metric: csat, direction: higher, target: 4.0, weight: 40%,
     baseline: {value: 3.0, period: 2024}}
  - {id: fast, statement: Calls answered fast, metric: answered_fast, direction: higher, target: 90, parent: stores_up}
  - {id: first_time, statement: Fixed first time, metric: fcr, direction: higher, target: 70, parent: stores_up}
"""


def test_attainment_status_and_weighted_score() -> None:
    a = agreement(AGREEMENT)
    history = {
        "2025-04": {"uptime": D("98.0"), "csat": D("3.5")},
        "2025-05": {"uptime": D("98.2"), "csat": D("3.6")},
        "2025-06": {"uptime": D("98.5"), "csat": D("4.1"), "answered_fast": D("80"), "fcr": D("60")},
    }
    card = build_scorecard(a, "2025-06", history)
    rows = {r.outcome_id: r for r in card.rows}
    # (98.5 − 97.5) ÷ (99.5 − 97.5) = 50%; better than the mean of 98.0 and 98.2, so improving
    assert rows["stores_up"].attainment == D(50)
    assert rows["stores_up"].status == "improving"
    # 4.1 meets 4.0: attainment (4.1 − 3) ÷ (4 − 3) = 110%, held to 100% in the overall score
    assert rows["happy"].status == "met"
    assert rows["happy"].attainment == D(110)
    # overall = 60% × 50% + 40% × 100% = 70
    assert card.overall == D(70)
    assert card.warnings == ()


def test_worsening_and_no_data() -> None:
    a = agreement(AGREEMENT)
    card = build_scorecard(a, "2025-06", {"2025-05": {"uptime": D("99.0")}, "2025-06": {"uptime": D("98.0")}})
    rows = {r.outcome_id: r for r in card.rows}
    assert rows["stores_up"].status == "worsening"
    assert rows["happy"].status == "no data"
    assert card.overall is None


def test_watermelon_warning_when_everything_beneath_is_green() -> None:
    a = agreement(AGREEMENT)
    card = build_scorecard(a, "2025-06", {"2025-06": {"uptime": D("98.0"), "csat": D("4"), "answered_fast": D("95"),
                                                      "fcr": D("75")}})
    assert len(card.warnings) == 1
    assert "stores_up" in card.warnings[0]
    # one supporting outcome red: no watermelon
    card = build_scorecard(a, "2025-06", {"2025-06": {"uptime": D("98.0"), "csat": D("4"), "answered_fast": D("95"),
                                                      "fcr": D("65")}})
    assert card.warnings == ()

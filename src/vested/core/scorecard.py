"""The scorecard of a period: each desired outcome against its baseline and target, and the overall score.

    build_scorecard(agreement, period, history) -> Scorecard

``history`` maps period labels to the metric values measured in them (at least the period scored;
earlier periods give the trend). Attainment is how far the value has moved from the baseline toward
the target (0% at the baseline, 100% at the target; it can go below 0 or above 100). The overall
score weighs each top-level outcome's attainment, held to [0%, 100%], by the outcome's weight. The
watermelon warning fires when a top-level outcome is red while everything measured beneath it
(its supporting outcomes, the service levels of credit terms on its metric) is green.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from vested.core.model import Agreement, Outcome
from vested.core.money import HUNDRED, ONE, ZERO
from vested.core.periods import month_index
from vested.core.terms.credits import ServiceCredits

Status = Literal["met", "not met", "improving", "worsening", "no data"]
TREND_PERIODS = 3
"""How many earlier periods the trend compares against."""


@dataclass(frozen=True)
class ScoreRow:
    outcome_id: str
    statement: str
    metric: str
    direction: str
    value: Decimal | None
    baseline: Decimal | None
    target: Decimal
    attainment: Decimal | None
    """Percent of the way from baseline to target."""
    status: Status
    weight: Decimal
    parent: str | None
    previous: tuple[Decimal | None, ...]
    """Values of the earlier periods (oldest first), for the trend."""


@dataclass(frozen=True)
class Scorecard:
    agreement_id: str
    period: str
    rows: tuple[ScoreRow, ...]
    overall: Decimal | None
    """Weighted score of the top-level outcomes, 0-100; None when a weighted outcome has no value."""
    warnings: tuple[str, ...]


def meets(value: Decimal, target: Decimal, direction: str) -> bool:
    return value >= target if direction == "higher" else value <= target


def attainment(value: Decimal, baseline: Decimal | None, target: Decimal, direction: str) -> Decimal | None:
    """Percent of the way from baseline to target; without a baseline, 100 when met and 0 otherwise."""
    if baseline is None or baseline == target:
        return HUNDRED if meets(value, target, direction) else ZERO
    return (value - baseline) / (target - baseline) * HUNDRED


def status_of(value: Decimal | None, previous: tuple[Decimal | None, ...], target: Decimal, direction: str) -> Status:
    if value is None:
        return "no data"
    if meets(value, target, direction):
        return "met"
    earlier = [v for v in previous if v is not None]
    if not earlier:
        return "not met"
    reference = sum(earlier, ZERO) / len(earlier)
    better = value > reference if direction == "higher" else value < reference
    worse = value < reference if direction == "higher" else value > reference
    return "improving" if better else "worsening" if worse else "not met"


def score_row(outcome: Outcome, period: str, history: Mapping[str, Mapping[str, Decimal | None]],
              earlier_periods: list[str]) -> ScoreRow:
    value = history.get(period, {}).get(outcome.metric)
    previous = tuple(history.get(p, {}).get(outcome.metric) for p in earlier_periods)
    baseline = outcome.baseline.value if outcome.baseline else None
    reached = attainment(value, baseline, outcome.target, outcome.direction) if value is not None else None
    return ScoreRow(outcome.id, outcome.statement, outcome.metric, outcome.direction, value, baseline, outcome.target,
                    reached, status_of(value, previous, outcome.target, outcome.direction), outcome.weight,
                    outcome.parent, previous)


def build_scorecard(agreement: Agreement, period: str, history: Mapping[str, Mapping[str, Decimal | None]]) -> Scorecard:
    """Score every outcome of ``agreement`` for ``period`` (earlier periods in ``history`` give the trend)."""
    earlier = sorted((p for p in history if month_index(p) < month_index(period)), key=month_index)[-TREND_PERIODS:]
    rows = tuple(score_row(o, period, history, earlier) for o in agreement.outcomes)
    top = [r for r in rows if r.parent is None and r.weight > 0]
    overall: Decimal | None = None
    if top and all(r.attainment is not None for r in top):
        overall = sum((r.weight * min(ONE, max(ZERO, (r.attainment or ZERO) / HUNDRED)) for r in top), ZERO) * HUNDRED
    return Scorecard(agreement.id, period, rows, overall, tuple(watermelons(agreement, rows, history.get(period, {}))))


def watermelons(agreement: Agreement, rows: tuple[ScoreRow, ...], values: Mapping[str, Decimal | None]) -> list[str]:
    """Top-level outcomes that are red while every measure beneath them is green."""
    found = []
    for row in rows:
        if row.parent is not None or row.status in ("met", "no data"):
            continue
        beneath = [(r.outcome_id, r.status == "met") for r in rows if r.parent == row.outcome_id and r.status != "no data"]
        for term in agreement.pricing:
            if isinstance(term, ServiceCredits):
                for level in term.service_levels:
                    measured = values.get(level.metric)
                    if measured is not None and level.metric != row.metric and _serves(agreement, level.metric, row.outcome_id):
                        beneath.append((level.label or level.metric, meets(measured, level.target, level.direction)))
        if beneath and all(green for _, green in beneath):
            names = ", ".join(name for name, _ in beneath)
            found.append(f"watermelon: outcome {row.outcome_id!r} is not met while everything measured beneath it is green "
                         f"({names}); the service levels may be measuring the wrong thing")
    return found


def _serves(agreement: Agreement, metric: str, outcome_id: str) -> bool:
    """A service level serves a top-level outcome when a supporting outcome of it uses the same metric."""
    return any(o.parent == outcome_id and o.metric == metric for o in agreement.outcomes)

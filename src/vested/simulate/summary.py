"""The view-model of a risk simulation and the statistics it is made of.

The records (:class:`Simulation`, with each party's :class:`PartyRisk`, the :class:`LimitBinding`
counts, the fan chart's :class:`FanPoint` and the histograms' :class:`Bin`) are what the renderers
(``vested.render.simulate``) and the search (``vested.simulate.tune``) read; the functions turn the
per-run results of ``vested.simulate.run`` into them: :func:`summary_of` (mean, spread, percentiles,
expected shortfall), :func:`beats` and :func:`histogram`, every amount to the cent by :func:`cents`.
``vested.simulate.run.summarise`` builds the whole view-model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from numpy.typing import NDArray

from vested.core.money import CENT
from vested.simulate.sampling import Array

SHORTFALL = 0.05
"""Expected shortfall: the mean of the worst 5% of runs."""
HISTOGRAM_BINS = 40
STATISTICS_NOTE = ("percentiles interpolate linearly between runs (numpy's default); expected shortfall is the mean of the "
                   "worst 5% of runs (⌈0.05·runs⌉ of them); a party beats the status quo in a run when its NPV is at least "
                   "a cent higher than under the status quo on the same draws")


def cents(value: float) -> Decimal:
    """A float estimate as money, to the cent (half up on the float's exact value)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Summary:
    """The distribution of one result over the runs."""

    mean: Decimal
    sd: Decimal
    p5: Decimal
    p50: Decimal
    p95: Decimal
    expected_shortfall: Decimal
    """The mean of the worst 5% of runs."""


def summary_of(values: Array) -> Summary:
    p5, p50, p95 = np.percentile(values, [5, 50, 95])
    worst = max(1, math.ceil(SHORTFALL * len(values)))
    shortfall = float(np.mean(np.partition(values, worst - 1)[:worst]))
    return Summary(cents(float(np.mean(values))), cents(float(np.std(values))), cents(float(p5)), cents(float(p50)),
                   cents(float(p95)), cents(shortfall))


@dataclass(frozen=True)
class PartyRisk:
    """One party's result over the runs: under the agreement, under the status quo, and the difference."""

    party: str
    role: str
    result: Summary
    """NPV under the agreement (the customer's is of its costs, so negative: higher is better)."""
    status_quo: Summary
    """NPV under the status quo, on the same draws."""
    gain: Summary
    """The agreement's NPV minus the status quo's, run by run (the customer's saving, the supplier's margin gained)."""
    p_beats: float
    """Share of runs in which the party is better off than under the status quo."""


@dataclass(frozen=True)
class LimitBinding:
    """How often a cap (or another limit of a term) bound, as a share of run-months."""

    agreement_id: str
    limit: str
    run_months: int
    share: float
    status_quo: bool = False
    """Under the status quo (with no levers) rather than under the agreement."""


@dataclass(frozen=True)
class FanPoint:
    """Percentiles of one party's cumulative gain over the status quo (present value) at the end of a month."""

    period: str
    p5: Decimal
    p25: Decimal
    p50: Decimal
    p75: Decimal
    p95: Decimal


@dataclass(frozen=True)
class Bin:
    """One bar of a histogram of a party's gain: runs with a gain from ``low`` to ``high``."""

    low: Decimal
    high: Decimal
    runs: int


@dataclass(frozen=True)
class DriverNote:
    """An uncertain driver (its distribution in words) or a driver clipped to its range."""

    driver: str
    note: str
    share: float = 0.0
    """For a clipped driver: the share of run-months clipped (under the agreement)."""


@dataclass(frozen=True)
class Simulation:
    """The risk simulation of one agreement on a scenario, against the status quo on the same draws."""

    agreement_id: str
    agreement_title: str
    scenario_id: str
    currency: str
    levers: tuple[str, ...]
    lever_choice: str
    status_quo: str
    """The status quo: which agreement, with no levers."""
    runs: int
    seed: int
    chunk: int
    periods: tuple[str, ...]
    engine: str
    customer: PartyRisk
    supplier: PartyRisk
    p_both: float
    """Share of runs in which both parties beat the status quo."""
    joint_gain: Summary
    """Both gains together, run by run: the value created."""
    limits: tuple[LimitBinding, ...]
    uncertain: tuple[DriverNote, ...]
    correlations: tuple[str, ...]
    clipped: tuple[DriverNote, ...]
    paid_by_term: Mapping[str, Decimal]
    """What the customer pays under each term over the term, mean over the runs (undiscounted)."""
    fan_runs: int
    customer_fan: tuple[FanPoint, ...]
    supplier_fan: tuple[FanPoint, ...]
    customer_histogram: tuple[Bin, ...]
    supplier_histogram: tuple[Bin, ...]
    npv_convention: str
    statistics_note: str = STATISTICS_NOTE


@dataclass(frozen=True)
class Setup:
    """What the simulation was asked: the agreement's levers (and how they were chosen) and the status quo."""

    lever_choice: str
    status_quo: str
    seed: int
    engine: str


def beats(gain: Array) -> NDArray[np.bool_]:
    """Runs in which a party ends at least a cent better off."""
    result: NDArray[np.bool_] = gain >= 0.01 - 1e-9
    return result


def histogram(values: Array, bins: int = HISTOGRAM_BINS) -> tuple[Bin, ...]:
    """Counts of runs in equal bins from the 0.1st to the 99.9th percentile; the outer bins take the tails."""
    low, high = (float(v) for v in np.percentile(values, [0.1, 99.9]))
    if high <= low:
        return (Bin(cents(low), cents(high), len(values)),)
    counts, edges = np.histogram(np.clip(values, low, high), bins=bins, range=(low, high))
    return tuple(Bin(cents(float(edges[i])), cents(float(edges[i + 1])), int(counts[i])) for i in range(bins))

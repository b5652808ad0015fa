"""Tier tables: find the band a value falls in, and find overlaps and gaps between bands.

A band runs from ``lower`` to ``upper`` (either may be open, ``None``). Which end includes its
boundary is the agreement's declared policy: ``lower_inclusive`` (lower <= x < upper) or
``upper_inclusive`` (lower < x <= upper). Checking the table once, up front, is what lets pricing
assume a value matches at most one band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Literal

Bounds = tuple[Decimal | None, Decimal | None]


def in_band(value: Decimal, bounds: Bounds, boundaries: str) -> bool:
    lower, upper = bounds
    if boundaries == "upper_inclusive":
        return (lower is None or value > lower) and (upper is None or value <= upper)
    return (lower is None or value >= lower) and (upper is None or value < upper)


def find_band(table: Sequence[Bounds], value: Decimal, boundaries: str) -> int | None:
    """Index of the band that holds ``value``, or None when no band does."""
    return next((i for i, bounds in enumerate(table) if in_band(value, bounds, boundaries)), None)


@dataclass(frozen=True)
class BandProblem:
    kind: Literal["empty", "overlap", "gap"]
    first: int
    second: int
    message: str


def band_problems(table: Sequence[Bounds], *, allow_gaps: bool = False) -> list[BandProblem]:
    """Empty bands, overlapping bands and (unless allowed) gaps between consecutive bands.

    Bands may be listed in any order; they are compared in order of their lower bound. Two bands
    sharing a boundary neither overlap nor leave a gap: the inclusivity policy decides which one
    the boundary belongs to.
    """
    problems = []
    for i, (lower, upper) in enumerate(table):
        if lower is not None and upper is not None and upper <= lower:
            problems.append(BandProblem("empty", i, i, f"band {i + 1} runs from {lower} to {upper}, which is empty"))
    order = sorted(range(len(table)), key=lambda i: (table[i][0] is not None, table[i][0] or Decimal(0)))
    for a, b in pairwise(order):
        upper_a, lower_b = table[a][1], table[b][0]
        if upper_a is None or lower_b is None:
            problems.append(BandProblem("overlap", a, b, f"bands {a + 1} and {b + 1} both reach without limit into each other"))
        elif upper_a > lower_b:
            problems.append(BandProblem("overlap", a, b, f"band {a + 1} (to {upper_a}) overlaps band {b + 1} (from {lower_b})"))
        elif upper_a < lower_b and not allow_gaps:
            problems.append(BandProblem("gap", a, b, f"no band covers values between {upper_a} and {lower_b}"))
    return problems

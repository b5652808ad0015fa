"""Incentive alignment: which levers does the supplier pull under an agreement, and is that best for both?

    align(agreement, scenario) -> Alignment

The supplier picks the combination of levers with the highest NPV of its margin; the joint best is
the combination with the highest sum of both parties' NPVs (what the customer pays the supplier
cancels out of that sum, so the joint best is the same under every agreement: the agreement only
decides whether the supplier wants it). The agreement is *misaligned* when the supplier's choice
leaves joint value unrealised.

Search: every combination (exhaustive) up to :data:`EXHAUSTIVE_LEVERS` levers, within a budget of
exact-engine evaluations (the evaluator prices each distinct period once, see
``vested.core.evaluation``); beyond either, a local search — greedy single-lever additions and
removals to a local optimum, started from no levers and from all levers — which the result says
it used. Ties (to the cent) go to the combination that is better for both together, then to the one
with fewer levers: an indifferent supplier is taken to do what helps the customer. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from vested.core.economics import show_money
from vested.core.evaluation import Evaluator
from vested.core.model import Agreement
from vested.core.money import CENT
from vested.core.scenario import Scenario

EXHAUSTIVE_LEVERS = 15
"""Most levers searched exhaustively (2^15 = 32,768 combinations)."""
ENGINE_BUDGET = 200_000
"""Most exact-engine period evaluations an exhaustive search may spend before it gives way to the
local search (each is one ``price_period``, a fraction of a millisecond)."""
RANKED = 10


@dataclass(frozen=True)
class Choice:
    """One combination of levers and what it gives each party over the term (NPV)."""

    levers: tuple[str, ...]
    customer_npv: Decimal
    supplier_npv: Decimal

    DERIVED: ClassVar[tuple[str, ...]] = ("joint_npv",)
    """Properties serialised with the fields (``vested.render.serialize``)."""

    @property
    def joint_npv(self) -> Decimal:
        return self.customer_npv + self.supplier_npv


@dataclass(frozen=True)
class LeverEffect:
    """What one lever is worth to each party, toggled on the supplier's choice (NPV with − without)."""

    lever: str
    label: str
    chosen: bool
    """In the supplier's most profitable combination."""
    in_joint_best: bool
    customer_change: Decimal
    supplier_change: Decimal


@dataclass(frozen=True)
class Alignment:
    """The supplier's best combination of levers under one agreement, and the joint best."""

    agreement_id: str
    scenario_id: str
    currency: str
    method: str
    """exhaustive or local search."""
    method_note: str
    combinations: int
    """Combinations evaluated."""
    total_combinations: int
    engine_calls: int
    """Periods priced by the exact engine (the rest were reused)."""
    no_levers: Choice
    supplier_best: Choice
    joint_best: Choice
    misaligned: bool
    reason: str
    lever_effects: tuple[LeverEffect, ...]
    ranking: tuple[Choice, ...]
    """The most profitable combinations for the supplier, best first (at most ten)."""

    DERIVED: ClassVar[tuple[str, ...]] = ("customer_change", "supplier_change")
    """Properties serialised with the fields (``vested.render.serialize``)."""

    @property
    def customer_change(self) -> Decimal:
        """What the supplier's choice does to the customer, against no levers under this agreement."""
        return self.supplier_best.customer_npv - self.no_levers.customer_npv

    @property
    def supplier_change(self) -> Decimal:
        return self.supplier_best.supplier_npv - self.no_levers.supplier_npv


class _OverBudget(Exception):
    pass


Key = Callable[[int], tuple[Decimal, ...]]


def align(agreement: Agreement, scenario: Scenario, evaluator: Evaluator | None = None,
          budget: int = ENGINE_BUDGET) -> Alignment:
    """Search the levers; raises ``EvaluationError`` when the scenario cannot be priced."""
    ev = evaluator or Evaluator(agreement, scenario)
    n = len(ev.levers)
    results: dict[int, tuple[Decimal, Decimal]] = {}

    def evaluate(mask: int) -> tuple[Decimal, Decimal]:
        if mask not in results:
            results[mask] = ev.npvs(mask)
            if ev.engine_calls > budget and exhaustive:
                raise _OverBudget
        return results[mask]

    # A lever that needs the customer's consent, which the scenario does not give, is not the supplier's to pull.
    forbidden = sum(1 << i for i, lever in enumerate(ev.levers) if lever.needs_consent and not lever.customer_agrees)

    def supplier_key(mask: int) -> tuple[Decimal, ...]:
        if mask & forbidden:
            return (Decimal("-Infinity"),) * 4
        customer, supplier = evaluate(mask)
        return _cents(supplier), _cents(customer + supplier), Decimal(-mask.bit_count()), Decimal(-mask)

    def joint_key(mask: int) -> tuple[Decimal, ...]:
        customer, supplier = evaluate(mask)
        return _cents(customer + supplier), _cents(supplier), Decimal(-mask.bit_count()), Decimal(-mask)

    exhaustive = n <= EXHAUSTIVE_LEVERS  # read by evaluate(): the budget binds the exhaustive search only
    note = f"every one of the {2 ** n:,} combinations of {n} levers"
    estimate = ev.pricing_estimate() if exhaustive else 0
    if exhaustive and estimate > budget:
        exhaustive = False
        note = (f"local search: the {2 ** n:,} combinations would need about {estimate:,} exact-engine "
                f"period evaluations, more than the budget of {budget:,}; ")
    elif exhaustive:
        try:
            for mask in range(1 << n):
                evaluate(mask)
        except _OverBudget:
            exhaustive = False
            note = (f"local search: the {2 ** n:,} combinations would need more than the budget of {budget:,} "
                    "exact-engine period evaluations (the agreement carries state from period to period); ")
    else:
        note = f"local search: {n} levers is more than the {EXHAUSTIVE_LEVERS} searched exhaustively; "
    if exhaustive:
        supplier_mask = max((m for m in results if not m & forbidden), key=supplier_key)
        joint_mask = max(results, key=joint_key)
        method = "exhaustive"
    else:
        supplier_mask = _local_search(n, supplier_key)
        joint_mask = _local_search(n, joint_key)
        method = "local search"
        note += ("greedy single-lever additions and removals until none improves, from no levers and from all "
                 "levers; the best found is a local optimum, not guaranteed the global one")
    if forbidden:
        note += ("; the supplier's choice leaves out what needs the customer's consent, which the scenario does not "
                 f"give: {', '.join(ev.lever_ids(forbidden))}")
    choice = _choice_of(ev, results)
    supplier_best, joint_best = choice(supplier_mask), choice(joint_mask)
    gap = joint_best.joint_npv - supplier_best.joint_npv
    misaligned = gap > CENT
    return Alignment(
        agreement_id=agreement.id, scenario_id=scenario.id, currency=agreement.policy.currency,
        method=method, method_note=note, combinations=len(results), total_combinations=2 ** n,
        engine_calls=ev.engine_calls, no_levers=choice(0), supplier_best=supplier_best, joint_best=joint_best,
        misaligned=misaligned, reason=_reason(supplier_best, joint_best, gap, misaligned),
        lever_effects=tuple(_lever_effect(ev, evaluate, supplier_mask, joint_mask, i) for i in range(n)),
        ranking=tuple(choice(m) for m in sorted((m for m in results if not m & forbidden), key=supplier_key,
                                                  reverse=True)[:RANKED]),
    )


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def _choice_of(ev: Evaluator, results: dict[int, tuple[Decimal, Decimal]]) -> Callable[[int], Choice]:
    def choice(mask: int) -> Choice:
        customer, supplier = results[mask] if mask in results else ev.npvs(mask)
        return Choice(ev.lever_ids(mask), customer, supplier)

    return choice


def _local_search(n: int, key: Key) -> int:
    """Best single flips until none improves, from no levers and from all; the better end point."""
    ends = []
    for start in (0, (1 << n) - 1):
        current = start
        while True:
            best = max((current ^ (1 << i) for i in range(n)), key=key, default=current)
            if key(best) <= key(current):
                break
            current = best
        ends.append(current)
    return max(ends, key=key)


def _lever_effect(ev: Evaluator, evaluate: Callable[[int], tuple[Decimal, Decimal]], chosen: int, joint: int,
                  index: int) -> LeverEffect:
    bit = 1 << index
    with_c, with_s = evaluate(chosen | bit)
    without_c, without_s = evaluate(chosen & ~bit)
    lever = ev.levers[index]
    return LeverEffect(lever.id, lever.title, bool(chosen & bit), bool(joint & bit),
                       with_c - without_c, with_s - without_s)


def _reason(supplier_best: Choice, joint_best: Choice, gap: Decimal, misaligned: bool) -> str:
    chosen = ", ".join(supplier_best.levers) or "no levers"
    if not misaligned:
        return f"the supplier's most profitable choice ({chosen}) is also the best for both parties together"
    missing = [lever for lever in joint_best.levers if lever not in supplier_best.levers]
    extra = [lever for lever in supplier_best.levers if lever not in joint_best.levers]
    parts = ([f"leaves out {', '.join(missing)}"] if missing else []) + ([f"adds {', '.join(extra)}"] if extra else [])
    return (f"the supplier's most profitable choice ({chosen}) {' and '.join(parts)} compared with the "
            f"joint best, and leaves {show_money(gap)} of joint value (NPV) unrealised")


"""Adjustments: named, explained changes to a term's amount, applied after the term is priced.

Any term may list ``adjustments``; the engine applies them in the order written to the term's
amount (the sum of its lines, as the statement pays them) and puts each on the statement as its
own line, so the statement shows every step:

* ``withhold``: a rate kept back ("2% withheld: 14,751,000 × 2% = 295,020");
* ``factor``: the amount times a factor ("waiver: 1,200,000 × 0.875 = 1,050,000");
* ``floor`` / ``ceiling``: the amount raised to at least / cut to at most a limit (a signed
  amount: a floor of −500,000 limits a loss to 500,000).

``applies_to`` says which amounts a withholding or a factor touches: ``payments`` (the amount
flows from the term's payer to its payee), ``losses`` (the amount came out negative and flows back)
or ``both``. A statutory reduction of payments, not of losses, is ``withhold`` with ``payments``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass as plain_dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError

from vested.core.formula_eval import Formula, to_decimal
from vested.core.formula_types import parse_table_value, read_formula
from vested.core.money import percent, show
from vested.core.records import RECORD


def _number_or_formula(value: Any) -> Decimal | Formula:
    if isinstance(value, Formula):
        return value
    if isinstance(value, dict):
        if set(value) != {"formula"}:
            raise PydanticCustomError("formula", "write a computed value as {formula: \"...\"}",
                                      {"hint": "the only key is `formula`", "offset": None})
        return read_formula(value["formula"], wrapped=True)
    return parse_table_value(value)


NumberOrFormula = Annotated[
    Decimal | Formula, PlainValidator(_number_or_formula),
    PlainSerializer(lambda v: v.text if isinstance(v, Formula) else format(v, "f"), return_type=str),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"},
                              {"type": "object", "required": ["formula"], "properties": {"formula": {"type": "string"}},
                               "additionalProperties": False}],
                    "description": "A number, a percentage ('2%') or {formula: \"...\"} computed each period."}),
]


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Adjustment:
    """A named change to a term's amount: a rate withheld, a factor, a floor or a ceiling."""

    kind: Literal["withhold", "factor", "floor", "ceiling"]
    """withhold (a rate kept back), factor (the amount times it), floor or ceiling (limits of the signed amount)."""
    value: NumberOrFormula
    """The rate withheld, the factor, or the limit (an amount): a number, a percentage or {formula: ...}."""
    applies_to: Literal["payments", "losses", "both"] = "both"
    """For withhold and factor: payments (positive amounts), losses (negative amounts) or both."""
    label: str = ""
    """How the adjustment reads on the statement (e.g. \"Sequestration (2%)\")."""
    reason: str = ""
    """Why the amount is adjusted (the clause, the statute), shown with the line."""


@plain_dataclass(frozen=True)
class Step:
    """What one adjustment did: the change to the amount, and its explanation."""

    change: Decimal
    label: str
    formula: str
    calculation: str
    notes: tuple[str, ...]


def applies(adjustment: Adjustment, amount: Decimal) -> bool:
    if adjustment.kind in ("floor", "ceiling"):
        return True
    if amount.is_zero():
        return False
    return adjustment.applies_to == "both" or (adjustment.applies_to == "payments") == (amount > 0)


def adjust(adjustments: tuple[Adjustment, ...], amount: Decimal,
           value_of: Callable[[int, Adjustment], tuple[Fraction, str]],
           round_line: Callable[[Decimal], Decimal]) -> list[Step]:
    """The steps of ``adjustments`` applied in order to ``amount`` (a term's signed amount).

    The arithmetic is exact: a factor of 1 − 4 ÷ 12 × 50% (five sixths) times 0.09 is 0.075, so a change
    of exactly half a cent is rounded as the tie it is, not from a 60-digit approximation of it.
    """
    steps: list[Step] = []
    for i, adjustment in enumerate(adjustments):
        if not applies(adjustment, amount):
            continue
        exact, how = value_of(i, adjustment)
        value, whole = to_decimal(exact), Fraction(amount)
        where = (f" ({how})",) if how else ()
        notes = (adjustment.reason,) if adjustment.reason else ()
        if adjustment.kind == "withhold":
            change = to_decimal(-(whole * exact))
            label = adjustment.label or f"{percent(value)} withheld"
            step = Step(change, label, "withheld = amount × rate", f"{show(abs(amount))} × {percent(value)} = "
                        f"{show(abs(change))}" + "".join(where), notes)
        elif adjustment.kind == "factor":
            change = to_decimal(whole * exact - whole)
            label = adjustment.label or f"factor {show(value)}"
            owed = " owed" if amount < 0 else ""
            step = Step(change, label, "adjusted = amount × factor; the line is the difference",
                        f"{show(abs(amount))}{owed} × {show(value)} = {show(abs(amount + change))}{owed}"
                        + "".join(where), notes)
        else:
            limited = max(whole, exact) if adjustment.kind == "floor" else min(whole, exact)
            change = to_decimal(limited - whole)
            label = adjustment.label or adjustment.kind
            relation = "at least" if adjustment.kind == "floor" else "at most"
            step = Step(change, label, f"{adjustment.kind}: the amount is {relation} the limit",
                        f"{show(amount)} {'raised' if change > 0 else 'cut'} to {show(amount + change)}"
                        + "".join(where), notes)
        if step.change.is_zero():
            continue  # nothing changed (a factor of 1, a rate of 0%): no line
        steps.append(step)
        amount += round_line(step.change)
    return steps

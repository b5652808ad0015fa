"""A balance paid off in installments, with interest on what remains (a financed investment).

The plan starts with a principal. Each period a payment (a metric: what the payer paid) reduces
the balance; interest at the plan's rate is then added to what remains, each step rounded to the
cent as the plan declares. A closing payment settles the balance plus the amount due at closing.
The balance, the total paid and the installment count are carried as state from period to period.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from vested.core.records import RECORD
from vested.core.terms.base import PricingContext, Reference, TermBase, TermResult
from vested.core.values import Amount, Identifier, Rate


@dataclass(frozen=True, kw_only=True, config=RECORD)
class InstallmentPlan(TermBase):
    """Installments against a balance that bears interest."""

    type: Literal["installment_plan"]
    principal: Amount
    """The balance at the start."""
    interest: Rate
    """Interest added to the remaining balance after each installment (per installment)."""
    payment: Identifier
    """Metric with the amount paid in the period (a metric id)."""
    closing: Identifier | None = None
    """Boolean metric: true when the period's payment is the closing payment (a metric id)."""
    minimum_payment: Amount = Field(default=0, description="Smallest installment accepted.")  # type: ignore[assignment]
    due_at_closing: Amount = Field(default=0, description="Amount due on top of the balance at closing.")  # type: ignore[assignment]
    first_installment: int = Field(default=1, ge=0, description="Number of the first installment (for the record).")
    max_installments: int | None = Field(default=None, ge=1, description="Installment number after which only the closing payment is accepted.")
    rounding: Literal["cent", "none"] = "cent"
    """Round the balance to the cent after each step (half up), as most loan schedules do."""

    def references(self) -> Iterator[Reference]:
        yield Reference("metric", self.payment, ("payment",))
        if self.closing:
            yield Reference("metric", self.closing, ("closing",), "boolean")


def price_installment_plan(term: InstallmentPlan, ctx: PricingContext) -> TermResult:
    raise NotImplementedError("being written")

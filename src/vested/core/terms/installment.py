"""A balance paid off in installments, with interest on what remains (a financed investment).

The plan starts with a principal. Each period a payment (a metric: what the payer paid) reduces
the balance; interest at the plan's rate is then added to what remains, each step rounded to the
cent as the plan declares. A closing payment settles the balance plus the amount due at closing.
The balance, the total paid, the next installment's number and the plan's status are carried as
state from period to period (:func:`initial_state` when nothing is carried yet).

Payments the plan does not allow (below the minimum, above the balance, a closing payment of the
wrong amount, anything after the plan is fulfilled) make the period impossible to price: the
statement would otherwise record a payment the contract does not recognise.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from vested.core.money import ONE, ZERO, percent, round_amount, show
from vested.core.records import RECORD
from vested.core.terms.base import Charge, PricingContext, Reference, TermBase, TermResult
from vested.core.values import Amount, Identifier, Rate

ACTIVE = "active"
FULFILLED = "fulfilled"


@dataclass(frozen=True, kw_only=True, config=RECORD)
class InstallmentPlan(TermBase):
    """Installments against a balance that bears interest."""

    type: Literal["installment_plan"]
    """The term type: always `installment_plan`."""
    principal: Amount
    """The balance at the start."""
    interest: Rate
    """Interest added to the remaining balance after each installment (per installment)."""
    payment: Identifier
    """Metric with the amount paid in the period (a metric id)."""
    closing: Identifier | None = None
    """Boolean metric: true when the period's payment is the closing payment (a metric id); absent
    from the facts means an ordinary installment."""
    minimum_payment: Amount = Field(default=0, description="Smallest installment accepted.")  # type: ignore[assignment]
    due_at_closing: Amount = Field(default=0, description="Amount due on top of the balance at closing.")  # type: ignore[assignment]
    first_installment: int = Field(default=1, ge=0, description="Number of the first installment (for the record).")
    max_installments: int | None = Field(
        default=None, ge=1, description="Installment number after which only the closing payment is accepted.")
    rounding: Literal["cent", "none"] = "cent"
    """Round the balance to the cent after each step (half up), as most loan schedules do."""

    def references(self) -> Iterator[Reference]:
        yield Reference("metric", self.payment, ("payment",))
        if self.closing:
            yield Reference("metric", self.closing, ("closing",), "boolean")


def initial_state(term: InstallmentPlan) -> dict[str, Any]:
    """The state a plan starts in: the whole principal outstanding, nothing paid yet."""
    return {"balance": str(term.principal), "total_paid": "0", "next_installment": term.first_installment,
            "status": ACTIVE}


def _round(term: InstallmentPlan, amount: Decimal) -> Decimal:
    # Half up to the cent: the same as floor(x × 100 + 0.5) / 100 for the non-negative balances a plan has.
    return round_amount(amount, "half_up") if term.rounding == "cent" else amount


def _read_state(ctx: PricingContext) -> tuple[Decimal, Decimal, int, str]:
    """The plan's carried state (balance, total paid, next installment, status); a located error when malformed."""
    balance = ctx.stored_number("balance")
    total_paid = ctx.stored_number("total_paid")
    number = ctx.stored_number("next_installment")
    if number != number.to_integral_value():
        raise ctx.state_error(f"must be a whole number, found {number}", "", ("next_installment",))
    status = ctx.state.get("status")
    if status not in (ACTIVE, FULFILLED):
        raise ctx.state_error(f"unknown installment plan status {status!r}", f"use {ACTIVE} or {FULFILLED}", ("status",))
    return balance, total_paid, int(number), str(status)


def price_installment_plan(term: InstallmentPlan, ctx: PricingContext) -> TermResult:
    if ctx.state:
        balance, total_paid, number, status = _read_state(ctx)
    else:  # the plan's first period: its initial_state
        balance, total_paid, number, status = term.principal, ZERO, term.first_installment, ACTIVE
    if status == FULFILLED:
        raise ctx.fail("plan-fulfilled", f"{term.id!r} was paid off at closing; it accepts no further payments",
                       "remove the payment from the facts, or the term from the agreement")
    paid = ctx.number(term.payment)
    closing = term.closing is not None and ctx.has(term.closing) and ctx.flag(term.closing)
    inputs = (("balance before", show(balance)), (term.payment, show(paid)))
    if closing:
        due = _round(term, balance + term.due_at_closing)
        if paid != due:
            raise ctx.fail("closing-amount", f"the closing payment must be {show(due)} (balance {show(balance)} + "
                           f"{show(term.due_at_closing)} due at closing), not {show(paid)}",
                           f"pay exactly {show(due)} at closing", ("payment",))
        total_paid += paid
        charge = Charge(paid, "closing payment = balance + amount due at closing",
                        f"{show(balance)} + {show(term.due_at_closing)} = {show(paid)}", label="closing payment",
                        inputs=inputs)
        state = {"balance": "0", "total_paid": str(total_paid), "next_installment": 0, "status": FULFILLED}
        figures: dict[str, Any] = {"balance": ZERO, "total_paid": total_paid, "installment": None, "interest": ZERO, "closing": True}
        return TermResult((charge,), figures, state)
    if term.max_installments is not None and number > term.max_installments:
        raise ctx.fail("installments-over", f"installment {number} is past the last one ({term.max_installments}); "
                       "only the closing payment is accepted now", "mark the payment as the closing payment")
    if term.minimum_payment > balance:
        raise ctx.fail("balance-below-minimum", f"the balance {show(balance)} is below the minimum installment "
                       f"{show(term.minimum_payment)}", "settle it with the closing payment")
    if paid < term.minimum_payment:
        raise ctx.fail("payment-below-minimum", f"installment {show(paid)} is below the minimum {show(term.minimum_payment)}",
                       f"pay at least {show(term.minimum_payment)}", ("minimum_payment",))
    if paid > balance:
        raise ctx.fail("payment-above-balance", f"installment {show(paid)} is more than the balance {show(balance)}",
                       f"pay at most {show(balance)}, or settle with the closing payment")
    remaining = _round(term, balance - paid)
    new_balance = _round(term, remaining * (ONE + term.interest))
    interest = new_balance - remaining
    total_paid += paid
    charge = Charge(paid, "installment = amount paid; balance = (balance − installment) × (1 + interest)",
                    f"{show(balance)} − {show(paid)} = {show(remaining)}; {show(remaining)} × (1 + {percent(term.interest)}) "
                    f"= {show(new_balance)}", label=f"installment {number}", inputs=(*inputs, ("interest", percent(term.interest))))
    state = {"balance": str(new_balance), "total_paid": str(total_paid), "next_installment": number + 1, "status": ACTIVE}
    figures = {"balance": new_balance, "total_paid": total_paid, "installment": number, "interest": interest,
               "closing": False}
    return TermResult((charge,), figures, state)

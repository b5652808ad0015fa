"""Economics of an agreement on a scenario: each party's result per period and over the term.

    economics(agreement, scenario, levers) -> Economics

For each month: the drivers after the chosen levers' effects become the facts the exact engine
prices (``price_period``, state carried month to month); the customer pays the statement's net;
the supplier's revenue is that payment, its cost is the scenario's cost to serve plus the running
costs it bears; the customer's total cost adds its own costs (the value it puts on outcomes) and
the investments and running costs it bears. Over the term: totals, each party's NPV, and for each
investment its return to the party that pays it, against the same scenario without that lever
(IRR, simple and discounted payback), with ``vested.core.finance``. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import ClassVar

from vested.core import money
from vested.core.evaluation import Evaluator
from vested.core.finance import discounted_payback, irr, npv, payback
from vested.core.model import Agreement
from vested.core.money import ONE, ZERO, percent
from vested.core.scenario import Scenario

NPV_CONVENTION = ("monthly discounting at (1 + {rate})^(1/12) − 1 = {monthly} a month; every flow of month k "
                  "(k = 1 for the first month) is discounted k months, as at the end of its month (Excel's NPV)")
PAYBACK_CONVENTION = ("from the start of the month the investment is paid; that month's incremental flows arrive "
                      "at its end, linear within a month; against the same scenario without that lever")


def show_money(value: Decimal) -> str:
    """An amount in a sentence: to the cent, with thousands separators; "≈" when cents were cut (an NPV)."""
    return money.show_money(value)


@dataclass(frozen=True)
class Money:
    """Each party's money in one period, or summed over the term."""

    customer_pays: Decimal
    """What the customer pays the supplier (the statement's net)."""
    customer_own_costs: Decimal
    """The customer's own costs (what the scenario says outcomes cost it, e.g. lost sales)."""
    customer_running_costs: Decimal
    """Running costs of levers the customer bears."""
    customer_investment: Decimal
    """Investments the customer makes."""
    supplier_cost: Decimal
    """The supplier's cost to serve plus the running costs of levers it bears."""
    supplier_investment: Decimal
    """Investments the supplier makes."""

    DERIVED: ClassVar[tuple[str, ...]] = ("customer_total_cost", "supplier_revenue", "supplier_margin")
    """Properties serialised with the fields (``vested.render.serialize``)."""

    @property
    def customer_total_cost(self) -> Decimal:
        return self.customer_pays + self.customer_own_costs + self.customer_running_costs + self.customer_investment

    @property
    def supplier_revenue(self) -> Decimal:
        return self.customer_pays

    @property
    def supplier_margin(self) -> Decimal:
        """Revenue less cost and investments: the supplier's net cash result."""
        return self.supplier_revenue - self.supplier_cost - self.supplier_investment


@dataclass(frozen=True)
class PeriodEconomics:
    """One month of one agreement on the scenario."""

    period: str
    levers: tuple[str, ...]
    """Levers in effect this month."""
    drivers: Mapping[str, Decimal]
    """Driver values after the levers' effects."""
    payments: Mapping[str, Decimal]
    """What the customer pays the supplier under each term (negative: the supplier pays)."""
    money: Money


@dataclass(frozen=True)
class InvestmentReturn:
    """The return of one lever's investment to the party that pays it."""

    lever: str
    label: str
    paid_by: str
    amount: Decimal
    period: str
    incremental_flows: tuple[Decimal, ...]
    """The paying party's cash flows with the lever minus without it, month by month from the
    investment's month (the investment itself left out)."""
    incremental_npv: Decimal
    """NPV of the paying party's flows with the lever minus without it (investment included)."""
    irr_monthly: Decimal | None
    irr_annual: Decimal | None
    payback_months: Decimal | None
    """Months until the incremental flows repay the investment; None if not within the term."""
    discounted_payback_months: Decimal | None


@dataclass(frozen=True)
class Economics:
    """Each party's result over the term, for one agreement, one scenario and one set of levers."""

    agreement_id: str
    agreement_title: str
    scenario_id: str
    currency: str
    customer: str
    supplier: str
    levers: tuple[str, ...]
    periods: tuple[PeriodEconomics, ...]
    totals: Money
    customer_npv: Decimal
    """NPV of the customer's cash flows (all costs, so negative): higher is better."""
    supplier_npv: Decimal
    """NPV of the supplier's margin after investments."""
    discount_rate: Decimal
    monthly_rate: Decimal
    investments: tuple[InvestmentReturn, ...]
    npv_convention: str
    payback_convention: str

    DERIVED: ClassVar[tuple[str, ...]] = ("joint_npv",)
    """Properties serialised with the fields (``vested.render.serialize``)."""

    @property
    def joint_npv(self) -> Decimal:
        return self.customer_npv + self.supplier_npv


def period_economics(evaluator: Evaluator, t: int, levers: int) -> PeriodEconomics:
    drivers = evaluator.drivers(t, levers)
    costs = evaluator.costs(t, levers, drivers)
    money = Money(
        customer_pays=evaluator.payment(t, levers), customer_own_costs=costs["customer_own"],
        customer_running_costs=costs["customer_running"], customer_investment=costs["customer_investment"],
        supplier_cost=costs["supplier_operating"] + costs["supplier_running"],
        supplier_investment=costs["supplier_investment"],
    )
    return PeriodEconomics(evaluator.labels[t], evaluator.lever_ids(levers & evaluator.active[t]),
                           drivers, dict(evaluator.payments(t, levers)), money)


def party_flows(periods: Sequence[PeriodEconomics], paid_by: str) -> list[Decimal]:
    """The customer's (minus its total cost) or the supplier's (its margin) cash flow, month by month."""
    return [-p.money.customer_total_cost if paid_by == "customer" else p.money.supplier_margin for p in periods]


def economics(agreement: Agreement, scenario: Scenario, levers: Sequence[str] = (),
              evaluator: Evaluator | None = None) -> Economics:
    """Price every month of the scenario with ``levers`` in effect; raises ``EvaluationError``."""
    evaluator = evaluator or Evaluator(agreement, scenario)
    mask = evaluator.mask(levers)
    periods = tuple(period_economics(evaluator, t, mask) for t in range(evaluator.months))
    totals = Money(**{f.name: sum((getattr(p.money, f.name) for p in periods), ZERO) for f in fields(Money)})
    rate = evaluator.rate
    customer_npv = npv(rate, party_flows(periods, "customer"), "excel")
    supplier_npv = npv(rate, party_flows(periods, "supplier"), "excel")
    returns = tuple(investment_return(evaluator, mask, i, periods) for i, lever in enumerate(evaluator.levers)
                    if mask >> i & 1 and lever.investment is not None)
    return Economics(
        agreement_id=agreement.id, agreement_title=agreement.title, scenario_id=scenario.id,
        currency=agreement.policy.currency, customer=evaluator.customer, supplier=evaluator.supplier,
        levers=evaluator.lever_ids(mask), periods=periods, totals=totals,
        customer_npv=customer_npv, supplier_npv=supplier_npv,
        discount_rate=scenario.discount_rate, monthly_rate=rate, investments=returns,
        npv_convention=NPV_CONVENTION.format(rate=percent(scenario.discount_rate), monthly=percent(rate)),
        payback_convention=PAYBACK_CONVENTION,
    )


@dataclass(frozen=True)
class AgainstStatusQuo:
    """The customer's business case: this agreement (with its levers) against the status quo (today's contract).

    A lever's own payback (:class:`InvestmentReturn`) is against the same agreement without that
    lever; a business case states the payback against what the customer pays today. The flows are
    the customer's monthly total cost under the status quo less under this agreement (its
    investments left out), from the month of its first investment; the investment is the sum of the
    customer's investments.
    """

    status_quo: str
    """Which agreement stands for today, and with which levers (e.g. ``task-based.yaml with no levers``)."""
    customer_investment: Decimal
    savings: tuple[Decimal, ...]
    """The customer's monthly saving against the status quo, from the first investment's month."""
    customer_npv_gain: Decimal
    """NPV of the customer's flows under this agreement less under the status quo (investments included)."""
    payback_months: Decimal | None
    """Months until the savings repay the customer's investments (None: not within the term, or nothing invested)."""
    discounted_payback_months: Decimal | None


def against_status_quo(mine: Economics, today: Economics, note: str) -> AgainstStatusQuo:
    """What the customer gains by moving from ``today`` (the status quo's economics) to ``mine``, month by month."""
    if len(mine.periods) != len(today.periods):
        raise ValueError("the two economics cover different months")
    invested = [p.money.customer_investment for p in mine.periods]
    start = next((t for t, amount in enumerate(invested) if amount > 0), 0)
    amount = sum(invested, ZERO)
    saving = [b.money.customer_total_cost - (a.money.customer_total_cost - a.money.customer_investment)
              for a, b in zip(mine.periods, today.periods, strict=True)][start:]
    rate = mine.monthly_rate
    return AgainstStatusQuo(
        status_quo=note, customer_investment=amount, savings=tuple(saving),
        customer_npv_gain=mine.customer_npv - today.customer_npv,
        payback_months=payback(amount, saving) if amount > 0 else None,
        discounted_payback_months=discounted_payback(amount, saving, rate) if amount > 0 else None)


def investment_return(evaluator: Evaluator, levers: int, index: int,
                      periods: Sequence[PeriodEconomics]) -> InvestmentReturn:
    """What lever ``index``'s investment earns its payer, against ``levers`` without that lever;
    ``periods`` are the months with ``levers`` in effect."""
    lever = evaluator.levers[index]
    assert lever.investment is not None
    # a co-funded investment is shown for the party that pays the larger part, with its part
    payer, start = lever.investment.lead, evaluator.starts[index]
    amount = lever.investment.part_of(payer)
    with_lever = party_flows(periods, payer)
    without_lever = levers & ~(1 << index)
    without = party_flows([period_economics(evaluator, t, without_lever) for t in range(evaluator.months)], payer)
    change = [a - b for a, b in zip(with_lever, without, strict=True)]
    flows = [flow + (amount if t == start else ZERO) for t, flow in enumerate(change)][start:]
    monthly = irr([-amount, *flows]) if amount > 0 else None
    return InvestmentReturn(
        lever=lever.id, label=lever.title, paid_by=payer, amount=amount, period=evaluator.labels[start],
        incremental_flows=tuple(flows), incremental_npv=npv(evaluator.rate, change, "excel"),
        irr_monthly=monthly, irr_annual=None if monthly is None else (ONE + monthly) ** 12 - ONE,
        payback_months=payback(amount, flows), discounted_payback_months=discounted_payback(amount, flows, evaluator.rate),
    )

"""Economics, comparisons and alignment as terminal tables and as JSON (from the same frozen results).

Amounts read as ``vested.core.economics.show_money`` writes them (12,345.60); the JSON is the
records as ``vested.render.serialize`` makes it, derived values (joint NPV, ...) included.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from vested.core.alignment import Alignment, Choice
from vested.core.compare import Comparison, Position
from vested.core.economics import AgainstStatusQuo, Economics, Money, show_money
from vested.core.money import percent
from vested.render.fit import fitted, money_column, text_column
from vested.render.serialize import to_jsonable


def months(value: Decimal | None) -> str:
    return "not within the term" if value is None else f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} months"


def rate(value: Decimal | None) -> str:
    return "none" if value is None else percent(value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def levers_text(levers: tuple[str, ...]) -> str:
    return ", ".join(levers) or "no levers"


# -- economics ---------------------------------------------------------------------------------------

def economics_table(e: Economics, lever_choice: str, case: AgainstStatusQuo | None = None) -> Group:
    """Each party's economics; ``lever_choice`` says how the levers in effect were chosen; ``case``: the
    customer's payback against the status quo."""
    table = Table(title=f"{e.agreement_title} on scenario {e.scenario_id} ({e.currency}) — levers: "
                  f"{levers_text(e.levers)} ({lever_choice})")
    text_column(table, "month", no_wrap=True)
    text_column(table, "levers")
    for column in ("customer pays", "customer own costs", "customer levers", "customer total cost",
                   "supplier revenue", "supplier cost", "supplier investment", "supplier margin"):
        money_column(table, column)
    for p in e.periods:
        table.add_row(p.period, ", ".join(p.levers), *_money_cells(p.money))
    table.add_row(Text("term", style="bold"), "", *_money_cells(e.totals), style="bold")
    summary = Text()
    summary.append(f"Customer NPV {show_money(e.customer_npv)}   Supplier NPV {show_money(e.supplier_npv)}   "
                   f"Joint NPV {show_money(e.joint_npv)}\n", style="bold")
    summary.append(f"NPV at {percent(e.discount_rate)} a year: {e.npv_convention}.\n", style="dim")
    parts: list[Any] = [fitted(table), summary]
    if e.investments:
        parts.append(fitted(investments_table(e)))
        parts.append(Text(f"Payback and IRR: {e.payback_convention}.", style="dim"))
    if case is not None:
        parts.append(Text(business_case_text(case, e)))
    return Group(*parts)


def business_case_text(case: AgainstStatusQuo, e: Economics) -> str:
    """The customer's business case in one sentence, naming the baseline it is against."""
    if case.payback_months is None:
        paid = ("the customer invests nothing" if case.customer_investment == 0
                else f"the customer's investment of {show_money(case.customer_investment)} is not repaid within the term")
    else:
        paid = (f"the customer's investment of {show_money(case.customer_investment)} pays back in "
                f"{months(case.payback_months)} ({months(case.discounted_payback_months)} discounted)")
    return (f"Against the status quo ({case.status_quo}): {paid}; the customer's NPV changes by "
            f"{show_money(case.customer_npv_gain)} {e.currency}.")


def _money_cells(m: Money) -> list[str]:
    return [show_money(m.customer_pays), show_money(m.customer_own_costs), show_money(m.customer_running_costs + m.customer_investment),
            show_money(m.customer_total_cost), show_money(m.supplier_revenue), show_money(m.supplier_cost),
            show_money(m.supplier_investment), show_money(m.supplier_margin)]


def investments_table(e: Economics) -> Table:
    table = Table(title="Investments: their return to the party that pays")
    for column in ("lever", "paid by", "amount", "month", "incremental NPV", "IRR (month)", "IRR (year)", "payback",
                   "discounted payback"):
        if column in ("lever", "paid by", "month", "payback", "discounted payback"):
            text_column(table, column, justify="right" if "payback" in column else "left")
        else:
            money_column(table, column)
    for i in e.investments:
        table.add_row(i.label, i.paid_by, show_money(i.amount), i.period, show_money(i.incremental_npv), rate(i.irr_monthly),
                      rate(i.irr_annual), months(i.payback_months), months(i.discounted_payback_months))
    return table


def economics_json(e: Economics, lever_choice: str, case: AgainstStatusQuo | None = None) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(e)
    data["lever_choice"] = lever_choice
    data["against_status_quo"] = to_jsonable(case) if case is not None else None
    return data


# -- compare -----------------------------------------------------------------------------------------

def compare_table(c: Comparison) -> Group:
    table = Table(title=f"Scenario {c.scenario_id} ({c.currency}): each agreement against the status quo "
                  f"({c.status_quo_note}); NPV")
    for column in ("agreement", "levers", "customer NPV", "supplier NPV", "customer saves", "supplier gains",
                   "value created", "split (customer/supplier)", "verdict"):
        if column in ("agreement", "levers", "verdict"):
            text_column(table, column)
        else:
            money_column(table, column)
    sq = c.status_quo
    table.add_row(f"status quo: {sq.agreement_title}", levers_text(sq.levers), show_money(sq.customer_npv),
                  show_money(sq.supplier_npv), "", "", "", "", "")
    for p in c.positions:
        o = p.outcome
        table.add_row(o.agreement_title, f"{levers_text(o.levers)}\n({p.lever_choice})", show_money(o.customer_npv),
                      show_money(o.supplier_npv), show_money(p.customer_change), show_money(p.supplier_change),
                      show_money(p.value_created), _split(p), Text(p.verdict, style="bold"))
    notes = Text()
    for p in c.positions:
        split = ("" if p.customer_share is None else
                 f" The value created ({show_money(p.value_created)}) splits {_split(p)} (customer/supplier).")
        notes.append(f"{p.outcome.agreement_title}: {p.verdict} — {p.reason}.{split}\n")
    notes.append(f"Verdicts read {c.verdict_order}. NPV: {c.npv_convention}.", style="dim")
    return Group(fitted(table), notes)


def _split(p: Position) -> str:
    if p.customer_share is None or p.supplier_share is None:
        return "no value created"
    return f"{percent(p.customer_share.quantize(Decimal('0.001')))} / {percent(p.supplier_share.quantize(Decimal('0.001')))}"


def compare_json(c: Comparison) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(c)
    return data


# -- align -------------------------------------------------------------------------------------------

def align_table(a: Alignment) -> Group:
    table = Table(title=f"Agreement {a.agreement_id} on scenario {a.scenario_id} ({a.currency}): which levers pay? (NPV)")
    for column in ("", "levers", "customer NPV", "supplier NPV", "joint NPV"):
        if column in ("", "levers"):
            text_column(table, column)
        else:
            money_column(table, column)
    for name, choice in (("no levers", a.no_levers), ("supplier's best", a.supplier_best), ("joint best", a.joint_best)):
        table.add_row(name, *_choice_cells(choice))
    effects = Table(title="Each lever, toggled on the supplier's choice (NPV with it − without it)")
    for column in ("lever", "chosen by supplier", "in joint best", "customer", "supplier"):
        if column in ("customer", "supplier"):
            money_column(effects, column)
        else:
            text_column(effects, column)
    for e in a.lever_effects:
        effects.add_row(e.label, "yes" if e.chosen else "no", "yes" if e.in_joint_best else "no",
                        show_money(e.customer_change), show_money(e.supplier_change))
    text = Text()
    text.append(("MISALIGNED" if a.misaligned else "ALIGNED") + f": {a.reason}.\n", style="bold")
    text.append(f"For the customer the supplier's choice means {show_money(a.customer_change)} against no levers; "
                f"for the supplier {show_money(a.supplier_change)}.\n")
    text.append(f"Search: {a.method} — {a.method_note}; {a.combinations:,} of {a.total_combinations:,} combinations "
                f"evaluated, {a.engine_calls:,} periods priced by the exact engine.", style="dim")
    return Group(fitted(table), fitted(effects), text)


def _choice_cells(choice: Choice) -> list[str]:
    return [levers_text(choice.levers), show_money(choice.customer_npv), show_money(choice.supplier_npv), show_money(choice.joint_npv)]


def align_json(a: Alignment) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(a)
    return data

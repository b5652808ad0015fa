"""Every result as spreadsheet tables (:class:`~vested.render.tables.Sheet`), for ``--csv`` and ``--xlsx``.

    statement_sheets(views)        lines (each with a signed amount), net (live sums of the lines)
    scorecard_sheets(agreement, cards) / metric_sheets(agreement, rows)
    economics_sheets(e) / compare_sheets(c) / align_sheets(a) / simulate_sheets(s) / tune_sheets(r)

The values are the result's own (exact Decimals, shares as fractions), not the text the terminal
shows. A statement's net is a formula over its lines: each line has a *signed amount* (``=F2``, or
``=-F2`` when the line flows against the net), and each net row is the SUMIFS of the signed amounts
of its month and its pair of parties — rounded with ROUND when the agreement rounds only the net
half up to a power of ten; under another per-statement rounding the net is written as a value
(a spreadsheet has no function for it) and ``rounding`` says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from vested.core.alignment import Alignment
from vested.core.compare import Comparison
from vested.core.economics import Economics, Money
from vested.core.model import Agreement
from vested.core.scorecard import Scorecard
from vested.render.statement import StatementView
from vested.render.tables import Cell, ColumnSum, Format, SameRow, Sheet, month_date
from vested.simulate.summary import Simulation, Summary
from vested.simulate.tune import TuneResult

HUNDRED = Decimal(100)


def places_of(step: Decimal) -> int:
    """The decimal places an amount shows under a rounding step (at least two)."""
    exponent = step.normalize().as_tuple().exponent
    return max(2, -exponent if isinstance(exponent, int) else 0)


def _month(period: str | None) -> Cell:
    try:
        return month_date(period) if period else None
    except ValueError:
        return period


# -- statements ---------------------------------------------------------------------------------------

LINE_COLUMNS = ("period", "term", "label", "payer", "payee", "amount", "net between", "signed amount", "formula",
                "calculation", "notes")
NET_COLUMNS = ("period", "payer", "payee", "net between", "owed", "currency", "rounding")


def statement_sheets(views: Sequence[StatementView]) -> list[Sheet]:
    """The statements' lines, and the net each party owes each month as live sums of the lines."""
    if not views:
        return []
    lines: list[tuple[Cell, ...]] = []
    nets: list[tuple[Cell, ...]] = []
    for view in views:
        s = view.statement
        direction = {frozenset((n.payer, n.payee)): (n.payer, n.payee) for n in s.net}
        for line in s.lines:
            payer, payee = direction.get(frozenset((line.payer, line.payee)), (line.payer, line.payee))
            between = f"{view.name(payer)} → {view.name(payee)}"
            negate = line.payer != payer
            lines.append((_month(s.period), line.term_id, line.label, view.name(line.payer), view.name(line.payee), line.amount,
                          between, SameRow("amount", negate, -line.amount if negate else line.amount), line.formula,
                          line.calculation, "; ".join(line.notes)))
        for n in s.net:
            between = f"{view.name(n.payer)} → {view.name(n.payee)}"
            nets.append((_month(s.period), view.name(n.payer), view.name(n.payee), between, _net_cell(view, n.amount),
                         s.currency, s.rounding))
    first = views[0]
    money: dict[str, Format] = {"amount": "money", "signed amount": "money", "period": "month"}
    places = max(places_of(v.step) for v in views)
    return [Sheet("lines", LINE_COLUMNS, tuple(lines), money, first.statement.currency, places, f"{first.title} — statement lines"),
            Sheet("net", NET_COLUMNS, tuple(nets), {"owed": "money", "period": "month"}, first.statement.currency, places,
                  f"{first.title} — net owed (live sums of the lines' signed amounts)")]


def _net_cell(view: StatementView, owed: Decimal) -> Cell:
    where = (("period", "period"), ("net between", "net between"))
    if not view.per_statement:
        return ColumnSum("lines", "signed amount", where, owed)
    exponent = view.step.normalize().as_tuple().exponent
    if view.mode == "half_up" and view.step == Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0):
        return ColumnSum("lines", "signed amount", where, owed, -exponent if isinstance(exponent, int) else 0)
    return owed  # a rounding a spreadsheet cannot write (half even, a step of 0.05): the value, as the statement says


# -- running ------------------------------------------------------------------------------------------

def metric_sheets(agreement: Agreement, rows: Mapping[str, Mapping[str, Decimal]]) -> list[Sheet]:
    """Each metric's value per month, one row per metric and month (a metric without a value left out): the
    columns ``metric,period,value`` that ``vested measure --csv`` has always written."""
    found = tuple((metric.id, _month(month), values[metric.id])
                  for metric in agreement.metrics for month, values in rows.items() if metric.id in values)
    return [Sheet("metrics", ("metric", "period", "value"), found, {"period": "month", "value": "number"},
                  agreement.policy.currency, title=f"{agreement.title} — metrics")]


def scorecard_sheets(agreement: Agreement, cards: Sequence[Scorecard]) -> list[Sheet]:
    """Each outcome's row of each scorecard; attainment and weight as shares (1 = 100%)."""
    rows: list[tuple[Cell, ...]] = []
    for card in cards:
        for r in card.rows:
            rows.append((_month(card.period), r.outcome_id, r.parent or "", r.metric, r.direction, r.value, r.baseline, r.target,
                         r.attainment / HUNDRED if r.attainment is not None else None, r.status, r.weight or None,
                         card.overall / HUNDRED if card.overall is not None else None))
    formats: dict[str, Format] = {"period": "month", "value": "number", "baseline": "number", "target": "number",
                                  "attainment": "percent", "weight": "percent", "overall score": "percent"}
    return [Sheet("scorecard", ("period", "outcome", "part of", "metric", "direction", "value", "baseline", "target",
                                "attainment", "status", "weight", "overall score"), tuple(rows), formats,
                  agreement.policy.currency, title=f"{agreement.title} — scorecard")]


# -- the deal -----------------------------------------------------------------------------------------

MONEY_COLUMNS = ("customer pays", "customer own costs", "customer levers", "customer total cost", "supplier revenue",
                 "supplier cost", "supplier investment", "supplier margin")


def _money_cells(m: Money) -> tuple[Cell, ...]:
    return (m.customer_pays, m.customer_own_costs, m.customer_running_costs + m.customer_investment, m.customer_total_cost,
            m.supplier_revenue, m.supplier_cost, m.supplier_investment, m.supplier_margin)


def economics_sheets(e: Economics) -> list[Sheet]:
    money: dict[str, Format] = dict.fromkeys(MONEY_COLUMNS, "money")
    periods = tuple((_month(p.period), ", ".join(p.levers), *_money_cells(p.money)) for p in e.periods)
    totals = (("term", ", ".join(e.levers), *_money_cells(e.totals), e.customer_npv, e.supplier_npv, e.joint_npv),)
    npv: dict[str, Format] = {"customer NPV": "money", "supplier NPV": "money", "joint NPV": "money"}
    sheets = [Sheet("per month", ("month", "levers", *MONEY_COLUMNS), periods, {"month": "month", **money}, e.currency,
                    title=f"{e.agreement_title} on {e.scenario_id} — per month"),
              Sheet("term", ("over", "levers", *MONEY_COLUMNS, "customer NPV", "supplier NPV", "joint NPV"), totals,
                    {**money, **npv}, e.currency, title=f"{e.agreement_title} on {e.scenario_id} — over the term")]
    if e.investments:
        rows = tuple((i.label, i.paid_by, i.amount, _month(i.period), i.incremental_npv, i.irr_monthly, i.irr_annual,
                      i.payback_months, i.discounted_payback_months) for i in e.investments)
        sheets.append(Sheet("investments", ("lever", "paid by", "amount", "month", "incremental NPV", "IRR (month)",
                                            "IRR (year)", "payback (months)", "discounted payback (months)"), rows,
                            {"amount": "money", "month": "month", "incremental NPV": "money", "IRR (month)": "percent",
                             "IRR (year)": "percent", "payback (months)": "number", "discounted payback (months)": "number"},
                            e.currency))
    return sheets


def compare_sheets(c: Comparison) -> list[Sheet]:
    sq = c.status_quo
    rows: list[tuple[Cell, ...]] = [("status quo", sq.agreement_title, ", ".join(sq.levers), c.status_quo_note,
                                     sq.customer_npv, sq.supplier_npv, None, None, None, None, None, "")]
    for label, p in zip(("A", "B"), c.positions, strict=False):
        o = p.outcome
        rows.append((label, o.agreement_title, ", ".join(o.levers), p.lever_choice, o.customer_npv, o.supplier_npv,
                     p.customer_change, p.supplier_change, p.value_created, p.customer_share, p.supplier_share, p.verdict))
    formats: dict[str, Format] = {**dict.fromkeys(("customer NPV", "supplier NPV", "customer saves", "supplier gains",
                                                   "value created"), "money"),
                                  "customer share": "percent", "supplier share": "percent"}
    return [Sheet("compare", ("role", "agreement", "levers", "levers chosen", "customer NPV", "supplier NPV", "customer saves",
                              "supplier gains", "value created", "customer share", "supplier share", "verdict"),
                  tuple(rows), formats, c.currency, title=f"Scenario {c.scenario_id}: each agreement against the status quo")]


def align_sheets(a: Alignment) -> list[Sheet]:
    money: dict[str, Format] = {"customer NPV": "money", "supplier NPV": "money", "joint NPV": "money"}
    choices = tuple((name, ", ".join(ch.levers), ch.customer_npv, ch.supplier_npv, ch.customer_npv + ch.supplier_npv)
                    for name, ch in (("no levers", a.no_levers), ("supplier's best", a.supplier_best),
                                     ("joint best", a.joint_best)))
    effects = tuple((e.lever, e.label, e.chosen, e.in_joint_best, e.customer_change, e.supplier_change)
                    for e in a.lever_effects)
    return [Sheet("choices", ("choice", "levers", "customer NPV", "supplier NPV", "joint NPV"), choices, money, a.currency),
            Sheet("lever effects", ("lever", "label", "chosen by supplier", "in joint best", "customer", "supplier"), effects,
                  {"chosen by supplier": "flag", "in joint best": "flag", "customer": "money", "supplier": "money"},
                  a.currency)]


SUMMARY = ("mean", "P5", "P50", "P95", "expected shortfall")


def _summary(s: Summary) -> tuple[Cell, ...]:
    return (s.mean, s.p5, s.p50, s.p95, s.expected_shortfall)


def simulate_sheets(s: Simulation) -> list[Sheet]:
    rows: list[tuple[Cell, ...]] = []
    for risk in (s.customer, s.supplier):
        rows.append((risk.role, risk.party, "NPV", *_summary(risk.result), None))
        rows.append((risk.role, risk.party, "status quo NPV", *_summary(risk.status_quo), None))
        rows.append((risk.role, risk.party, "gain", *_summary(risk.gain), risk.p_beats))
    rows.append(("both", "", "value created (both gains)", *_summary(s.joint_gain), s.p_both))
    formats: dict[str, Format] = {**dict.fromkeys(SUMMARY, "money"), "P(beats the status quo)": "percent"}
    sheets = [Sheet("risk", ("party", "id", "figure", *SUMMARY, "P(beats the status quo)"), tuple(rows), formats, s.currency,
                    title=f"{s.agreement_title} on {s.scenario_id}: {s.runs} runs, seed {s.seed}")]
    if s.limits:
        limits = tuple((lim.agreement_id, lim.status_quo, lim.limit, lim.run_months, lim.share) for lim in s.limits)
        sheets.append(Sheet("limits", ("agreement", "status quo", "limit", "run-months", "share"), limits,
                            {"status quo": "flag", "run-months": "integer", "share": "percent"}, s.currency))
    return sheets


def tune_sheets(r: TuneResult) -> list[Sheet]:
    titles = tuple(p.title for p in r.parameters)
    on_frontier = set(map(id, r.frontier))
    rows: list[tuple[Cell, ...]] = []
    for name, c in (("as written", r.as_written), *(("", c) for c in r.candidates)):
        share = c.customer_gain / c.joint_gain if c.valid and c.joint_gain > 0 else None
        rows.append((name or ("best" if c is r.best else ""), *c.settings, c.valid, c.reason, ", ".join(c.levers),
                     c.expected_joint if c.valid else None, c.customer_gain if c.valid else None,
                     c.supplier_gain if c.valid else None, share, 1 - share if share is not None else None,
                     c.p_customer if c.valid else None, c.p_supplier if c.valid else None, c.p_both if c.valid else None,
                     c.feasible, id(c) in on_frontier))
    formats: dict[str, Format] = {"valid": "flag", "feasible": "flag", "on the frontier": "flag",
                                  **dict.fromkeys(("expected joint NPV", "customer gain", "supplier gain"), "money"),
                                  **dict.fromkeys(("customer share", "supplier share", "P(customer)", "P(supplier)",
                                                   "P(both)"), "percent")}
    return [Sheet("candidates", ("row", *titles, "valid", "skipped because", "levers", "expected joint NPV", "customer gain",
                                 "supplier gain", "customer share", "supplier share", "P(customer)", "P(supplier)",
                                 "P(both)", "feasible", "on the frontier"), tuple(rows), formats, r.currency,
                  title=f"Tuning {r.agreement_id} on {r.scenario_id}")]

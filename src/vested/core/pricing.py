"""The pricing engine: evaluate every term of an agreement for one period's facts.

    price_period(agreement, facts) -> Priced(statement | None, state, diagnostics)

Terms are priced in dependency order (a service credit reads the fee it is a share of). Each
pricer returns charges; the engine converts currencies, resolves payer and payee, normalises the
direction, rounds by the agreement's policy, and nets the result into a :class:`Statement`. If any
term cannot be priced the result has no statement, only the diagnostics: a statement is whole or
it does not exist.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from vested.core.adjustments import adjust
from vested.core.derived import Derived, derive_period, formula_names
from vested.core.diagnostics import Diagnostic, UserError, error
from vested.core.facts import Facts
from vested.core.model import Agreement
from vested.core.money import ZERO, show
from vested.core.statement import Statement, StatementLine, net_amounts
from vested.core.terms import PRICERS, Term, type_name
from vested.core.terms.base import Charge, PricingContext, exact


@dataclass(frozen=True)
class Priced:
    """The result of pricing one period."""

    statement: Statement | None
    state: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    diagnostics: tuple[Diagnostic, ...] = ()


def term_order(terms: Sequence[Term]) -> tuple[list[Term], list[list[str]]]:
    """Terms in an order where every term comes after the terms it reads; and any cycles found."""
    by_id = {t.id: t for t in terms}
    deps = {t.id: [r.id for r in t.references() if r.kind == "term" and r.id in by_id]
            + [name for name in formula_names(t) if name in by_id and name != t.id] for t in terms}
    ordered: list[Term] = []
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(term_id: str, trail: list[str]) -> None:
        if state.get(term_id) == "done":
            return
        if state.get(term_id) == "active":
            cycles.append([*trail[trail.index(term_id):], term_id])
            return
        state[term_id] = "active"
        for dep in deps[term_id]:
            visit(dep, [*trail, term_id])
        state[term_id] = "done"
        ordered.append(by_id[term_id])

    for t in terms:
        visit(t.id, [])
    return ordered, cycles


def parties_of(agreement: Agreement, term: Term) -> tuple[str, str]:
    """The term's payer and payee: as written, or the parties with its default roles."""
    payer_role, payee_role = term.default_direction()
    payer = term.payer or _party_id(agreement, payer_role, term, "payer")
    payee = term.payee or _party_id(agreement, payee_role, term, "payee")
    return payer, payee


def _party_id(agreement: Agreement, role: str, term: Term, field_name: str) -> str:
    party = agreement.party_with_role(role)
    if party is None:
        raise UserError("party", f"term {term.id!r} needs a {field_name}: there is not exactly one {role}",
                        f"write `{field_name}:` on the term", ("pricing",), "agreement")
    return party.id


def conversion_rate(agreement: Agreement, term: Term, facts: Facts, path: tuple[str | int, ...]) -> Decimal | None:
    """The rate that turns the term's currency into the agreement's; None when they are the same."""
    if term.currency is None or term.currency == agreement.policy.currency:
        return None
    for conversion in agreement.policy.conversions:
        if conversion.from_currency == term.currency:
            if isinstance(conversion.rate, Decimal):
                return conversion.rate
            value = facts.values.get(conversion.rate)
            if not isinstance(value, Decimal):
                raise UserError("missing-fact", f"no exchange rate {conversion.rate!r} in this period's facts",
                                f"add `{conversion.rate}: ...` under `values:`", ("values", conversion.rate))
            return value
    raise UserError("currency", f"term {term.id!r} is in {term.currency} and there is no conversion to {agreement.policy.currency}",
                    "add it under policy.conversions", (*path, "currency"), "agreement")


MAX_AMOUNT = Decimal(10) ** 18
"""Amounts from this size on are refused: no real agreement prices them, and a statement must stay exact."""
PRECISION = 60
"""Significant digits of the pricing arithmetic (Python's default of 28 could round a large sum)."""


def price_period(agreement: Agreement, facts: Facts, state: Mapping[str, Mapping[str, Any]] | None = None) -> Priced:
    """Price every term of ``agreement`` for ``facts``; carried state comes from ``state`` or the facts."""
    with decimal.localcontext() as ctx:
        ctx.prec = PRECISION
        return _price_period(agreement, facts, state)


def _price_period(agreement: Agreement, facts: Facts, state: Mapping[str, Mapping[str, Any]] | None) -> Priced:
    carried = dict(facts.state)
    carried.update(state or {})
    ordered, cycles = term_order(agreement.pricing)
    if cycles:
        return Priced(None, {}, tuple(error("cycle", f"terms refer to each other in a cycle: {' → '.join(c)}",
                                           "break the cycle", ("pricing",)) for c in cycles))
    index_of = {t.id: i for i, t in enumerate(agreement.pricing)}
    policy = agreement.policy
    rounding = policy.rounding
    per_line = rounding.apply == "per_line"
    outcome_metrics = {o.id: o.metric for o in agreement.outcomes}
    outcome_directions = {o.id: o.direction for o in agreement.outcomes}
    metric_kinds = {m.id: m.kind for m in agreement.metrics}
    round_line = line_rounding(agreement) if per_line else exact
    try:
        derived: Derived = derive_period(agreement, facts.values)
    except UserError as problem:
        return Priced(None, {}, (problem.diagnostic,))
    priced: dict[str, Decimal] = {}
    lines_by_term: dict[str, list[StatementLine]] = {}
    figures: dict[str, Mapping[str, Any]] = {}
    new_state: dict[str, Mapping[str, Any]] = {}
    problems: list[Diagnostic] = []
    for term in ordered:
        path = ("pricing", index_of[term.id])
        ctx = PricingContext(
            values=derived.values, metric_kinds=metric_kinds, outcome_metrics=outcome_metrics,
            outcome_directions=outcome_directions, priced=priced, state=carried.get(term.id, {}),
            tier_boundaries=policy.tier_boundaries, path=path, as_of=facts.as_of, period=facts.period,
            term_id=term.id,
            # A term in another currency is rounded after conversion, at a rate known only below:
            # its pricer sees exact amounts (and carries them).
            round_line=round_line if term.currency in (None, policy.currency) else exact,
            scope=derived.scope,
        )
        try:
            result = PRICERS[type(term)](term, ctx)
            payer, payee = parties_of(agreement, term)
            rate = conversion_rate(agreement, term, facts, path)
            explained = _explained(result.charges, ctx.explained)
            lines = [_line(term, charge, payer, payee, rate, round_line) for charge in explained]
            lines += _adjusted(term, ctx, lines, payer, payee, round_line)
        except UserError as exc:
            problems.append(exc.diagnostic)
            continue
        if any(line.exact >= MAX_AMOUNT for line in lines):
            problems.append(error("too-large", f"term {term.id!r} comes to an amount of 10^18 or more",
                                  "check the facts and the term's rates for a misplaced digit", path))
            continue
        lines_by_term[term.id] = lines
        priced[term.id] = sum((_signed(line, payer) for line in lines), ZERO)
        figures[term.id] = dict(result.figures)
        if result.state is not None:
            new_state[term.id] = dict(result.state)
    if problems:
        return Priced(None, {}, tuple(problems))
    all_lines = tuple(line for term in agreement.pricing for line in lines_by_term[term.id])
    statement = Statement(
        agreement_id=agreement.id,
        period=facts.period,
        currency=policy.currency,
        lines=all_lines,
        net=net_amounts(all_lines, rounding.mode, rounding.step, per_statement=not per_line),
        rounding=f"{rounding.mode.replace('_', ' ')} to {rounding.step} {'per line' if per_line else 'on the net'}",
        figures=figures,
    )
    return Priced(statement, new_state, ())


def line_rounding(agreement: Agreement) -> Callable[[Decimal], Decimal]:
    """What a per-line statement does to a charge: rounds its size by the policy, keeps its direction.

    A negative charge becomes a line the other way, rounded as a positive amount, so modes that
    are not symmetric (ceiling, floor) round the amount paid, whichever party pays it.
    """
    rounding = agreement.policy.rounding

    def round_line(amount: Decimal) -> Decimal:
        return -rounding.round(-amount) if amount < 0 else rounding.round(amount)

    return round_line


def _explained(charges: Sequence[Charge], explained: Sequence[str]) -> list[Charge]:
    """The charges with how each formula they read was computed ("where ... = ...") added to their calculation."""
    if not explained:
        return list(charges)
    where = "; where " + "; ".join(explained)
    return [replace(charge, calculation=charge.calculation + where) for charge in charges]


def _adjusted(term: Term, ctx: PricingContext, lines: list[StatementLine], payer: str, payee: str,
              round_line: Callable[[Decimal], Decimal]) -> list[StatementLine]:
    """The term's adjustments, each a line of its own, applied to the amount its lines pay."""
    if not term.adjustments:
        return []
    amount = sum((_signed(line, payer) for line in lines), ZERO)

    def value_of(i: int, adjustment: Any) -> tuple[Fraction, str]:
        before = len(ctx.explained)
        value = ctx.evaluate_exact(adjustment.value, ("adjustments", i, "value"), share=adjustment.kind == "withhold",
                             name=adjustment.label or adjustment.kind)
        return value, "; ".join(ctx.explained[before:])

    steps = adjust(term.adjustments, amount, value_of, round_line)
    return [_line(term, Charge(step.change, step.formula, step.calculation, step.label, notes=step.notes),
                  payer, payee, None, round_line, adjustment=True) for step in steps]


def _signed(line: StatementLine, term_payer: str) -> Decimal:
    return line.amount if line.payer == term_payer else -line.amount


def _line(term: Term, charge: Charge, payer: str, payee: str, rate: Decimal | None,
          round_line: Callable[[Decimal], Decimal], *, adjustment: bool = False) -> StatementLine:
    exact = charge.amount
    calculation = charge.calculation
    notes = list(charge.notes)
    if rate is not None:
        converted = exact * rate
        calculation += f"; in {term.currency}, converted at {show(rate)}: {show(exact)} × {show(rate)} = {show(converted)}"
        exact = converted
    if exact.is_zero():
        exact = abs(exact)  # no "-0.00" lines
    elif exact < 0:
        payer, payee = payee, payer
        exact = -exact
        notes.append("reduces what the term's payer pays" if adjustment
                     else "flows from the term's payee to its payer (the amount came out negative)")
    amount = round_line(exact)
    if amount != exact:
        notes.append(f"rounded from {show(exact)}")
    label = term.title if not charge.label else f"{term.title}: {charge.label}"
    return StatementLine(term.id, type_name(type(term)), label, payer, payee, amount, exact,
                         charge.formula, calculation, charge.inputs, tuple(notes))

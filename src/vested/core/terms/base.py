"""What every pricing term shares: its base fields, the context it is priced in, what it returns.

A term is a frozen record (its parameters, as written in the agreement) plus a *pricer*: a pure
function ``price(term, ctx) -> TermResult``. The engine (``vested.core.pricing``) calls pricers in
dependency order and turns their :class:`Charge` values into statement lines.

Signs: a charge's ``amount`` is positive when the term's payer pays its payee; a negative amount
flows the other way (a gainshare loss, a pain share). The engine normalises the direction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass as plain_dataclass
from dataclasses import field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, ClassVar, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from vested.core.adjustments import Adjustment
from vested.core.diagnostics import Path, UserError, show_path
from vested.core.formula import FormulaError, names_in
from vested.core.formula_eval import Formula, evaluate_exact, to_decimal
from vested.core.formula_types import AmountFormula
from vested.core.money import D, show
from vested.core.records import RECORD
from vested.core.values import Amount, Identifier

FactValue = Decimal | bool | datetime | tuple[Decimal, ...] | str
TermKind = Literal["fee", "activity", "penalty", "upside", "adjustment"]


@dataclass(frozen=True, kw_only=True, config=RECORD)
class TermBase:
    """Fields every pricing term has."""

    id: Identifier = Field(description="Short id of the term, unique in the agreement.")
    label: str = Field(default="", description="How the term reads on a statement (defaults to its id).")
    payer: Identifier | None = Field(
        default=None,
        description="Party that pays when the amount is positive (a party id). Defaults to the customer "
        "for fees and incentives and to the supplier for credits and penalties.",
    )
    payee: Identifier | None = Field(default=None, description="Party that receives (a party id); the default mirrors payer.")
    currency: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{3}$",
        description="Currency of this term's amounts when it differs from policy.currency; needs a policy.conversions entry.",
    )
    clause: str = Field(default="", description="The contract wording this term implements, kept for the record.")
    adjustments: tuple[Adjustment, ...] = Field(
        default=(),
        description="Named changes to the term's amount, applied in order after it is priced: a rate withheld, "
        "a factor, a floor or a ceiling (see docs/formulas.md).",
    )

    DIRECTION: ClassVar[tuple[str, str]] = ("customer", "supplier")
    """Roles of the default payer and payee."""
    KIND: ClassVar[TermKind] = "fee"
    """What the term is, for the lint: fee, activity (paid per transaction), penalty, upside, adjustment."""

    def references(self) -> Iterator[Reference]:
        """The metrics, outcomes and terms this term reads (for reference checks and ordering)."""
        return iter(())

    def default_direction(self) -> tuple[str, str]:
        """Roles of the payer and payee when the agreement does not name them (data may decide)."""
        return self.DIRECTION

    def lint_kind(self) -> TermKind:
        """What the term is, for the lint (a method so that a term's data may decide it)."""
        return self.KIND

    @property
    def title(self) -> str:
        return self.label or self.id.replace("_", " ")


@plain_dataclass(frozen=True)
class Reference:
    """One thing a term refers to by id, and where in the term the reference is written."""

    kind: Literal["metric", "outcome", "term", "party"]
    id: str
    path: Path
    expect: Literal["number", "boolean", "timestamp", "series", "any"] = "number"


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Source:
    """Where an amount comes from: a fixed amount, a metric's value, or another term's amount."""

    amount: Amount | None = None
    """A fixed amount."""
    metric: Identifier | None = None
    """A metric whose value for the period is the amount."""
    term: Identifier | None = None
    """Another pricing term whose amount for the period is used (e.g. the monthly fee)."""
    formula: AmountFormula | None = None
    """A formula computed each period ("baseline_cost_per_order × orders"; see docs/formulas.md)."""

    def refs(self, path: Path) -> Iterator[Reference]:
        if self.metric is not None:
            yield Reference("metric", self.metric, (*path, "metric"))
        if self.term is not None:
            yield Reference("term", self.term, (*path, "term"))

    def describe(self) -> str:
        if self.metric is not None:
            return self.metric
        if self.term is not None:
            return f"amount of {self.term}"
        if self.formula is not None:
            return self.formula.text
        return show(self.amount or Decimal(0))


@plain_dataclass(frozen=True)
class Charge:
    """One amount a term produces, with everything needed to explain it."""

    amount: Decimal
    formula: str
    calculation: str
    label: str = ""
    inputs: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()


@plain_dataclass(frozen=True)
class TermResult:
    """What a pricer returns: its charges, figures it reports, and state to carry forward."""

    charges: tuple[Charge, ...]
    figures: Mapping[str, Any] = field(default_factory=dict)
    state: Mapping[str, Any] | None = None


def exact(amount: Decimal) -> Decimal:
    """The line rounding of a statement that rounds only its net: none."""
    return amount


@plain_dataclass(frozen=True)
class PricingContext:
    """Everything a pricer may read: the period's facts, earlier terms' amounts, its own state.

    ``round_line`` is what the statement does to a charge of this term: a charge of ``x`` puts a
    line of ``round_line(x)`` on the statement (the same sign). A pricer that carries amounts to
    later periods (credits given, fee paid, share assessed) carries what the lines paid, so that
    no cent is lost or paid twice between periods.
    """

    values: Mapping[str, FactValue]
    metric_kinds: Mapping[str, str]
    outcome_metrics: Mapping[str, str]
    outcome_directions: Mapping[str, str]
    priced: Mapping[str, Decimal]
    state: Mapping[str, Any]
    tier_boundaries: str
    path: Path
    as_of: datetime | None = None
    period: str | None = None
    term_id: str = ""
    round_line: Callable[[Decimal], Decimal] = exact
    scope: Any = None
    """What the term's formulas read (a ``vested.core.derived.FormulaScope``); None when the agreement has none."""
    explained: list[str] = field(default_factory=list)
    """How each formula and derived metric the term read was computed, for the statement (filled while pricing)."""

    def _value(self, metric_id: str) -> FactValue:
        if metric_id not in self.values:
            raise UserError(
                "missing-fact",
                f"no value for metric {metric_id!r} in this period's facts",
                f"add `{metric_id}: ...` under `values:` in the facts file",
                ("values", metric_id),
            )
        return self.values[metric_id]

    def number(self, metric_id: str) -> Decimal:
        value = self._value(metric_id)
        self._explain_derived(metric_id)
        if not isinstance(value, Decimal):
            raise UserError("fact-type", f"metric {metric_id!r} must be a number, found {value!r}",
                            "write a number", ("values", metric_id))
        return value

    def flag(self, metric_id: str) -> bool:
        value = self._value(metric_id)
        if not isinstance(value, bool):
            raise UserError("fact-type", f"metric {metric_id!r} must be true or false, found {value!r}",
                            "write true or false", ("values", metric_id))
        return value

    def timestamp(self, metric_id: str) -> datetime:
        value = self._value(metric_id)
        if not isinstance(value, datetime):
            raise UserError("fact-type", f"metric {metric_id!r} must be a timestamp, found {value!r}",
                            "write an ISO 8601 timestamp with its offset, e.g. 2025-06-30T17:00:00Z",
                            ("values", metric_id))
        return value

    def series(self, metric_id: str) -> tuple[Decimal, ...]:
        value = self._value(metric_id)
        if not isinstance(value, tuple):
            raise UserError("fact-type", f"metric {metric_id!r} must be a list of numbers, found {value!r}",
                            "write a list such as [0.2, 0.4]", ("values", metric_id))
        return value

    def has(self, metric_id: str) -> bool:
        return metric_id in self.values

    def outcome_value(self, outcome_id: str) -> Decimal:
        return self.number(self.outcome_metrics[outcome_id])

    def term_amount(self, term_id: str) -> Decimal:
        return self.priced[term_id]

    def resolve(self, source: Source, where: Path = ()) -> Decimal:
        if source.metric is not None:
            return self.number(source.metric)
        if source.term is not None:
            return self.term_amount(source.term)
        if source.formula is not None:
            return self.evaluate(source.formula, where)
        return source.amount if source.amount is not None else Decimal(0)

    def evaluate(self, value: Decimal | Formula, where: Path, *, share: bool = False, name: str = "") -> Decimal:
        """A number written in the term, or the value of its formula this period (explained on the line).

        ``where`` is the path of the value in the term; a formula's errors point inside its text.
        """
        if isinstance(value, Decimal):
            return value
        return to_decimal(self.evaluate_exact(value, where, share=share, name=name))

    def evaluate_exact(self, value: Decimal | Formula, where: Path, *, share: bool = False, name: str = "") -> Fraction:
        """:meth:`evaluate`, the value kept exact (a third stays a third) for arithmetic that follows."""
        if isinstance(value, Decimal):
            return Fraction(value)
        inside = (*where, "formula")
        try:
            result, how = evaluate_exact(value, self.scope.with_terms(self.priced))
        except FormulaError as problem:
            raise UserError(problem.code, f"{show_path(where)}: {problem.message}", problem.hint, (*self.path, *inside),
                            "agreement", problem.offset) from None
        if isinstance(result, bool):
            raise self.fail("formula-unit", f"{show_path(where)} must be a number, and its formula is a condition",
                            "", inside)
        share = share or value.expect == "share"
        if (value.expect in ("rate", "share") or share) and (result < 0 or (share and result > 1)):
            limit = "between 0% and 100%" if share else "zero or more"
            raise self.fail("formula-value", f"{show_path(where)} comes to {how.rsplit(' = ', 1)[-1]}; it must be {limit}",
                            "check the formula and this period's facts", inside)
        for read in names_in(value.node):
            self._explain_derived(read.name)
        self._note(f"{name or show_path(where)} = {how}")
        return result

    def _note(self, text: str) -> None:
        if text not in self.explained:
            self.explained.append(text)

    def _explain_derived(self, name: str) -> None:
        """Note how a parameter or derived metric was computed, after what it read in turn."""
        explanations = getattr(self.scope, "explanations", None)
        if not explanations or name not in explanations:
            return
        for read in self.scope.reads(name):
            self._explain_derived(read)
        self._note(explanations[name])

    def fail(self, code: str, message: str, hint: str = "", where: Path = ()) -> UserError:
        """An error about this term's evaluation, located at the term in the agreement."""
        return UserError(code, message, hint, (*self.path, *where), document="agreement")

    # -- carried state: written by the previous period, or by hand in a facts file ----------------

    def state_error(self, message: str, hint: str = "", where: Path = ()) -> UserError:
        """An error in this term's carried state, located at ``state.<term>.<where>`` in the facts."""
        place = show_path((self.term_id, *where))
        return UserError("state", f"carried state {place}: {message}",
                         hint or "carry the state as the previous period's statement left it",
                         ("state", self.term_id, *where))

    def state_number(self, value: Any, where: Path) -> Decimal:
        """A number read from carried state (an entry of a list, say), or a located state error."""
        if isinstance(value, int | float | str | Decimal) and not isinstance(value, bool):
            try:
                number = D(value)
            except InvalidOperation:
                number = None
            if number is not None and number.is_finite():
                return number
        raise self.state_error(f"must be a number, found {value!r}", 'write it as text, e.g. "1250.00"', where)

    def stored_number(self, key: str, default: Decimal | None = None) -> Decimal:
        """The number this term carried under ``key``; ``default`` when it carried none (required when None)."""
        if key not in self.state or self.state[key] is None:
            if default is None:
                raise self.state_error("is missing", f"add `{key}:` to the term's state", (key,))
            return default
        return self.state_number(self.state[key], (key,))

    def stored_list(self, key: str, *, of_mappings: bool = False) -> list[Any]:
        """The list this term carried under ``key`` (empty when it carried none), or a located state error."""
        value = self.state.get(key)
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            raise self.state_error(f"must be a list, found {value!r}", "", (key,))
        for i, item in enumerate(value):
            if of_mappings and not isinstance(item, Mapping):
                raise self.state_error(f"must be a mapping, found {item!r}", "", (key, i))
        return list(value)

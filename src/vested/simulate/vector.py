"""Vectorised pricing: one period of an agreement over R runs at once, in float64 (numpy).

    engine = VectorEngine(agreement)          # VectorUnsupported if a term cannot be vectorised
    state = engine.initial_state(runs)        # arrays per stateful term
    result = engine.price(values, state)      # values: metric id -> array (R,)
    result.flows[term_id], result.net         # customer -> supplier, rounded as the exact engine rounds
    result.binds["shared_value.cap"]          # where each cap or clamp binds
    result.state                              # feed to the next period's price()

The risk simulation prices a million scenarios over 60 months; the exact Decimal engine
(:func:`vested.core.pricing.price_period`) takes about a millisecond per scenario-month. This
engine evaluates the same terms with the same formulas, in the same dependency order
(:func:`~vested.core.pricing.term_order`), with the same default payer and payee
(:func:`~vested.core.pricing.parties_of`), the same currency conversion and the same rounding:
with ``apply: per_line`` every line a term produces (a reimbursed cost and its fee, a cap line, an
earn-back line) is rounded on its own, and a term's amount (what a ``{term: id}`` source reads) is
the sum of its rounded lines; with ``per_statement`` only the net is rounded. The term
compilers are in :mod:`vested.simulate.vector_terms` and :mod:`vested.simulate.vector_credits`.

Where floats meet the exact engine (the tolerance argument). A float64 operation errs by at
most half a unit in the 16th significant digit, so a line computed in a few operations from
inputs below 10**8 is within about 10**-8 of its exact value, while the exact amounts of real
inputs (money in cents, levels and rates with a few decimals) lie on a grid of 10**-6 or coarser.
So: rounding treats a value within ``slack`` (10**-8 in the agreement's currency, plus 10**-14
of the value) of a rounding boundary as lying on it -- half-up to the cent is
``floor(x × (1 + 1e-14) × 100 + 0.5 + 1e-6)`` --
and a comparison that switches a formula (a corridor, a tier bound reached by a computed score,
an index band) treats values within ``tolerance`` (10**-7, plus 10**-13 of a known magnitude) as
equal. Tier bounds compared with raw driver values need no tolerance: a bound with at most 15
significant digits and the float nearest to it order the same against any float. Inputs with
many more decimals, or amounts beyond about 10**8, can round a line a cent differently;
``tests/test_vector_engine.py`` checks the agreement on random and boundary inputs.

Terms that read timestamps or series (``late_delivery_penalty``, ``quality_deduction``) and
installment plans (whose payments are facts about each run's history) are refused with
:class:`VectorUnsupported`; the simulation then says it cannot simulate the agreement. Values
that make a term impossible to price in the exact engine (an award score outside 0-100, a volume
no tier covers, a negative credit base) raise :class:`VectorError` with the number of runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from vested.core.bands import Bounds, find_band
from vested.core.diagnostics import UserError
from vested.core.formula_eval import Formula
from vested.core.model import Agreement, Rounding
from vested.core.money import ONE, ZERO, round_amount
from vested.core.pricing import parties_of, term_order
from vested.core.terms import Term, type_name
from vested.core.terms.base import Source

Array = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]
Num = Array | float
"""An amount per run, or one float for every run (a constant folded when the engine was built)."""
TermState = dict[str, Array]
State = dict[str, TermState]

SLACK = 1e-8
"""Rounding: a value this close (in the agreement's currency) to a rounding boundary counts as on it."""
SLACK_RELATIVE = 1e-14
"""Rounding: plus this share of the value (float error grows with the size of the amount)."""
TOLERANCE = 1e-7
"""Comparisons that switch a formula: values this close count as equal."""
TOLERANCE_RELATIVE = 1e-13
"""Comparisons: plus this share of the magnitude compared, when it is known when the engine is built."""


class VectorUnsupported(Exception):
    """A term the vectorised engine cannot price (it needs timestamps, series or a per-run history)."""

    def __init__(self, term_id: str, reason: str) -> None:
        super().__init__(f"term {term_id!r} cannot be simulated: {reason}")
        self.term_id = term_id
        self.reason = reason


class VectorError(ValueError):
    """Values that make a term impossible to price, as the exact engine would report them."""

    def __init__(self, term_id: str, message: str, runs: int | None = None) -> None:
        where = f" (in {runs} run{'s' if runs != 1 else ''})" if runs is not None else ""
        super().__init__(f"term {term_id!r}: {message}{where}")
        self.term_id = term_id
        self.runs = runs


@dataclass(frozen=True)
class VectorResult:
    """One period priced over R runs."""

    flows: Mapping[str, Array]
    """Per term, the signed amount the customer pays the supplier (negative: the supplier pays), rounded
    per line as the agreement says. Arrays of shape (R,); a constant term's is a read-only broadcast."""
    net: Array
    """What the customer pays the supplier in the period, rounded as the exact engine rounds the net."""
    binds: Mapping[str, Flags]
    """Where each cap or clamp binds, by ``term_id.cap_name`` (e.g. ``availability_credits.monthly_cap``)."""
    state: State
    """State to carry into the next period (term id -> name -> array)."""


class Rounder:
    """The agreement's rounding of one amount, sign-symmetric as the exact engine's (it rounds |amount|)."""

    def __init__(self, rounding: Rounding, slack: float = SLACK, relative: float = SLACK_RELATIVE) -> None:
        self.mode = rounding.mode
        self.step = rounding.step
        self.per_line = rounding.apply == "per_line"
        self.slack = slack / float(rounding.step)
        """The slack in steps."""
        inverse = ONE / rounding.step
        # Multiplying by 100 is exact where dividing by 0.01 (not a float) is not.
        self._by = float(inverse) if inverse == inverse.to_integral_value() else 1 / float(rounding.step)
        self._back = float(inverse) if inverse == inverse.to_integral_value() else None
        self._step = float(rounding.step)
        self._up = self._by * (1 + relative)
        self._down = self._by * (1 - relative)

    def exact(self, amount: Decimal) -> Decimal:
        """Round a constant exactly, as the exact engine rounds a line (its magnitude, sign kept)."""
        rounded = round_amount(abs(amount), self.mode, self.step)
        return -rounded if amount < 0 else rounded

    def line(self, x: Array) -> Array:
        """Round one line per run (identity when the agreement rounds only the net)."""
        return self.symmetric(x) if self.per_line else x

    def line_nonneg(self, x: Array, *, inplace: bool = False) -> Array:
        """:meth:`line` for amounts known to be zero or more (fewer passes); ``inplace`` reuses ``x``."""
        if not self.per_line:
            return x
        return self._from_units(self._units(x, x if inplace else None))

    def symmetric(self, x: Array) -> Array:
        """Round the magnitude of ``x`` to the step by the mode, keep the sign."""
        u = np.abs(x)
        self._from_units(self._units(u, u))
        return np.copysign(u, x, out=u)

    def _units(self, x: Array, out: Array | None) -> Array:
        """``|x|`` in steps, rounded by the mode (``x`` is zero or more)."""
        mode, slack = self.mode, self.slack
        if mode in ("half_up", "down", "floor"):
            u = np.multiply(x, self._up, out=out)
            u += 0.5 + slack if mode == "half_up" else slack
            return np.floor(u, out=u)
        if mode in ("half_down", "up", "ceiling"):
            u = np.multiply(x, self._down, out=out)
            u -= 0.5 + slack if mode == "half_down" else slack
            return np.ceil(u, out=u)
        # half_even: a value within slack of a half is a tie, which goes to the even neighbour.
        high = np.floor(x * self._up + (0.5 + slack))
        low = np.floor(np.multiply(x, self._down, out=out) + (0.5 - slack))
        tie_odd = (high != low) & (np.fmod(high, 2) == 1)
        high -= tie_odd
        if out is not None:
            out[...] = high
            return out
        return high

    def _from_units(self, u: Array) -> Array:
        if self._back is not None:
            u /= self._back
        else:
            u *= self._step
        return u


def tolerance(magnitude: Decimal | None = None) -> float:
    """The comparison tolerance around a magnitude known when the engine is built."""
    return TOLERANCE + (TOLERANCE_RELATIVE * float(abs(magnitude)) if magnitude is not None else 0.0)


Step = Callable[[Mapping[str, Array], Mapping[str, Num], Mapping[str, Array]],
                tuple[Num, dict[str, Flags] | None, TermState | None]]
"""A compiled term: (values, amounts of earlier terms, its state) -> (its amount, binds, new state)."""


@dataclass(frozen=True)
class TermCode:
    """What a term compiler returns."""

    step: Step
    metrics: tuple[str, ...] = ()
    initial: Callable[[int], TermState] | None = None
    constant: Decimal | None = None
    """The term's amount when it is the same in every run and period (then ``step`` returns it as a float)."""


class Lines:
    """A term's lines: converted to the agreement's currency, then rounded as one statement line each."""

    def __init__(self, rounder: Rounder, rate: Decimal | str | None) -> None:
        self.rounder = rounder
        self.rate = rate

    @property
    def per_line(self) -> bool:
        return self.rounder.per_line

    def const(self, amount: Decimal) -> Decimal | None:
        """A constant line, converted and rounded exactly; None when the rate is a metric (not constant)."""
        if isinstance(self.rate, str):
            return None
        converted = amount * self.rate if self.rate is not None else amount
        return self.rounder.exact(converted) if self.per_line else converted

    def convert(self, x: Array, values: Mapping[str, Array]) -> Array:
        if self.rate is None:
            return x
        return x * (values[self.rate] if isinstance(self.rate, str) else float(self.rate))

    def __call__(self, x: Array, values: Mapping[str, Array]) -> Array:
        """One line per run, of any sign."""
        return self.rounder.line(self.convert(x, values))

    def nonneg(self, x: Array, values: Mapping[str, Array], *, inplace: bool = False) -> Array:
        """One line per run known to be zero or more (a constant rate of zero or more keeps it so)."""
        if isinstance(self.rate, str) or (self.rate is not None and self.rate < 0):
            return self(x, values)
        if self.rate is not None:
            x = x * float(self.rate)
            inplace = True
        return self.rounder.line_nonneg(x, inplace=inplace)

    def constant(self, amount: Decimal) -> Callable[[Mapping[str, Array]], Num]:
        """A line of a constant amount, as a function of the values (a float unless the rate is a metric)."""
        folded = self.const(amount)
        if folded is not None:
            value = float(folded)
            return lambda values: value
        rate, as_float = str(self.rate), float(amount)
        return lambda values: self.rounder.line(values[rate] * as_float)


@dataclass(frozen=True)
class Setup:
    """What a term compiler reads: the agreement's policy, earlier constant terms, the term's conversion."""

    lines: Lines
    boundaries: str
    outcome_metrics: Mapping[str, str]
    outcome_directions: Mapping[str, str]
    constants: Mapping[str, Decimal]
    formulas: Any = None
    """The agreement's formulas compiled (a ``vector_formula.FormulaCompiler``)."""
    term_id: str = ""

    def value(self, value: Decimal | Formula, *, share: bool = False, rate: bool = False
              ) -> tuple[Callable[[Mapping[str, Array], Mapping[str, Num]], Num], Decimal | None, tuple[str, ...]]:
        """A number or a formula of the term: a getter (values, amounts) -> value, its constant if it has one,
        metrics read. A rate below zero, or a share above 100%, is refused as the exact engine refuses it."""
        if isinstance(value, Decimal):
            as_float = float(value)
            return (lambda values, priced: as_float), value, ()
        code = self.formulas.compile(value)
        if code.constant is not None:
            _refuse_range(self.term_id, code.constant, share=share, rate=rate)
            return code.run, code.constant, ()
        if not (share or rate):
            return code.run, None, code.metrics
        run, term_id = code.run, self.term_id

        def checked(values: Mapping[str, Array], priced: Mapping[str, Num]) -> Num:
            result: Num = run(values, priced)
            bad = (np.asarray(result) < 0) | ((np.asarray(result) > 1) if share else False)
            if np.any(bad):
                raise VectorError(term_id, f"a {'share' if share else 'rate'} formula comes out "
                                  f"{'outside 0%-100%' if share else 'below zero'}", count(np.atleast_1d(bad)))
            return result

        return checked, None, code.metrics

    def source(self, source: Source) -> tuple[Callable[[Mapping[str, Array], Mapping[str, Num]], Num], Decimal | None, tuple[str, ...]]:
        """An amount source: a getter (values, amounts) -> amount, its constant value if it has one, metrics read."""
        if source.metric is not None:
            metric = source.metric
            return (lambda values, priced: values[metric]), None, (metric,)
        if source.term is not None:
            term_id = source.term
            known = self.constants.get(term_id)
            if known is not None:
                value = float(known)
                return (lambda values, priced: value), known, ()
            return (lambda values, priced: priced[term_id]), None, ()
        if source.formula is not None:
            return self.value(source.formula)
        amount = source.amount if source.amount is not None else ZERO
        as_float = float(amount)
        return (lambda values, priced: as_float), amount, ()


class Bands:
    """Which listed band (tier) a value falls in, found by counting the band boundaries at or below it.

    The boundaries cut the line into elementary intervals; each lies wholly inside or outside each
    band (its ends are boundaries), so the first listed band holding an interval's midpoint is the
    band of every value in it -- what :func:`~vested.core.bands.find_band` answers value by value.
    Counting with one comparison per boundary is branch-free; numpy's ``searchsorted`` takes over
    only for long tables (measured: ``searchsorted`` costs 14 ns a value, a comparison 0.07 ns).
    """

    SEARCH_FROM = 32
    """Boundaries from which a binary search beats one comparison per boundary."""

    def __init__(self, table: list[Bounds], boundaries: str, shift: float = 0.0) -> None:
        points = sorted({bound for pair in table for bound in pair if bound is not None})
        self.breaks = np.array([float(p) for p in points], dtype=np.float64)
        inside = [points[0] - 1] if points else [ZERO]
        inside += [(a + b) / 2 for a, b in pairwise(points)]
        inside += [points[-1] + 1] if points else []
        self.band = [find_band(table, point, "lower_inclusive") for point in inside]
        """The band of each elementary interval (None: no band)."""
        self.lower_inclusive = boundaries == "lower_inclusive"
        # A computed value within `shift` of a boundary is taken to be on it: lower_inclusive counts the
        # boundaries b with value >= b - shift, upper_inclusive those with value > b + shift.
        self.cuts = [float(p) - shift if self.lower_inclusive else float(p) + shift for p in points]

    def index(self, values: Array) -> npt.NDArray[np.intp]:
        """The elementary interval of each value (the number of boundaries at or below it)."""
        if not self.cuts:
            return np.zeros(values.shape, dtype=np.intp)
        if len(self.cuts) >= self.SEARCH_FROM:
            return np.searchsorted(np.array(self.cuts), values, side="right" if self.lower_inclusive else "left")
        counted: npt.NDArray[np.uint8] | None = None
        for cut in self.cuts:
            above = (values >= cut if self.lower_inclusive else values > cut).view(np.uint8)
            counted = above if counted is None else np.add(counted, above, out=counted)
        assert counted is not None
        return counted.astype(np.intp)

    def table(self, per_band: list[float], missing: float = 0.0) -> Array:
        """A value per elementary interval from a value per band (look it up with ``.take(index)``)."""
        return np.array([missing if b is None else per_band[b] for b in self.band], dtype=np.float64)

    @property
    def gaps(self) -> Flags:
        """Elementary intervals no band covers."""
        return np.array([b is None for b in self.band], dtype=np.bool_)


def count(flags: Flags) -> int:
    return int(np.count_nonzero(flags))


def _refuse_range(term_id: str, value: Decimal, *, share: bool, rate: bool) -> None:
    if (share or rate) and value < 0:
        raise VectorError(term_id, "a rate formula comes out below zero")
    if share and value > 1:
        raise VectorError(term_id, "a share formula comes out above 100%")


@dataclass(frozen=True)
class _Compiled:
    term_id: str
    sign: float
    code: TermCode


class VectorEngine:
    """An agreement compiled for vectorised pricing (see the module docstring)."""

    def __init__(self, agreement: Agreement, *, slack: float = SLACK) -> None:
        from vested.simulate.vector_formula import FormulaCompiler, with_adjustments
        from vested.simulate.vector_terms import COMPILERS  # the term families import this module

        self.agreement = agreement
        formulas = FormulaCompiler(agreement)
        self._derived = formulas.derived()
        """Derived metrics, in order: (id, code, factor to the facts' scale)."""
        self._rules = [(rule.id, formulas.compile(rule.check)) for rule in agreement.rules]
        ordered, cycles = term_order(agreement.pricing)
        if cycles:
            raise VectorError(cycles[0][0], f"terms refer to each other in a cycle: {' → '.join(cycles[0])}")
        customer, supplier = agreement.party_with_role("customer"), agreement.party_with_role("supplier")
        policy = agreement.policy
        self.rounder = Rounder(policy.rounding, slack)
        constants: dict[str, Decimal] = {}
        compiled: list[_Compiled] = []
        for term in ordered:
            compiler = COMPILERS.get(type(term))
            if compiler is None:
                raise VectorUnsupported(term.id, UNSUPPORTED.get(type_name(type(term)), "no vectorised pricer"))
            sign = _direction(agreement, term, customer.id if customer else None, supplier.id if supplier else None)
            setup = Setup(Lines(self.rounder, _conversion(agreement, term)), policy.tier_boundaries,
                          {o.id: o.metric for o in agreement.outcomes}, {o.id: o.direction for o in agreement.outcomes},
                          constants, FormulaCompiler(agreement, term.id), term.id)
            code = compiler(term, setup)
            if term.adjustments:
                code = with_adjustments(code, term.adjustments, setup, self.rounder)
            rate = setup.lines.rate
            if isinstance(rate, str):
                code = TermCode(code.step, (*code.metrics, rate), code.initial, None)
            if code.constant is not None:
                constants[term.id] = code.constant
            compiled.append(_Compiled(term.id, sign, code))
        self._compiled = compiled
        self._listed = [t.id for t in agreement.pricing]
        derived = {name: code for name, code, _ in self._derived}
        read = [m for c in compiled for m in c.code.metrics] + [m for _, code in self._rules for m in code.metrics]
        self.metrics: tuple[str, ...] = tuple(dict.fromkeys(
            m for name in read for m in (derived[name].metrics if name in derived else (name,))))
        """The metric ids whose values :meth:`price` needs (a derived metric's inputs, not the metric itself)."""
        self._constant_net = float(sum((Decimal(int(c.sign)) * c.code.constant for c in compiled if c.code.constant is not None), ZERO))

    def initial_state(self, runs: int) -> State:
        """The state before the first period (what the exact engine starts from: nothing carried)."""
        return {c.term_id: c.code.initial(runs) for c in self._compiled if c.code.initial is not None}

    def price(self, values: Mapping[str, Any], state: State | None = None, *, runs: int | None = None) -> VectorResult:
        """Price one period for every run: ``values`` maps metric ids to arrays (R,) (a float: the same in every run)."""
        runs = _runs(values, state, runs, self.metrics)
        missing = [m for m in self.metrics if m not in values]
        if missing:
            raise KeyError(f"no values for metric{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}")
        arrays = {m: _array(values[m], runs) for m in self.metrics}
        for name, code, scale in self._derived:
            arrays[name] = _array(code.run(arrays, {}), runs) * scale
        for rule_id, code in self._rules:
            broken = ~np.asarray(code.run(arrays, {}), dtype=bool)
            if np.any(broken):
                raise VectorError(rule_id, "the values break the rule", count(np.broadcast_to(broken, (runs,))))
        state = state if state is not None else self.initial_state(runs)
        priced: dict[str, Num] = {}
        binds: dict[str, Flags] = {}
        new_state: State = {}
        net: Num | None = None
        for c in self._compiled:
            amount, bound, carried = c.code.step(arrays, priced, state.get(c.term_id, {}))
            priced[c.term_id] = amount
            if bound:
                binds.update({f"{c.term_id}.{name}": flags for name, flags in bound.items()})
            if carried is not None:
                new_state[c.term_id] = carried
            if c.code.constant is None:
                if net is None:
                    net = amount + self._constant_net if c.sign > 0 else self._constant_net - amount
                elif c.sign > 0:
                    net += amount
                else:
                    net -= amount
        if not isinstance(net, np.ndarray) or net.shape != (runs,):
            net = np.full(runs, self._constant_net if net is None else net)
        if not self.rounder.per_line:
            net = self.rounder.symmetric(net)
        flows = {c.term_id: _flow(priced[c.term_id], c.sign, runs) for c in self._compiled}
        return VectorResult({t: flows[t] for t in self._listed}, net, binds, new_state)


UNSUPPORTED: Mapping[str, str] = {
    "late_delivery_penalty": "it reads delivery timestamps and the as-of time, which a simulated period does not have",
    "quality_deduction": "it reads series of sensor readings, which a simulated period does not have",
    "installment_plan": "its payments are facts about each run's own history (amount paid, closing), not drivers",
}
"""Why each term type the engine refuses is refused."""


def unsupported_terms(agreement: Agreement) -> list[tuple[str, str]]:
    """(term id, reason) of every term :class:`VectorEngine` refuses, for a message listing them all."""
    from vested.simulate.vector_terms import COMPILERS

    found = [(t.id, UNSUPPORTED.get(type_name(type(t)), "no vectorised pricer")) for t in agreement.pricing
             if type(t) not in COMPILERS]
    customer, supplier = agreement.party_with_role("customer"), agreement.party_with_role("supplier")
    for term in agreement.pricing:
        if type(term) in COMPILERS:
            try:
                _direction(agreement, term, customer.id if customer else None, supplier.id if supplier else None)
            except VectorUnsupported as problem:
                found.append((term.id, problem.reason))
    return found


def _direction(agreement: Agreement, term: Term, customer: str | None, supplier: str | None) -> float:
    """+1 when the term's payer is the customer and its payee the supplier, -1 the other way round."""
    try:
        payer, payee = parties_of(agreement, term)
    except UserError as problem:
        raise VectorUnsupported(term.id, problem.diagnostic.message) from None
    if (payer, payee) == (customer, supplier):
        return 1.0
    if (payer, payee) == (supplier, customer):
        return -1.0
    raise VectorUnsupported(term.id, f"it flows from {payer} to {payee}; the simulation follows the customer and the supplier only")


def _conversion(agreement: Agreement, term: Term) -> Decimal | str | None:
    if term.currency is None or term.currency == agreement.policy.currency:
        return None
    for conversion in agreement.policy.conversions:
        if conversion.from_currency == term.currency:
            return conversion.rate
    raise VectorUnsupported(term.id, f"it is in {term.currency} and there is no conversion to {agreement.policy.currency}")


def _runs(values: Mapping[str, Any], state: State | None, runs: int | None, metrics: tuple[str, ...]) -> int:
    if runs is not None:
        return runs
    for metric in metrics:
        shape = np.shape(values.get(metric, 0.0))
        if shape:
            return int(shape[0])
    for arrays in (state or {}).values():
        for array in arrays.values():
            return int(array.shape[-1])
    raise ValueError("cannot tell the number of runs: pass runs= or at least one array of values")


def _array(value: Any, runs: int) -> Array:
    array = np.asarray(value, dtype=np.float64)
    if array.shape == (runs,):
        return array
    if array.ndim == 0:
        return np.broadcast_to(array, (runs,))
    raise ValueError(f"values must have shape ({runs},), found {array.shape}")


def _flow(amount: Num, sign: float, runs: int) -> Array:
    if isinstance(amount, np.ndarray) and amount.shape == (runs,):
        return amount if sign > 0 else -amount
    return np.broadcast_to(np.float64(amount if sign > 0 else -amount), (runs,))

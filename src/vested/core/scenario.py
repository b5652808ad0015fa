"""A scenario: the world an agreement is tested in before anyone signs it (the records).

A scenario names the operating *drivers* per period (volumes, measured outcome levels, the
customer's lost sales ...), what the outcomes are worth to the customer, the supplier's cost to
serve, the discount rate, and the *levers*: actions the supplier may take (with an investment, a
running cost and effects on the drivers). ``vested.core.economics`` prices agreements on it.

For the risk simulation (``vested.simulate``) a driver may be *uncertain* (a distribution around
its value, drawn once per run or every period), drivers may be *correlated* (a Gaussian copula),
and pricing parameters may be marked *tunable* (``tune:``) for the search of the best terms.
The distributions and correlations are in ``vested.core.uncertainty``, the scenario's value types
(a signed rate, a month, a setting) in ``vested.core.scenario_values``; both are re-exported here.
Validation and checks are in ``vested.core.scenario_checks``. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic.dataclasses import dataclass

from vested.core.formula_types import FormulaText
from vested.core.model import Agreement
from vested.core.money import HUNDRED, ONE
from vested.core.records import RECORD
from vested.core.scenario_values import Month, Setting, SignedRate, setting_value
from vested.core.terms.common import SplitSpec
from vested.core.uncertainty import Correlation, Uncertainty
from vested.core.values import Identifier, NonNegative, Number, Rate, Share, fail, parse_share, period_range

__all__ = [
    "DOCUMENT",
    "SCENARIO_VERSION",
    "Correlation",
    "CustomerCost",
    "CustomerSide",
    "Driver",
    "DriverSpec",
    "Effect",
    "EffectSpec",
    "Lever",
    "Payment",
    "Scenario",
    "ScenarioPeriods",
    "SplitTarget",
    "SupplierSide",
    "TuneParameter",
    "Tuning",
    "Uncertainty",
    "resolve_periods",
    "setting_value",
]

SCENARIO_VERSION = 1
DOCUMENT = "scenario"


@dataclass(frozen=True, kw_only=True, config=RECORD)
class ScenarioPeriods:
    """The months the scenario covers."""

    start: Month
    """First month (2025-01)."""
    months: int = Field(ge=1, le=1200, description="How many months.")

    @property
    def labels(self) -> list[str]:
        return period_range(self.start, self.months)


def _driver_shorthand(value: Any) -> Any:
    return value if isinstance(value, Mapping) else {"value": value}


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Driver:
    """One operating driver: a value per period (a constant, a growing value or a series)."""

    value: Number | None = None
    """The value in the first period (and every period, unless it grows)."""
    growth: SignedRate = Decimal(0)
    """Growth per period, compounding (0.5% = each month 0.5% above the one before)."""
    series: tuple[Number, ...] | None = None
    """One value per period, instead of value and growth (as many as the scenario has months)."""
    description: str = ""
    """What the driver is, in words."""
    uncertain: Uncertainty | None = None
    """For the risk simulation: how the driver varies around its value (a distribution)."""
    formula: FormulaText | None = None
    """A driver computed each period from other drivers, after the levers' effects on them
    ("calls × hours_per_call × hourly_rate"); instead of value or series."""

    def __post_init__(self) -> None:
        if self.formula is not None:
            if self.value is not None or self.series is not None or self.uncertain is not None or self.growth != 0:
                raise fail("driver", "a driver computed by a formula has no value, series, growth or uncertainty of its own",
                           "keep `formula:` only; the drivers it reads carry the values and their uncertainty")
            return
        if self.uncertain is not None and self.series is not None:
            raise fail("driver", "an uncertain driver needs a value (the deterministic case), not a series",
                       "write `value:` (and `growth:` if it grows) next to `uncertain:`")
        if (self.value is None) == (self.series is None):
            raise fail("driver", "give exactly one of value (a number), series (one number per period) or formula",
                       "e.g. `calls: 6000`, `calls: {value: 6000, growth: 0.5%}`, `calls: {series: [...]}` or "
                       "`labour_cost: {formula: \"calls × hours_per_call × hourly_rate\"}`")
        if self.series is not None and self.growth != 0:
            raise fail("driver", "growth applies to a value, not to a series", "leave growth out, or write value:")
        if self.growth <= -ONE:
            raise fail("rate", f"growth of {(self.growth * HUNDRED).normalize():f}% per period would take the driver below zero",
                       "growth must be above -100%")

    def values(self, months: int) -> tuple[Decimal, ...]:
        """The driver's value in each of ``months`` periods (a series must have exactly that many); not for a
        driver computed by a formula (``vested.core.scenario_derived`` computes those)."""
        if self.formula is not None:
            raise ValueError("a driver computed by a formula has no values of its own")
        if self.series is not None:
            return tuple(self.series)
        assert self.value is not None
        factor, result = ONE, []
        for _ in range(months):
            result.append(self.value * factor)
            factor *= ONE + self.growth
        return tuple(result)


DriverSpec = Annotated[Driver, BeforeValidator(_driver_shorthand, json_schema_input_type=Number | Driver)]
"""A driver: a number (the same every period) or a mapping."""


def _effect_shorthand(value: Any) -> Any:
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) and value.strip().endswith("%"):
        return {"relative": value}
    raise fail("effect", f"{value!r} is not an effect",
               "write a relative change as a percentage (-70%) or an absolute one as {add: 1.2}")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Effect:
    """What a lever does to one driver, from the period it starts: relative, absolute, or both."""

    relative: SignedRate | None = None
    """Relative change (-70% = the driver falls to 30% of what it would have been)."""
    add: Number | None = None
    """Absolute change, in the driver's unit (+1.2 points of availability)."""

    def __post_init__(self) -> None:
        if self.relative is None and self.add is None:
            raise fail("effect", "an effect needs relative or add", "e.g. `-70%` or `{add: 1.2}`")
        if self.relative is not None and self.relative < -ONE:
            raise fail("rate", f"a change of {(self.relative * HUNDRED).normalize():f}% would take the driver below zero",
                       "a relative change is -100% at most")

    @property
    def factor(self) -> Decimal:
        return ONE + (self.relative or Decimal(0))

    @property
    def shift(self) -> Decimal:
        return self.add or Decimal(0)


_PERCENT = Annotated[str, WithJsonSchema({"type": "string", "pattern": r"^\s*[+-]?\d+(\.\d+)?\s*%$",
                                          "description": "A relative change, e.g. -70%."})]
EffectSpec = Annotated[Effect, BeforeValidator(_effect_shorthand, json_schema_input_type=_PERCENT | Effect)]
"""An effect: a percentage (relative) or a mapping ({add: 1.2}, {relative: -5%, add: 2})."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Payment:
    """An amount one party pays, or both share (to the outside world, not to each other)."""

    paid_by: Literal["customer", "supplier"] | None = None
    """Which party pays it all: customer or supplier; or co-fund it with `split` or `customer_amount`."""
    amount: NonNegative
    """How much in all (an investment once; a running cost every period)."""
    split: SplitSpec | None = None
    """Co-funded by share: customer/supplier (\"30/70\": the customer pays 30%)."""
    customer_amount: NonNegative | None = None
    """Co-funded by amount: what the customer pays; the supplier pays the rest."""

    def __post_init__(self) -> None:
        given = [k for k in ("paid_by", "split", "customer_amount") if getattr(self, k) is not None]
        if len(given) != 1:
            raise fail("payment", "say who pays with exactly one of paid_by, split or customer_amount"
                       + (f" (found {', '.join(given)})" if given else ""),
                       "e.g. `{paid_by: supplier, amount: 50000}`, `{amount: 300000, split: 50/50}` or "
                       "`{amount: 300000, customer_amount: 100000}`")
        if self.split is not None and self.split.customer + self.split.supplier != ONE:
            raise fail("payment", f"the split {self.split} does not add up to 100%", "e.g. 30/70")
        if self.customer_amount is not None and self.customer_amount > self.amount:
            raise fail("payment", "the customer's part is more than the whole amount", "customer_amount is at most amount")

    def parts(self) -> tuple[tuple[str, Decimal], ...]:
        """(party role, amount) of each party that pays a part (customer first)."""
        if self.paid_by is not None:
            return ((self.paid_by, self.amount),)
        customer = self.amount * self.split.customer if self.split is not None else (self.customer_amount or Decimal(0))
        return tuple((role, part) for role, part in (("customer", customer), ("supplier", self.amount - customer)) if part)

    @property
    def lead(self) -> Literal["customer", "supplier"]:
        """The party that pays the larger part (the supplier on a tie)."""
        if self.paid_by is not None:
            return self.paid_by
        parts = dict(self.parts())
        return "customer" if parts.get("customer", Decimal(0)) > parts.get("supplier", Decimal(0)) else "supplier"

    def part_of(self, role: str) -> Decimal:
        return sum((amount for who, amount in self.parts() if who == role), Decimal(0))

    @property
    def customer_pays(self) -> bool:
        return self.part_of("customer") > 0


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Lever:
    """An action the supplier may take: its cost, who pays it, when it starts and what it changes."""

    id: Identifier
    """Short id of the lever."""
    label: str = ""
    """How the lever reads in reports."""
    description: str = ""
    """What the action is, in words."""
    starts: Month | None = None
    """The month it takes effect (default: the first month); or use `after`."""
    after: int | None = Field(default=None, ge=0, description="Months after the scenario's start that it takes effect (0 = the first).")
    investment: Payment | None = None
    """A one-off investment, paid in the month the lever starts."""
    running_cost: Payment | None = None
    """A cost every period from the start."""
    effects: Mapping[Identifier, EffectSpec] = Field(default_factory=dict,
                                                     description="Its effect on each driver, from the start.")
    needs_consent: bool = False
    """The customer must agree before the supplier pulls it (it spends the customer's money, or changes the
    customer's operations); without `customer_agrees`, the supplier's best response leaves it out."""
    customer_agrees: bool = False
    """The scenario assumes the customer has agreed to a lever that needs its consent."""

    def __post_init__(self) -> None:
        if self.starts is not None and self.after is not None:
            raise fail("lever", "give starts (a month) or after (a number of months), not both", "keep one of them")

    @property
    def title(self) -> str:
        return self.label or self.id.replace("_", " ")

    def start_index(self, start: str) -> int:
        """The index of the period it starts in, for a scenario starting in month ``start``."""
        if self.starts is None:
            return self.after or 0
        return _month_number(self.starts) - _month_number(start)


def _month_number(label: str) -> int:
    return int(label[:4]) * 12 + int(label[5:7]) - 1


@dataclass(frozen=True, kw_only=True, config=RECORD)
class CustomerCost:
    """One of the customer's own costs per period: per unit of a driver, or a fixed amount."""

    label: str
    """What the cost is (e.g. sales lost to store IT incidents)."""
    driver: Identifier | None = None
    """The driver it is proportional to (a driver id)."""
    per_unit: Number = Decimal(1)
    """Cost per unit of the driver (negative for a value the customer gains)."""
    amount: Number | None = None
    """Or a fixed amount every period."""

    def __post_init__(self) -> None:
        if (self.driver is None) == (self.amount is None):
            raise fail("cost", "give a driver (with per_unit) or a fixed amount, not both and not neither",
                       "e.g. `{label: Lost sales, driver: downtime_cost}`")


@dataclass(frozen=True, kw_only=True, config=RECORD)
class CustomerSide:
    """The customer's own costs: the value it places on outcomes."""

    costs: tuple[CustomerCost, ...] = ()
    """Its own costs each period, besides what it pays the supplier."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class SupplierSide:
    """The supplier's cost to serve."""

    fixed_cost: NonNegative = Decimal(0)
    """Cost per period whatever the volumes."""
    unit_costs: Mapping[Identifier, Number] = Field(default_factory=dict,
                                                    description="Cost per unit of a driver (e.g. calls: 18).")


_FIELD_PATH = r"^[A-Za-z_][A-Za-z0-9_]*(\.([0-9]+|[A-Za-z_][A-Za-z0-9_]*))*$"


@dataclass(frozen=True, kw_only=True, config=RECORD)
class TuneParameter:
    """A pricing parameter to search: a field of a term and the range it may take."""

    term: Identifier
    """The term (its id in the agreement's pricing)."""
    field: str = Field(pattern=_FIELD_PATH, description="The field of the term (sharing_rate), or a path into it "
                       "with list positions from 0 (service_levels.0.target).")
    range: tuple[Setting, Setting]
    """The lowest and highest value to try, written as the field is (10% and 50%, or 250000 and 290000)."""
    step: Setting | None = None
    """The distance between values tried (5%); default: a tenth of the range."""
    label: str = ""
    """How the parameter reads in reports (default: term.field)."""

    def __post_init__(self) -> None:
        (low, low_percent), (high, high_percent) = (setting_value(v) for v in self.range)
        step = setting_value(self.step) if self.step is not None else None
        if low_percent != high_percent or (step is not None and step[1] != low_percent):
            raise fail("setting", "write the range and the step the same way: all percentages or all numbers",
                       "e.g. range: [10%, 50%], step: 5%")
        if low >= high:
            raise fail("setting", f"the range {self.range[0]} to {self.range[1]} is empty or backwards",
                       "give the lowest value first")
        if step is not None and step[0] <= 0:
            raise fail("setting", f"the step {self.step} is not above zero", "e.g. step: 5%")

    @property
    def title(self) -> str:
        return self.label or f"{self.term}.{self.field}"

    def grid(self) -> tuple[str, ...]:
        """Every value to try, from low to high by step (high itself when the steps land on it), as written."""
        (low, percent), (high, _) = (setting_value(v) for v in self.range)
        step = setting_value(self.step)[0] if self.step is not None else (high - low) / 10
        count = int((high - low) / step) + 1
        suffix = "%" if percent else ""
        return tuple(f"{(low + i * step).normalize():f}{suffix}" for i in range(count))


def parse_least_share(value: Any) -> Decimal:
    """A least share, written "at least 40%" (or just 40%, or 0.4)."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.lower().startswith("at least"):
        text = text[len("at least"):].strip()
    return parse_share(text)


LeastShare = Annotated[Decimal, BeforeValidator(parse_least_share),
                       WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "maximum": 1},
                                                 {"type": "string", "pattern": r"^\s*(at least\s+)?\d+(\.\d+)?\s*%$"}],
                                       "description": "A least share of the value created: 'at least 40%', '40%' or 0.4."})]


@dataclass(frozen=True, kw_only=True, config=RECORD)
class SplitTarget:
    """How the value the terms create must be split: each party's least share of the joint gain."""

    customer: LeastShare = Decimal(0)
    """The customer's gain against the status quo must be at least this share of the joint gain (at least 40%)."""
    supplier: LeastShare = Decimal(0)
    """The supplier's gain must be at least this share of the joint gain."""

    def __post_init__(self) -> None:
        if self.customer + self.supplier > ONE:
            raise fail("setting", f"the least shares add up to {(self.customer + self.supplier) * HUNDRED:f}%, more than "
                       "the whole value created", "make them add up to 100% or less, e.g. customer: at least 40%, "
                       "supplier: at least 40%")

    def met(self, customer_gain: Decimal, supplier_gain: Decimal) -> bool:
        """Whether gains split so: each party gets at least its share of a positive joint gain."""
        joint = customer_gain + supplier_gain
        if joint <= 0:
            return self.customer == 0 and self.supplier == 0
        return customer_gain >= self.customer * joint and supplier_gain >= self.supplier * joint


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Tuning:
    """Which pricing parameters `vested tune` may change, and what the terms must achieve."""

    parameters: tuple[TuneParameter, ...] = Field(min_length=1, description="The tunable parameters.")
    threshold: Share = Decimal("0.8")
    """Each party's probability of beating the status quo must be at least this (80%)."""
    runs: int = Field(default=2000, ge=1, le=1_000_000, description="Runs simulated for each candidate.")
    budget: int = Field(default=400, ge=1, le=100_000, description="Most candidates evaluated: a grid within it is "
                        "searched whole, a larger one by seeded random search and local refinement.")
    search: Literal["auto", "grid", "random"] = "auto"
    """auto: the whole grid when it fits the budget, else random search and local refinement."""
    split: SplitTarget | None = None
    """How the value created must be split between the parties for a candidate to be feasible (none: any split)."""


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Scenario:
    """A scenario to evaluate agreements on."""

    scenario: Literal[1] = Field(description="Format version of this file (1).")
    id: Identifier
    """Short id of the scenario."""
    title: str = ""
    """Title of the scenario."""
    description: str = ""
    """What the scenario assumes, in words."""
    periods: ScenarioPeriods | None = None
    """The months it covers (default: the agreement's calendar)."""
    discount_rate: Rate
    """Annual discount rate for NPVs (8%); months are discounted at (1 + rate)^(1/12)."""
    drivers: Mapping[Identifier, DriverSpec] = Field(description="Drivers by id: every metric the agreement's "
                                                     "terms read, and any driver a cost refers to.")
    customer: CustomerSide = Field(default_factory=CustomerSide)
    """The customer's own costs."""
    supplier: SupplierSide = Field(default_factory=SupplierSide)
    """The supplier's cost to serve."""
    levers: tuple[Lever, ...] = ()
    """The supplier's possible actions."""
    status_quo: str | None = None
    """The agreement file (relative to this one) that stands for today, for `vested compare`."""
    correlations: tuple[Correlation, ...] = ()
    """Correlations between uncertain drivers, for the risk simulation."""
    tune: Tuning | None = None
    """Tunable pricing parameters, for `vested tune`."""

    def lever(self, lever_id: str) -> Lever | None:
        return next((lever for lever in self.levers if lever.id == lever_id), None)


def resolve_periods(scenario: Scenario, agreement: Agreement) -> ScenarioPeriods | None:
    """The scenario's months, or the agreement's calendar when the scenario does not say."""
    if scenario.periods is not None:
        return scenario.periods
    if agreement.calendar is None:
        return None
    return ScenarioPeriods(start=agreement.calendar.start, months=agreement.calendar.months)

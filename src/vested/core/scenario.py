"""A scenario: the world an agreement is tested in before anyone signs it (the records).

A scenario names the operating *drivers* per period (volumes, measured outcome levels, the
customer's lost sales ...), what the outcomes are worth to the customer, the supplier's cost to
serve, the discount rate, and the *levers*: actions the supplier may take (with an investment, a
running cost and effects on the drivers). ``vested.core.economics`` prices agreements on it.

For the risk simulation (``vested.simulate``) a driver may be *uncertain* (a distribution around
its value, drawn once per run or every period), drivers may be *correlated* (a Gaussian copula),
and pricing parameters may be marked *tunable* (``tune:``) for the search of the best terms.
Validation and checks are in ``vested.core.scenario_checks``. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema
from pydantic.dataclasses import dataclass

from vested.core.model import Agreement
from vested.core.money import HUNDRED, ONE
from vested.core.records import RECORD
from vested.core.values import Identifier, NonNegative, Number, Rate, Share, fail, parse_number, parse_period, period_range

SCENARIO_VERSION = 1
DOCUMENT = "scenario"


def parse_signed_rate(value: Any) -> Decimal:
    """A signed relative change: "-70%", "+5%", "0.5%", or a fraction between -1 and 1 (-0.7)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            number = parse_number(value.strip()[:-1].strip().lstrip("+"))
        except Exception:
            raise fail("rate", f"{value!r} is not a percentage", "write e.g. -25% or +10%") from None
        return number / HUNDRED
    number = parse_number(value)
    if abs(number) > 1:
        raise fail("rate", f"{value} is not a fraction between -1 and 1",
                   f"write {value}% if you mean {value} percent, or {number / HUNDRED} as a fraction")
    return number


def is_month(label: str) -> bool:
    return re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", label) is not None


def parse_month(value: Any) -> str:
    label = parse_period(value)
    if not is_month(label):
        raise fail("period", f"{label!r} is not a month", "scenarios run month by month: write e.g. 2025-01")
    return label


_as_text = PlainSerializer(lambda v: format(v, "f"), return_type=str)
SignedRate = Annotated[Decimal, BeforeValidator(parse_signed_rate), _as_text,
                       WithJsonSchema({"anyOf": [{"type": "number", "minimum": -1, "maximum": 1},
                                                 {"type": "string", "pattern": r"^\s*[+-]?\d+(\.\d+)?\s*%$"}],
                                       "description": "A signed relative change: '-25%', '+10%' or -0.25."})]
Month = Annotated[str, BeforeValidator(parse_month),
                  WithJsonSchema({"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$",
                                  "description": "A month, e.g. 2025-01."})]


@dataclass(frozen=True, kw_only=True, config=RECORD)
class ScenarioPeriods:
    """The months the scenario covers."""

    start: Month
    """First month (2025-01)."""
    months: int = Field(ge=1, le=1200, description="How many months.")

    @property
    def labels(self) -> list[str]:
        return period_range(self.start, self.months)


Distribution = Literal["normal", "lognormal", "triangular", "pert", "uniform", "resample"]

PARAMETERS: dict[str, tuple[str, ...]] = {
    "normal": ("mean", "sd"),
    "lognormal": ("mean", "sd"),
    "triangular": ("low", "mode", "high"),
    "pert": ("low", "mode", "high"),
    "uniform": ("low", "high"),
    "resample": (),
}
"""The parameters each distribution needs (as written in the file)."""
OPTIONAL: dict[str, tuple[str, ...]] = {"pert": ("lambda",), "resample": ("values", "metric", "from", "to")}
"""The parameters each distribution may take besides those it needs."""
_FIELD = {"lambda": "mode_weight", "from": "first", "to": "last"}


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Uncertainty:
    """How an uncertain driver varies in the risk simulation: a distribution and its parameters.

    The draw takes the place of the driver's ``value`` (with ``growth``, each month is the draw
    grown as the value would be); the ``value`` stays the deterministic case that economics,
    compare and align use.
    """

    distribution: Distribution
    """normal (mean, sd), lognormal (mean, sd of the value itself), triangular (low, mode, high),
    pert (low, mode, high, lambda), uniform (low, high), or resample (values, or a metric's measured history)."""
    mean: Number | None = None
    """normal, lognormal: the mean of the value."""
    sd: Number | None = None
    """normal, lognormal: the standard deviation of the value (zero or more)."""
    low: Number | None = None
    """triangular, pert, uniform: the lowest value."""
    mode: Number | None = None
    """triangular, pert: the most likely value."""
    high: Number | None = None
    """triangular, pert, uniform: the highest value."""
    mode_weight: Number | None = Field(default=None, alias="lambda",
                                       description="pert: the weight of the mode (default 4, the classic PERT).")
    values: tuple[Number, ...] | None = None
    """resample: observed values to draw from (each equally likely)."""
    metric: Identifier | None = None
    """resample: draw from this metric's measured monthly history in the project folder instead."""
    first: Month | None = Field(default=None, alias="from", description="resample from history: the first month of history used.")
    last: Month | None = Field(default=None, alias="to", description="resample from history: the last month of history used.")
    vary: Literal["per_run", "per_period"] = "per_run"
    """per_run: one draw per run, for the whole term; per_period: a new draw every month."""
    minimum: Number | None = None
    """Clip draws below this (e.g. 0 for a count); a metric's declared range clips too."""
    maximum: Number | None = None
    """Clip draws above this (e.g. 100 for a percentage)."""

    def __post_init__(self) -> None:
        kind = self.distribution
        given = {key for key, name in (*((k, k) for k in ("mean", "sd", "low", "mode", "high", "values", "metric")),
                                       *_FIELD.items()) if getattr(self, name) is not None}
        needed, allowed = PARAMETERS[kind], PARAMETERS[kind] + OPTIONAL.get(kind, ())
        missing = [key for key in needed if key not in given]
        if missing:
            raise fail("distribution", f"a {kind} distribution needs {_and(needed)}; {_and(missing)} "
                       f"{'is' if len(missing) == 1 else 'are'} missing", f"e.g. {EXAMPLES[kind]}")
        extra = sorted(given - set(allowed))
        if extra:
            raise fail("distribution", f"{_and(extra)} {'is not a parameter' if len(extra) == 1 else 'are not parameters'} "
                       f"of a {kind} distribution", f"a {kind} distribution takes {_and(allowed)}, e.g. {EXAMPLES[kind]}")
        _check_parameters(self)
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise fail("distribution", f"minimum {self.minimum} is above maximum {self.maximum}", "swap them")

    @property
    def support(self) -> tuple[Decimal | None, Decimal | None]:
        """The lowest and highest value a draw can take (None: unbounded), clipping included."""
        low: Decimal | None = None
        high: Decimal | None = None
        if self.distribution in ("triangular", "pert", "uniform"):
            low, high = self.low, self.high
        elif self.distribution == "lognormal":
            low = Decimal(0)
        elif self.distribution == "resample" and self.values:
            low, high = min(self.values), max(self.values)
        if self.minimum is not None:
            low = self.minimum if low is None else max(low, self.minimum)
        if self.maximum is not None:
            high = self.maximum if high is None else min(high, self.maximum)
        return low, high

    def describe(self) -> str:
        """The distribution in words: ``triangular(90000, 120000, 180000), per run``."""
        if self.distribution == "resample":
            source = (f"{len(self.values)} observed values" if self.values is not None
                      else f"the measured history of {self.metric} ({self.first} to {self.last})")
            inner = source
        else:
            names = PARAMETERS[self.distribution] + (("lambda",) if self.distribution == "pert" else ())
            inner = ", ".join(f"{key} {_plain(self.pert_lambda if key == 'lambda' else getattr(self, key))}" for key in names)
        clip = [f"≥ {_plain(self.minimum)}"] if self.minimum is not None else []
        clip += [f"≤ {_plain(self.maximum)}"] if self.maximum is not None else []
        return f"{self.distribution}({inner}), {self.vary.replace('_', ' ')}" + (f", clipped {' and '.join(clip)}" if clip else "")

    @property
    def pert_lambda(self) -> Decimal:
        return self.mode_weight if self.mode_weight is not None else Decimal(4)


EXAMPLES = {
    "normal": "{distribution: normal, mean: 97.8, sd: 0.4}",
    "lognormal": "{distribution: lognormal, mean: 240000, sd: 60000}",
    "triangular": "{distribution: triangular, low: 5000, mode: 6000, high: 8000}",
    "pert": "{distribution: pert, low: 5000, mode: 6000, high: 8000}",
    "uniform": "{distribution: uniform, low: 3.0, high: 3.4}",
    "resample": "{distribution: resample, values: [5800, 6100, 5950]}",
}


def _and(items: tuple[str, ...] | list[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def _check_parameters(u: Uncertainty) -> None:
    """The parameters' own rules: a spread is not negative, low ≤ mode ≤ high, and so on."""
    kind = u.distribution
    if kind in ("normal", "lognormal"):
        assert u.mean is not None and u.sd is not None
        if u.sd < 0:
            raise fail("distribution", f"the sd of a {kind} distribution is {_plain(u.sd)}, below zero",
                       "a standard deviation is zero or more")
        if kind == "lognormal" and u.mean <= 0:
            raise fail("distribution", f"the mean of a lognormal distribution is {_plain(u.mean)}; a lognormal value is "
                       "always above zero", "give a mean above zero, or use a normal distribution")
    elif kind in ("triangular", "pert", "uniform"):
        assert u.low is not None and u.high is not None
        if u.low >= u.high:
            raise fail("distribution", f"low {_plain(u.low)} is not below high {_plain(u.high)}",
                       "give a range with low < high (a driver that does not vary needs no `uncertain:`)")
        if u.mode is not None and not u.low <= u.mode <= u.high:
            raise fail("distribution", f"the mode {_plain(u.mode)} is outside low {_plain(u.low)} to high {_plain(u.high)}",
                       "the mode (most likely value) lies between low and high")
        if u.mode_weight is not None and u.mode_weight <= 0:
            raise fail("distribution", f"lambda is {_plain(u.mode_weight)}; the weight of the mode must be above zero",
                       "leave lambda out for the classic PERT (4)")
    else:  # resample
        if (u.values is None) == (u.metric is None):
            raise fail("distribution", "a resample distribution draws from values or from a metric's history: give one "
                       "of them", f"e.g. {EXAMPLES['resample']} or {{distribution: resample, metric: calls, "
                       "from: 2024-01, to: 2024-12}")
        if u.values is not None and (len(u.values) == 0 or u.first is not None or u.last is not None):
            raise fail("distribution", "resampling from values needs at least one value (and no from/to months)",
                       f"e.g. {EXAMPLES['resample']}")
        if u.metric is not None:
            if u.first is None or u.last is None:
                raise fail("distribution", f"resampling the history of {u.metric} needs the months: from and to",
                           "e.g. {distribution: resample, metric: calls, from: 2024-01, to: 2024-12}")
            if u.first > u.last:
                raise fail("distribution", f"the history runs from {u.first} to {u.last}, which is backwards", "swap them")


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

    def __post_init__(self) -> None:
        if self.uncertain is not None and self.series is not None:
            raise fail("driver", "an uncertain driver needs a value (the deterministic case), not a series",
                       "write `value:` (and `growth:` if it grows) next to `uncertain:`")
        if (self.value is None) == (self.series is None):
            raise fail("driver", "give exactly one of value (a number) or series (one number per period)",
                       "e.g. `calls: 6000`, `calls: {value: 6000, growth: 0.5%}` or `calls: {series: [...]}`")
        if self.series is not None and self.growth != 0:
            raise fail("driver", "growth applies to a value, not to a series", "leave growth out, or write value:")
        if self.growth <= -ONE:
            raise fail("rate", f"growth of {(self.growth * HUNDRED).normalize():f}% per period would take the driver below zero",
                       "growth must be above -100%")

    def values(self, months: int) -> tuple[Decimal, ...]:
        """The driver's value in each of ``months`` periods (a series must have exactly that many)."""
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
    """An amount one party pays (to the outside world, not to the other party)."""

    paid_by: Literal["customer", "supplier"]
    """Which party pays: customer or supplier."""
    amount: NonNegative
    """How much (an investment once; a running cost every period)."""


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


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Correlation:
    """A correlation between two uncertain drivers (Spearman-like, through a Gaussian copula)."""

    between: tuple[Identifier, Identifier]
    """The two drivers (both uncertain, both varying per run or both per period)."""
    rho: Number = Field(description="The correlation of their normal scores, from -1 to 1 (0.6).")

    def __post_init__(self) -> None:
        if not -1 <= self.rho <= 1:
            raise fail("correlation", f"rho {_plain(self.rho)} is outside -1 to 1", "a correlation lies between -1 and 1")


def parse_setting(value: Any) -> str:
    """A tunable setting as written: a percentage ("25%") or a number (270000), kept as text."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            number = parse_number(value.strip()[:-1].strip())
        except Exception:
            raise fail("setting", f"{value!r} is not a percentage", "write e.g. 25% or a number") from None
        return f"{number.normalize():f}%"
    return f"{parse_number(value).normalize():f}"


def setting_value(text: str) -> tuple[Decimal, bool]:
    """(the number, written as a percentage?) of a setting: "25%" -> (25, True)."""
    return (Decimal(text[:-1]), True) if text.endswith("%") else (Decimal(text), False)


Setting = Annotated[str, BeforeValidator(parse_setting),
                    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*[+-]?[\d.,]+\s*%?$"}],
                                    "description": "A value of a tunable parameter: a number or a percentage."})]
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
    if agreement.calendar is None or not is_month(agreement.calendar.start):
        return None
    return ScenarioPeriods(start=agreement.calendar.start, months=agreement.calendar.months)

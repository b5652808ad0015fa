"""How a scenario's drivers vary in the risk simulation: distributions and correlations (the records).

A driver of a scenario (``vested.core.scenario``) may be *uncertain*: an :class:`Uncertainty` names
a distribution and its parameters, checked here as the record is built (a spread is not negative,
low ≤ mode ≤ high, ...). Uncertain drivers may be *correlated* (a :class:`Correlation`, applied
through a Gaussian copula). ``vested.simulate.sampling`` draws them. Pure: no I/O.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from vested.core.records import RECORD
from vested.core.scenario_values import Month
from vested.core.values import Identifier, Number, fail

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


@dataclass(frozen=True, kw_only=True, config=RECORD)
class Correlation:
    """A correlation between two uncertain drivers (Spearman-like, through a Gaussian copula)."""

    between: tuple[Identifier, Identifier]
    """The two drivers (both uncertain, both varying per run or both per period)."""
    rho: Number = Field(description="The correlation of their normal scores, from -1 to 1 (0.6).")

    def __post_init__(self) -> None:
        if not -1 <= self.rho <= 1:
            raise fail("correlation", f"rho {_plain(self.rho)} is outside -1 to 1", "a correlation lies between -1 and 1")

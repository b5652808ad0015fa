"""Draw a scenario's drivers for the risk simulation: each driver's value per run and month, before levers.

    sampler = Sampler(scenario, months, observed={driver: values})
    draws = sampler.draw(runs, rng)          # one chunk of runs
    draws.base(name, t) -> ndarray (runs,)   # the driver's value in month t, before the levers' effects

* A driver without ``uncertain:`` keeps its deterministic path (its value grown month by month, or
  its series), the same in every run.
* An uncertain driver is drawn once per run (``vary: per_run``) or every month (``per_period``); the
  draw takes the place of the driver's ``value``, so with ``growth`` month *t* is the draw times
  (1 + growth)^t. Draws are clipped to the distribution's ``minimum``/``maximum``.
* Independent drivers are drawn with numpy's generators: ``normal``, ``lognormal`` (μ, σ from the
  mean m and sd s of the value: σ² = ln(1 + s²/m²), μ = ln m − σ²/2), ``triangular``, PERT as
  low + (high − low)·Beta(α, β) with α = 1 + λ(mode − low)/(high − low), β = 1 + λ(high − mode)/(high − low),
  ``uniform``, and resampling as equally likely picks among the observed values.
* Correlated drivers go through a Gaussian copula: standard normal scores with the correlation
  matrix C (Z = E·Aᵀ, A = V·√Λ from the eigen decomposition C = V·Λ·Vᵀ, which also serves a
  semi-definite C), then each score becomes the driver's value. A normal or lognormal driver takes
  its score directly (mean + sd·z, exp(μ + σ·z): exact). The others go through u = Φ(z) and their
  inverse CDF: uniform and triangular analytically, resample as the empirical quantile
  (the value at position ⌊u·n⌋ of the sorted observations), PERT through the Beta inverse CDF
  tabulated on :data:`BETA_GRID` points (midpoint rule on the density, normalised to 1, then
  interpolated), within 1e-5 of its range. Φ uses the Chebyshev approximation of erfc from
  *Numerical Recipes* (fractional error below 1.2e-7 everywhere), since numpy has no erf and scipy
  is not a dependency.

Reproducible: the same generator state gives the same draws (drivers are drawn in a fixed order:
the copula groups, per run then per period, then the other drivers in the scenario's order).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from vested.core.money import ONE
from vested.core.scenario import Scenario, Uncertainty
from vested.core.scenario_checks import correlation_matrix

Array = NDArray[np.float64]
BETA_GRID = 100_001
"""Points of the tabulated Beta CDF used for a correlated PERT driver."""


def normal_cdf(z: Array) -> Array:
    """Φ(z) = erfc(−z/√2)/2, with erfc by the Chebyshev fit of Numerical Recipes (relative error < 1.2e-7)."""
    x = -np.asarray(z, dtype=np.float64) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.5 * np.abs(x))
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (
        0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    erfc = t * np.exp(-x * x + poly)
    result: Array = 0.5 * np.where(x >= 0, erfc, 2.0 - erfc)
    return result


def lognormal_parameters(mean: float, sd: float) -> tuple[float, float]:
    """(μ, σ) of the underlying normal, from the mean and sd of the lognormal value itself."""
    sigma2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


def pert_shape(low: float, mode: float, high: float, weight: float) -> tuple[float, float]:
    """(α, β) of the Beta distribution behind a PERT(low, mode, high) with mode weight λ."""
    span = high - low
    return 1 + weight * (mode - low) / span, 1 + weight * (high - mode) / span


def beta_ppf(u: Array, alpha: float, beta: float) -> Array:
    """The Beta(α, β) inverse CDF for α, β ≥ 1 (a PERT's), from a tabulated CDF (see the module docstring)."""
    x = np.linspace(0.0, 1.0, BETA_GRID)
    middle = (x[1:] + x[:-1]) / 2  # the density at the midpoints: finite for α, β ≥ 1, no 0·log 0 at the ends
    density = np.exp((alpha - 1) * np.log(middle) + (beta - 1) * np.log1p(-middle))
    cdf = np.concatenate(([0.0], np.cumsum(density)))
    cdf /= cdf[-1]
    result: Array = np.interp(u, cdf, x)
    return result


def triangular_ppf(u: Array, low: float, mode: float, high: float) -> Array:
    """The triangular inverse CDF, analytically."""
    span = high - low
    split = (mode - low) / span
    left = low + np.sqrt(u * span * (mode - low))
    right = high - np.sqrt((1 - u) * span * (high - mode))
    result: Array = np.where(u < split, left, right)
    return result


@dataclass(frozen=True)
class Marginal:
    """One uncertain driver's distribution, as floats."""

    name: str
    spec: Uncertainty
    observed: Array | None = None
    """The values a resample draws from, sorted."""

    def _f(self, value: Decimal | None) -> float:
        assert value is not None
        return float(value)

    def sample(self, rng: np.random.Generator, size: tuple[int, ...]) -> Array:
        """Independent draws."""
        s, kind = self.spec, self.spec.distribution
        if kind == "normal":
            return rng.normal(self._f(s.mean), self._f(s.sd), size)
        if kind == "lognormal":
            mu, sigma = lognormal_parameters(self._f(s.mean), self._f(s.sd))
            return rng.lognormal(mu, sigma, size)
        if kind == "triangular":
            return rng.triangular(self._f(s.low), self._f(s.mode), self._f(s.high), size)
        if kind == "pert":
            low, high = self._f(s.low), self._f(s.high)
            alpha, beta = pert_shape(low, self._f(s.mode), high, float(s.pert_lambda))
            return low + (high - low) * rng.beta(alpha, beta, size)
        if kind == "uniform":
            return rng.uniform(self._f(s.low), self._f(s.high), size)
        assert self.observed is not None
        picked: Array = self.observed[rng.integers(0, len(self.observed), size)]
        return picked

    def from_score(self, z: Array) -> Array:
        """The value for standard normal scores ``z`` (the copula's marginal transform)."""
        s, kind = self.spec, self.spec.distribution
        if kind == "normal":
            return self._f(s.mean) + self._f(s.sd) * z
        if kind == "lognormal":
            mu, sigma = lognormal_parameters(self._f(s.mean), self._f(s.sd))
            result: Array = np.exp(mu + sigma * z)
            return result
        u = normal_cdf(z)
        if kind == "uniform":
            return self._f(s.low) + (self._f(s.high) - self._f(s.low)) * u
        if kind == "triangular":
            return triangular_ppf(u, self._f(s.low), self._f(s.mode), self._f(s.high))
        if kind == "pert":
            low, high = self._f(s.low), self._f(s.high)
            alpha, beta = pert_shape(low, self._f(s.mode), high, float(s.pert_lambda))
            return low + (high - low) * beta_ppf(u, alpha, beta)
        assert self.observed is not None
        n = len(self.observed)
        index = np.minimum((u * n).astype(np.int64), n - 1)
        picked: Array = self.observed[index]
        return picked

    def clip(self, values: Array) -> Array:
        s = self.spec
        if s.minimum is None and s.maximum is None:
            return values
        clipped: Array = np.clip(values, None if s.minimum is None else float(s.minimum),
                                 None if s.maximum is None else float(s.maximum))
        return clipped


@dataclass(frozen=True)
class Draws:
    """One chunk of runs: every driver's value per run and month, before levers."""

    runs: int
    levels: Mapping[str, Array]
    """Uncertain drivers: the draws, shape (runs, 1) when drawn per run, (runs, months) per period."""
    paths: Mapping[str, Array]
    """Every driver, shape (months,): an uncertain driver's growth factor (1 without growth), or a
    deterministic driver's value."""

    def base(self, name: str, t: int) -> Array:
        """The driver's value in month ``t`` in every run (before the levers' effects)."""
        level = self.levels.get(name)
        if level is None:
            return np.full(self.runs, self.paths[name][t])
        column = level[:, t if level.shape[1] > 1 else 0]
        factor = self.paths[name][t]
        result: Array = column if factor == 1.0 else column * factor
        return result


class Sampler:
    """The scenario's drivers as distributions over ``months`` months; ``draw`` gives a chunk of runs.

    ``observed`` gives the values of drivers resampled from a metric's history (read by the service
    from the project folder); a resample with ``values:`` needs none.
    """

    def __init__(self, scenario: Scenario, months: int, observed: Mapping[str, Sequence[Decimal]] | None = None):
        self.scenario, self.months = scenario, months
        observed = observed or {}
        self.marginals: dict[str, Marginal] = {}
        self.paths: dict[str, Array] = {}
        for name, driver in scenario.drivers.items():
            spec = driver.uncertain
            if driver.formula is not None:
                continue  # computed from the drivers it reads, month by month (``run.Plan.drivers``)
            if spec is None:
                self.paths[name] = np.array([float(v) for v in driver.values(months)], dtype=np.float64)
                continue
            values: Sequence[Decimal] | None = spec.values if spec.values is not None else observed.get(name)
            if spec.distribution == "resample" and not values:
                raise ValueError(f"driver {name!r} resamples the history of {spec.metric}, and no observed values were given")
            sample = np.sort(np.array([float(v) for v in values], dtype=np.float64)) if values else None
            self.marginals[name] = Marginal(name, spec, sample)
            factor, factors = ONE, []
            for _ in range(months):
                factors.append(float(factor))
                factor *= ONE + driver.growth
            self.paths[name] = np.array(factors, dtype=np.float64)
        self.groups: list[tuple[str, list[str], Array]] = []
        for vary in ("per_run", "per_period"):
            names, matrix = correlation_matrix(scenario, vary)
            if names:
                self.groups.append((vary, names, _square_root(np.array(matrix, dtype=np.float64))))

    def draw_bytes(self, runs: int) -> int:
        """The memory the draws of ``runs`` runs take (float64 values, per run or per run and month)."""
        return sum(runs * (1 if m.spec.vary == "per_run" else self.months) * 8 for m in self.marginals.values())

    def draw(self, runs: int, rng: np.random.Generator) -> Draws:
        levels: dict[str, Array] = {}
        for vary, names, root in self.groups:
            shape = (runs, 1) if vary == "per_run" else (runs, self.months)
            scores = rng.standard_normal((*shape, len(names))) @ root.T
            for k, name in enumerate(names):
                marginal = self.marginals[name]
                levels[name] = marginal.clip(marginal.from_score(scores[..., k]))
        for name, marginal in self.marginals.items():
            if name not in levels:
                shape = (runs, 1) if marginal.spec.vary == "per_run" else (runs, self.months)
                levels[name] = marginal.clip(marginal.sample(rng, shape))
        return Draws(runs, levels, self.paths)


def _square_root(matrix: Array) -> Array:
    """A with A·Aᵀ = matrix, for a symmetric positive semi-definite matrix (eigenvalues below zero by
    rounding are taken as zero)."""
    eigenvalues, vectors = np.linalg.eigh(matrix)
    root: Array = vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
    return root

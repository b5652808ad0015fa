"""Uncertain drivers: the distributions, the Gaussian copula, and every problem reported where it is written.

Expected values are the distributions' textbook formulas (means, CDFs, the Spearman correlation of a
Gaussian copula), computed here; sampled statistics must match them within a few standard errors.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from vested.adapters.scenario_load import LoadedScenario, load_scenario_text
from vested.core.diagnostics import Diagnostic
from vested.core.scenario import Correlation, Scenario, TuneParameter, Tuning, Uncertainty
from vested.render.diagnostics import format_diagnostics
from vested.simulate.sampling import Sampler, beta_ppf, lognormal_parameters, normal_cdf, triangular_ppf

HEAD = """\
scenario: 1
id: s
discount_rate: 8%
periods: {start: 2025-01, months: 3}
"""


def load(text: str) -> LoadedScenario:
    return load_scenario_text(textwrap.dedent(text), "scenario.yaml")


def scenario(text: str) -> Scenario:
    loaded = load(text)
    assert loaded.scenario is not None and loaded.ok, format_diagnostics(loaded.diagnostics)
    return loaded.scenario


def only_error(text: str) -> Diagnostic:
    errors = [d for d in load(text).diagnostics if d.is_error]
    assert len(errors) == 1, format_diagnostics(load(text).diagnostics)
    return errors[0]


def at(text: str, token: str, line: int) -> tuple[int, int]:
    """Line and column (from 1) of ``token`` on line ``line`` of ``text``."""
    return line, text.splitlines()[line - 1].index(token) + 1


def where(d: Diagnostic) -> tuple[int, int]:
    assert d.location is not None
    return d.location.line, d.location.column


def draws(text: str, runs: int = 200_000, seed: int = 7, months: int = 3) -> dict[str, np.ndarray]:
    """Each driver's values over runs × months."""
    sampler = Sampler(scenario(HEAD + text), months)
    drawn = sampler.draw(runs, np.random.default_rng(seed))
    return {name: np.stack([drawn.base(name, t) for t in range(months)], axis=1) for name in sampler.paths}


def close(sample: np.ndarray, expected: float, sd: float, sigmas: float = 4.0) -> bool:
    """The sample mean lies within ``sigmas`` standard errors of ``expected``."""
    return abs(float(np.mean(sample)) - expected) <= sigmas * sd / math.sqrt(len(sample))


# -- the numerics ---------------------------------------------------------------------------------------

def test_the_normal_cdf_is_within_its_stated_relative_error_everywhere() -> None:
    z = np.linspace(-8, 8, 20_001)
    exact = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in z])
    assert float(np.max(np.abs(normal_cdf(z) / exact - 1))) < 1.2e-7


def test_the_beta_inverse_cdf_matches_closed_forms() -> None:
    u = np.linspace(0, 1, 2001)
    assert np.allclose(beta_ppf(u, 1.0, 1.0), u, atol=1e-9)  # Beta(1, 1) is uniform
    assert np.allclose(beta_ppf(u, 2.0, 1.0), np.sqrt(u), atol=1e-6)  # CDF x², so x = √u
    assert np.allclose(beta_ppf(u, 1.0, 3.0), 1 - (1 - u) ** (1 / 3), atol=1e-6)  # CDF 1 − (1 − x)³
    # Beta(2, 2): CDF 3x² − 2x³; the median is ½ by symmetry
    x = beta_ppf(np.array([0.1, 0.5, 0.9]), 2.0, 2.0)
    assert np.allclose(3 * x**2 - 2 * x**3, [0.1, 0.5, 0.9], atol=1e-6)


def test_the_triangular_inverse_cdf_inverts_the_cdf() -> None:
    low, mode, high = 2.0, 3.0, 7.0
    x = np.linspace(low, high, 501)
    cdf = np.where(x < mode, (x - low) ** 2 / ((high - low) * (mode - low)),
                   1 - (high - x) ** 2 / ((high - low) * (high - mode)))
    assert np.allclose(triangular_ppf(cdf, low, mode, high), x, atol=1e-9)


def test_a_lognormal_is_given_by_the_mean_and_sd_of_the_value() -> None:
    mu, sigma = lognormal_parameters(240_000, 60_000)
    assert math.exp(mu + sigma**2 / 2) == pytest.approx(240_000, rel=1e-12)
    assert math.sqrt((math.exp(sigma**2) - 1) * math.exp(2 * mu + sigma**2)) == pytest.approx(60_000, rel=1e-12)


# -- the distributions, sampled ---------------------------------------------------------------------------

MARGINALS = """\
drivers:
  a: {value: 10, uncertain: {distribution: normal, mean: 10, sd: 2}}
  b: {value: 240000, uncertain: {distribution: lognormal, mean: 240000, sd: 60000}}
  c: {value: 6000, uncertain: {distribution: triangular, low: 5400, mode: 6000, high: 7200}}
  d: {value: 900, uncertain: {distribution: pert, low: 750, mode: 900, high: 1150}}
  e: {value: 3.1, uncertain: {distribution: uniform, low: 2.9, high: 3.3}}
  f: {value: 3, uncertain: {distribution: resample, values: [1, 2, 3, 6]}}
"""
# the means and standard deviations of each marginal, from the textbook formulas
TRIANGULAR_MEAN = (5400 + 6000 + 7200) / 3
TRIANGULAR_SD = math.sqrt((5400**2 + 6000**2 + 7200**2 - 5400 * 6000 - 5400 * 7200 - 6000 * 7200) / 18)
PERT_MEAN = (750 + 4 * 900 + 1150) / 6
PERT_SD = math.sqrt((PERT_MEAN - 750) * (1150 - PERT_MEAN) / 7)  # α, β of the classic PERT: var = (μ−a)(b−μ)/(λ+3)
EXPECTED = {"a": (10, 2), "b": (240_000, 60_000), "c": (TRIANGULAR_MEAN, TRIANGULAR_SD), "d": (PERT_MEAN, PERT_SD),
            "e": (3.1, 0.4 / math.sqrt(12)), "f": (3.0, math.sqrt((4 + 1 + 0 + 9) / 4))}


@pytest.mark.parametrize("correlated", [False, True], ids=["independent", "through-the-copula"])
def test_each_distribution_has_its_mean_and_spread(correlated: bool) -> None:
    text = MARGINALS
    if correlated:  # every driver through the copula (its inverse CDF), none left to numpy's own generators
        text += "correlations:\n" + "".join(f"  - {{between: [{x}, {y}], rho: 0.3}}\n" for x, y in
                                            ["ab", "bc", "cd", "de", "ef"])
    drawn = draws(text)
    for name, (mean, sd) in EXPECTED.items():
        column = drawn[name][:, 0]
        assert close(column, mean, sd), (name, float(np.mean(column)), mean)
        assert float(np.std(column)) == pytest.approx(sd, rel=0.02), name
    assert set(np.unique(drawn["f"])) == {1.0, 2.0, 3.0, 6.0}
    assert float(drawn["c"].min()) >= 5400 and float(drawn["c"].max()) <= 7200
    assert float(drawn["d"].min()) >= 750 and float(drawn["d"].max()) <= 1150


def test_a_gaussian_copula_gives_the_rank_correlation_it_implies() -> None:
    drawn = draws(MARGINALS + "correlations:\n  - {between: [c, d], rho: 0.6}\n  - {between: [a, e], rho: -0.8}\n")
    # For a Gaussian copula the Spearman correlation is (6/π)·asin(ρ/2), whatever the marginals.
    for (x, y), rho in ((("c", "d"), 0.6), (("a", "e"), -0.8)):
        ranks = [np.argsort(np.argsort(drawn[n][:, 0])) for n in (x, y)]
        spearman = float(np.corrcoef(*ranks)[0, 1])
        assert spearman == pytest.approx(6 / math.pi * math.asin(rho / 2), abs=0.01)
    independent = float(np.corrcoef(drawn["b"][:, 0], drawn["c"][:, 0])[0, 1])
    assert abs(independent) < 0.01


def test_per_run_draws_once_and_per_period_every_month_and_growth_scales_the_draw() -> None:
    drawn = draws("""\
drivers:
  level: {value: 100, growth: 10%, uncertain: {distribution: uniform, low: 50, high: 150}}
  noise: {value: 100, uncertain: {distribution: uniform, low: 50, high: 150, vary: per_period}}
  fixed: {value: 100, growth: 10%}
""", runs=1000)
    level, noise, fixed = drawn["level"], drawn["noise"], drawn["fixed"]
    assert np.allclose(level[:, 1], level[:, 0] * 1.1) and np.allclose(level[:, 2], level[:, 0] * 1.21)
    assert not np.allclose(noise[:, 1], noise[:, 0])
    assert np.array_equal(fixed[0], [100.0, 110.0, 121.0]) and np.all(fixed == fixed[0])


def test_draws_are_clipped_to_the_minimum_and_maximum() -> None:
    drawn = draws("drivers:\n  up: {value: 99.8, uncertain: {distribution: normal, mean: 99.8, sd: 0.5, maximum: 100}}\n")
    up = drawn["up"][:, 0]
    assert float(up.max()) == 100.0
    # P(normal above 100) = 1 − Φ(0.4) of the runs sit exactly at the maximum
    share = float(np.mean(up == 100.0))
    expected = 0.5 * math.erfc(0.4 / math.sqrt(2))
    assert abs(share - expected) < 4 * math.sqrt(expected * (1 - expected) / len(up))


def test_the_same_seed_draws_the_same_values_and_another_seed_others() -> None:
    text = MARGINALS + "correlations:\n  - {between: [c, d], rho: 0.6}\n"
    first, again, other = draws(text, 1000, seed=3), draws(text, 1000, seed=3), draws(text, 1000, seed=4)
    assert all(np.array_equal(first[n], again[n]) for n in first)
    assert not np.array_equal(first["c"], other["c"])


def test_resampling_a_measured_history_needs_the_observations() -> None:
    s = scenario(HEAD + "drivers:\n  calls: {value: 6000, uncertain: {distribution: resample, metric: calls, "
                        "from: 2024-01, to: 2024-12}}\n")
    with pytest.raises(ValueError, match="no observed values"):
        Sampler(s, 3)
    drawn = Sampler(s, 3, {"calls": [5800, 6100]}).draw(100, np.random.default_rng(1))
    assert set(np.unique(drawn.base("calls", 0))) == {5800.0, 6100.0}


# -- problems, located -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("spec", "token", "words"), [
    ("{distribution: normal, mean: 10, sd: -2}", "{distribution", "below zero"),
    ("{distribution: normal, mean: 10}", "{distribution", "sd is missing"),
    ("{distribution: normal, mean: 10, sd: 2, low: 1}", "{distribution", "low is not a parameter of a normal"),
    ("{distribution: lognormal, mean: 0, sd: 2}", "{distribution", "always above zero"),
    ("{distribution: triangular, low: 5, mode: 9, high: 8}", "{distribution", "mode 9 is outside low 5 to high 8"),
    ("{distribution: pert, low: 9, mode: 9, high: 8}", "{distribution", "low 9 is not below high 8"),
    ("{distribution: pert, low: 1, mode: 2, high: 3, lambda: 0}", "{distribution", "lambda is 0"),
    ("{distribution: uniform, low: 3, high: 3}", "{distribution", "not below high"),
    ("{distribution: resample}", "{distribution", "give one of them"),
    ("{distribution: resample, values: []}", "{distribution", "at least one value"),
    ("{distribution: resample, metric: jobs}", "{distribution", "needs the months"),
    ("{distribution: gamma, mean: 1}", "gamma", "gamma"),
])
def test_invalid_distributions_are_refused_where_they_are_written(spec: str, token: str, words: str) -> None:
    text = HEAD + f"drivers:\n  jobs: {{value: 10, uncertain: {spec}}}\n"
    d = only_error(text)
    assert where(d) == at(text, token, 6)
    assert words in d.message, d.message


def test_a_typo_in_an_uncertain_key_gets_a_suggestion() -> None:
    text = HEAD + "drivers:\n  jobs: {value: 10, uncertain: {distrbution: normal, mean: 1, sd: 1}}\n"
    d = only_error(text)
    assert d.code == "unknown-key" and where(d) == at(text, "distrbution", 6) and "'distribution'" in d.hint


def test_an_uncertain_series_is_refused() -> None:
    text = HEAD + "drivers:\n  jobs: {series: [1, 2, 3], uncertain: {distribution: normal, mean: 2, sd: 1}}\n"
    assert "needs a value" in only_error(text).message


def test_a_value_outside_what_its_distribution_draws_is_a_warning() -> None:
    text = HEAD + "drivers:\n  jobs: {value: 20, uncertain: {distribution: uniform, low: 5, high: 15}}\n"
    (d,) = load(text).diagnostics
    assert not d.is_error and d.code == "uncertain-value" and where(d) == at(text, "20", 6)
    assert "5 to 15" in d.message


UNCERTAIN = HEAD + """\
drivers:
  a: {value: 1, uncertain: {distribution: normal, mean: 1, sd: 1}}
  b: {value: 1, uncertain: {distribution: normal, mean: 1, sd: 1}}
  c: {value: 1, uncertain: {distribution: normal, mean: 1, sd: 1}}
  n: {value: 1, uncertain: {distribution: normal, mean: 1, sd: 1, vary: per_period}}
  fixed: 1
correlations:
"""


@pytest.mark.parametrize(("lines", "token", "code", "words"), [
    (["{between: [a, bb], rho: 0.5}"], "bb", "unknown-driver", "did you mean 'b'?"),
    (["{between: [a, fixed], rho: 0.5}"], "fixed", "not-uncertain", "'fixed', which is not uncertain"),
    (["{between: [a, a], rho: 0.5}"], "[a, a]", "correlation", "to itself"),
    (["{between: [a, n], rho: 0.5}"], "[a, n]", "correlation", "drawn per period"),
    (["{between: [a, b], rho: 0.5}", "{between: [b, a], rho: 0.4}"], "[b, a]", "duplicate-correlation", "not be symmetric"),
    (["{between: [a, b], rho: 1.5}"], "{between", "invalid-value", "outside -1 to 1"),
])
def test_invalid_correlations_are_refused_where_they_are_written(lines: list[str], token: str, code: str, words: str) -> None:
    text = UNCERTAIN + "".join(f"  - {line}\n" for line in lines)
    d = only_error(text)
    assert d.code == code and words in d.message + d.hint, (d.message, d.hint)
    assert where(d) == at(text, token, 12 + len(lines) - 1)


def test_correlations_that_cannot_all_hold_are_refused() -> None:
    # a goes with b, b with c, but a strongly against c: the matrix has a negative eigenvalue
    text = UNCERTAIN + "  - {between: [a, b], rho: 0.9}\n  - {between: [b, c], rho: 0.9}\n  - {between: [a, c], rho: -0.9}\n"
    d = only_error(text)
    assert d.code == "correlation-matrix" and "not positive semi-definite" in d.message
    assert where(d) == at(text, "-0.9", 14)  # the last of the correlations that contradict each other
    # the same three, consistent, load clean (and rho = 1, semi-definite but singular, is drawn too)
    fine = UNCERTAIN + "  - {between: [a, b], rho: 1}\n  - {between: [b, c], rho: 0.5}\n  - {between: [a, c], rho: 0.5}\n"
    drawn = Sampler(scenario(fine), 3).draw(1000, np.random.default_rng(1))
    assert np.allclose(drawn.base("a", 0), drawn.base("b", 0))


def test_every_field_of_the_additions_says_what_it_is() -> None:
    records = [Uncertainty, Correlation, TuneParameter, Tuning]
    undocumented = [f"{record.__name__}.{name}" for record in records
                    for name, info in record.__pydantic_fields__.items() if not info.description]
    assert undocumented == []

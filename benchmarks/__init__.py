"""Benchmarks: how fast and how lean vested's adapters are against what a user would write by hand.

Not part of the pipeline and not run by the tests (they check only that a benchmark computes the
right numbers). Each benchmark is a module with a ``run`` function and a subcommand of
``python -m benchmarks``: ``measure`` (:mod:`benchmarks.measure`) times the measurement of a
year of metrics against a hand-written DuckDB query and pandas. Figures are recorded in
``docs/performance.md``.
"""

"""Benchmarks: how fast and how lean vested is against what a user would write by hand.

Run from the repository root; not part of the installed package, and not run by the tests (they
check only that a benchmark computes the right numbers). ``python -m benchmarks measure|simulate``
(:mod:`benchmarks.measure`, :mod:`benchmarks.simulate`) and ``python -m benchmarks.ledger``
(:mod:`benchmarks.ledger`: appending and verifying the ledger against a plain INSERT loop).
Figures are recorded in ``docs/performance.md``.
"""

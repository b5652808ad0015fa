"""Benchmarks run from the repository root (``python -m benchmarks.<name>``); not part of the installed package."""

"""The pure core of vested: records, money, the term library, pricing, checks, finance.

Nothing here touches files, the clock, the environment, a database or the network; the import
rule is enforced by ``tests/test_layering.py``. Everything else in the package calls into here.
"""

"""The risk simulation: agreements priced over many runs of uncertain drivers (numpy, float64).

Where it sits: beside the exact engine (:mod:`vested.core.pricing`), not in the core: the core
is Decimal and pure; this package trades exactness for speed, within a stated tolerance, and is
checked against the exact engine by ``tests/test_vector_engine.py``.

* :mod:`~vested.simulate.vector` (with :mod:`~vested.simulate.vector_terms` and
  :mod:`~vested.simulate.vector_credits`): :class:`VectorEngine`, one period of an agreement over
  R runs at once, and :func:`unsupported_terms`, the terms it refuses and why;
* :mod:`~vested.simulate.sampling`: the scenario's drivers drawn per run and month;
* :mod:`~vested.simulate.run`: the simulation of an agreement on a scenario;
* :mod:`~vested.simulate.tune`: the search for the terms both parties accept.
"""

from vested.simulate.vector import VectorEngine, VectorError, VectorResult, VectorUnsupported, unsupported_terms

__all__ = ["VectorEngine", "VectorError", "VectorResult", "VectorUnsupported", "unsupported_terms"]

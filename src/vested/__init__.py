"""vested: outcome-based (Vested) agreements as code.

The package is a pipeline with a pure core and thin adapters:

    agreement.yaml -load-> Agreement -check-> diagnostics
    facts.yaml     -load-> Facts ─┐
    Agreement ────────────────────┴-price-> Statement

``vested.core`` holds the records and the arithmetic (no I/O); ``vested.adapters`` turns files into
core records; ``vested.render`` turns core records into text, JSON and HTML; ``vested.services``
wires one job each for the faces (``vested.cli`` and, later, the web app).
"""

__version__ = "0.1.0"

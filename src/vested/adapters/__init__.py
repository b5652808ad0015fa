"""Adapters: the only code that turns outside formats (YAML files, CSV, databases) into core records.

Third-party objects (YAML nodes, DataFrames, rows) stop here; what leaves is core records and
diagnostics with their file positions.
"""

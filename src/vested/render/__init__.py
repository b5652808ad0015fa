"""Renderings: core records -> terminal text, JSON and (later) HTML, from one view-model each."""

"""Find and read the shared conformance data (``../shared/conformance`` next to the repository).

The data is independent of this project and is never copied into it. When it is absent a test that
needs it is skipped with the reason, except in CI (``CI=true``), where a missing file is a failure:
CI must not go green by quietly running none of the conformance checks.

Numbers come back as JSON parses them (floats stay floats); pass them through
:func:`vested.core.money.D`, which goes through their repr, before doing money arithmetic.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

import pytest

CONFORMANCE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "conformance"
"""Where the shared conformance data lives: a sibling of the repository root."""


def conformance_path(*parts: str) -> Path:
    """The path of a file or directory under the conformance directory (not checked to exist)."""
    return CONFORMANCE_DIR.joinpath(*parts)


def _missing_reason(path: Path) -> str:
    return f"conformance data not found: {path} (expected beside the repository, in shared/conformance)"


def in_ci() -> bool:
    """True when running in CI, where missing conformance data must fail rather than skip."""
    return os.environ.get("CI") == "true"


def report_missing(path: Path) -> NoReturn:
    """Skip (or, in CI, fail) because ``path`` is absent. Works in a test or at collection time."""
    reason = _missing_reason(path)
    if in_ci():
        pytest.fail(f"{reason}; CI=true, so this is a failure, not a skip", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def load_json(*parts: str) -> Any:
    """Parsed JSON of a file under the conformance directory; skips or fails if it is absent."""
    path = conformance_path(*parts)
    if not path.is_file():
        report_missing(path)
    return json.loads(path.read_text(encoding="utf-8"))


def load_conformance(name: str) -> Any:
    """Parsed JSON of the conformance file ``name`` (e.g. ``"worked_examples.json"``)."""
    return load_json(name)


def conformance_params(
    build: Callable[[Any], Iterable[pytest.ParameterSet]], *parts: str, arity: int = 1
) -> list[pytest.ParameterSet]:
    """``pytest.mark.parametrize`` values built from a conformance file, for one test per case.

    When the file is absent, outside CI this returns one placeholder that is skipped with the
    reason, so the module's other tests (property tests, say) still run; in CI it fails at
    collection. ``build`` receives the parsed JSON and returns ``pytest.param(...)`` values, each
    with ``arity`` arguments (the placeholder passes ``None`` for each).
    """
    path = conformance_path(*parts)
    if not path.is_file():
        if in_ci():
            report_missing(path)
        skip = pytest.mark.skip(reason=_missing_reason(path))
        return [pytest.param(*([None] * arity), id="conformance-data-missing", marks=skip)]
    return list(build(load_json(*parts)))

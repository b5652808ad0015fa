"""The import rules of the architecture, checked on the source (no import-linter needed).

* ``vested.core`` is pure (STYLE §6): it imports only itself, pydantic and the pure modules of the
  standard library listed below: an allowlist, so a new import of an I/O library, a clock, the
  environment or anything from the adapters, renderers or faces fails here until someone decides
  it belongs in the core.
* The layers above it, declared in :data:`LAYERS`: faces (CLI, web) -> services -> storage,
  adapters and engines (ingest, measure, simulate) -> core. A layer never imports one above it;
  the renderers take view-models and import neither the services nor the storage; the faces reach
  the record and the engines only through the services.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "vested"

CORE_MAY_IMPORT = frozenset({
    "vested.core",
    # the format's records and their validation
    "pydantic", "pydantic_core",
    # pure standard library: no files, clock, environment, network or processes
    "__future__", "abc", "bisect", "collections", "contextlib", "copy", "dataclasses", "datetime", "decimal",
    "difflib", "enum", "fractions", "functools", "hashlib", "heapq", "itertools", "json", "math", "numbers", "operator", "re",
    "statistics", "string", "textwrap", "types", "typing", "unicodedata",
})
"""Every top-level module the core may import (a submodule of one is allowed with it)."""

CORE_EXCEPTIONS = {
    ("core/scenario_checks.py", "numpy"):
        "the eigenvalues that tell whether a correlation matrix is valid; pure computation, no I/O",
}
"""Imports outside the allowlist that one core module may make, each with its reason."""

LOWER_FORBIDDEN = {"vested.cli", "vested.web", "typer"}

FACES = {"vested.cli", "vested.web"}
LAYERS: dict[str, set[str]] = {
    "storage": {"vested.services", "vested.render", "vested.ingest", "vested.measure", "vested.simulate", *FACES},
    "adapters": {"vested.services", "vested.storage", *FACES},
    "ingest": {"vested.services", *FACES},
    "measure": {"vested.services", "vested.ingest", *FACES},
    "simulate": {"vested.services", "vested.storage", "vested.ingest", "vested.measure", *FACES},
    "render": {"vested.services", "vested.storage", "vested.ingest", "vested.measure", *FACES},
    "services": {*FACES, "typer"},
}
"""What each package must not import: the layers above it (and, for the renderers, the record)."""

FACE_MAY_IMPORT = {
    "cli": {"vested.services", "vested.render", "vested.core", "vested.cli", "vested.web"},
    "web": {"vested.services", "vested.render", "vested.core", "vested.web"},
}
"""The faces call the services and render their results; the record and the engines are behind the services.
The CLI starts the web app (``vested serve``); the web face never calls the CLI."""


def package_of(path: Path) -> str:
    return ".".join(("vested", *path.relative_to(SRC).parent.parts)) if path.is_relative_to(SRC) else ""


def imported_modules(path: Path, package: str | None = None) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path``; relative imports resolved against its package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = package_of(path) if package is None else package
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                found.append((node.lineno, node.module))
            elif node.level:
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)] if node.level - 1 < len(parts) else []
                found.append((node.lineno, ".".join([*base, *([node.module] if node.module else [])])))
    return found


def _within(module: str, names: frozenset[str] | set[str]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in names)


def core_violations(folder: Path = SRC / "core", package: str | None = None) -> list[str]:
    problems = []
    for path in sorted(folder.rglob("*.py")):
        where = path.relative_to(SRC).as_posix() if path.is_relative_to(SRC) else path.name
        for line, module in imported_modules(path, package):
            if _within(module, CORE_MAY_IMPORT) or (where, module.split(".")[0]) in CORE_EXCEPTIONS:
                continue
            problems.append(f"{where}:{line}: imports {module}")
    return problems


def violations(folder: str, forbidden: set[str]) -> list[str]:
    problems = []
    for path in sorted((SRC / folder).rglob("*.py")):
        for line, module in imported_modules(path):
            if _within(module, forbidden):
                problems.append(f"{path.relative_to(SRC.parent)}:{line}: imports {module}")
    return problems


def test_core_imports_only_the_allowed_modules() -> None:
    assert core_violations() == []


def test_every_core_exception_is_still_needed() -> None:
    """An exception whose import is gone is removed, so the allowlist never grows stale."""
    used = {(path.relative_to(SRC).as_posix(), module.split(".")[0])
            for path in (SRC / "core").rglob("*.py") for _, module in imported_modules(path)}
    assert set(CORE_EXCEPTIONS) <= used


def test_core_reads_no_clock_and_opens_no_file() -> None:
    problems = []
    for path in sorted((SRC / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
                if name in {"open", "now", "today", "utcnow", "getenv"}:
                    problems.append(f"{path.relative_to(SRC.parent)}:{node.lineno}: calls {name}()")
    assert problems == []


@pytest.mark.parametrize("folder", ["adapters", "render"])
def test_adapters_and_renderers_do_not_import_faces(folder: str) -> None:
    assert violations(folder, LOWER_FORBIDDEN) == []


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The rule is not vacuous: a core-like module importing an I/O library, the OS or a renderer is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("import yaml\nfrom os import path\nimport decimal\nfrom vested.render.statement import money\n"
                   "from vested.core.money import D\n", encoding="utf-8")
    assert core_violations(tmp_path) == ["bad.py:1: imports yaml", "bad.py:2: imports os",
                                         "bad.py:4: imports vested.render.statement"]


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    """In core/terms, ``from ..money import D`` is vested.core.money; ``from ... import cli`` leaves the core."""
    module = tmp_path / "relative.py"
    module.write_text("from ..money import D\nfrom . import base\nfrom ... import cli\n", encoding="utf-8")
    assert [m for _, m in imported_modules(module, "vested.core.terms")] == ["vested.core.money", "vested.core.terms",
                                                                             "vested"]
    assert core_violations(tmp_path, "vested.core.terms") == ["relative.py:3: imports vested"]


@pytest.mark.parametrize("folder", sorted(LAYERS))
def test_no_layer_imports_one_above_it(folder: str) -> None:
    assert violations(folder, LAYERS[folder]) == []


@pytest.mark.parametrize("folder", sorted(FACE_MAY_IMPORT))
def test_the_faces_reach_the_record_and_the_engines_only_through_the_services(folder: str) -> None:
    problems = []
    for path in sorted((SRC / folder).rglob("*.py")):
        for line, module in imported_modules(path):
            if module.startswith("vested") and module != "vested" and not _within(module, FACE_MAY_IMPORT[folder]):
                problems.append(f"{path.relative_to(SRC.parent)}:{line}: imports {module}")
    assert problems == []

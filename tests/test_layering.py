"""The import rules of the architecture, checked on the source (no import-linter needed).

* ``vested.core`` is pure: it imports no I/O library, no clock, no environment, and nothing from
  the adapters, renderers or faces.
* ``vested.adapters`` and ``vested.render`` never import the faces (CLI, web).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "vested"

CORE_FORBIDDEN = {
    "yaml", "duckdb", "sqlalchemy", "alembic", "fastapi", "starlette", "typer", "click", "rich", "pandas", "pyarrow",
    "os", "pathlib", "io", "subprocess", "socket", "shutil", "tempfile", "time", "random", "requests", "httpx",
    "urllib", "sqlite3", "psycopg", "jinja2", "altair", "vl_convert", "weasyprint", "openpyxl",
    "vested.adapters", "vested.render", "vested.cli", "vested.services", "vested.web", "vested.demo",
}
LOWER_FORBIDDEN = {"vested.cli", "vested.web", "typer"}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def violations(folder: str, forbidden: set[str]) -> list[str]:
    problems = []
    for path in sorted((SRC / folder).rglob("*.py")):
        for line, module in imported_modules(path):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                problems.append(f"{path.relative_to(SRC.parent)}:{line}: imports {module}")
    return problems


def test_core_imports_no_io_library() -> None:
    assert violations("core", CORE_FORBIDDEN) == []


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
    """The rule is not vacuous: a core-like module importing yaml is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("import yaml\nfrom duckdb import connect\n", encoding="utf-8")
    assert [m for _, m in imported_modules(bad)] == ["yaml", "duckdb"]

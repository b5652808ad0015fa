"""The one function that shows diagnostics: ``file:line:column: severity: message [code]`` and a hint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vested.core.diagnostics import Diagnostic


def format_diagnostic(d: Diagnostic) -> str:
    where = f"{d.location}: " if d.location else ""
    text = f"{where}{d.severity.value}: {d.message} [{d.code}]"
    if d.hint:
        text += f"\n    hint: {d.hint}"
    return text


def format_diagnostics(diagnostics: Sequence[Diagnostic]) -> str:
    lines = [format_diagnostic(d) for d in diagnostics]
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    lines.append(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}")
    return "\n".join(lines)


def diagnostics_json(diagnostics: Sequence[Diagnostic]) -> list[dict[str, Any]]:
    return [
        {
            "severity": d.severity.value,
            "code": d.code,
            "message": d.message,
            "hint": d.hint,
            "file": d.location.file if d.location else None,
            "line": d.location.line if d.location else None,
            "column": d.location.column if d.location else None,
            "path": list(d.path),
        }
        for d in diagnostics
    ]

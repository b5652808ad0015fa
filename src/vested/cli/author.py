"""The commands for writing an agreement: check it, price a period, the schema, the lint rules, the version.

Registered on ``vested.cli.app`` by :mod:`vested.cli`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from vested import __version__
from vested.cli import JsonOption, console, emit_json, fail_with
from vested.render.diagnostics import diagnostics_json, format_diagnostics


def check(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file, or a scenario (a file whose first key is `scenario:`).")],
    as_json: JsonOption = False,
) -> None:
    """Check an agreement (structure, meaning and the Vested lint) or a scenario on its own. Exit 1 when there are errors."""
    from vested.adapters.scenario_load import load_scenario
    from vested.services import check_file

    report = load_scenario(agreement) if _is_scenario(agreement) else check_file(agreement)
    if as_json:
        emit_json({"file": str(agreement), "ok": report.ok, "diagnostics": diagnostics_json(report.diagnostics)})
    elif report.diagnostics:
        print(format_diagnostics(report.diagnostics))
    else:
        print(f"{agreement}: ok")
    raise typer.Exit(0 if report.ok else 1)


def _is_scenario(path: Path) -> bool:
    """A scenario is told from an agreement by its top-level keys: `scenario: 1` where an agreement has `vested: 1`."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # not readable as YAML: checking it as an agreement reports the problem at its place
    return isinstance(data, dict) and "scenario" in data and "vested" not in data


def price(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    facts: Annotated[Path, typer.Option("--facts", help="The period's facts (YAML).")],
    as_json: JsonOption = False,
) -> None:
    """Price one period: one explained line per term, then what each party owes."""
    from vested.render.serialize import to_jsonable
    from vested.render.statement import statement_json, statement_table, statement_view
    from vested.services import price_files

    report = price_files(agreement, facts)
    if report.statement is None or report.agreement is None:
        fail_with(report.diagnostics, as_json)
    view = statement_view(report.agreement, report.statement)
    if as_json:
        emit_json({"ok": True, "statement": statement_json(view), "state": to_jsonable(report.state),
                   "diagnostics": diagnostics_json(report.diagnostics)})
    else:
        console.print(statement_table(view))


def schema(
    scenario: Annotated[bool, typer.Option("--scenario", help="Print the schema of the scenario format instead.")] = False,
) -> None:
    """Print the JSON Schema of the agreement format, or of the scenario format (for editors)."""
    from vested.core.format import agreement_schema
    from vested.core.scenario_checks import scenario_schema

    emit_json(scenario_schema() if scenario else agreement_schema())


def explain(rule: Annotated[str, typer.Argument(help="A lint rule code, e.g. activity-trap.")] = "",
            as_json: JsonOption = False) -> None:
    """Explain the Vested lint rules (all of them, or one)."""
    from vested.core.lint import RULES, RULES_BY_CODE

    chosen = [RULES_BY_CODE[rule]] if rule in RULES_BY_CODE else list(RULES)
    if rule and rule not in RULES_BY_CODE:
        print(f"no rule {rule!r}; the rules are: {', '.join(RULES_BY_CODE)}", file=sys.stderr)
        raise typer.Exit(1)
    if as_json:
        emit_json([{"code": r.code, "title": r.title, "vested_rule": r.vested_rule, "rationale": r.rationale} for r in chosen])
        return
    for r in chosen:
        console.print(f"[bold]{r.code}[/bold] — {r.title} (Vested rule {r.vested_rule})\n{r.rationale}\n")


def version() -> None:
    """Print the version."""
    print(__version__)

"""The commands for writing an agreement: check it, price a period, the schema, the lint rules, the version.

Registered on ``vested.cli.app`` by :mod:`vested.cli`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from vested import __version__
from vested.cli import JsonOption, console, emit_json, workspace
from vested.cli.export import CsvOption, XlsxOption, finish_tables
from vested.render.diagnostics import format_diagnostics
from vested.services.result import result_json


def check(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file, or a scenario (a file whose first key is `scenario:`).")],
    as_json: JsonOption = False,
) -> None:
    """Check an agreement (structure, meaning and the Vested lint) or a scenario on its own. Exit 1 when there are errors.

    Example: vested check examples/helpdesk/vested.yaml
    """
    from vested.services.agreements import check as check_document

    result = check_document(workspace(), agreement)
    if as_json:
        emit_json(result_json(result, {"file": str(agreement)}))
    elif result.diagnostics:
        print(format_diagnostics(result.diagnostics))
    else:
        print(f"{agreement}: ok")
    raise typer.Exit(0 if result.ok else 1)


def price(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    facts: Annotated[Path, typer.Option("--facts", help="The period's facts (YAML).")],
    csv: CsvOption = None,
    xlsx: XlsxOption = None,
    as_json: JsonOption = False,
) -> None:
    """Price one period: one explained line per term, then what each party owes.

    Example: vested price examples/helpdesk/vested.yaml --facts examples/helpdesk/vested-facts-2025-06.yaml --xlsx june.xlsx
    """
    from vested.render.serialize import to_jsonable
    from vested.render.sheets import statement_sheets
    from vested.render.statement import statement_json, statement_table, statement_view
    from vested.services.agreements import PricedPeriod
    from vested.services.agreements import price as price_period

    def body(priced: PricedPeriod) -> dict[str, object]:
        return {"statement": statement_json(statement_view(priced.agreement, priced.statement)),
                "state": to_jsonable(priced.state)}

    finish_tables(price_period(workspace(), agreement, facts), as_json, body,
                  lambda priced: console.print(statement_table(statement_view(priced.agreement, priced.statement))),
                  lambda priced: statement_sheets([statement_view(priced.agreement, priced.statement)]), csv, xlsx)


def schema(
    scenario: Annotated[bool, typer.Option("--scenario", help="Print the schema of the scenario format instead.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The same: the schema is JSON already, printed as it "
                                          "is (no ok/diagnostics envelope), so editors read it directly.")] = False,
) -> None:
    """Print the JSON Schema of the agreement format, or of the scenario format (for editors).

    Example: vested schema > agreement.schema.json
    """
    from vested.core.format import agreement_schema
    from vested.core.scenario_checks import scenario_schema

    emit_json(scenario_schema() if scenario else agreement_schema())


def explain(rule: Annotated[str, typer.Argument(help="A lint rule code, e.g. activity-trap.")] = "",
            as_json: JsonOption = False) -> None:
    """Explain the Vested lint rules (all of them, or one).

    Example: vested explain activity-trap
    """
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


def version(as_json: JsonOption = False) -> None:
    """Print the version (also: vested --version).

    Example: vested version --json
    """
    if as_json:
        emit_json({"ok": True, "version": __version__})
    else:
        print(__version__)

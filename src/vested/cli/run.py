"""The commands for running an agreement on real data: ingest, measure, scorecard, settle.

Registered on ``vested.cli.app`` by :mod:`vested.cli`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from vested.cli import JsonOption, ProjectOption, console, emit_json, fail_with
from vested.render.diagnostics import diagnostics_json, format_diagnostics

PeriodOption = Annotated[str | None, typer.Option("--period", help="One month, YYYY-MM.")]
FromOption = Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM (included).")]


def ingest(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file (declares the datasets).")],
    dataset: Annotated[str, typer.Argument(help="The dataset id (or `reported` for directly reported values).")],
    source: Annotated[str, typer.Argument(help="A CSV, Parquet or JSON Lines file, or a database URL.")],
    table: Annotated[str | None, typer.Option("--table", help="With a database URL: the table to read.")] = None,
    query: Annotated[str | None, typer.Option("--query", help="With a database URL: the SQL query to read.")] = None,
    quarantine: Annotated[Path | None, typer.Option("--quarantine", help="Put bad rows in this CSV file and ingest "
                                                    "the rest (default: ingest nothing when any row is bad).")] = None,
    project: ProjectOption = None,
    who: Annotated[str | None, typer.Option("--who", help="Who ingests (recorded in the batch's provenance).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest measurements: every row is checked against the dataset; all or nothing."""
    import getpass

    from vested.render.serialize import to_jsonable
    from vested.services import ingest_path

    outcome = ingest_path(agreement, dataset, source, project_dir=project, who=who or getpass.getuser(),
                          quarantine=quarantine, table=table, query=query)
    report = outcome.report
    if report is None:
        fail_with(outcome.diagnostics, as_json)
    if as_json:
        emit_json({"ok": report.ok, "summary": report.summary(), "batch_id": report.batch_id,
                   "rows_ingested": report.rows_ingested, "rows_quarantined": report.rows_quarantined,
                   "problems_total": report.problems_total, "manifest": to_jsonable(report.manifest),
                   "problems": [to_jsonable(p) for p in report.problems]})
    else:
        if report.problems:
            print(format_diagnostics(report.diagnostics()), file=sys.stderr if report.refused else sys.stdout)
        print(report.summary(), file=sys.stderr if report.refused else sys.stdout)
    raise typer.Exit(0 if report.ok else 1)


def measure(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    period: PeriodOption = None,
    first: FromOption = None,
    last: ToOption = None,
    project: ProjectOption = None,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (metric, period, value).")] = False,
) -> None:
    """Compute each metric per month from the ingested data (and the reported values)."""
    from vested.render.run import metric_csv, metric_json, metric_table
    from vested.services import measure_files, month_range

    months, problem = month_range(period, first, last)
    if problem is not None:
        fail_with([problem], as_json)
    report = measure_files(agreement, months, project)
    if report.measured is None or report.agreement is None:
        fail_with(report.diagnostics, as_json)
    rows = report.measured.rows
    if as_json:
        emit_json({**metric_json(rows), "diagnostics": diagnostics_json(report.diagnostics)})
    elif as_csv:
        sys.stdout.write(metric_csv(report.agreement, rows))
    else:
        console.print(metric_table(report.agreement, rows))
        for note in report.diagnostics:
            console.print(f"[dim]{note.message}[/dim]", highlight=False)


def scorecard(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    period: Annotated[str, typer.Option("--period", help="The month to score, YYYY-MM.")],
    project: ProjectOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score each desired outcome for a month: value, baseline, target, attainment, status, overall score."""
    from vested.render.run import scorecard_json, scorecard_table
    from vested.services import month_range, scorecard_files

    _, problem = month_range(period, None, None)
    if problem is not None:
        fail_with([problem], as_json)
    report = scorecard_files(agreement, period, project)
    card = report.scorecard
    if card is None or report.agreement is None:
        fail_with(report.diagnostics, as_json)
    if as_json:
        emit_json({"scorecard": scorecard_json(card), "diagnostics": diagnostics_json(report.diagnostics)})
        return
    console.print(scorecard_table(report.agreement, card))
    for warning_text in card.warnings:
        console.print(f"[bold yellow]warning:[/] {warning_text}", highlight=False)


def settle(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    period: PeriodOption = None,
    first: FromOption = None,
    last: ToOption = None,
    project: ProjectOption = None,
    replace: Annotated[bool, typer.Option("--replace", help="Settle again a month already settled from other inputs.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Settle months in order: measure, price with the carried state, write each explained statement."""
    from vested.render.statement import statement_json, statement_table, statement_view
    from vested.services import month_range, settle_files

    months, problem = month_range(period, first, last)
    if problem is not None:
        fail_with([problem], as_json)
    report = settle_files(agreement, months, project, replace=replace)
    result, found = report.result, report.agreement
    if result is None or found is None:
        fail_with(report.diagnostics, as_json)
    if as_json:
        emit_json({"ok": result.ok, "settled": [
            {"period": s.period, "inputs_hash": s.inputs_hash, "statement": statement_json(statement_view(found, s.statement))}
            for s in result.settlements], "written": list(result.written), "diagnostics": diagnostics_json(report.diagnostics)})
    else:
        for s in result.settlements:
            console.print(statement_table(statement_view(found, s.statement)))
            console.print(f"[dim]inputs {s.inputs_hash[:16]}…[/dim]")
        if report.diagnostics:
            print(format_diagnostics(report.diagnostics), file=sys.stderr)
    raise typer.Exit(0 if result.ok else 1)

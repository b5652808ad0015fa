"""The ``demo`` command: the help-desk story told end to end in the terminal (or as JSON).

Registered on ``vested.cli.app`` by :mod:`vested.cli`.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from vested.cli import JsonOption, console, emit_json
from vested.render.diagnostics import diagnostics_json


def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for the generated data, the project and report.html.")]
    = Path("vested-demo"),
    as_json: JsonOption = False,
) -> None:
    """Tell the help-desk story end to end: check, generate data, ingest, settle, score, report."""
    from rich.progress import Progress
    from rich.table import Table

    from vested.demo import run_story
    from vested.render.diagnostics import format_diagnostic
    from vested.render.run import scorecard_json, scorecard_table
    from vested.render.statement import money, statement_json, statement_table, statement_view

    if as_json:
        story = run_story(out)
    else:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("starting", total=None)

            def tell(step: str, done: int, total: int) -> None:
                progress.update(task, description=step)

            story = run_story(out, tell)
    runs = [r for r in story.contracts if r.loaded.agreement is not None]
    paid = {r.agreement.id: r.paid() for r in runs}
    problems = [d for r in story.contracts for d in r.diagnostics if d.is_error]
    if as_json:
        emit_json({
            "ok": not problems,
            "report": str(story.report),
            "contracts": [{
                "file": f"examples/helpdesk/{r.name}",
                "agreement": r.agreement.id,
                "diagnostics": diagnostics_json(r.diagnostics),
                "paid": {m: str(v) for m, v in paid[r.agreement.id].items()},
                "last_statement": statement_json(statement_view(r.agreement, r.settled.settlements[-1].statement))
                if r.settled.settlements else None,
                "last_scorecard": scorecard_json(r.scorecards[story.months[-1]]) if story.months[-1] in r.scorecards else None,
            } for r in runs],
        })
        raise typer.Exit(1 if problems else 0)
    console.rule("[bold]1. Two contracts for the same help desk")
    for r in runs:
        console.print(f"[bold]{r.agreement.title}[/bold]  [dim]examples/helpdesk/{r.name}[/dim]")
        for d in r.loaded.diagnostics:
            console.print(format_diagnostic(d), markup=False, highlight=False)
        if not r.loaded.diagnostics:
            console.print("vested check: no errors, no warnings")
    console.rule(f"[bold]2. Settled month by month, {story.months[0]} to {story.months[-1]}")
    table = Table(caption="What Acme pays DeskCo each month, net of credits. Task-based: the help desk as it was "
                          "(DeskCo never proposes remote support). Vested: remote support from 2025-06.")
    table.add_column("month")
    for r in runs:
        table.add_column(r.agreement.id, justify="right")
    table.add_column("difference", justify="right")
    for month in story.months:
        amounts = [paid[r.agreement.id].get(month) for r in runs]
        first, last_amount = amounts[0], amounts[-1]
        diff = last_amount - first if first is not None and last_amount is not None and len(amounts) == 2 else None
        table.add_row(month, *(money(a) if a is not None else "—" for a in amounts), money(diff) if diff is not None else "")
    totals = [sum(paid[r.agreement.id].values(), Decimal(0)) for r in runs]
    table.add_row("[bold]total", *(f"[bold]{money(t)}" for t in totals),
                  f"[bold]{money(totals[-1] - totals[0])}" if len(totals) == 2 else "")
    console.print(table)
    vested_run = runs[-1]
    last = story.months[-1]
    if last in vested_run.scorecards:
        console.rule(f"[bold]3. The Vested scorecard, {last}")
        console.print(scorecard_table(vested_run.agreement, vested_run.scorecards[last]))
        for warning_text in vested_run.scorecards[last].warnings:
            console.print(f"[bold yellow]warning:[/] {warning_text}", highlight=False)
    console.rule(f"[bold]4. Every amount explained: {last} under each contract")
    for r in runs:
        if r.settled.settlements:
            console.print(statement_table(statement_view(r.agreement, r.settled.settlements[-1].statement)))
    for d in problems:
        console.print(format_diagnostic(d), markup=False, highlight=False)
    console.rule("[bold]5. The report")
    console.print(f"Scorecards, statements and charts for every month: [bold]{story.report}[/bold] (open it in a browser)")
    if problems:
        raise typer.Exit(1)

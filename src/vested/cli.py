"""The ``vested`` command: a thin face over ``vested.services``; every command has ``--json``."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from vested import __version__
from vested.render.diagnostics import diagnostics_json, format_diagnostics

app = typer.Typer(
    name="vested",
    help="Outcome-based (Vested) agreements as code: write, check, price, test and run them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@app.command()
def check(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    as_json: JsonOption = False,
) -> None:
    """Check an agreement: structure, meaning and the Vested lint. Exit 1 when there are errors."""
    from vested.services import check_file

    report = check_file(agreement)
    if as_json:
        emit_json({"file": str(agreement), "ok": report.ok, "diagnostics": diagnostics_json(report.diagnostics)})
    elif report.diagnostics:
        print(format_diagnostics(report.diagnostics))
    else:
        print(f"{agreement}: ok")
    raise typer.Exit(0 if report.ok else 1)


@app.command()
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
        if as_json:
            emit_json({"ok": False, "diagnostics": diagnostics_json(report.diagnostics)})
        else:
            print(format_diagnostics(report.diagnostics), file=sys.stderr)
        raise typer.Exit(1)
    view = statement_view(report.agreement, report.statement)
    if as_json:
        emit_json({"ok": True, "statement": statement_json(view), "state": to_jsonable(report.state),
                   "diagnostics": diagnostics_json(report.diagnostics)})
    else:
        console.print(statement_table(view))


ProjectOption = Annotated[Path | None, typer.Option("--project", help="Project folder for batches and statements "
                                                    "(default: .vested in the current folder).")]


@app.command()
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
    from vested.services import CheckReport, ingest_path

    report = ingest_path(agreement, dataset, source, project_dir=project, who=who or getpass.getuser(),
                         quarantine=quarantine, table=table, query=query)
    if isinstance(report, CheckReport):
        if as_json:
            emit_json({"ok": False, "diagnostics": diagnostics_json(report.diagnostics)})
        else:
            print(format_diagnostics(report.diagnostics), file=sys.stderr)
        raise typer.Exit(1)
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


PeriodOption = Annotated[str | None, typer.Option("--period", help="One month, YYYY-MM.")]
FromOption = Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM (included).")]


def fail_with(problems: Any, as_json: bool) -> None:
    if as_json:
        emit_json({"ok": False, "diagnostics": diagnostics_json(problems)})
    else:
        print(format_diagnostics(problems), file=sys.stderr)
    raise typer.Exit(1)


@app.command()
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
    measured, notes = measure_files(agreement, months, project)
    if measured is None:
        fail_with(notes, as_json)
    found, rows, _ = measured
    if as_json:
        emit_json({**metric_json(rows), "diagnostics": diagnostics_json(notes)})
    elif as_csv:
        sys.stdout.write(metric_csv(found, rows))
    else:
        console.print(metric_table(found, rows))
        for note in notes:
            console.print(f"[dim]{note.message}[/dim]", highlight=False)


@app.command()
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
    scored, notes = scorecard_files(agreement, period, project)
    if scored is None:
        fail_with(notes, as_json)
    found, card = scored
    if as_json:
        emit_json({"scorecard": scorecard_json(card), "diagnostics": diagnostics_json(notes)})
        return
    console.print(scorecard_table(found, card))
    for warning_text in card.warnings:
        console.print(f"[bold yellow]warning:[/] {warning_text}", highlight=False)


@app.command()
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
    settled, problems = settle_files(agreement, months, project, replace=replace)
    if settled is None:
        fail_with(problems, as_json)
    found, result = settled
    if as_json:
        emit_json({"ok": result.ok, "settled": [
            {"period": s.period, "inputs_hash": s.inputs_hash, "statement": statement_json(statement_view(found, s.statement))}
            for s in result.settlements], "written": list(result.written), "diagnostics": diagnostics_json(problems)})
    else:
        for s in result.settlements:
            console.print(statement_table(statement_view(found, s.statement)))
            console.print(f"[dim]inputs {s.inputs_hash[:16]}…[/dim]")
        if problems:
            print(format_diagnostics(problems), file=sys.stderr)
    raise typer.Exit(0 if result.ok else 1)


LeversOption = Annotated[str, typer.Option("--levers", help="Which supplier levers are pulled: best (the supplier's most "
                                                        "profitable choice), none, all, or ids separated by commas.")]


def report_deal(report: Any, table: Any, as_json: bool, to_json: Any) -> None:
    if as_json:
        emit_json({"ok": report.ok, **to_json(report), "diagnostics": diagnostics_json(report.diagnostics)})
    elif report.ok:
        console.print(table(report))
    if not as_json and report.diagnostics:
        print(format_diagnostics(report.diagnostics), file=sys.stderr)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def economics(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file (drivers, costs, levers).")],
    levers: LeversOption = "best",
    as_json: JsonOption = False,
) -> None:
    """Each party's economics per period and over the term: payments, costs, margin, NPV, IRR, payback."""
    from vested.deal import economics_files
    from vested.render.deal import economics_json, economics_table

    report_deal(economics_files(agreement, scenario, levers), economics_table, as_json, economics_json)


@app.command()
def compare(
    a: Annotated[Path, typer.Argument(help="The first agreement (usually the task-based one).")],
    b: Annotated[Path, typer.Argument(help="The second agreement (usually the Vested one).")],
    scenario: Annotated[Path, typer.Option("--scenario", help="The scenario both are tested on.")],
    status_quo: Annotated[Path | None, typer.Option("--status-quo", help="The status quo agreement (default: the "
                                                    "scenario's status_quo, else A), run with no levers.")] = None,
    levers: LeversOption = "best",
    as_json: JsonOption = False,
) -> None:
    """Two agreements side by side on one scenario, against the status quo, with a win-win verdict."""
    from vested.deal import compare_files
    from vested.render.deal import compare_json, compare_table

    report_deal(compare_files(a, b, scenario, status_quo, levers), compare_table, as_json, compare_json)


@app.command()
def align(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file with the supplier's levers.")],
    as_json: JsonOption = False,
) -> None:
    """Incentive alignment: the supplier's most profitable levers under this agreement, and what they do to the customer."""
    from vested.deal import align_files
    from vested.render.deal import align_json, align_table

    report_deal(align_files(agreement, scenario), align_table, as_json, align_json)


@app.command()
def simulate(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file, with uncertain drivers and correlations.")],
    runs: Annotated[int, typer.Option("--runs", min=1, help="How many scenarios to draw.")] = 10000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same numbers.")] = 1,
    levers: LeversOption = "best",
    status_quo: Annotated[Path | None, typer.Option("--status-quo", help="The status quo agreement (default: the "
                                                    "scenario's status_quo, else this agreement), with no levers.")] = None,
    charts: Annotated[Path | None, typer.Option("--charts", help="Write the histograms and fan chart (SVG and PNG) "
                                                "to this folder.")] = None,
    project: Annotated[Path | None, typer.Option("--project", help="Project folder whose measured history drivers "
                                                 "with `resample: {metric}` draw from.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Risk simulation: each party's distribution, the chance each (and both) beat the status quo, how often caps bind."""
    from vested.render.simulate import simulate_json, simulate_table, write_simulate_charts
    from vested.simulate_service import simulate_files

    report = simulate_files(agreement, scenario, runs, seed, levers, status_quo, project)
    if report.ok and charts is not None:
        written = write_simulate_charts(report, charts)
        if not as_json:
            console.print(f"[dim]charts: {', '.join(str(p) for p in written)}[/dim]")
    report_deal(report, simulate_table, as_json, simulate_json)


@app.command()
def tune(
    agreement: Annotated[Path, typer.Argument(help="The agreement YAML file.")],
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file with a `tune:` section.")],
    runs: Annotated[int | None, typer.Option("--runs", min=1, help="Scenarios drawn per candidate (default: the "
                                             "scenario's tune.runs).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same search.")] = 1,
    levers: LeversOption = "best",
    status_quo: Annotated[Path | None, typer.Option("--status-quo", help="The status quo agreement, with no levers.")] = None,
    charts: Annotated[Path | None, typer.Option("--charts", help="Write the Pareto frontier chart to this folder.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Find the deal: terms that maximise the expected joint result while both beat the status quo often enough."""
    from vested.render.simulate import tune_json, tune_table, write_tune_charts
    from vested.simulate_service import tune_files

    report = tune_files(agreement, scenario, runs, seed, levers, status_quo)
    if report.ok and charts is not None:
        written = write_tune_charts(report, charts)
        if not as_json:
            console.print(f"[dim]charts: {', '.join(str(p) for p in written)}[/dim]")
    report_deal(report, tune_table, as_json, tune_json)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the agreement format (for editors)."""
    from vested.core.format import agreement_schema

    emit_json(agreement_schema())


@app.command()
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


@app.command()
def version() -> None:
    """Print the version."""
    print(__version__)


@app.command()
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


def main() -> None:
    """Run the CLI. User-data problems are diagnostics (exit 1); a bug is reported in one line, not a traceback."""
    try:
        app()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # the last line of defence: never show users a traceback
        print(f"vested: internal error: {type(exc).__name__}: {exc}\n"
              "This is a bug in vested, not in your files; please report it with the command you ran.", file=sys.stderr)
        sys.exit(70)
